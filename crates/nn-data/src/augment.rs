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

use crate::idx::{IdxArray, write_idx};
use crate::{DataError, ImageSet};

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

/// Elastic distortion (Simard, Steinkraus and Platt, 2003): two fields of displacements drawn
/// uniformly from (-1, 1), one for x and one for y, each smoothed by a Gaussian of standard
/// deviation `sigma` pixels (separable convolution truncated at 3 sigma, zero beyond the border),
/// scaled by `alpha` pixels; each output pixel is sampled bilinearly at its displaced position.
///
/// Scratch buffers live in a per-thread cache: after a thread's first call no heap allocation
/// happens for images of the same size and the same `sigma`. The result is bit-identical on
/// every x86-64 processor (the AVX2 path only widens the same operations).
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
        points.prepare(rows * cols);
        source.load(src, rows, cols);
        elastic.prepare(rows, cols, sigma);
        let mut fast = SmallRng::seed_from_u64(rng.next_u64());
        let job = ElasticJob {
            source,
            index: &mut points.index,
            rows,
            cols,
            linear,
            alpha,
            dst,
        };
        #[cfg(target_arch = "x86_64")]
        if std::arch::is_x86_feature_detected!("avx2") {
            // SAFETY: the processor supports AVX2, checked just above.
            unsafe { elastic_avx2(job, elastic, &mut fast) };
            return;
        }
        elastic_core(job, elastic, &mut fast);
    });
}

/// The image arguments of [`distort`].
struct ElasticJob<'a> {
    /// Source image, padded.
    source: &'a Padded,
    /// Scratch for [`Padded::sample_points`].
    index: &'a mut [u32],
    /// Rows of the image.
    rows: usize,
    /// Columns of the image.
    cols: usize,
    /// The affine part, about the centre.
    linear: [f32; 4],
    /// Displacement scale.
    alpha: f32,
    /// Destination image.
    dst: &'a mut [u8],
}

/// [`elastic_core`] compiled for AVX2.
///
/// # Safety
/// The processor must support AVX2.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn elastic_avx2(job: ElasticJob<'_>, scratch: &mut ElasticScratch, rng: &mut SmallRng) {
    elastic_core(job, scratch, rng);
}

/// Draws and smooths the two displacement fields, and samples each output pixel at its
/// position under the affine map plus the scaled displacement.
///
/// Each field `K N K^T` is smoothed with two column passes. The noise is laid out transposed
/// (`cols x rows`, which changes nothing for independent, identically distributed values)
/// between zero rows in `noise`, so that every tap of the first pass is one long contiguous
/// multiply-add over the whole image. Its result is transposed into `padded` (again between
/// zero rows) for the second pass, which leaves the field row-major like the image.
#[inline(always)]
fn elastic_core(job: ElasticJob<'_>, scratch: &mut ElasticScratch, rng: &mut SmallRng) {
    let ElasticJob {
        source,
        index,
        rows,
        cols,
        linear: m,
        alpha,
        dst,
    } = job;
    let n = rows * cols;
    let radius = scratch.kernel.len() / 2;
    let ElasticScratch {
        kernel,
        noise,
        once,
        padded,
        dx,
        dy,
        ..
    } = scratch;
    for field in [&mut *dx, &mut *dy] {
        fill_uniform(rng, &mut noise[radius * rows..radius * rows + n]);
        convolve_columns(noise, once, rows, kernel);
        let image_rows = padded[radius * cols..radius * cols + n].chunks_exact_mut(cols);
        for (r, row) in image_rows.enumerate() {
            for (p, column) in row.iter_mut().zip(once.chunks_exact(rows)) {
                *p = column[r];
            }
        }
        convolve_columns(padded, field, cols, kernel);
    }
    let cx = (cols as f32 - 1.0) / 2.0;
    let cy = (rows as f32 - 1.0) / 2.0;
    let rows_of_fields = dx.chunks_exact_mut(cols).zip(dy.chunks_exact_mut(cols));
    for (r, (dx, dy)) in rows_of_fields.enumerate() {
        let v = r as f32 - cy;
        for (c, (x, y)) in dx.iter_mut().zip(dy.iter_mut()).enumerate() {
            let u = c as f32 - cx;
            *x = cx + m[0] * u + m[1] * v + alpha * *x;
            *y = cy + m[2] * u + m[3] * v + alpha * *y;
        }
    }
    source.sample_points(dx, dy, index, dst);
}

