//! Artificially expanding the training data: small distortions a digit could plausibly have.
//!
//! The functions work on one grey-scale image of any size, `rows x cols` bytes row-major, and
//! write a distorted copy into `dst` (same size). Geometry is about the image centre; pixels
//! that come from outside the image are background (0). Coordinates are screen coordinates:
//! x to the right, y downwards.
//!
//! [`ImageTransform`]s draw their parameter at random per image; [`augment_set`] refills a
//! whole set in parallel, deterministically for a seed whatever the number of threads.

use std::cell::RefCell;
use std::path::Path;

use rand::rngs::{SmallRng, StdRng};
use rand::{Rng, RngCore, SeedableRng};
use rayon::prelude::*;

use nn_core::kernel::Kernel;

use crate::idx::{IdxArray, write_idx};
use crate::{DataError, ImageSet};

mod expansion;
mod field;

pub use expansion::DataExpansion;
#[cfg(target_arch = "x86_64")]
use field::LANES;
use field::{FieldBasis, fill_normal};

/// Moves the image by whole pixels: `dx` to the right and `dy` down; vacated pixels are 0.
pub fn shift(src: &[u8], rows: usize, cols: usize, dx: i32, dy: i32, dst: &mut [u8]) {
    dst.fill(0);
    let (dx, dy) = (dx as isize, dy as isize);
    let (rows_i, cols_i) = (rows as isize, cols as isize);
    let (c_lo, c_hi) = (dx.clamp(0, cols_i), (cols_i + dx).clamp(0, cols_i));
    if c_lo >= c_hi {
        return;
    }
    for r in dy.clamp(0, rows_i)..(rows_i + dy).clamp(0, rows_i) {
        let from = (r - dy) as usize * cols;
        let to = r as usize * cols;
        let (c_lo, c_hi) = (c_lo as usize, c_hi as usize);
        let from_lo = (c_lo as isize - dx) as usize;
        dst[to + c_lo..to + c_hi]
            .copy_from_slice(&src[from + from_lo..from + from_lo + c_hi - c_lo]);
    }
}

/// Rotates the image by `degrees` counter-clockwise (as displayed) about its centre, with
/// bilinear interpolation.
pub fn rotate(src: &[u8], rows: usize, cols: usize, degrees: f32, dst: &mut [u8]) {
    let (sin, cos) = degrees.to_radians().sin_cos();
    affine(src, rows, cols, [cos, -sin, sin, cos], dst);
}

/// Shears the image horizontally: the row at height `y` above the centre moves `shear * y`
/// pixels to the right, so a positive shear slants the digit like italics.
pub fn skew(src: &[u8], rows: usize, cols: usize, shear: f32, dst: &mut [u8]) {
    affine(src, rows, cols, [1.0, shear, 0.0, 1.0], dst);
}

/// Scales the image by `factor` about its centre (above 1 enlarges), bilinearly.
pub fn scale(src: &[u8], rows: usize, cols: usize, factor: f32, dst: &mut [u8]) {
    let inverse = 1.0 / factor;
    affine(src, rows, cols, [inverse, 0.0, 0.0, inverse], dst);
}

/// Elastic distortion (Simard, Steinkraus and Platt, 2003): two random fields of
/// displacements, one for x and one for y, each uniform noise in (-1, 1) smoothed by a
/// Gaussian of standard deviation `sigma` pixels (truncated at 3 sigma, no noise beyond the
/// border) and scaled by `alpha` pixels; each output pixel is sampled bilinearly at its
/// displaced position.
///
/// The fields are drawn with the covariance of that smoothing from a low-rank factor of it,
/// `F = A_r M A_cᵀ` with `M` a small matrix of normal noise of the uniform noise's variance
/// (49 random numbers per field at sigma 4 on 28 x 28 images, 25 at sigma 6, instead of 784
/// smoothed ones): every pixel keeps at least 99.9% of the variance of the smoothed noise, the
/// correlations are the smoothing's, and the values are normal as the smoothed noise's nearly
/// are (tested against the smoothing within a few percent, a test that tells sigma 4 from 4.3).
/// The construction, and why it is faithful, is described in the `field` module's source.
///
/// Scratch buffers live in a per-thread cache: after a thread's first call with an image size
/// and a `sigma`, no heap allocation happens. The result is bit-identical on every processor:
/// the AVX-512 and AVX2 paths do the same operations in the same order as the portable one
/// (the fields, the sampling positions and the interpolation by fused multiply-adds, exactly
/// rounded everywhere: FMA instructions, or `f32::mul_add`, which is slow on x86-64
/// processors without FMA).
pub fn elastic(
    src: &[u8],
    rows: usize,
    cols: usize,
    alpha: f32,
    sigma: f32,
    rng: &mut StdRng,
    dst: &mut [u8],
) {
    distort(src, rows, cols, IDENTITY, alpha, sigma, rng, dst);
}

/// The identity as a linear map (row-major 2x2).
const IDENTITY: [f32; 4] = [1.0, 0.0, 0.0, 1.0];

/// An affine map and an elastic distortion in one resampling (Ciresan et al., 2010): output
/// pixel (x, y) = centre + (u, v) samples the source at `centre + linear · (u, v) + alpha ·
/// (Δx, Δy)`, where `linear` is row-major 2x2 (output to input coordinates, about the centre)
/// and (Δx, Δy) are the smoothed random fields of [`elastic`]. Interpolating once keeps the
/// strokes sharper than applying the two distortions one after the other.
#[allow(clippy::too_many_arguments)]
pub fn distort(
    src: &[u8],
    rows: usize,
    cols: usize,
    linear: [f32; 4],
    alpha: f32,
    sigma: f32,
    rng: &mut StdRng,
    dst: &mut [u8],
) {
    if rows == 0 || cols == 0 {
        return;
    }
    SCRATCH.with(|scratch| {
        let Scratch {
            source,
            points,
            elastic,
        } = &mut *scratch.borrow_mut();
        let simd = Simd::detect();
        source.load(src, rows, cols, simd);
        let fields = elastic.prepare(rows, cols, sigma);
        points.prepare(rows, cols);
        let mut fast = SmallRng::seed_from_u64(rng.next_u64());
        let job = ElasticJob {
            source,
            points,
            linear,
            alpha,
            dst,
        };
        match simd {
            #[cfg(target_arch = "x86_64")]
            // SAFETY: the processor supports AVX-512F, BW, VL and FMA, checked by `detect`.
            Simd::Avx512 => unsafe { elastic_avx512(job, fields, &mut fast) },
            #[cfg(target_arch = "x86_64")]
            // SAFETY: the processor supports AVX2 and FMA, checked by `detect`.
            Simd::Avx2 => unsafe { elastic_avx2(job, fields, &mut fast) },
            Simd::Portable => elastic_core(job, fields, &mut fast, Simd::Portable),
        }
    });
}

