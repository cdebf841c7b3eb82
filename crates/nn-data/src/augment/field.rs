//! The random displacement fields of the elastic distortion, drawn from a low-rank factor of
//! their covariance instead of by smoothing a full field of noise.
//!
//! **Definition** (Simard et al., 2003). For an image of `rows x cols` pixels, a field is
//! `F = K_r N K_cᵀ`: `N` holds `rows x cols` independent values uniform in (-1, 1) (variance
//! 1/3), and `K_n` is the `n x n` matrix of the Gaussian taps `g(j - i)` of standard deviation
//! `sigma`, truncated at 3 sigma and normalised ([`gaussian_kernel`]), with no noise beyond the
//! border. This is the separable Gaussian smoothing of the noise, and its covariance separates:
//!
//! `Cov(F[r, c], F[r', c']) = (1/3) C_r[r, r'] C_c[c, c']`, with `C_n = K_n K_nᵀ`.
//!
//! **Construction.** With the eigen-decomposition `C_n = Σ_i μ_i q_i q_iᵀ` (μ decreasing) and
//! `A_n = [√μ_1 q_1, ..., √μ_k q_k]` (`n x k`), the field `F' = A_r M A_cᵀ`, `M` a `k_r x k_c`
//! matrix of independent values uniform in (-1, 1), has covariance `(1/3) (A_r A_rᵀ) ⊗ (A_c
//! A_cᵀ)`: exactly that of `F` without the eigenvalues beyond `k`. (With all of them and
//! Gaussian noise the two constructions have the same distribution: `Q_nᵀ N Q_m` is again
//! independent noise when `Q` is orthogonal.) A Gaussian of sigma 4 pixels passes almost
//! nothing above a few cycles per image, so few eigenvalues matter: `k` is the smallest number
//! that keeps at least [`KEPT_VARIANCE`] of every pixel's variance along each axis (so at least
//! 99.9% of every pixel's variance in all). For 28 x 28 images that is `k = 7` at sigma 4 and
//! `k = 5` at sigma 6: 49 or 25 random numbers per field instead of 784, and two small matrix
//! products instead of a 25-tap convolution over the padded image.
//!
//! **What differs.** Per-pixel variances are at most 0.1% below the definition's (the dropped
//! eigenvalues) and all covariances are the definition's up to those same terms. Each value of
//! the definition is a weighted sum of a few hundred uniform numbers, of `F'` a weighted sum of
//! `k_r k_c` (49 or 25): both are Gaussian to within a fourth cumulant of a few percent of a
//! uniform's. The test of this module checks the variances and correlations against the
//! definition, drawn the slow way.

use rand::rngs::SmallRng;

/// The fraction of each pixel's variance along one axis that the kept eigenvalues must carry.
pub(super) const KEPT_VARIANCE: f64 = 0.9995;

/// Values per vector block: rows of the fields are padded to a multiple of this.
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
    /// `A_r`, `rows x k_r`, row-major.
    left: Vec<f32>,
    /// `A_cᵀ`, `k_c x stride`, row-major, zero beyond `cols`.
    right: Vec<f32>,
    /// Row length of `right` and of the fields: `cols` rounded up to [`LANES`].
    pub(super) stride: usize,
}