/// `out[i] = sum_k kernel[k] * src[i + k * stride]`: a column convolution when `src` holds the
/// image between `kernel.len() / 2` zero rows of `stride` values above and below. The kernel
/// is symmetric, so mirrored taps are added before multiplying; blocks of 32, then 8 outputs
/// stay in registers across all taps, and the last few are done one by one.
#[inline(always)]
fn convolve_columns(src: &[f32], out: &mut [f32], stride: usize, kernel: &[f32]) {
    let wide = out.len() / 32 * 32;
    let narrow = out.len() / 8 * 8;
    let (head, tail) = out.split_at_mut(wide);
    convolve_blocks::<32>(src, head, 0, stride, kernel);
    let (middle, rest) = tail.split_at_mut(narrow - wide);
    convolve_blocks::<8>(src, middle, wide, stride, kernel);
    let radius = kernel.len() / 2;
    for (j, o) in rest.iter_mut().enumerate() {
        let i = narrow + j;
        let mut acc = 0.0;
        for (k, &w) in kernel[..radius].iter().enumerate() {
            acc += w * (src[i + k * stride] + src[i + (2 * radius - k) * stride]);
        }
        *o = acc + kernel[radius] * src[i + radius * stride];
    }
}

/// [`convolve_columns`] for `out` (a multiple of `B` long), whose first output is `start`.
#[inline(always)]
fn convolve_blocks<const B: usize>(
    src: &[f32],
    out: &mut [f32],
    start: usize,
    stride: usize,
    kernel: &[f32],
) {
    let radius = kernel.len() / 2;
    for (b, block) in out.chunks_exact_mut(B).enumerate() {
        let first = start + b * B;
        let at = |k: usize| -> &[f32; B] {
            src[first + k * stride..first + k * stride + B]
                .try_into()
                .expect("a block of B values")
        };
        let mut acc = [0.0f32; B];
        for (k, &w) in kernel[..radius].iter().enumerate() {
            let (near, far) = (at(k), at(2 * radius - k));
            for j in 0..B {
                acc[j] += w * (near[j] + far[j]);
            }
        }
        let centre = at(radius);
        for j in 0..B {
            acc[j] += kernel[radius] * centre[j];
        }
        block.copy_from_slice(&acc);
    }
}

/// Reusable buffers of [`distort`].
#[derive(Default)]
struct ElasticScratch {
    /// Normalised Gaussian taps, `2 * radius + 1` of them.
    kernel: Vec<f32>,
    /// The sigma `kernel` was computed for (`None` before the first call).
    kernel_sigma: Option<f32>,
    /// The image shape the buffers are laid out for.
    shape: (usize, usize),
    /// Noise (`cols x rows`) between `radius` zero rows above and below.
    noise: Vec<f32>,
    /// The noise after the first pass (`cols x rows`).
    once: Vec<f32>,
    /// The first pass transposed (`rows x cols`), between `radius` zero rows above and below.
    padded: Vec<f32>,
    /// Horizontal displacement field.
    dx: Vec<f32>,
    /// Vertical displacement field.
    dy: Vec<f32>,
}