/// The vector instructions the distortions use, chosen at run time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Simd {
    /// AVX-512F, BW and VL: 16 lanes, a gather for the bilinear sampling.
    #[cfg(target_arch = "x86_64")]
    Avx512,
    /// AVX2 and FMA: 8 lanes (the portable sampler, compiled for AVX2).
    #[cfg(target_arch = "x86_64")]
    Avx2,
    /// Whatever the compiler makes of plain Rust.
    Portable,
}

impl Simd {
    /// The sampler of the workspace's instruction set ([`Kernel::active`], which `NN_KERNEL`
    /// sets).
    fn detect() -> Self {
        Simd::for_kernel(Kernel::active())
    }

    /// The sampler compiled for `kernel`'s instruction set (the portable one for a kernel
    /// without a sampler of its own).
    fn for_kernel(kernel: Kernel) -> Self {
        match kernel {
            #[cfg(target_arch = "x86_64")]
            Kernel::Avx512 => Simd::Avx512,
            #[cfg(target_arch = "x86_64")]
            Kernel::Avx2 => Simd::Avx2,
            _ => Simd::Portable,
        }
    }
}

/// The image arguments of [`distort`].
struct ElasticJob<'a> {
    /// Source image, padded.
    source: &'a Padded,
    /// Sampling positions (scratch), prepared for the image's shape.
    points: &'a mut Points,
    /// The affine part, about the centre.
    linear: [f32; 4],
    /// Displacement scale.
    alpha: f32,
    /// Destination image.
    dst: &'a mut [u8],
}

/// [`elastic_core`] compiled for AVX-512.
///
/// # Safety
/// The processor must support AVX-512F, BW, VL and FMA.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f,avx512bw,avx512vl,fma")]
unsafe fn elastic_avx512(job: ElasticJob<'_>, fields: Fields<'_>, rng: &mut SmallRng) {
    elastic_core(job, fields, rng, Simd::Avx512);
}

/// [`elastic_core`] compiled for AVX2.
///
/// # Safety
/// The processor must support AVX2 and FMA.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
unsafe fn elastic_avx2(job: ElasticJob<'_>, fields: Fields<'_>, rng: &mut SmallRng) {
    elastic_core(job, fields, rng, Simd::Avx2);
}

/// Draws the two displacement fields, and samples each output pixel at its position under the
/// affine map plus the scaled displacement (with `simd`'s sampler).
#[inline(always)]
fn elastic_core(job: ElasticJob<'_>, fields: Fields<'_>, rng: &mut SmallRng, simd: Simd) {
    let ElasticJob {
        source,
        points,
        linear: m,
        alpha,
        dst,
    } = job;
    let Fields {
        basis,
        noise,
        between,
        dx,
        dy,
    } = fields;
    fill_normal(rng, noise, alpha);
    basis.fields(noise, between, dx, dy, simd);
    source.sample(points, m, Some((dx, dy)), dst, simd);
}

/// Reusable buffers of [`distort`].
#[derive(Default)]
struct ElasticScratch {
    /// Low-rank factors of the fields' covariance per image shape and sigma, the most recently
    /// used first, at most [`ElasticScratch::BASES`].
    bases: Vec<FieldBasis>,
    /// The random matrices of the two fields, already multiplied by `alpha`.
    noise: Vec<f32>,
    /// Scratch of [`FieldBasis::field`].
    between: Vec<f32>,
    /// Horizontal displacement field (`rows x cols`).
    dx: Vec<f32>,
    /// Vertical displacement field (`rows x cols`).
    dy: Vec<f32>,
}

/// The buffers of one call of [`distort`], laid out for its image shape and sigma.
struct Fields<'a> {
    /// The factors of the fields' covariance.
    basis: &'a FieldBasis,
    /// The random matrices of both fields.
    noise: &'a mut [f32],
    /// Scratch of [`FieldBasis::field`].
    between: &'a mut [f32],
    /// Horizontal displacement field.
    dx: &'a mut [f32],
    /// Vertical displacement field.
    dy: &'a mut [f32],
}

impl ElasticScratch {
    /// How many shapes and sigmas keep their factors (several transforms may take turns).
    const BASES: usize = 8;

    /// The buffers for `rows x cols` images and `sigma`; the factors are computed (a fraction
    /// of a millisecond) the first time they are needed.
    fn prepare(&mut self, rows: usize, cols: usize, sigma: f32) -> Fields<'_> {
        match self.bases.iter().position(|b| b.is_for(rows, cols, sigma)) {
            Some(0) => {}
            Some(i) => self.bases[..=i].rotate_right(1),
            None => {
                self.bases.truncate(Self::BASES - 1);
                self.bases.insert(0, FieldBasis::new(rows, cols, sigma));
            }
        }
        let basis = &self.bases[0];
        let field = rows * cols;
        let fit = |buffer: &mut Vec<f32>, len: usize| {
            if buffer.len() < len {
                buffer.resize(len, 0.0);
            }
        };
        fit(&mut self.noise, 2 * basis.noise_len());
        fit(&mut self.between, basis.k_rows * basis.stride);
        fit(&mut self.dx, field);
        fit(&mut self.dy, field);
        Fields {
            basis,
            noise: &mut self.noise[..2 * basis.noise_len()],
            between: &mut self.between[..basis.k_rows * basis.stride],
            dx: &mut self.dx[..field],
            dy: &mut self.dy[..field],
        }
    }
}

/// A normalised Gaussian kernel of standard deviation `sigma`, truncated at 3 sigma; a single
/// tap of 1 (no smoothing) when `sigma` is not positive.
fn gaussian_kernel(sigma: f32) -> Vec<f32> {
    if sigma.is_nan() || sigma <= 0.0 {
        return vec![1.0];
    }
    let radius = (3.0 * sigma).ceil() as i32;
    let mut kernel: Vec<f32> = (-radius..=radius)
        .map(|k| (-(k * k) as f32 / (2.0 * sigma * sigma)).exp())
        .collect();
    let sum: f32 = kernel.iter().sum();
    kernel.iter_mut().for_each(|w| *w /= sum);
    kernel
}

/// Applies the linear map `m` (row-major 2x2, output to input coordinates, about the centre).
fn affine(src: &[u8], rows: usize, cols: usize, m: [f32; 4], dst: &mut [u8]) {
    if rows == 0 || cols == 0 {
        return;
    }
    SCRATCH.with(|scratch| {
        let Scratch { source, points, .. } = &mut *scratch.borrow_mut();
        let simd = Simd::detect();
        source.load(src, rows, cols, simd);
        points.prepare(rows, cols);
        source.sample(points, m, None, dst, simd);
    });
}

