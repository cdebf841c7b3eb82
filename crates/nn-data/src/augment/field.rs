//! The random displacement fields of the elastic distortion, drawn from a low-rank factor of
//! their covariance instead of by smoothing a full field of noise.
//!
//! **Definition** (Simard et al., 2003). For an image of `rows x cols` pixels, a field is
//! `F = K_r N K_cᵀ`: `N` holds `rows x cols` independent values uniform in (-1, 1) (variance
//! 1/3), and `K_n` is the `n x n` matrix of the Gaussian taps `g(j - i)` of standard deviation
//! `sigma`, truncated at 3 sigma and normalised (`gaussian_kernel`), with no noise beyond the
//! border. This is the separable Gaussian smoothing of the noise, and its covariance separates:
//!
//! `Cov(F[r, c], F[r', c']) = (1/3) C_r[r, r'] C_c[c, c']`, with `C_n = K_n K_nᵀ`.
//!
//! **Construction.** With the eigen-decomposition `C_n = Σ_i μ_i q_i q_iᵀ` (μ decreasing) and
//! `A_n = [√μ_1 q_1, ..., √μ_k q_k]` (`n x k`), the field `F' = A_r M A_cᵀ`, `M` a `k_r x k_c`
//! matrix of independent normal values of variance 1/3 (from a table of 4096 quantiles), is
//! normal with covariance `(1/3) (A_r A_rᵀ) ⊗ (A_c A_cᵀ)`: exactly that of `F` without the
//! eigenvalues beyond `k`. (With all of them and normal noise in the definition the two
//! constructions have the same distribution: `Q_nᵀ N Q_m` is again independent noise when `Q`
//! is orthogonal.) The definition's uniform noise makes `F` a sum of hundreds of independent
//! terms, normal to within an excess kurtosis of -0.01 to -0.04. A Gaussian of sigma 4 pixels
//! passes almost nothing above a few cycles per image, so few eigenvalues matter: `k` is the
//! smallest number that keeps at least [`KEPT_VARIANCE`] of every pixel's variance along each
//! axis (so at least 99.9% of every pixel's variance in all). For 28 x 28 images that is
//! `k = 7` at sigma 4 and `k = 5` at sigma 6: 49 or 25 random numbers per field instead of
//! 784, and two small matrix products instead of a 25-tap convolution over the padded image.
//!
//! **What differs.** Per-pixel variances are at most 0.1% below the definition's (the dropped
//! eigenvalues), all covariances are the definition's up to those same terms, and the values
//! are normal where the definition's are normal to within the kurtosis above. The tests of
//! this module check the variances, the correlations at several lags and the kurtosis against
//! the definition drawn the slow way, and that the same comparison rejects sigma 7.5% off and
//! uniform instead of normal noise in `M`.

use rand::rngs::SmallRng;

use super::Simd;

/// The fraction of each pixel's variance along one axis that the kept eigenvalues must carry.
pub(super) const KEPT_VARIANCE: f64 = 0.9995;

/// Values per vector block: the rows of `A_cᵀ` and of `M A_cᵀ` are padded to a multiple of
/// this; the AVX-512 sampler takes this many points at a time.
pub(super) const LANES: usize = 16;

/// The low-rank factors of one image shape and one sigma.
pub(super) struct FieldBasis {
    /// Rows of the image.
    rows: usize,
    /// Columns of the image.
    cols: usize,
    /// The bits of the sigma the factors are for.
    sigma_bits: u32,
    /// Kept eigenvalues along the rows (`k_r`).
    pub(super) k_rows: usize,
    /// Kept eigenvalues along the columns (`k_c`).
    pub(super) k_cols: usize,
    /// `A_r`, `rows x k_r`, row-major, the eigenvectors symmetric about the middle row first
    /// (`symmetric` of them), then the antisymmetric ones.
    left: Vec<f32>,
    /// How many columns of `left` are symmetric, when every kept eigenvector is symmetric or
    /// antisymmetric (as for a Gaussian, whose `C` is symmetric about both diagonals and has
    /// distinct eigenvalues); `None` otherwise.
    symmetric: Option<usize>,
    /// `A_cᵀ`, `k_c x stride`, row-major, zero beyond `cols`.
    right: Vec<f32>,
    /// Row length of `right` and of the fields: `cols` rounded up to [`LANES`].
    pub(super) stride: usize,
}

impl FieldBasis {
    /// The factors for `rows x cols` images and `sigma`.
    pub(super) fn new(rows: usize, cols: usize, sigma: f32) -> Self {
        let kernel = super::gaussian_kernel(sigma);
        let (left, k_rows, symmetric) = covariance_factor(rows, &kernel);
        let (right_rows, k_cols, _) = covariance_factor(cols, &kernel);
        let stride = cols.div_ceil(LANES) * LANES;
        let mut right = vec![0.0; k_cols * stride];
        for c in 0..cols {
            for j in 0..k_cols {
                right[j * stride + c] = right_rows[c * k_cols + j];
            }
        }
        Self {
            rows,
            cols,
            sigma_bits: sigma.to_bits(),
            k_rows,
            k_cols,
            left,
            symmetric,
            right,
            stride,
        }
    }

    /// Whether these are the factors of `rows x cols` images and `sigma`.
    pub(super) fn is_for(&self, rows: usize, cols: usize, sigma: f32) -> bool {
        (self.rows, self.cols, self.sigma_bits) == (rows, cols, sigma.to_bits())
    }

    /// How many random numbers one field takes.
    pub(super) fn noise_len(&self) -> usize {
        self.k_rows * self.k_cols
    }