impl ElasticScratch {
    /// Lays the buffers out for `rows x cols` images and `sigma`, when they are not already.
    fn prepare(&mut self, rows: usize, cols: usize, sigma: f32) {
        if self.kernel_sigma == Some(sigma) && self.shape == (rows, cols) {
            return;
        }
        self.kernel = gaussian_kernel(sigma);
        self.kernel_sigma = Some(sigma);
        self.shape = (rows, cols);
        let (n, pad) = (rows * cols, self.kernel.len() - 1);
        // Pads must be zero: clear and refill rather than resize.
        for (buffer, len) in [
            (&mut self.noise, n + pad * rows),
            (&mut self.padded, n + pad * cols),
            (&mut self.once, n),
            (&mut self.dx, n),
            (&mut self.dy, n),
        ] {
            buffer.clear();
            buffer.resize(len, 0.0);
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

/// Fills `field` with values drawn uniformly from (-1, 1) at a resolution of 2^-15, four per
/// 64-bit draw (ample for a field about to be smoothed by a Gaussian).
#[inline(always)]
fn fill_uniform(rng: &mut SmallRng, field: &mut [f32]) {
    const SCALE: f32 = 2.0 / 65536.0;
    let value = |bits: u64| (bits & 0xFFFF) as f32 * SCALE + (SCALE / 2.0 - 1.0);
    // Draws first, then a conversion loop of fixed length that runs as vector instructions.
    let mut blocks = field.chunks_exact_mut(32);
    for block in &mut blocks {
        let words: [u64; 8] = std::array::from_fn(|_| rng.next_u64());
        for (j, v) in block.iter_mut().enumerate() {
            *v = value(words[j / 4] >> (16 * (j % 4)));
        }
    }
    for quad in blocks.into_remainder().chunks_mut(4) {
        let bits = rng.next_u64();
        for (j, v) in quad.iter_mut().enumerate() {
            *v = value(bits >> (16 * j));
        }
    }
}

/// Applies the linear map `m` (row-major 2x2, output to input coordinates, about the centre).
fn affine(src: &[u8], rows: usize, cols: usize, m: [f32; 4], dst: &mut [u8]) {
    if rows == 0 || cols == 0 {
        return;
    }
    SCRATCH.with(|scratch| {
        let Scratch { source, points, .. } = &mut *scratch.borrow_mut();
        source.load(src, rows, cols);
        points.prepare(rows * cols);
        let cx = (cols as f32 - 1.0) / 2.0;
        let cy = (rows as f32 - 1.0) / 2.0;
        let rows_of_points = points
            .x
            .chunks_exact_mut(cols)
            .zip(points.y.chunks_exact_mut(cols));
        for (r, (xs, ys)) in rows_of_points.enumerate() {
            let v = r as f32 - cy;
            for (c, (x, y)) in xs.iter_mut().zip(ys.iter_mut()).enumerate() {
                let u = c as f32 - cx;
                *x = cx + m[0] * u + m[1] * v;
                *y = cy + m[2] * u + m[3] * v;
            }
        }
        source.sample_points(&mut points.x, &mut points.y, &mut points.index, dst);
    });
}

/// Rounds an interpolated intensity to a byte.
#[inline(always)]
fn to_u8(v: f32) -> u8 {
    (v + 0.5) as u8
}

/// Width of the zero border of [`Padded`].
const BORDER: usize = 2;

/// An image as `f32` inside a border of zeros, for branch-free bilinear sampling.
#[derive(Default)]
struct Padded {
    /// `(rows + 2 BORDER) x (cols + 2 BORDER)` values, row-major.
    data: Vec<f32>,
    /// Rows of the image inside the border.
    rows: usize,
    /// Columns of the image inside the border.
    cols: usize,
}

impl Padded {
    /// Copies `src` (`rows x cols`) inside the border.
    fn load(&mut self, src: &[u8], rows: usize, cols: usize) {
        let width = cols + 2 * BORDER;
        if (self.rows, self.cols) != (rows, cols) || self.data.is_empty() {
            self.rows = rows;
            self.cols = cols;
            self.data.clear();
            self.data.resize((rows + 2 * BORDER) * width, 0.0);
        }
        for (r, row) in src.chunks_exact(cols).enumerate() {
            let start = (r + BORDER) * width + BORDER;
            for (d, &p) in self.data[start..start + cols].iter_mut().zip(row) {
                *d = f32::from(p);
            }
        }
    }

    /// Writes into `dst` the bilinear interpolation at each point (`x[i]`, `y[i]`) in image
    /// coordinates, zero outside the image; `x` and `y` are overwritten, `index` is scratch.
    ///
    /// Coordinates are clamped to one pixel beyond the image, where the border is zero, so no
    /// branch is needed; positions are computed in one loop (vector instructions) and values
    /// loaded and interpolated in a second.
    #[inline(always)]
    fn sample_points(&self, x: &mut [f32], y: &mut [f32], index: &mut [u32], dst: &mut [u8]) {
        let width = self.cols + 2 * BORDER;
        let (x_max, y_max) = (self.cols as f32, self.rows as f32);
        for ((x, y), i) in x.iter_mut().zip(y.iter_mut()).zip(index.iter_mut()) {
            let xs = x.max(-1.0).min(x_max) + BORDER as f32;
            let ys = y.max(-1.0).min(y_max) + BORDER as f32;
            // SAFETY: `xs` and `ys` are clamped to [BORDER - 1, size + BORDER] (`max` turns NaN
            // into -1), so they are finite and their integer parts fit an `i32`.
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
            let top = a + fx * (b - a);
            let bottom = c + fx * (d - c);
            *o = to_u8(top + fy * (bottom - top));
        }
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
}

impl Points {
    /// Sizes the buffers for `n` points.
    fn prepare(&mut self, n: usize) {
        self.x.resize(n, 0.0);
        self.y.resize(n, 0.0);
        self.index.resize(n, 0);
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

    #[cfg(target_arch = "x86_64")]
    #[test]
    fn avx2_and_portable_elastic_agree_bit_for_bit() {
        if !std::arch::is_x86_feature_detected!("avx2") {
            return;
        }
        let (rows, cols) = (28, 27);
        let src: Vec<u8> = (0..rows * cols).map(|i| (i * 37 % 251) as u8).collect();
        let run = |avx2: bool| {
            let mut source = Padded::default();
            source.load(&src, rows, cols);
            let mut scratch = ElasticScratch::default();
            scratch.prepare(rows, cols, 4.0);
            let mut index = vec![0; rows * cols];
            let mut dst = vec![0; rows * cols];
            let job = ElasticJob {
                source: &source,
                index: &mut index,
                rows,
                cols,
                linear: [0.9, -0.2, 0.1, 1.1],
                alpha: 34.0,
                dst: &mut dst,
            };
            let mut rng = SmallRng::seed_from_u64(5);
            if avx2 {
                // SAFETY: AVX2 support was checked above.
                unsafe { elastic_avx2(job, &mut scratch, &mut rng) };
            } else {
                elastic_core(job, &mut scratch, &mut rng);
            }
            dst
        };
        let portable = run(false);
        assert_eq!(run(true), portable);
        assert_ne!(portable, src);
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