/// Rounds an interpolated intensity to a byte.
#[inline(always)]
fn to_u8(v: f32) -> u8 {
    (v + 0.5) as u8
}

/// Width of the zero border of [`Padded`].
const BORDER: usize = 2;

/// The centre of a `rows x cols` image in the coordinates of the padded image: `((cols - 1)
/// / 2 + BORDER, (rows - 1) / 2 + BORDER)`, exact.
fn padded_centre((rows, cols): (usize, usize)) -> (f32, f32) {
    let centre = |n: usize| (n as f32 - 1.0) / 2.0 + BORDER as f32;
    (centre(cols), centre(rows))
}

/// An image inside a border of zeros, for branch-free bilinear sampling: as `f32` for the
/// portable sampler, as the 2 x 2 neighbourhoods of its bytes for the AVX-512 one.
#[derive(Default)]
struct Padded {
    /// `(rows + 2 BORDER) x (cols + 2 BORDER)` values, row-major (portable sampler).
    data: Vec<f32>,
    /// At each position `i` of the padded image (`width = cols + 2 BORDER` a row) up to the
    /// last a sample starts from, its byte and those at `i + 1`, `i + width` and `i + width +
    /// 1` as one `u32`, low to high (AVX-512 sampler).
    quads: Vec<u32>,
    /// Rows of the image inside the border.
    rows: usize,
    /// Columns of the image inside the border.
    cols: usize,
}

impl Padded {
    /// Copies `src` (`rows x cols`) inside the border, in the form `simd`'s sampler reads.
    fn load(&mut self, src: &[u8], rows: usize, cols: usize, simd: Simd) {
        assert_eq!(src.len(), rows * cols);
        let width = cols + 2 * BORDER;
        let len = (rows + 2 * BORDER) * width;
        if (self.rows, self.cols) != (rows, cols) {
            self.rows = rows;
            self.cols = cols;
            self.data.clear();
            self.quads.clear();
        }
        match simd {
            #[cfg(target_arch = "x86_64")]
            Simd::Avx512 => {
                // Rows up to rows + BORDER, where clamped points start.
                self.quads.resize((rows + BORDER + 1) * width, 0);
                // SAFETY: `Simd::Avx512` is only chosen on processors with AVX-512F, BW, VL.
                unsafe { self.neighbourhoods_avx512(src) };
            }
            _ => {
                if self.data.is_empty() {
                    self.data.resize(len, 0.0);
                }
                for (r, row) in src.chunks_exact(cols).enumerate() {
                    let start = (r + BORDER) * width + BORDER;
                    for (d, &p) in self.data[start..start + cols].iter_mut().zip(row) {
                        *d = f32::from(p);
                    }
                }
            }
        }
    }

    /// Fills `quads` straight from the image `src` (`rows x cols`), 32 positions of a row at a
    /// time: the bytes of a row of the padded image and their right-hand neighbours as 32
    /// pairs of 16 bits, `(p(R, C), p(R, C + 1))`, then the quads of row `R` as the pairs of
    /// rows `R` and `R + 1` side by side (each row's pairs computed once). Masked loads read
    /// the image's bytes only (no copy into a padded buffer); masked stores write each row's
    /// positions only.
    ///
    /// # Safety
    /// The processor must support AVX-512F, BW and VL.
    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx512f,avx512bw,avx512vl")]
    fn neighbourhoods_avx512(&mut self, src: &[u8]) {
        use std::arch::x86_64::*;
        const CHUNK: usize = 2 * LANES;
        let (rows, cols) = (self.rows, self.cols);
        let width = cols + 2 * BORDER;
        assert!(src.len() == rows * cols && self.quads.len() == (rows + BORDER + 1) * width);
        // The pairs of row `padded` of the padded image at its columns `first..first + CHUNK`.
        let pairs = |padded: usize, first: usize| -> __m512i {
            let Some(r) = padded.checked_sub(BORDER).filter(|&r| r < rows) else {
                return _mm512_setzero_si512();
            };
            // Lane j: the image's byte in column `first + j + shift - BORDER`, 0 outside.
            let bytes = |shift: usize| {
                let column = (first + shift) as isize - BORDER as isize;
                let from = (-column).clamp(0, CHUNK as isize) as u32;
                let to = (cols as isize - column).clamp(0, CHUNK as isize) as u32;
                let lanes = (((1u64 << to) - 1) & !((1u64 << from) - 1)) as __mmask32;
                let at = src.as_ptr().wrapping_offset((r * cols) as isize + column);
                // SAFETY: the lanes read are those of columns `0..cols` of row `r`, inside
                // `src`; masked-off lanes are not read.
                unsafe { _mm512_cvtepu8_epi16(_mm256_maskz_loadu_epi8(lanes, at.cast())) }
            };
            _mm512_or_si512(bytes(0), _mm512_slli_epi16::<8>(bytes(1)))
        };
        let to = self.quads.as_mut_ptr();
        for first in (0..width).step_by(CHUNK) {
            let todo = (width - first).min(CHUNK);
            let lanes = |half: usize| -> __mmask16 {
                let n = todo.saturating_sub(half * LANES).min(LANES);
                ((1u32 << n) - 1) as __mmask16
            };
            let mut upper = pairs(0, first);
            for r in 0..=rows + BORDER {
                let lower = pairs(r + 1, first);
                let quads = |half: __m256i, below: __m256i| {
                    let below = _mm512_slli_epi32::<16>(_mm512_cvtepu16_epi32(below));
                    _mm512_or_si512(_mm512_cvtepu16_epi32(half), below)
                };
                let low = quads(_mm512_castsi512_si256(upper), _mm512_castsi512_si256(lower));
                let high = quads(
                    _mm512_extracti64x4_epi64::<1>(upper),
                    _mm512_extracti64x4_epi64::<1>(lower),
                );
                // SAFETY: the stores write the positions `first..first + todo` of row `r`,
                // inside `quads` (asserted above).
                unsafe {
                    let at = to.add(r * width + first);
                    _mm512_mask_storeu_epi32(at.cast(), lanes(0), low);
                    _mm512_mask_storeu_epi32(at.add(LANES).cast(), lanes(1), high);
                }
                upper = lower;
            }
        }
    }