    /// Writes `F' = A_r M A_cᵀ` into `field` (`rows x cols`, row-major), with `M` read
    /// row-major from `noise` (`k_r x k_c`) and `between` (`k_r x stride`) as scratch.
    ///
    /// Each output row is a sum of rows of the next factor, accumulated in blocks of
    /// [`LANES`] values by fused multiply-adds (`f32::mul_add`, exactly rounded everywhere, so
    /// results are bit-identical on every processor). When the eigenvectors along the rows
    /// are symmetric or antisymmetric, row `r` and row `rows - 1 - r` are `E + O` and `E - O`,
    /// with `E` and `O` the sums over the symmetric and the antisymmetric ones: half the work.
    #[inline(always)]
    pub(super) fn field(&self, noise: &[f32], between: &mut [f32], field: &mut [f32], simd: Simd) {
        let (stride, cols) = (self.stride, self.cols);
        assert_eq!(field.len(), self.rows * cols);
        // between = M A_cᵀ
        for (weights, out) in noise
            .chunks_exact(self.k_cols)
            .zip(between.chunks_exact_mut(stride))
        {
            combine_rows(
                weights,
                self.k_cols / 2,
                &self.right,
                stride,
                out,
                None,
                simd,
            );
        }
        // field = A_r between
        let rows_of_left = self.left.chunks_exact(self.k_rows);
        match self.symmetric {
            Some(split) => {
                let (top, bottom) = field.split_at_mut(self.rows.div_ceil(2) * cols);
                let mirrored = bottom.chunks_exact_mut(cols).rev().map(Some);
                let pairs = top.chunks_exact_mut(cols).zip(mirrored.chain([None]));
                for (weights, (near, far)) in rows_of_left.zip(pairs) {
                    combine_rows(weights, split, between, stride, near, far, simd);
                }
            }
            None => {
                for (weights, out) in rows_of_left.zip(field.chunks_exact_mut(cols)) {
                    combine_rows(weights, self.k_rows / 2, between, stride, out, None, simd);
                }
            }
        }
    }

    /// Writes the two fields of [`FieldBasis::field`] with the two random matrices of `noise`
    /// (`2 k_r k_c` values, the horizontal one first) into `dx` and `dy`; `between` (`k_r x
    /// stride`) is scratch.
    ///
    /// With AVX-512 and the shapes of [`FieldBasis::in_registers`] (MNIST at sigma 4 and 6),
    /// one pass computes both, the factors held in registers: the same operations in the
    /// same order as [`FieldBasis::field`], without its loop overhead.
    #[inline(always)]
    pub(super) fn fields(
        &self,
        noise: &[f32],
        between: &mut [f32],
        dx: &mut [f32],
        dy: &mut [f32],
        simd: Simd,
    ) {
        let (noise_x, noise_y) = noise.split_at(self.noise_len());
        #[cfg(target_arch = "x86_64")]
        if simd == Simd::Avx512 {
            let (x, y) = (noise_x, noise_y);
            // SAFETY: `Simd::Avx512` is only chosen on processors with AVX-512F and FMA; the
            // rank is the one `in_registers` checked the shape for.
            unsafe {
                match self.in_registers() {
                    Some(4) => return self.fields_avx512::<4>(x, y, dx, dy),
                    Some(5) => return self.fields_avx512::<5>(x, y, dx, dy),
                    Some(6) => return self.fields_avx512::<6>(x, y, dx, dy),
                    Some(7) => return self.fields_avx512::<7>(x, y, dx, dy),
                    Some(8) => return self.fields_avx512::<8>(x, y, dx, dy),
                    _ => {}
                }
            }
        }
        self.field(noise_x, between, dx, simd);
        self.field(noise_y, between, dy, simd);
    }

    /// The rank `k` when [`FieldBasis::fields_avx512`] applies: the same rank, from 4 to 8,
    /// along both axes, the first `ceil(k / 2)` eigenvectors along the rows symmetric and the
    /// others antisymmetric, and rows of more than [`LANES`] and at most 2 [`LANES`] values.
    #[cfg(any(target_arch = "x86_64", test))]
    fn in_registers(&self) -> Option<usize> {
        let k = self.k_rows;
        let fits = self.k_cols == k
            && (4..=8).contains(&k)
            && self.symmetric == Some(k.div_ceil(2))
            && self.stride == 2 * LANES;
        fits.then_some(k)
    }