impl FieldBasis {
    /// The factors for `rows x cols` images and `sigma`.
    pub(super) fn new(rows: usize, cols: usize, sigma: f32) -> Self {
        let kernel = super::gaussian_kernel(sigma);
        let (left, k_rows) = covariance_factor(rows, &kernel);
        let (right_rows, k_cols) = covariance_factor(cols, &kernel);
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

    /// Writes `F' = A_r M A_cᵀ` into `field` (`rows x cols`, row-major, followed by room for
    /// `stride - cols` more values), with `M` read row-major from `noise` (`k_r x k_c`) and
    /// `between` (`k_r x stride`) as scratch.
    ///
    /// Each output row is a sum of rows of the next factor, accumulated in blocks of
    /// [`LANES`] values (one or two vector registers); a row is written whole, its last block
    /// running into the next row, which is written after it. The multiplications and additions
    /// are separate and in the same order on every processor, so results are bit-identical.
    #[inline(always)]
    pub(super) fn field(&self, noise: &[f32], between: &mut [f32], field: &mut [f32]) {
        let stride = self.stride;
        assert_eq!(field.len(), (self.rows - 1) * self.cols + stride);
        // between = M A_cᵀ
        for (weights, out) in noise
            .chunks_exact(self.k_cols)
            .zip(between.chunks_exact_mut(stride))
        {
            combine_rows(weights, &self.right, stride, out);
        }
        // field = A_r between
        for (r, weights) in self.left.chunks_exact(self.k_rows).enumerate() {
            let out = &mut field[r * self.cols..r * self.cols + stride];
            combine_rows(weights, between, stride, out);
        }
    }
}

/// `out = Σ_i weights[i] · rows[i * stride..][..stride]`, `stride` a multiple of [`LANES`].
#[inline(always)]
fn combine_rows(weights: &[f32], rows: &[f32], stride: usize, out: &mut [f32]) {
    for (b, block) in out.chunks_exact_mut(LANES).enumerate() {
        let mut acc = [0.0f32; LANES];
        for (i, &w) in weights.iter().enumerate() {
            let row: &[f32; LANES] = rows[i * stride + b * LANES..][..LANES]
                .try_into()
                .expect("a block of LANES values");
            for (a, &v) in acc.iter_mut().zip(row) {
                *a += w * v;
            }
        }
        block.copy_from_slice(&acc);
    }
}

/// The factor `A` (`n x k`, row-major) of the `n x n` covariance `C = K Kᵀ` of the smoothing
/// by `kernel` (noise only inside the image), and `k`: the eigenvectors of the `k` largest
/// eigenvalues of `C`, each scaled by the square root of its eigenvalue, `k` the fewest that
/// keep at least [`KEPT_VARIANCE`] of every diagonal element of `C`.
fn covariance_factor(n: usize, kernel: &[f32]) -> (Vec<f32>, usize) {
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
    let mut factor = vec![0.0f32; n * k];
    for r in 0..n {
        for (j, &e) in order[..k].iter().enumerate() {
            factor[r * k + j] = (values[e].max(0.0).sqrt() * vectors[r * n + e]) as f32;
        }
    }
    (factor, k)
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

/// Fills `field` with values drawn uniformly from (-1, 1) at a resolution of 2^-15, four per
/// 64-bit draw (ample for values about to be summed by the dozen), each multiplied by `scale`.
#[inline(always)]
pub(super) fn fill_uniform(rng: &mut SmallRng, field: &mut [f32], scale: f32) {
    use rand::RngCore;
    const STEP: f32 = 2.0 / 65536.0;
    let value = |bits: u64| ((bits & 0xFFFF) as f32 * STEP + (STEP / 2.0 - 1.0)) * scale;
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
        let at = |sigma| {
            let b = FieldBasis::new(28, 28, sigma);
            (b.k_rows, b.k_cols, b.stride)
        };
        assert_eq!(at(4.0), (7, 7, 32));
        assert_eq!(at(6.0), (5, 5, 32));
        // Without smoothing every eigenvalue is needed.
        assert_eq!(at(0.0).0, 28);
    }

    /// Second moments of a set of fields (`rows x cols`, row-major) drawn independently.
    struct Moments {
        rows: usize,
        cols: usize,
        /// Sum of squares per pixel.
        squares: Vec<f64>,
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
                products: vec![0.0; LAGS.len()],
                count: 0,
            }
        }

        fn add(&mut self, field: impl Fn(usize, usize) -> f64) {
            for r in 0..self.rows {
                for c in 0..self.cols {
                    self.squares[r * self.cols + c] += field(r, c).powi(2);
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
        /// corners, and the correlation at each lag over the centre.
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
            fill_uniform(&mut rng, &mut noise, 1.0);
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

    /// The low-rank construction for `sigma`.
    fn low_rank_moments(rows: usize, cols: usize, sigma: f32, fields: usize) -> Moments {
        let basis = FieldBasis::new(rows, cols, sigma);
        let mut rng = SmallRng::seed_from_u64(12);
        let mut noise = vec![0.0; basis.noise_len()];
        let mut between = vec![0.0; basis.k_rows * basis.stride];
        let mut field = vec![0.0; (rows - 1) * cols + basis.stride];
        let mut moments = Moments::new(rows, cols);
        for _ in 0..fields {
            fill_uniform(&mut rng, &mut noise, 1.0);
            basis.field(&noise, &mut between, &mut field);
            assert!(field[rows * cols..].iter().all(|&v| v == 0.0));
            moments.add(|r, c| f64::from(field[r * cols + c]));
        }
        moments
    }

    /// The statistics of `a` and `b` that differ by more than `tolerance` (relative).
    fn differences(a: &Moments, b: &Moments, tolerance: f64) -> Vec<String> {
        a.summary()
            .into_iter()
            .zip(b.summary())
            .filter(|((_, x), (_, y))| ((x - y) / y).abs() > tolerance)
            .map(|((name, x), (_, y))| format!("{name}: {x:.5} against {y:.5}"))
            .collect()
    }

    #[test]
    fn low_rank_fields_have_the_variances_and_correlations_of_the_definition() {
        const FIELDS: usize = 40_000;
        for (rows, cols, sigma, wrong) in
            [(28, 28, 4.0, 4.3), (28, 28, 6.0, 6.45), (32, 40, 4.0, 3.7)]
        {
            let exact = exact_moments(rows, cols, sigma, FIELDS);
            let fast = low_rank_moments(rows, cols, sigma, FIELDS);
            let off = differences(&fast, &exact, 0.03);
            assert!(off.is_empty(), "{rows}x{cols}, sigma {sigma}: {off:#?}");
            // The comparison sees a sigma 7.5% off.
            let off = differences(&low_rank_moments(rows, cols, wrong, FIELDS), &exact, 0.03);
            assert!(
                off.len() >= 3,
                "{rows}x{cols}, sigma {wrong} against {sigma}: {off:#?}"
            );
        }
    }
}