    /// Writes into `dst` (`rows x cols`) the bilinear interpolation at the point of each pixel,
    /// zero outside the image, with `simd`'s sampler (the image must have been loaded for it).
    /// The point of pixel (r, c) is `centre + m · (u, v)` plus its displacement when
    /// `displacement` is given (see [`Points::place`]); `points` is scratch. Every sampler
    /// gives the same bytes.
    #[inline(always)]
    fn sample(
        &self,
        points: &mut Points,
        m: [f32; 4],
        displacement: Option<(&[f32], &[f32])>,
        dst: &mut [u8],
        simd: Simd,
    ) {
        match simd {
            #[cfg(target_arch = "x86_64")]
            // SAFETY: `Simd::Avx512` is only chosen on processors with AVX-512F, BW, VL and FMA.
            Simd::Avx512 => unsafe { self.sample_avx512(points, m, displacement, dst) },
            #[cfg(target_arch = "x86_64")]
            // SAFETY: `Simd::Avx2` is only chosen on processors with AVX2 and FMA.
            Simd::Avx2 => unsafe { self.sample_avx2(points, m, displacement, dst) },
            Simd::Portable => {
                points.place(m, displacement);
                self.sample_points(points, dst);
            }
        }
    }

    /// The portable sampler compiled for AVX2 and FMA (whose `f32::mul_add` is then one
    /// instruction).
    ///
    /// # Safety
    /// The processor must support AVX2 and FMA.
    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2,fma")]
    fn sample_avx2(
        &self,
        points: &mut Points,
        m: [f32; 4],
        displacement: Option<(&[f32], &[f32])>,
        dst: &mut [u8],
    ) {
        points.place(m, displacement);
        self.sample_points(points, dst);
    }

    /// The portable sampler (see [`Padded::sample`]).
    ///
    /// Coordinates are clamped to one pixel beyond the image, where the border is zero, so no
    /// branch is needed; positions are computed in one loop (vector instructions) and values
    /// loaded and interpolated in a second, by fused multiply-adds (`top = fma(fx, b - a, a)`,
    /// `bottom` alike, the value `fma(fy, bottom - top, top)`).
    #[inline(always)]
    fn sample_points(&self, points: &mut Points, dst: &mut [u8]) {
        let width = self.cols + 2 * BORDER;
        let low = BORDER as f32 - 1.0;
        let (x_max, y_max) = ((self.cols + BORDER) as f32, (self.rows + BORDER) as f32);
        let (x, y, index) = (&mut points.x, &mut points.y, &mut points.index);
        for ((x, y), i) in x.iter_mut().zip(y.iter_mut()).zip(index.iter_mut()) {
            let xs = x.max(low).min(x_max);
            let ys = y.max(low).min(y_max);
            // SAFETY: `xs` and `ys` are clamped to [BORDER - 1, size + BORDER] (`max` turns NaN
            // into BORDER - 1), so they are finite and their integer parts fit an `i32`.
            let (xi, yi) = unsafe { (xs.to_int_unchecked::<i32>(), ys.to_int_unchecked::<i32>()) };
            *x = xs - xi as f32;
            *y = ys - yi as f32;
            *i = yi as u32 * width as u32 + xi as u32;
        }
        let data = &self.data[..];
        for (((o, &i), &fx), &fy) in dst.iter_mut().zip(index.iter()).zip(x.iter()).zip(y.iter()) {
            let i = i as usize;
            let (a, b) = (data[i], data[i + 1]);
            let (c, d) = (data[i + width], data[i + width + 1]);
            let top = fx.mul_add(b - a, a);
            let bottom = fx.mul_add(d - c, c);
            *o = to_u8(fy.mul_add(bottom - top, top));
        }
    }

    /// [`Padded::sample_points`] of the points [`Points::place`] places, 16 at a time with
    /// AVX-512: the same operations in the same order, the four neighbours of each point
    /// fetched by one gather from `quads`.
    ///
    /// # Safety
    /// The processor must support AVX-512F, BW, VL and FMA.
    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx512f,avx512bw,avx512vl,fma")]
    fn sample_avx512(
        &self,
        points: &Points,
        m: [f32; 4],
        displacement: Option<(&[f32], &[f32])>,
        dst: &mut [u8],
    ) {
        use std::arch::x86_64::*;
        let (rows, cols) = points.shape;
        let n = rows * cols;
        assert!((rows, cols) == (self.rows, self.cols) && dst.len() == n);
        assert!(points.u.len() == n && points.v.len() == n);
        if let Some((dx, dy)) = displacement {
            assert!(dx.len() == n && dy.len() == n);
        }
        let width = cols + 2 * BORDER;
        // The farthest a clamped point reaches.
        let last = (rows + BORDER) * width + cols + BORDER;
        assert!(self.quads.len() > last && last < i32::MAX as usize);
        let (cx, cy) = padded_centre((rows, cols));
        let (cx, cy) = (_mm512_set1_ps(cx), _mm512_set1_ps(cy));
        let m = m.map(|v| _mm512_set1_ps(v));
        let low = _mm512_set1_ps(BORDER as f32 - 1.0);
        let x_max = _mm512_set1_ps((cols + BORDER) as f32);
        let y_max = _mm512_set1_ps((rows + BORDER) as f32);
        let half = _mm512_set1_ps(0.5);
        let row_length = _mm512_set1_ps(width as f32);
        let byte = _mm512_set1_epi32(0xFF);
        let quads = self.quads.as_ptr();
        let lanes = |from: usize| -> __mmask16 {
            let todo = (n - from).min(LANES);
            if todo == LANES { !0 } else { (1 << todo) - 1 }
        };
        // The neighbourhoods and the fractions of the block of points from `from`.
        // SAFETY: the masked loads touch the tables and the displacements at `from..from +
        // todo`, within the lengths asserted above; the gather reads `quads` at most at `last`
        // (asserted above), as every coordinate, the masked-off lanes' included, is clamped
        // into the border. `_mm512_max_ps(v, low)` returns `low` for NaN, as `f32::max` does.
        let fetch = |from: usize| unsafe {
            let mask = lanes(from);
            let u = _mm512_maskz_loadu_ps(mask, points.u.as_ptr().add(from));
            let v = _mm512_maskz_loadu_ps(mask, points.v.as_ptr().add(from));
            let linear = |centre, a, b| _mm512_fmadd_ps(b, v, _mm512_fmadd_ps(a, u, centre));
            let (mut x, mut y) = (linear(cx, m[0], m[1]), linear(cy, m[2], m[3]));
            if let Some((dx, dy)) = displacement {
                x = _mm512_add_ps(x, _mm512_maskz_loadu_ps(mask, dx.as_ptr().add(from)));
                y = _mm512_add_ps(y, _mm512_maskz_loadu_ps(mask, dy.as_ptr().add(from)));
            }
            let xs = _mm512_min_ps(_mm512_max_ps(x, low), x_max);
            let ys = _mm512_min_ps(_mm512_max_ps(y, low), y_max);
            // Positive: the floor is the integer part, exact, as is the index.
            const FLOOR: i32 = _MM_FROUND_TO_NEG_INF | _MM_FROUND_NO_EXC;
            let (xf, yf) = (
                _mm512_roundscale_ps::<FLOOR>(xs),
                _mm512_roundscale_ps::<FLOOR>(ys),
            );
            let (fx, fy) = (_mm512_sub_ps(xs, xf), _mm512_sub_ps(ys, yf));
            let index = _mm512_cvttps_epi32(_mm512_fmadd_ps(yf, row_length, xf));
            (_mm512_i32gather_epi32::<4>(index, quads.cast()), fx, fy)
        };
        // Interpolates the block from `from` and writes it.
        // SAFETY: the store writes `dst` at `from..from + todo`, within its length.
        let mut finish = |from: usize, (quad, fx, fy): (__m512i, __m512, __m512)| unsafe {
            let low_byte = |w| _mm512_cvtepi32_ps(_mm512_and_si512(w, byte));
            let (a, b) = (low_byte(quad), low_byte(_mm512_srli_epi32::<8>(quad)));
            let c = low_byte(_mm512_srli_epi32::<16>(quad));
            let d = _mm512_cvtepi32_ps(_mm512_srli_epi32::<24>(quad));
            let top = _mm512_fmadd_ps(fx, _mm512_sub_ps(b, a), a);
            let bottom = _mm512_fmadd_ps(fx, _mm512_sub_ps(d, c), c);
            let v = _mm512_fmadd_ps(fy, _mm512_sub_ps(bottom, top), top);
            let v = _mm512_cvttps_epi32(_mm512_add_ps(v, half));
            let bytes = _mm512_cvtusepi32_epi8(v);
            _mm_mask_storeu_epi8(dst.as_mut_ptr().add(from).cast(), lanes(from), bytes);
        };
        // Each block's gather is issued before the previous block is interpolated, so that
        // its latency overlaps that work.
        let mut pending = fetch(0);
        for from in (LANES..n).step_by(LANES) {
            let next = fetch(from);
            finish(from - LANES, pending);
            pending = next;
        }
        finish((n - 1) / LANES * LANES, pending);
    }
}