    /// [`FieldBasis::fields`] when [`FieldBasis::in_registers`] gives `K`: `M A_cᵀ` of both
    /// fields in registers, then each pair of mirrored rows of both fields.
    ///
    /// # Safety
    /// The processor must support AVX-512F and FMA.
    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx512f,fma")]
    fn fields_avx512<const K: usize>(
        &self,
        noise_x: &[f32],
        noise_y: &[f32],
        dx: &mut [f32],
        dy: &mut [f32],
    ) {
        use std::arch::x86_64::*;
        type Row = [__m512; 2];
        let (rows, cols) = (self.rows, self.cols);
        assert!(self.in_registers() == Some(K) && cols > LANES && cols <= 2 * LANES);
        let split = K.div_ceil(2);
        assert!(noise_x.len() == K * K && noise_y.len() == K * K);
        assert!(dx.len() == rows * cols && dy.len() == rows * cols);
        assert!(self.left.len() == rows * K && self.right.len() == K * 2 * LANES);
        let mut right = [[_mm512_setzero_ps(); 2]; K];
        for (row, values) in right.iter_mut().zip(self.right.chunks_exact(2 * LANES)) {
            // SAFETY: `values` holds 2 LANES values.
            unsafe {
                *row = [
                    _mm512_loadu_ps(values.as_ptr()),
                    _mm512_loadu_ps(values.as_ptr().add(LANES)),
                ];
            }
        }
        // E + O with E the sum of `weights[i] · rows[i]` over `i < split`, O over the rest,
        // each a chain of fused multiply-adds from zero in the order of `i`; and E - O.
        #[inline(always)]
        fn chain(weights: &[f32], rows: &[Row], mut sum: Row) -> Row {
            for (&w, row) in weights.iter().zip(rows) {
                // SAFETY: `fields_avx512`, the only caller, requires AVX-512F and FMA.
                unsafe {
                    let w = _mm512_set1_ps(w);
                    sum[0] = _mm512_fmadd_ps(w, row[0], sum[0]);
                    sum[1] = _mm512_fmadd_ps(w, row[1], sum[1]);
                }
            }
            sum
        }
        let combine = |weights: &[f32], split: usize, rows: &[Row; K]| -> (Row, Row) {
            let zero = [_mm512_setzero_ps(); 2];
            let e = chain(&weights[..split], &rows[..split], zero);
            let o = chain(&weights[split..K], &rows[split..], zero);
            let plus = [_mm512_add_ps(e[0], o[0]), _mm512_add_ps(e[1], o[1])];
            let minus = [_mm512_sub_ps(e[0], o[0]), _mm512_sub_ps(e[1], o[1])];
            (plus, minus)
        };
        let between = |noise: &[f32]| -> [Row; K] {
            let mut rows = [[_mm512_setzero_ps(); 2]; K];
            for (row, weights) in rows.iter_mut().zip(noise.chunks_exact(K)) {
                *row = combine(weights, K / 2, &right).0;
            }
            rows
        };
        let (between_x, between_y) = (between(noise_x), between(noise_y));
        let tail: __mmask16 = ((1u32 << (cols - LANES)) - 1) as __mmask16;
        let store = |field: &mut [f32], r: usize, values: Row| {
            let at = field[r * cols..][..cols].as_mut_ptr();
            // SAFETY: row `r` of `field` has `cols` values, LANES < cols <= 2 LANES: the
            // first store writes LANES of them, the second, masked, the remaining ones.
            unsafe {
                _mm512_storeu_ps(at, values[0]);
                _mm512_mask_storeu_ps(at.add(LANES), tail, values[1]);
            }
        };
        for (r, weights) in self.left.chunks_exact(K).take(rows.div_ceil(2)).enumerate() {
            let mirror = rows - 1 - r;
            for (field, between) in [(&mut *dx, &between_x), (&mut *dy, &between_y)] {
                let (near, far) = combine(weights, split, between);
                store(field, r, near);
                if mirror != r {
                    store(field, mirror, far);
                }
            }
        }
    }
}

/// `acc[j] = w · row[j] + acc[j]`, rounded once, with `simd`'s instructions (the compiler
/// does not vectorise `f32::mul_add`).
#[inline(always)]
fn fused_multiply_add(acc: &mut [f32; LANES], w: f32, row: &[f32; LANES], simd: Simd) {
    match simd {
        #[cfg(target_arch = "x86_64")]
        // SAFETY: `Simd::Avx2` and `Simd::Avx512` are only chosen on processors with AVX2 and
        // FMA; the loads and stores are of 8 values at offsets 0 and 8 of LANES = 16.
        Simd::Avx2 | Simd::Avx512 => unsafe {
            use std::arch::x86_64::*;
            let w = _mm256_set1_ps(w);
            for half in [0, 8] {
                let (a, r) = (acc.as_mut_ptr().add(half), row.as_ptr().add(half));
                let sum = _mm256_fmadd_ps(w, _mm256_loadu_ps(r), _mm256_loadu_ps(a));
                _mm256_storeu_ps(a, sum);
            }
        },
        Simd::Portable => {
            for (a, &v) in acc.iter_mut().zip(row) {
                *a = w.mul_add(v, *a);
            }
        }
    }
}

/// [`combine_rows`] with AVX-512: the same operations in the same order, the four sums in
/// registers. Always inlined, so that inside a function compiled for AVX-512 (the
/// distortion's) the intrinsics become single instructions, with no call per row.
///
/// # Safety
/// The processor must support AVX-512F and FMA.
#[cfg(target_arch = "x86_64")]
#[inline(always)]
unsafe fn combine_rows_avx512(
    weights: &[f32],
    split: usize,
    rows: &[f32],
    stride: usize,
    near: &mut [f32],
    far: Option<&mut [f32]>,
) {
    use std::arch::x86_64::*;
    let len = near.len();
    assert!(split <= weights.len() && rows.len() >= weights.len() * stride);
    assert!(len <= stride && stride.is_multiple_of(LANES));
    let far = far.map(|far| {
        assert_eq!(far.len(), len);
        far.as_mut_ptr()
    });
    let (from, to) = (rows.as_ptr(), near.as_mut_ptr());
    // The lanes of the block at `at` inside the output.
    let lanes = |at: usize| -> __mmask16 {
        if at + LANES <= len {
            !0
        } else {
            (1 << (len - at)) - 1
        }
    };
    let mut start = 0;
    while start < len {
        let two = start + LANES < len;
        let second = if two { start + LANES } else { start };
        // SAFETY: every load is of LANES values at `i * stride + start` or `+ second`, with
        // `i < weights.len()` and `second + LANES <= stride` (`second < len <= stride`, both
        // multiples of LANES): inside `rows` (asserted above); the stores are masked to the
        // lanes below `len`, the length of `near` and `far`.
        unsafe {
            let sum = |range: std::ops::Range<usize>| {
                let (mut first, mut next) = (_mm512_setzero_ps(), _mm512_setzero_ps());
                for i in range {
                    let w = _mm512_set1_ps(weights[i]);
                    let row = from.add(i * stride);
                    first = _mm512_fmadd_ps(w, _mm512_loadu_ps(row.add(start)), first);
                    next = _mm512_fmadd_ps(w, _mm512_loadu_ps(row.add(second)), next);
                }
                (first, next)
            };
            let ((e0, e1), (o0, o1)) = (sum(0..split), sum(split..weights.len()));
            let (first, next) = (lanes(start), lanes(second));
            _mm512_mask_storeu_ps(to.add(start), first, _mm512_add_ps(e0, o0));
            if let Some(far) = far {
                _mm512_mask_storeu_ps(far.add(start), first, _mm512_sub_ps(e0, o0));
            }
            if two {
                _mm512_mask_storeu_ps(to.add(second), next, _mm512_add_ps(e1, o1));
                if let Some(far) = far {
                    _mm512_mask_storeu_ps(far.add(second), next, _mm512_sub_ps(e1, o1));
                }
            }
        }
        start += if two { 2 * LANES } else { LANES };
    }
}

/// With `E = Σ_{i < split} weights[i] · rows[i]` and `O` the same sum over `i >= split`
/// (`rows[i]` being `rows[i * stride..][..stride]`, `stride` a multiple of [`LANES`]): `near =
/// E + O`, and `far = E - O` when given, both as long as `near` (at most `stride`).
///
/// Two blocks of [`LANES`] values at a time, so that `E` and `O` make four independent chains
/// of fused multiply-adds.
#[inline(always)]
fn combine_rows(
    weights: &[f32],
    split: usize,
    rows: &[f32],
    stride: usize,
    near: &mut [f32],
    mut far: Option<&mut [f32]>,
    simd: Simd,
) {
    #[cfg(target_arch = "x86_64")]
    if simd == Simd::Avx512 {
        // SAFETY: `Simd::Avx512` is only chosen on processors with AVX-512F and FMA.
        unsafe { combine_rows_avx512(weights, split, rows, stride, near, far) };
        return;
    }
    type Block = [f32; LANES];
    let at = |i: usize, start: usize| -> &Block {
        rows[i * stride + start..][..LANES]
            .try_into()
            .expect("a block of LANES values")
    };
    let add = |acc: &mut Block, w: f32, row: &Block| fused_multiply_add(acc, w, row, simd);
    let len = near.len();
    assert!(len <= stride && stride.is_multiple_of(LANES));
    let mut start = 0;
    while start < len {
        let two = start + LANES < len;
        let second = if two { start + LANES } else { start };
        let (mut even, mut odd) = (([0.0; LANES], [0.0; LANES]), ([0.0; LANES], [0.0; LANES]));
        for (i, &w) in weights[..split].iter().enumerate() {
            add(&mut even.0, w, at(i, start));
            add(&mut even.1, w, at(i, second));
        }
        for (i, &w) in weights.iter().enumerate().skip(split) {
            add(&mut odd.0, w, at(i, start));
            add(&mut odd.1, w, at(i, second));
        }
        let blocks = [(start, &even.0, &odd.0), (second, &even.1, &odd.1)];
        for &(from, e, o) in &blocks[..if two { 2 } else { 1 }] {
            let end = len.min(from + LANES);
            let sums = near[from..end].iter_mut().zip(e.iter().zip(o));
            sums.for_each(|(out, (e, o))| *out = e + o);
            if let Some(far) = far.as_deref_mut() {
                let differences = far[from..end].iter_mut().zip(e.iter().zip(o));
                differences.for_each(|(out, (e, o))| *out = e - o);
            }
        }
        start += if two { 2 * LANES } else { LANES };
    }
}

/// The factor `A` (`n x k`, row-major) of the `n x n` covariance `C = K Kᵀ` of the smoothing
/// by `kernel` (noise only inside the image), `k`, and how many of `A`'s columns are symmetric
/// (see [`FieldBasis::symmetric`]): the eigenvectors of the `k` largest eigenvalues of `C`,
/// each scaled by the square root of its eigenvalue, `k` the fewest that keep at least
/// [`KEPT_VARIANCE`] of every diagonal element of `C`; symmetric ones first when all are
/// symmetric or antisymmetric.
fn covariance_factor(n: usize, kernel: &[f32]) -> (Vec<f32>, usize, Option<usize>) {
    let radius = kernel.len() / 2;
    let tap = |i: usize, j: usize| -> f64 {
        let d = j as isize - i as isize + radius as isize;
        usize::try_from(d)
            .ok()
            .and_then(|d| kernel.get(d))
            .map_or(0.0, |&w| f64::from(w))
    };
    let mut covariance = vec![0.0; n * n];
    for i in 0..n {
        for j in 0..n {
            covariance[i * n + j] = (0..n).map(|m| tap(i, m) * tap(j, m)).sum();
        }
    }
    let diagonal: Vec<f64> = (0..n).map(|i| covariance[i * n + i]).collect();
    let (values, vectors) = symmetric_eigen(covariance, n);
    let mut order: Vec<usize> = (0..n).collect();
    order.sort_by(|&a, &b| values[b].total_cmp(&values[a]));
    let mut kept = vec![0.0f64; n];
    let mut k = 0;
    for &e in &order {
        k += 1;
        for (r, kept) in kept.iter_mut().enumerate() {
            *kept += values[e].max(0.0) * vectors[r * n + e].powi(2);
        }
        if kept
            .iter()
            .zip(&diagonal)
            .all(|(k, d)| k >= &(KEPT_VARIANCE * d))
        {
            break;
        }
    }
    let mut chosen = order[..k].to_vec();
    // +1 for a symmetric eigenvector, -1 for an antisymmetric one, 0 for neither.
    let parity = |e: usize| {
        let mirror = |sign: f64| {
            (0..n).all(|r| (vectors[r * n + e] - sign * vectors[(n - 1 - r) * n + e]).abs() < 1e-9)
        };
        if mirror(1.0) {
            1
        } else if mirror(-1.0) {
            -1
        } else {
            0
        }
    };
    let symmetric = chosen.iter().all(|&e| parity(e) != 0).then(|| {
        chosen.sort_by_key(|&e| -parity(e));
        chosen.iter().filter(|&&e| parity(e) == 1).count()
    });
    let mut factor = vec![0.0f32; n * k];
    for r in 0..n {
        for (j, &e) in chosen.iter().enumerate() {
            factor[r * k + j] = (values[e].max(0.0).sqrt() * vectors[r * n + e]) as f32;
        }
    }
    (factor, k, symmetric)
}