/// Sampling positions and their scratch, reused per thread.
#[derive(Default)]
struct Points {
    /// Horizontal coordinates.
    x: Vec<f32>,
    /// Vertical coordinates.
    y: Vec<f32>,
    /// Offsets into the padded image.
    index: Vec<u32>,
    /// The image shape the tables are for.
    shape: (usize, usize),
    /// `c - cx` for the point in column `c` (`cx` the centre's column).
    u: Vec<f32>,
    /// `r - cy` for the point in row `r` (`cy` the centre's row).
    v: Vec<f32>,
}

impl Points {
    /// Sizes the buffers for the pixels of `rows x cols` images, and tabulates their
    /// coordinates about the centre.
    fn prepare(&mut self, rows: usize, cols: usize) {
        if self.shape == (rows, cols) && !self.u.is_empty() {
            return;
        }
        let n = rows * cols;
        self.shape = (rows, cols);
        self.x.resize(n, 0.0);
        self.y.resize(n, 0.0);
        self.index.resize(n, 0);
        let (cx, cy) = ((cols as f32 - 1.0) / 2.0, (rows as f32 - 1.0) / 2.0);
        self.u.clear();
        self.u.extend((0..n).map(|i| (i % cols) as f32 - cx));
        self.v.clear();
        self.v.extend((0..n).map(|i| (i / cols) as f32 - cy));
    }

    /// Places each pixel's point at `centre + m · (u, v)` (`m` row-major 2x2), plus its
    /// displacement when `displacement` (horizontal and vertical, laid out as the points) is
    /// given, in the coordinates of the padded image (`centre` from [`padded_centre`]): `x =
    /// fma(m01, v, fma(m00, u, cx)) + dx`, `y` alike, each `fma` rounded once.
    #[inline(always)]
    fn place(&mut self, m: [f32; 4], displacement: Option<(&[f32], &[f32])>) {
        let (cx, cy) = padded_centre(self.shape);
        let table = self.u.iter().zip(&self.v);
        let points = self.x.iter_mut().zip(self.y.iter_mut());
        match displacement {
            Some((dx, dy)) => {
                for (((x, y), (u, v)), (dx, dy)) in points.zip(table).zip(dx.iter().zip(dy)) {
                    *x = m[1].mul_add(*v, m[0].mul_add(*u, cx)) + dx;
                    *y = m[3].mul_add(*v, m[2].mul_add(*u, cy)) + dy;
                }
            }
            None => {
                for ((x, y), (u, v)) in points.zip(table) {
                    *x = m[1].mul_add(*v, m[0].mul_add(*u, cx));
                    *y = m[3].mul_add(*v, m[2].mul_add(*u, cy));
                }
            }
        }
    }
}

/// Per-thread buffers of the distortions.
#[derive(Default)]
struct Scratch {
    /// The source image in `f32`, padded.
    source: Padded,
    /// Where to sample it.
    points: Points,
    /// Buffers of the elastic distortion.
    elastic: ElasticScratch,
}

thread_local! {
    /// Buffers reused by every distortion run on this thread.
    static SCRATCH: RefCell<Scratch> = RefCell::new(Scratch::default());
}

/// A distortion with a parameter drawn at random for each image.
///
/// ```
/// use nn_data::{ImageTransform, RandomShift};
/// use rand::SeedableRng;
///
/// let image: Vec<u8> = (0..16).map(|v| v as u8 * 10).collect();
/// let mut shifted = vec![0; 16];
/// let mut rng = rand::rngs::StdRng::seed_from_u64(1);
/// RandomShift::default().apply(&image, 4, 4, &mut rng, &mut shifted);
/// assert_ne!(shifted, image);
/// ```
pub trait ImageTransform: Send + Sync {
    /// A short description for logs and figure captions, e.g. `"rotate(±15°)"`.
    fn describe(&self) -> String;

    /// Writes a randomly distorted copy of `src` (`rows x cols`) into `dst`, drawing the
    /// parameter from `rng`.
    fn apply(&self, src: &[u8], rows: usize, cols: usize, rng: &mut StdRng, dst: &mut [u8]);
}

/// A shift by whole pixels, each of `dx` and `dy` uniform in `-max_pixels..=max_pixels`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RandomShift {
    /// Largest shift along each axis.
    pub max_pixels: u32,
}

impl Default for RandomShift {
    /// Two pixels: MNIST digits sit in a 20x20 box centred in the 28x28 frame, so a two-pixel
    /// shift keeps every digit inside the frame.
    fn default() -> Self {
        Self { max_pixels: 2 }
    }
}

impl ImageTransform for RandomShift {
    fn describe(&self) -> String {
        format!("shift(±{}px)", self.max_pixels)
    }

    fn apply(&self, src: &[u8], rows: usize, cols: usize, rng: &mut StdRng, dst: &mut [u8]) {
        let m = self.max_pixels as i32;
        let dx = rng.random_range(-m..=m);
        let dy = rng.random_range(-m..=m);
        shift(src, rows, cols, dx, dy, dst);
    }
}