/// Eigenvalues and eigenvectors of the symmetric `n x n` matrix `a` (row-major), by cyclic
/// Jacobi rotations: `(values, vectors)`, eigenvector `e` being column `e` of `vectors`.
fn symmetric_eigen(mut a: Vec<f64>, n: usize) -> (Vec<f64>, Vec<f64>) {
    let mut v = vec![0.0; n * n];
    for i in 0..n {
        v[i * n + i] = 1.0;
    }
    let total: f64 = a.iter().map(|x| x * x).sum();
    for _sweep in 0..64 {
        let off: f64 = (0..n * n)
            .filter(|i| i / n != i % n)
            .map(|i| a[i] * a[i])
            .sum();
        if off <= 1e-28 * total {
            break;
        }
        for p in 0..n {
            for q in p + 1..n {
                let apq = a[p * n + q];
                if apq == 0.0 {
                    continue;
                }
                // The rotation that zeroes a[p][q] (Numerical Recipes, section 11.1).
                let theta = (a[q * n + q] - a[p * n + p]) / (2.0 * apq);
                let t = theta.signum() / (theta.abs() + (theta * theta + 1.0).sqrt());
                let c = 1.0 / (t * t + 1.0).sqrt();
                let s = t * c;
                for k in 0..n {
                    let (x, y) = (a[k * n + p], a[k * n + q]);
                    a[k * n + p] = c * x - s * y;
                    a[k * n + q] = s * x + c * y;
                }
                for k in 0..n {
                    let (x, y) = (a[p * n + k], a[q * n + k]);
                    a[p * n + k] = c * x - s * y;
                    a[q * n + k] = s * x + c * y;
                }
                for k in 0..n {
                    let (x, y) = (v[k * n + p], v[k * n + q]);
                    v[k * n + p] = c * x - s * y;
                    v[k * n + q] = s * x + c * y;
                }
            }
        }
    }
    ((0..n).map(|i| a[i * n + i]).collect(), v)
}

/// How many values [`normal_noise`] draws from: 12 bits of a random number pick one.
const QUANTILES: usize = 4096;

/// Normal noise with the variance of the definition's uniform noise (1/3): the quantiles of a
/// normal distribution at the midpoints of [`QUANTILES`] equally likely intervals, scaled so
/// that, drawn with equal probabilities, they have exactly that variance (a distribution that
/// differs from the normal one only beyond 3.5 standard deviations).
fn normal_noise() -> &'static [f32] {
    static TABLE: std::sync::OnceLock<Vec<f32>> = std::sync::OnceLock::new();
    TABLE.get_or_init(|| {
        let quantiles: Vec<f64> = (0..QUANTILES)
            .map(|i| inverse_normal_cdf((i as f64 + 0.5) / QUANTILES as f64))
            .collect();
        let variance = quantiles.iter().map(|q| q * q).sum::<f64>() / QUANTILES as f64;
        let scale = (1.0 / (3.0 * variance)).sqrt();
        quantiles.iter().map(|q| (q * scale) as f32).collect()
    })
}

/// The quantile function of the standard normal distribution, `p` in (0, 1), by Acklam's
/// rational approximation (relative error below 1.2e-9).
fn inverse_normal_cdf(p: f64) -> f64 {
    const A: [f64; 6] = [
        -3.969683028665376e1,
        2.209460984245205e2,
        -2.759285104469687e2,
        1.38357751867269e2,
        -3.066479806614716e1,
        2.506628277459239,
    ];
    const B: [f64; 5] = [
        -5.447609879822406e1,
        1.615858368580409e2,
        -1.556989798598866e2,
        6.680131188771972e1,
        -1.328068155288572e1,
    ];
    const C: [f64; 6] = [
        -7.784894002430293e-3,
        -3.223964580411365e-1,
        -2.400758277161838,
        -2.549732539343734,
        4.374664141464968,
        2.938163982698783,
    ];
    const D: [f64; 4] = [
        7.784695709041462e-3,
        3.224671290700398e-1,
        2.445134137142996,
        3.754408661907416,
    ];
    let polynomial =
        |coefficients: &[f64], x: f64| coefficients.iter().fold(0.0, |acc, c| acc * x + c);
    let tail = |p: f64| {
        let q = (-2.0 * p.ln()).sqrt();
        polynomial(&C, q) / (polynomial(&D, q) * q + 1.0)
    };
    const LOW: f64 = 0.02425;
    if p < LOW {
        tail(p)
    } else if p > 1.0 - LOW {
        -tail(1.0 - p)
    } else {
        let q = p - 0.5;
        let r = q * q;
        polynomial(&A, r) * q / (polynomial(&B, r) * r + 1.0)
    }
}