/// A rotation by an angle uniform in `[-max_degrees, max_degrees]`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RandomRotation {
    /// Largest angle, in degrees.
    pub max_degrees: f32,
}

impl Default for RandomRotation {
    /// 15 degrees: about the slant variation between writers; larger angles start to turn
    /// a 6 towards a 9.
    fn default() -> Self {
        Self { max_degrees: 15.0 }
    }
}

impl ImageTransform for RandomRotation {
    fn describe(&self) -> String {
        format!("rotate(±{}°)", self.max_degrees)
    }

    fn apply(&self, src: &[u8], rows: usize, cols: usize, rng: &mut StdRng, dst: &mut [u8]) {
        let degrees = symmetric(rng, self.max_degrees);
        rotate(src, rows, cols, degrees, dst);
    }
}

/// A horizontal shear uniform in `[-max_shear, max_shear]` (see [`skew`]).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RandomSkew {
    /// Largest shear, in pixels of horizontal movement per pixel of height.
    pub max_shear: f32,
}

impl Default for RandomSkew {
    /// 0.3: the top and bottom of a 20-pixel-high digit move by up to 3 pixels, about the
    /// difference between upright and italic handwriting.
    fn default() -> Self {
        Self { max_shear: 0.3 }
    }
}

impl ImageTransform for RandomSkew {
    fn describe(&self) -> String {
        format!("skew(±{})", self.max_shear)
    }

    fn apply(&self, src: &[u8], rows: usize, cols: usize, rng: &mut StdRng, dst: &mut [u8]) {
        let shear = symmetric(rng, self.max_shear);
        skew(src, rows, cols, shear, dst);
    }
}

/// A scaling by a factor uniform in `[1 - max_ratio, 1 + max_ratio]`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RandomScale {
    /// Largest relative change of size.
    pub max_ratio: f32,
}

impl Default for RandomScale {
    /// 0.15: a 20-pixel digit becomes 17 to 23 pixels high, within the 28-pixel frame.
    fn default() -> Self {
        Self { max_ratio: 0.15 }
    }
}

impl ImageTransform for RandomScale {
    fn describe(&self) -> String {
        format!("scale(±{}%)", (self.max_ratio * 1000.0).round() / 10.0)
    }

    fn apply(&self, src: &[u8], rows: usize, cols: usize, rng: &mut StdRng, dst: &mut [u8]) {
        let factor = 1.0 + symmetric(rng, self.max_ratio);
        scale(src, rows, cols, factor, dst);
    }
}

/// Elastic distortion with fresh random displacement fields per image (see [`elastic`]).
///
/// ```
/// use nn_data::{Elastic, ImageTransform, augment::image_rng};
///
/// // A vertical bar in a 28x28 frame.
/// let bar: Vec<u8> = (0..28 * 28).map(|i| if (12..16).contains(&(i % 28)) { 255 } else { 0 }).collect();
/// let (mut once, mut again) = (vec![0; 28 * 28], vec![0; 28 * 28]);
/// Elastic::default().apply(&bar, 28, 28, &mut image_rng(5, 0), &mut once);
/// Elastic::default().apply(&bar, 28, 28, &mut image_rng(5, 0), &mut again);
/// // The same seed and image give the same distortion; the bar bends but keeps its ink.
/// assert_eq!(once, again);
/// assert_ne!(once, bar);
/// let ink = |image: &[u8]| image.iter().map(|&p| f64::from(p)).sum::<f64>();
/// assert!((ink(&once) / ink(&bar) - 1.0).abs() < 0.2);
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Elastic {
    /// Scale of the smoothed displacements, in pixels.
    pub alpha: f32,
    /// Standard deviation of the smoothing Gaussian, in pixels.
    pub sigma: f32,
}

impl Default for Elastic {
    /// `alpha = 34`, `sigma = 4`: the values commonly used for 28x28 MNIST digits following
    /// Simard et al. (2003), who found sigma = 4 gives distortions that look like natural
    /// variations of handwriting (smaller sigma looks like noise, larger like a translation).
    fn default() -> Self {
        Self {
            alpha: 34.0,
            sigma: 4.0,
        }
    }
}

impl ImageTransform for Elastic {
    fn describe(&self) -> String {
        format!("elastic(alpha={}, sigma={})", self.alpha, self.sigma)
    }

    fn apply(&self, src: &[u8], rows: usize, cols: usize, rng: &mut StdRng, dst: &mut [u8]) {
        elastic(src, rows, cols, self.alpha, self.sigma, rng, dst);
    }
}

/// Ciresan et al.'s (2010) distortion: a random rotation, independent horizontal and vertical
/// scalings and an elastic distortion, combined into one resampling by [`distort`].
///
/// The angle is uniform in ±`max_degrees`, each scale factor uniform in 1 ± `max_scale`, and the
/// elastic fields are those of [`Elastic`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct AffineElastic {
    /// Largest rotation, in degrees.
    pub max_degrees: f32,
    /// Largest relative change of the width and of the height.
    pub max_scale: f32,
    /// Scale of the elastic displacements, in pixels.
    pub alpha: f32,
    /// Standard deviation of the smoothing Gaussian, in pixels.
    pub sigma: f32,
}

impl Default for AffineElastic {
    /// Rotation ±15°, scaling ±15% per axis, elastic `alpha = 36`, `sigma = 6`: within the
    /// ranges Ciresan et al. used (15°, 15–20%, `sigma` 5–6 with `alpha` 36–38). This smoother
    /// field moves pixels less than [`Elastic`]'s `alpha = 34`, `sigma = 4` (a root-mean-square
    /// displacement along each axis of about 1.0 pixel against 1.4, away from the border), on
    /// top of the rotation and scaling.
    fn default() -> Self {
        Self {
            max_degrees: 15.0,
            max_scale: 0.15,
            alpha: 36.0,
            sigma: 6.0,
        }
    }
}

impl AffineElastic {
    /// The map from output to input coordinates that undoes scaling the width by `sx` and the
    /// height by `sy`, then rotating by `degrees` (as [`rotate`]): `diag(1/sx, 1/sy) · R`, with
    /// `R` the output-to-input map of the rotation.
    fn linear(degrees: f32, sx: f32, sy: f32) -> [f32; 4] {
        let (sin, cos) = degrees.to_radians().sin_cos();
        [cos / sx, -sin / sx, sin / sy, cos / sy]
    }
}

impl ImageTransform for AffineElastic {
    fn describe(&self) -> String {
        format!(
            "affine+elastic(rotate ±{}°, scale ±{}%, alpha={}, sigma={})",
            self.max_degrees,
            (self.max_scale * 1000.0).round() / 10.0,
            self.alpha,
            self.sigma
        )
    }

    fn apply(&self, src: &[u8], rows: usize, cols: usize, rng: &mut StdRng, dst: &mut [u8]) {
        let degrees = symmetric(rng, self.max_degrees);
        let sx = 1.0 + symmetric(rng, self.max_scale);
        let sy = 1.0 + symmetric(rng, self.max_scale);
        let linear = Self::linear(degrees, sx, sy);
        distort(src, rows, cols, linear, self.alpha, self.sigma, rng, dst);
    }
}

/// A value uniform in `[-max, max]` (exactly 0 when `max` is 0).
fn symmetric(rng: &mut StdRng, max: f32) -> f32 {
    (rng.random::<f32>() * 2.0 - 1.0) * max
}

/// The random generator of image `index` under `seed`: independent of which thread handles the
/// image, so results do not depend on the number of threads.
pub fn image_rng(seed: u64, index: usize) -> StdRng {
    StdRng::seed_from_u64(seed ^ (index as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15))
}

/// Refills `out` with a distorted copy of every image of `set`, in parallel: for each image,
/// the original is kept with probability `keep_original_fraction`, otherwise one of
/// `transforms`, chosen uniformly, is applied (the original is kept when `transforms` is
/// empty). Labels, shape and inversion are copied; `out`'s buffers are reused.
///
/// The result depends only on `seed`, not on the number of threads.
pub fn augment_set(
    set: &ImageSet,
    transforms: &[Box<dyn ImageTransform>],
    keep_original_fraction: f32,
    seed: u64,
    out: &mut ImageSet,
) {
    out.rows = set.rows;
    out.cols = set.cols;
    out.classes = set.classes;
    out.inverted = set.inverted;
    out.labels.clear();
    out.labels.extend_from_slice(&set.labels);
    out.pixels.resize(set.pixels.len(), 0);
    let n = set.image_len();
    if n == 0 {
        return;
    }
    let (rows, cols) = (set.rows, set.cols);
    out.pixels
        .par_chunks_mut(n)
        .with_min_len(64)
        .enumerate()
        .for_each(|(i, dst)| {
            let src = set.image(i);
            let mut rng = image_rng(seed, i);
            if transforms.is_empty() || rng.random::<f32>() < keep_original_fraction {
                dst.copy_from_slice(src);
            } else {
                let t = &transforms[rng.random_range(0..transforms.len())];
                t.apply(src, rows, cols, &mut rng, dst);
            }
        });
}

/// The artificial expansion of the book's `expand_mnist.py`: each image followed by its copies
/// shifted one pixel down, up, right and left (in that order, as in the script), labels copied;
/// 50,000 images become 250,000. The script then shuffles; training shuffles every epoch anyway.
pub fn expand_by_shifts(set: &ImageSet) -> ImageSet {
    const SHIFTS: [(i32, i32); 4] = [(0, 1), (0, -1), (1, 0), (-1, 0)];
    let n = set.image_len();
    let mut pixels = vec![0u8; set.pixels.len() * 5];
    if n > 0 {
        pixels
            .par_chunks_mut(5 * n)
            .enumerate()
            .for_each(|(i, block)| {
                let src = set.image(i);
                let (original, shifted) = block.split_at_mut(n);
                original.copy_from_slice(src);
                for (dst, &(dx, dy)) in shifted.chunks_exact_mut(n).zip(&SHIFTS) {
                    shift(src, set.rows, set.cols, dx, dy, dst);
                }
            });
    }
    ImageSet {
        pixels,
        labels: set.labels.iter().flat_map(|&l| [l; 5]).collect(),
        ..set.empty_like()
    }
}

/// The seed of distorted copy `k` (from 0) of an offline expansion seeded with `seed`.
fn copy_seed(seed: u64, k: usize) -> u64 {
    seed.wrapping_add((k as u64 + 1).wrapping_mul(0xD1B5_4A32_D192_ED03))
}

/// The offline expansion of `set`: the originals followed by `copies` distorted copies of the
/// whole set, so N images become (1 + copies)·N. Copy `k` is made by [`augment_set`] with every
/// image distorted, seeded from `seed` and `k`; the result depends only on the arguments, not
/// on the number of threads. Refused with [`DataError::ExpansionTooLarge`] before anything is
/// allocated when the images would not fit in memory.
///
/// ```
/// use nn_data::{ImageSet, ImageTransform, RandomShift, expand_by_copies};
///
/// let set = ImageSet {
///     pixels: (0..2 * 16).map(|v| (v * 8) as u8).collect(),
///     rows: 4,
///     cols: 4,
///     labels: vec![0, 1],
///     classes: 2,
///     inverted: false,
/// };
/// let transforms: Vec<Box<dyn ImageTransform>> = vec![Box::new(RandomShift::default())];
/// let expanded = expand_by_copies(&set, &transforms, 2, 7).unwrap();
/// assert_eq!(expanded.len(), 6);
/// assert_eq!(expanded.subset(..2), set);
/// assert_eq!(expanded.labels, [0, 1, 0, 1, 0, 1]);
/// ```
pub fn expand_by_copies(
    set: &ImageSet,
    transforms: &[Box<dyn ImageTransform>],
    copies: usize,
    seed: u64,
) -> Result<ImageSet, DataError> {
    let too_large = || DataError::ExpansionTooLarge {
        images: set.len(),
        copies,
    };
    let total = |per_image: usize| {
        copies
            .checked_add(1)
            .and_then(|c| c.checked_mul(set.len()))
            .and_then(|n| n.checked_mul(per_image))
            .ok_or_else(too_large)
    };
    let (pixels, labels) = (total(set.image_len())?, total(1)?);
    let mut expanded = set.empty_like();
    expanded
        .pixels
        .try_reserve_exact(pixels)
        .map_err(|_| too_large())?;
    expanded
        .labels
        .try_reserve_exact(labels)
        .map_err(|_| too_large())?;
    expanded.pixels.extend_from_slice(&set.pixels);
    expanded.labels.extend_from_slice(&set.labels);
    let mut copy = set.empty_like();
    for k in 0..copies {
        augment_set(set, transforms, 0.0, copy_seed(seed, k), &mut copy);
        expanded.pixels.extend_from_slice(&copy.pixels);
        expanded.labels.extend_from_slice(&copy.labels);
    }
    Ok(expanded)
}