/// Fills `noise` with independent values of `value(bits)`, `bits` holding 16 random bits,
/// each multiplied by `scale`: four per 64-bit draw.
#[inline(always)]
fn fill(rng: &mut SmallRng, noise: &mut [f32], scale: f32, value: impl Fn(u64) -> f32) {
    use rand::RngCore;
    // Draws first, then a conversion loop of fixed length.
    let mut blocks = noise.chunks_exact_mut(32);
    for block in &mut blocks {
        let words: [u64; 8] = std::array::from_fn(|_| rng.next_u64());
        for (j, v) in block.iter_mut().enumerate() {
            *v = value((words[j / 4] >> (16 * (j % 4))) & 0xFFFF) * scale;
        }
    }
    for quad in blocks.into_remainder().chunks_mut(4) {
        let bits = rng.next_u64();
        for (j, v) in quad.iter_mut().enumerate() {
            *v = value((bits >> (16 * j)) & 0xFFFF) * scale;
        }
    }
}

/// Fills `noise` with independent normal values of variance `scale² / 3` (see
/// [`normal_noise`]): the random matrices `M` of [`FieldBasis::field`], scaled.
///
/// Normal rather than uniform: a value of `F'` is a sum of only `k_r k_c` terms, dominated by
/// a few near the centre of the image, so uniform terms would leave it visibly lighter-tailed
/// than the definition's sum of hundreds (an excess kurtosis of -0.4 at the centre at sigma 4,
/// -0.8 at sigma 6, against -0.01); normal terms make it normal.
#[inline(always)]
pub(super) fn fill_normal(rng: &mut SmallRng, noise: &mut [f32], scale: f32) {
    let table: &[f32; QUANTILES] = normal_noise().try_into().expect("QUANTILES values");
    fill(rng, noise, scale, |bits| {
        table[(bits >> 4) as usize & (QUANTILES - 1)]
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn jacobi_recovers_the_eigen_decomposition() {
        let n = 5usize;
        let a: Vec<f64> = (0..n * n)
            .map(|i| {
                let (r, c) = (i / n, i % n);
                1.0 / (1.0 + r.abs_diff(c) as f64) + if r == c { r as f64 } else { 0.0 }
            })
            .collect();
        let (values, vectors) = symmetric_eigen(a.clone(), n);
        for e in 0..n {
            for r in 0..n {
                let av: f64 = (0..n).map(|c| a[r * n + c] * vectors[c * n + e]).sum();
                assert!((av - values[e] * vectors[r * n + e]).abs() < 1e-12);
            }
        }
        let trace: f64 = (0..n).map(|i| a[i * n + i]).sum();
        assert!((values.iter().sum::<f64>() - trace).abs() < 1e-12);
    }

    #[test]
    fn few_eigenvalues_carry_the_smoothed_variance_of_mnist_images() {
        for (n, sigma) in [(28, 4.0), (28, 6.0), (40, 4.0), (28, 1.0)] {
            let kernel = super::super::gaussian_kernel(sigma);
            let radius = kernel.len() / 2;
            // Each pixel's variance, Σ_m K(i, m)², of the smoothing of unit noise inside the
            // image, against what the k kept columns of A carry, Σ_j A(i, j)².
            let variance: Vec<f64> = (0..n)
                .map(|i| {
                    (0..n)
                        .filter_map(|m| kernel.get((m + radius).checked_sub(i)?))
                        .map(|&w| f64::from(w).powi(2))
                        .sum()
                })
                .collect();
            let (factor, k, symmetric) = covariance_factor(n, &kernel);
            // Column j carries its eigenvalue, Σ_i A(i, j)²: without the smallest, the k − 1
            // largest eigenvalues are left, which must fall short (k is the fewest).
            let norm = |j: usize| {
                (0..n)
                    .map(|i| f64::from(factor[i * k + j]).powi(2))
                    .sum::<f64>()
            };
            let smallest = (0..k).min_by(|&a, &b| norm(a).total_cmp(&norm(b))).unwrap();
            let carried = |skip: Option<usize>| -> Vec<f64> {
                (0..n)
                    .map(|i| {
                        (0..k)
                            .filter(|&j| Some(j) != skip)
                            .map(|j| f64::from(factor[i * k + j]).powi(2))
                            .sum()
                    })
                    .collect()
            };
            let short = |carried: &[f64]| {
                carried
                    .iter()
                    .zip(&variance)
                    .any(|(c, v)| *c < (KEPT_VARIANCE - 1e-6) * v)
            };
            let kept = carried(None);
            assert!(!short(&kept), "{n}, sigma {sigma}: {k} columns");
            assert!(
                kept.iter()
                    .zip(&variance)
                    .all(|(c, v)| *c <= v * (1.0 + 1e-6))
            );
            assert!(
                short(&carried(Some(smallest))),
                "{n}, sigma {sigma}: {k} is not the fewest"
            );
            if let Some(even) = symmetric {
                assert!(even <= k);
            }
            // Smoothing is what makes few enough: a quarter of the pixels at sigma 4 and more.
            if sigma >= 4.0 {
                assert!(k <= n / 4, "{n}, sigma {sigma}: {k} of {n}");
            }
        }
        let at = |sigma| {
            let b = FieldBasis::new(28, 28, sigma);
            (b.k_rows, b.k_cols, b.stride, b.symmetric)
        };
        // Symmetric and antisymmetric eigenvectors alternate.
        assert_eq!(at(4.0), (7, 7, 32, Some(4)));
        assert_eq!(at(6.0), (5, 5, 32, Some(3)));
        // Without smoothing every eigenvalue is needed, and all are equal.
        assert_eq!(at(0.0).0, 28);
    }

    /// Second moments of a set of fields (`rows x cols`, row-major) drawn independently.
    struct Moments {
        rows: usize,
        cols: usize,
        /// Sum of squares per pixel.
        squares: Vec<f64>,
        /// Sum of fourth powers per pixel.
        fourths: Vec<f64>,
        /// Sum of products per lag of [`LAGS`], over the pixels of the central square.
        products: Vec<f64>,
        count: usize,
    }

    /// Lags (rows, columns) whose correlation is compared.
    const LAGS: [(usize, usize); 6] = [(0, 1), (1, 0), (0, 3), (4, 0), (3, 3), (0, 8)];
    /// The central square `[MARGIN, n - MARGIN - 8)` where correlations are taken.
    const MARGIN: usize = 6;

    impl Moments {
        fn new(rows: usize, cols: usize) -> Self {
            Self {
                rows,
                cols,
                squares: vec![0.0; rows * cols],
                fourths: vec![0.0; rows * cols],
                products: vec![0.0; LAGS.len()],
                count: 0,
            }
        }

        fn add(&mut self, field: impl Fn(usize, usize) -> f64) {
            for r in 0..self.rows {
                for c in 0..self.cols {
                    let square = field(r, c).powi(2);
                    self.squares[r * self.cols + c] += square;
                    self.fourths[r * self.cols + c] += square * square;
                }
            }
            for (sum, &(dr, dc)) in self.products.iter_mut().zip(&LAGS) {
                for r in MARGIN..self.rows - MARGIN - 8 {
                    for c in MARGIN..self.cols - MARGIN - 8 {
                        *sum += field(r, c) * field(r + dr, c + dc);
                    }
                }
            }
            self.count += 1;
        }

        /// Named statistics: mean variance over the centre, along the edges and in the
        /// corners, the correlation at each lag over the centre, and the mean excess kurtosis
        /// over the centre.
        fn summary(&self) -> Vec<(String, f64)> {
            let (rows, cols) = (self.rows, self.cols);
            let variance = |pixels: &mut dyn Iterator<Item = (usize, usize)>| {
                let (sum, n) = pixels.fold((0.0, 0), |(s, n), (r, c)| {
                    (s + self.squares[r * cols + c], n + 1)
                });
                sum / (n * self.count) as f64
            };
            let centre =
                variance(&mut (10..rows - 10).flat_map(|r| (10..cols - 10).map(move |c| (r, c))));
            let edges = variance(&mut (4..cols - 4).flat_map(|c| [(0, c), (rows - 1, c)]));
            let corners = variance(
                &mut [(0, 0), (0, cols - 1), (rows - 1, 0), (rows - 1, cols - 1)].into_iter(),
            );
            let inner = variance(
                &mut (MARGIN..rows - MARGIN - 8)
                    .flat_map(|r| (MARGIN..cols - MARGIN - 8).map(move |c| (r, c))),
            );
            let pairs = ((rows - 2 * MARGIN - 8) * (cols - 2 * MARGIN - 8) * self.count) as f64;
            let mut stats = vec![
                ("variance, centre".to_string(), centre),
                ("variance, edges".to_string(), edges),
                ("variance, corners".to_string(), corners),
            ];
            for (&(dr, dc), sum) in LAGS.iter().zip(&self.products) {
                stats.push((format!("correlation at ({dr}, {dc})"), sum / pairs / inner));
            }
            let n = self.count as f64;
            let kurtosis = (10..rows - 10)
                .flat_map(|r| (10..cols - 10).map(move |c| r * cols + c))
                .map(|i| (self.fourths[i] / n) / (self.squares[i] / n).powi(2) - 3.0);
            let centre_pixels = ((rows - 20) * (cols - 20)) as f64;
            stats.push((
                "excess kurtosis, centre".to_string(),
                kurtosis.sum::<f64>() / centre_pixels,
            ));
            stats
        }
    }

    /// The definition: uniform noise over the image smoothed by the truncated Gaussian along
    /// both axes, zero beyond the border, in f64.
    fn exact_moments(rows: usize, cols: usize, sigma: f32, fields: usize) -> Moments {
        let kernel: Vec<f64> = crate::augment::gaussian_kernel(sigma)
            .into_iter()
            .map(f64::from)
            .collect();
        let radius = kernel.len() / 2;
        let smooth = |line: &[f64], out: &mut [f64]| {
            for (i, o) in out.iter_mut().enumerate() {
                *o = (0..kernel.len())
                    .filter_map(|k| {
                        (i + k)
                            .checked_sub(radius)
                            .and_then(|j| line.get(j))
                            .map(|v| v * kernel[k])
                    })
                    .sum();
            }
        };
        let mut rng = SmallRng::seed_from_u64(11);
        let mut noise = vec![0.0f32; rows * cols];
        let mut once = vec![0.0; rows * cols];
        let mut field = vec![0.0; rows * cols];
        let mut moments = Moments::new(rows, cols);
        let (mut line, mut out) = (vec![0.0; rows.max(cols)], vec![0.0; rows.max(cols)]);
        for _ in 0..fields {
            uniform(&mut rng, &mut noise);
            for r in 0..rows {
                let row: Vec<f64> = noise[r * cols..][..cols]
                    .iter()
                    .map(|&v| f64::from(v))
                    .collect();
                smooth(&row, &mut once[r * cols..][..cols]);
            }
            for c in 0..cols {
                for r in 0..rows {
                    line[r] = once[r * cols + c];
                }
                smooth(&line[..rows], &mut out[..rows]);
                for r in 0..rows {
                    field[r * cols + c] = out[r];
                }
            }
            moments.add(|r, c| field[r * cols + c]);
        }
        moments
    }

    /// The definition's noise: uniform in (-1, 1), at a resolution of 2^-15.
    fn uniform(rng: &mut SmallRng, noise: &mut [f32]) {
        const STEP: f32 = 2.0 / 65536.0;
        fill(rng, noise, 1.0, |bits| {
            bits as f32 * STEP + (STEP / 2.0 - 1.0)
        });
    }

    /// The low-rank construction for `sigma`, with normal noise in `M`, or uniform.
    fn low_rank_moments(
        rows: usize,
        cols: usize,
        sigma: f32,
        fields: usize,
        normal: bool,
    ) -> Moments {
        let basis = FieldBasis::new(rows, cols, sigma);
        let mut rng = SmallRng::seed_from_u64(12);
        let mut noise = vec![0.0; basis.noise_len()];
        let mut between = vec![0.0; basis.k_rows * basis.stride];
        let mut field = vec![0.0; rows * cols];
        let mut moments = Moments::new(rows, cols);
        for _ in 0..fields {
            if normal {
                fill_normal(&mut rng, &mut noise, 1.0);
            } else {
                uniform(&mut rng, &mut noise);
            }
            basis.field(&noise, &mut between, &mut field, Simd::detect());
            moments.add(|r, c| f64::from(field[r * cols + c]));
        }
        moments
    }

    /// The statistics of `a` and `b` that differ by more than 3% (relative), or by more than
    /// 0.1 for the kurtosis (whose estimate from 40,000 fields has a standard error of about
    /// 0.02).
    fn differences(a: &Moments, b: &Moments) -> Vec<String> {
        a.summary()
            .into_iter()
            .zip(b.summary())
            .filter(|((name, x), (_, y))| {
                if name.starts_with("excess kurtosis") {
                    (x - y).abs() > 0.1
                } else {
                    ((x - y) / y).abs() > 0.03
                }
            })
            .map(|((name, x), (_, y))| format!("{name}: {x:.5} against {y:.5}"))
            .collect()
    }

    #[test]
    fn low_rank_fields_have_the_variances_correlations_and_kurtosis_of_the_definition() {
        const FIELDS: usize = 40_000;
        for (rows, cols, sigma, wrong) in
            [(28, 28, 4.0, 4.3), (28, 28, 6.0, 6.45), (32, 40, 4.0, 3.7)]
        {
            let exact = exact_moments(rows, cols, sigma, FIELDS);
            let fast = low_rank_moments(rows, cols, sigma, FIELDS, true);
            let off = differences(&fast, &exact);
            assert!(off.is_empty(), "{rows}x{cols}, sigma {sigma}: {off:#?}");
            // The comparison sees a sigma 7.5% off...
            let off = differences(&low_rank_moments(rows, cols, wrong, FIELDS, true), &exact);
            assert!(
                off.len() >= 3,
                "{rows}x{cols}, sigma {wrong} against {sigma}: {off:#?}"
            );
            // ... and the lighter tails of uniform noise in `M`.
            let off = differences(&low_rank_moments(rows, cols, sigma, FIELDS, false), &exact);
            assert!(
                off.iter().any(|d| d.starts_with("excess kurtosis")),
                "{rows}x{cols}, sigma {sigma}, uniform: {off:#?}"
            );
        }
    }

    #[test]
    fn both_fields_at_once_are_the_fields_one_at_a_time_bit_for_bit() {
        let bits = |v: &[f32]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
        for (rows, cols, sigma, in_registers) in [
            (28, 28, 4.0, Some(7)),
            (28, 28, 6.0, Some(5)),
            (25, 25, 6.0, Some(5)),
            (28, 27, 4.0, Some(7)),
            (27, 30, 6.0, None),
            (9, 7, 0.0, None),
            (40, 40, 4.0, None),
        ] {
            let basis = FieldBasis::new(rows, cols, sigma);
            assert_eq!(
                basis.in_registers(),
                in_registers,
                "{rows}x{cols}, sigma {sigma}"
            );
            let mut noise = vec![0.0; 2 * basis.noise_len()];
            fill_normal(&mut SmallRng::seed_from_u64(3), &mut noise, 34.0);
            let mut between = vec![0.0; basis.k_rows * basis.stride];
            for simd in [Simd::Portable, Simd::detect()] {
                let (mut dx, mut dy) = (vec![0.0; rows * cols], vec![0.0; rows * cols]);
                basis.fields(&noise, &mut between, &mut dx, &mut dy, simd);
                let (noise_x, noise_y) = noise.split_at(basis.noise_len());
                for (noise, got) in [(noise_x, &dx), (noise_y, &dy)] {
                    let mut one = vec![0.0; rows * cols];
                    basis.field(noise, &mut between, &mut one, Simd::Portable);
                    assert_eq!(
                        bits(got),
                        bits(&one),
                        "{rows}x{cols}, sigma {sigma}, {simd:?}"
                    );
                }
            }
        }
    }

    #[test]
    fn normal_noise_has_the_quantiles_and_the_variance_of_the_definition() {
        assert!((inverse_normal_cdf(0.975) - 1.959_963_985).abs() < 1e-8);
        assert!((inverse_normal_cdf(0.01) + 2.326_347_874).abs() < 1e-8);
        assert!((inverse_normal_cdf(0.5)).abs() < 1e-12);
        let table = normal_noise();
        assert_eq!(table.len(), QUANTILES);
        assert!((0..QUANTILES).all(|i| table[i] == -table[QUANTILES - 1 - i]));
        let variance = table.iter().map(|&v| f64::from(v).powi(2)).sum::<f64>() / QUANTILES as f64;
        assert!((variance - 1.0 / 3.0).abs() < 1e-6, "{variance}");
    }
}