/// Writes the offline expansion of `set` ([`expand_by_copies`]) as an IDX image file and an IDX
/// label file. A path ending in `.gz` is gzip-compressed. Both files are written atomically.
pub fn expand_to_idx(
    set: &ImageSet,
    transforms: &[Box<dyn ImageTransform>],
    copies: usize,
    seed: u64,
    images_path: &Path,
    labels_path: &Path,
) -> Result<(), DataError> {
    let expanded = expand_by_copies(set, transforms, copies, seed)?;
    let gz = |p: &Path| p.extension().is_some_and(|e| e == "gz");
    let images = IdxArray {
        dims: vec![expanded.len(), set.rows, set.cols],
        data: expanded.pixels,
    };
    write_idx(images_path, &images, gz(images_path))?;
    let labels = IdxArray {
        dims: vec![images.dims[0]],
        data: expanded.labels,
    };
    write_idx(labels_path, &labels, gz(labels_path))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every sampler and field computation the processor supports (one it lacks fails the
    /// test when `NN_REQUIRE_KERNELS` names it), and the portable ones.
    fn supported() -> Vec<Simd> {
        let mut all = vec![Simd::Portable];
        for kernel in nn_testdata::kernels_under_test() {
            let simd = Simd::for_kernel(kernel);
            if !all.contains(&simd) {
                all.push(simd);
            }
        }
        all
    }

    #[test]
    fn every_code_path_gives_the_same_distortion_bit_for_bit() {
        // 28 x 27: rows paired about the middle, rows of two blocks of 16 and 11 values, and
        // a last sampling block of 4 points; 27 x 30: a middle row of its own. Sigma 0: the
        // eigenvectors of no smoothing are neither symmetric nor antisymmetric.
        for (rows, cols, sigma) in [(28, 27, 4.0), (27, 30, 6.0), (9, 7, 0.0)] {
            let src: Vec<u8> = (0..rows * cols).map(|i| (i * 37 % 251) as u8).collect();
            let run = |simd: Simd, linear: [f32; 4], alpha: f32| {
                let mut source = Padded::default();
                source.load(&src, rows, cols, simd);
                let mut scratch = ElasticScratch::default();
                let mut points = Points::default();
                let mut dst = vec![0; rows * cols];
                let fields = scratch.prepare(rows, cols, sigma);
                points.prepare(rows, cols);
                let job = ElasticJob {
                    source: &source,
                    points: &mut points,
                    linear,
                    alpha,
                    dst: &mut dst,
                };
                let mut rng = SmallRng::seed_from_u64(5);
                match simd {
                    #[cfg(target_arch = "x86_64")]
                    // SAFETY: `supported` checked AVX-512F, BW, VL and FMA.
                    Simd::Avx512 => unsafe { elastic_avx512(job, fields, &mut rng) },
                    #[cfg(target_arch = "x86_64")]
                    // SAFETY: `supported` checked AVX2 and FMA.
                    Simd::Avx2 => unsafe { elastic_avx2(job, fields, &mut rng) },
                    Simd::Portable => elastic_core(job, fields, &mut rng, Simd::Portable),
                }
                dst
            };
            // Large displacements and a stretch send points beyond every edge.
            for (linear, alpha) in [([0.9, -0.2, 0.1, 1.1], 34.0), ([1.6, 0.3, -0.4, 1.7], 90.0)] {
                let portable = run(Simd::Portable, linear, alpha);
                assert_ne!(portable, src);
                for simd in supported() {
                    let got = run(simd, linear, alpha);
                    assert_eq!(got, portable, "{rows}x{cols}, {simd:?}");
                }
            }
        }
    }

    #[test]
    fn every_sampler_gives_the_same_bytes_at_nan_and_far_points() {
        // One point per pixel of an 11 x 11 image; the eleven x and y are these.
        let at = [
            f32::NAN,
            -1e9,
            -1.5,
            -0.25,
            0.0,
            4.5,
            9.75,
            10.0,
            10.5,
            1e9,
            f32::INFINITY,
        ];
        let (rows, cols) = (at.len(), at.len());
        let src: Vec<u8> = (0..rows * cols).map(|i| (i * 41 % 256) as u8).collect();
        // No linear part: each point is its displacement from the centre.
        let centre = (cols as f32 - 1.0) / 2.0;
        let dx: Vec<f32> = (0..rows * cols).map(|i| at[i % cols] - centre).collect();
        let dy: Vec<f32> = (0..rows * cols)
            .map(|i| at[i / cols] * 0.8 - centre)
            .collect();
        let sample = |simd: Simd| {
            let mut source = Padded::default();
            source.load(&src, rows, cols, simd);
            let mut points = Points::default();
            points.prepare(rows, cols);
            let mut dst = vec![0; rows * cols];
            source.sample(&mut points, [0.0; 4], Some((&dx, &dy)), &mut dst, simd);
            dst
        };
        let portable = sample(Simd::Portable);
        assert!(portable.iter().any(|&p| p > 0) && portable.contains(&0));
        for simd in supported() {
            assert_eq!(sample(simd), portable, "{simd:?}");
        }
    }

    #[test]
    fn gaussian_kernel_is_normalised_and_symmetric() {
        let k = gaussian_kernel(4.0);
        assert_eq!(k.len(), 25);
        assert!((k.iter().sum::<f32>() - 1.0).abs() < 1e-6);
        assert!((0..k.len()).all(|i| k[i] == k[k.len() - 1 - i]));
        assert_eq!(gaussian_kernel(0.0), vec![1.0]);
    }

    #[test]
    fn affine_elastic_undoes_scaling_then_rotation() {
        let close = |a: [f32; 4], b: [f32; 4]| a.iter().zip(&b).all(|(x, y)| (x - y).abs() < 1e-6);
        // diag(1/2, 1/4) · R(90°); R(90°) · diag(1/2, 1/4) would be [0, -0.25, 0.5, 0].
        assert!(close(
            AffineElastic::linear(90.0, 2.0, 4.0),
            [0.0, -0.5, 0.25, 0.0]
        ));

        // Without the elastic part, the map resamples as `rotate` and `scale` do.
        let (rows, cols) = (28, 28);
        let src: Vec<u8> = (0..rows * cols).map(|i| (i * 53 % 256) as u8).collect();
        let mut rng = StdRng::seed_from_u64(7);
        let mut rotated = vec![0; rows * cols];
        rotate(&src, rows, cols, 12.0, &mut rotated);
        let mut scaled = vec![0; rows * cols];
        scale(&src, rows, cols, 1.15, &mut scaled);
        let mut got = vec![0; rows * cols];
        for (degrees, factor, expected) in [(12.0, 1.0, rotated), (0.0, 1.15, scaled)] {
            let linear = AffineElastic::linear(degrees, factor, factor);
            distort(&src, rows, cols, linear, 0.0, 4.0, &mut rng, &mut got);
            let worst = expected
                .iter()
                .zip(&got)
                .map(|(&a, &b)| a.abs_diff(b))
                .max();
            assert!(worst <= Some(1), "{degrees}°, x{factor}: {worst:?}");
        }
    }
}
