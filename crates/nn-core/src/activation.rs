//! Neuron activation functions σ(z), applied to a whole mini-batch at once.
//!
//! Matrices are column-major with one example per column, so a layer's weighted inputs `z` for
//! a mini-batch of `m` examples are `rows × m` values. Every activation knows how to run forward
//! (`a = σ(z)`) and how to take a gradient with respect to `a` back to one with respect to `z`
//! (a vector-Jacobian product), which is all backpropagation (BP2 of chapter 2) needs.

use std::fmt::Debug;
use std::sync::Arc;

use crate::NetworkError;

/// An activation function of one layer.
///
/// ```
/// use nn_core::{Activation, ActivationKind, Sigmoid};
///
/// // A batch of two examples with one neuron each.
/// let (z, mut a) = ([0.0f32, 2.0], [0.0f32; 2]);
/// Sigmoid.forward(&z, &mut a, 1);
/// assert_eq!(a[0], 0.5);
/// // ∂C/∂a = 1 becomes ∂C/∂z = σ'(z) = σ(z)(1 − σ(z)).
/// let mut grad = [1.0f32; 2];
/// Sigmoid.backward(&z, &a, 1, &mut grad);
/// assert_eq!(grad[0], 0.25);
/// assert_eq!(Sigmoid.kind(), ActivationKind::Sigmoid);
/// ```
pub trait Activation: Send + Sync + Debug {
    /// The name used on the command line and in saved models, e.g. `"sigmoid"`, `"softmax:2"`.
    fn spec(&self) -> String;

    /// `a = σ(z)` for a `rows × (z.len() / rows)` column-major batch.
    fn forward(&self, z: &[f32], a: &mut [f32], rows: usize);

    /// Turns `grad = ∂C/∂a` into `∂C/∂z` in place, given the layer's `z` and `a = σ(z)`.
    /// For an element-wise σ this is `grad ⊙ σ'(z)` (the Hadamard product of BP1 and BP2).
    fn backward(&self, z: &[f32], a: &[f32], rows: usize, grad: &mut [f32]);

    /// What kind of function this is, for pairing an output layer with its cost: costs take
    /// their exact shortcuts (δ = a − y, eqs. 66 and 81-82) for the kinds they are derived for,
    /// and [`crate::Cost::check_output`] refuses the kinds a cost makes no sense on.
    fn kind(&self) -> ActivationKind {
        ActivationKind::Other
    }
}

/// The kinds of activation a cost distinguishes (see [`Activation::kind`]).
///
/// ```
/// use nn_core::{Activation, ActivationKind, Relu, Softmax, activation_from_spec};
///
/// assert_eq!(Relu.kind(), ActivationKind::Other);
/// let hot = activation_from_spec("softmax:2")?;
/// assert_eq!(hot.kind(), ActivationKind::Softmax { temperature: 2.0 });
/// assert_eq!(hot.kind(), Softmax { temperature: 2.0 }.kind());
/// # Ok::<(), nn_core::NetworkError>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum ActivationKind {
    /// The logistic sigmoid σ(z) = 1 / (1 + e^(−z)) (eq. 3 of chapter 1).
    Sigmoid,
    /// A softmax layer of temperature `c` (eqs. 78 and 83).
    Softmax {
        /// The constant c of eq. 83.
        temperature: f32,
    },
    /// Any other activation: its outputs are not known to lie in (0, 1).
    Other,
}

/// Applies `f(z, a)` element-wise to produce `grad ⊙ σ'(z)`.
fn scale_by_derivative(
    z: &[f32],
    a: &[f32],
    grad: &mut [f32],
    derivative: impl Fn(f32, f32) -> f32,
) {
    for ((g, &z), &a) in grad.iter_mut().zip(z).zip(a) {
        *g *= derivative(z, a);
    }
}

/// `a[i] = f(z[i])`, compiled for the widest vectors the processor has (AVX-512 or AVX2,
/// detected at run time). Without fused multiply-adds, which Rust never introduces on its own,
/// every instruction set computes the same IEEE operations, so the results are the same.
#[inline(always)]
fn element_wise(z: &[f32], a: &mut [f32], f: impl Fn(f32) -> f32) {
    #[inline(always)]
    fn each(z: &[f32], a: &mut [f32], f: impl Fn(f32) -> f32) {
        for (a, &z) in a.iter_mut().zip(z) {
            *a = f(z);
        }
    }
    #[cfg(target_arch = "x86_64")]
    {
        #[target_feature(enable = "avx512f")]
        fn avx512(z: &[f32], a: &mut [f32], f: impl Fn(f32) -> f32) {
            each(z, a, f)
        }
        #[target_feature(enable = "avx2")]
        fn avx2(z: &[f32], a: &mut [f32], f: impl Fn(f32) -> f32) {
            each(z, a, f)
        }
        if std::arch::is_x86_feature_detected!("avx512f") {
            // SAFETY: the processor supports AVX-512F, checked just above.
            return unsafe { avx512(z, a, f) };
        }
        if std::arch::is_x86_feature_detected!("avx2") {
            // SAFETY: the processor supports AVX2, checked just above.
            return unsafe { avx2(z, a, f) };
        }
    }
    each(z, a, f)
}

/// e^x within 2 units in the last place for x in [−87, 88] (0 below −87, near the smallest
/// normal f32; e^88 above 88; NaN for NaN), in operations a loop over a slice runs as vector
/// instructions: x = n ln 2 + r with n an integer and |r| ≤ ln 2 / 2, e^r by Cephes'
/// polynomial of degree 7, and 2^n put into the exponent bits. The standard library's `exp` is
/// a call per element.
#[inline(always)]
fn exp(x: f32) -> f32 {
    // Round to the nearest integer by adding and subtracting 1.5 · 2^23.
    const ROUND: f32 = 12_582_912.0;
    // ln 2 in two parts, the first exact in a few bits, so that n · LN2_HIGH is exact.
    const LN2_HIGH: f32 = 0.693_359_4;
    const LN2_LOW: f32 = -2.121_944_4e-4;
    let x_in = x;
    let x = x.clamp(-87.0, 88.0);
    let shifted = x * std::f32::consts::LOG2_E + ROUND;
    let n = shifted - ROUND;
    let r = x - n * LN2_HIGH - n * LN2_LOW;
    let p = 1.987_569_1e-4_f32;
    let p = p * r + 1.398_199_9e-3;
    let p = p * r + 8.333_452e-3;
    let p = p * r + 4.166_579_6e-2;
    let p = p * r + 1.666_666_5e-1;
    let p = p * r + 0.5;
    let e_r = p * r * r + r + 1.0;
    // n, an integer in [−126, 127], is the low bits of `shifted`; 2^n has n + 127 as exponent.
    let n_bits = shifted.to_bits().wrapping_sub(ROUND.to_bits());
    let value = e_r * f32::from_bits(n_bits.wrapping_add(127) << 23);
    if x_in < -87.0 { 0.0 } else { value }
}

/// The logistic sigmoid σ(z) = 1 / (1 + e^(−z)) (eq. 3 of chapter 1); σ'(z) = σ(z)(1 − σ(z)).
///
/// z is clamped to [−80, 80] before the exponential. That changes no output that matters: in
/// f32, σ(z) is exactly 1 from z ≈ 17 on, and below −80 it is under 2·10⁻³⁵. The
/// exponential is this module's vectorizable `exp`, so a layer's sigmoids run as vector
/// instructions.
///
/// ```
/// use nn_core::{Activation, Sigmoid};
/// let mut a = [0.0; 3];
/// Sigmoid.forward(&[-1000.0, 0.0, 1000.0], &mut a, 3);
/// assert!(a[0] > 0.0 && a[0] < 2e-35);
/// assert_eq!(a[1..], [0.5, 1.0]);
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Sigmoid;

impl Activation for Sigmoid {
    fn spec(&self) -> String {
        "sigmoid".into()
    }
    fn forward(&self, z: &[f32], a: &mut [f32], _rows: usize) {
        element_wise(z, a, |z| 1.0 / (1.0 + exp(-z.clamp(-80.0, 80.0))));
    }
    fn backward(&self, z: &[f32], a: &[f32], _rows: usize, grad: &mut [f32]) {
        scale_by_derivative(z, a, grad, |_, a| a * (1.0 - a));
    }
    fn kind(&self) -> ActivationKind {
        ActivationKind::Sigmoid
    }
}

/// The hyperbolic tangent tanh(z) = (e^z − e^(−z)) / (e^z + e^(−z)) (eq. 109), a rescaled
/// sigmoid: σ(z) = (1 + tanh(z/2)) / 2 (eq. 111); tanh'(z) = 1 − tanh²(z).
///
/// ```
/// use nn_core::{Activation, Sigmoid, Tanh};
///
/// let z = [-3.0f32, -0.5, 0.0, 2.0];
/// let (mut sigma, mut tanh) = ([0.0; 4], [0.0; 4]);
/// Sigmoid.forward(&z, &mut sigma, 4);
/// Tanh.forward(&z.map(|z| z / 2.0), &mut tanh, 4);
/// for (s, t) in sigma.iter().zip(tanh) {
///     assert!((s - (1.0 + t) / 2.0).abs() < 1e-6); // eq. 111
/// }
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Tanh;

impl Activation for Tanh {
    fn spec(&self) -> String {
        "tanh".into()
    }
    fn forward(&self, z: &[f32], a: &mut [f32], _rows: usize) {
        for (a, &z) in a.iter_mut().zip(z) {
            *a = z.tanh();
        }
    }
    fn backward(&self, z: &[f32], a: &[f32], _rows: usize, grad: &mut [f32]) {
        scale_by_derivative(z, a, grad, |_, a| 1.0 - a * a);
    }
}

/// The rectified linear unit max(0, z) (eq. 112); its derivative is 1 for z > 0, else 0.
///
/// ```
/// use nn_core::{Activation, Relu};
///
/// let z = [-2.0f32, 0.0, 3.0];
/// let mut a = [0.0; 3];
/// Relu.forward(&z, &mut a, 3);
/// assert_eq!(a, [0.0, 0.0, 3.0]);
/// let mut grad = [5.0f32; 3];
/// Relu.backward(&z, &a, 3, &mut grad);
/// assert_eq!(grad, [0.0, 0.0, 5.0]);
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Relu;

impl Activation for Relu {
    fn spec(&self) -> String {
        "relu".into()
    }
    fn forward(&self, z: &[f32], a: &mut [f32], _rows: usize) {
        for (a, &z) in a.iter_mut().zip(z) {
            *a = z.max(0.0);
        }
    }
    fn backward(&self, z: &[f32], a: &[f32], _rows: usize, grad: &mut [f32]) {
        scale_by_derivative(z, a, grad, |z, _| if z > 0.0 { 1.0 } else { 0.0 });
    }
}

/// Linear neurons a = z, as in the chapter's problem on linear output layers (where the
/// quadratic cost gives δ = a − y, eq. 68).
///
/// ```
/// use nn_core::{Activation, Identity};
///
/// let mut a = [0.0; 2];
/// Identity.forward(&[-7.5, 2.0], &mut a, 2);
/// assert_eq!(a, [-7.5, 2.0]);
/// // σ'(z) = 1: ∂C/∂z is ∂C/∂a.
/// let mut grad = [0.25f32, -1.0];
/// Identity.backward(&[-7.5, 2.0], &a, 2, &mut grad);
/// assert_eq!(grad, [0.25, -1.0]);
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Identity;

impl Activation for Identity {
    fn spec(&self) -> String {
        "identity".into()
    }
    fn forward(&self, z: &[f32], a: &mut [f32], _rows: usize) {
        a.copy_from_slice(z);
    }
    fn backward(&self, _z: &[f32], _a: &[f32], _rows: usize, _grad: &mut [f32]) {}
}

/// The softmax layer a_j = e^(c z_j) / Σ_k e^(c z_k) (eq. 78, with the temperature c of eq. 83;
/// c = 1 is the ordinary softmax). Computed column by column after subtracting the column's
/// largest value, so no exponential overflows.
///
/// ```
/// use nn_core::{Activation, Softmax};
///
/// // Two columns (examples) of three outputs; the second would overflow e^z unshifted.
/// let z = [1.0f32, 2.0, 3.0, 1000.0, 1000.0, 990.0];
/// let mut a = [0.0; 6];
/// Softmax::default().forward(&z, &mut a, 3);
/// for column in a.chunks(3) {
///     let sum: f32 = column.iter().sum();
///     assert!(column.iter().all(|&a| a > 0.0) && (sum - 1.0).abs() < 1e-6); // eq. 79
/// }
/// assert!(a[2] > a[1] && a[1] > a[0]);
/// // A higher temperature c (eq. 83) sharpens the distribution towards the largest z.
/// let mut sharp = [0.0; 3];
/// Softmax { temperature: 5.0 }.forward(&z[..3], &mut sharp, 3);
/// assert!(sharp[2] > a[2]);
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Softmax {
    /// The constant c of eq. 83.
    pub temperature: f32,
}

impl Default for Softmax {
    fn default() -> Self {
        Self { temperature: 1.0 }
    }
}

impl Activation for Softmax {
    fn spec(&self) -> String {
        if self.temperature == 1.0 {
            "softmax".into()
        } else {
            format!("softmax:{}", self.temperature)
        }
    }
    fn forward(&self, z: &[f32], a: &mut [f32], rows: usize) {
        let c = self.temperature;
        for (z, a) in z.chunks_exact(rows).zip(a.chunks_exact_mut(rows)) {
            let max = z.iter().fold(f32::NEG_INFINITY, |m, &v| m.max(c * v));
            let mut sum = 0.0;
            for (a, &z) in a.iter_mut().zip(z) {
                *a = exp(c * z - max);
                sum += *a;
            }
            a.iter_mut().for_each(|a| *a /= sum);
        }
    }
    /// ∂a_j/∂z_k = c a_j (δ_jk − a_k), so ∂C/∂z_k = c a_k (g_k − Σ_j g_j a_j).
    fn backward(&self, _z: &[f32], a: &[f32], rows: usize, grad: &mut [f32]) {
        let c = self.temperature;
        for (a, g) in a.chunks_exact(rows).zip(grad.chunks_exact_mut(rows)) {
            let dot: f32 = a.iter().zip(g.iter()).map(|(a, g)| a * g).sum();
            for (g, &a) in g.iter_mut().zip(a) {
                *g = c * a * (*g - dot);
            }
        }
    }
    fn kind(&self) -> ActivationKind {
        ActivationKind::Softmax {
            temperature: self.temperature,
        }
    }
}

/// Builds an activation from its name: `sigmoid`, `tanh`, `relu`, `identity`, `softmax` or
/// `softmax:C` (C > 0, the temperature of eq. 83).
pub fn activation_from_spec(spec: &str) -> Result<Arc<dyn Activation>, NetworkError> {
    let unknown = || NetworkError::UnknownActivation(spec.to_string());
    Ok(match spec.trim() {
        "sigmoid" => Arc::new(Sigmoid),
        "tanh" => Arc::new(Tanh),
        "relu" => Arc::new(Relu),
        "identity" | "linear" => Arc::new(Identity),
        "softmax" => Arc::new(Softmax::default()),
        other => {
            let c = other
                .strip_prefix("softmax:")
                .and_then(|c| c.parse::<f32>().ok())
                .ok_or_else(unknown)?;
            if !(c.is_finite() && c > 0.0) {
                return Err(unknown());
            }
            Arc::new(Softmax { temperature: c })
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn specs_round_trip() {
        for spec in [
            "sigmoid",
            "tanh",
            "relu",
            "identity",
            "softmax",
            "softmax:2.5",
        ] {
            assert_eq!(activation_from_spec(spec).unwrap().spec(), spec);
        }
        assert!(activation_from_spec("softmax:-1").is_err());
        assert!(activation_from_spec("swish").is_err());
    }

    #[test]
    fn softmax_columns_sum_to_one_and_survive_large_inputs() {
        let z = [1000.0, 999.0, 0.0, -5.0, 3.0, 4.0];
        let mut a = [0.0; 6];
        Softmax::default().forward(&z, &mut a, 3);
        for col in a.chunks(3) {
            assert!((col.iter().sum::<f32>() - 1.0).abs() < 1e-6);
            assert!(col.iter().all(|v| v.is_finite()));
        }
        assert!(a[0] > a[1] && a[1] > a[2]);
    }

    #[test]
    fn tanh_is_a_rescaled_sigmoid() {
        // eq. 111: σ(z) = (1 + tanh(z/2)) / 2
        let z = [-3.0f32, -0.5, 0.0, 0.7, 4.0];
        let half: Vec<f32> = z.iter().map(|z| z / 2.0).collect();
        let (mut s, mut t) = ([0.0; 5], [0.0; 5]);
        Sigmoid.forward(&z, &mut s, 5);
        Tanh.forward(&half, &mut t, 5);
        for (s, t) in s.iter().zip(t) {
            assert!((s - (1.0 + t) / 2.0).abs() < 1e-6);
        }
    }

    #[test]
    fn exp_is_within_two_units_in_the_last_place_over_its_range() {
        let mut worst = 0.0f64;
        for i in 0..=1_750_000 {
            let x = -87.0 + i as f32 * 1e-4;
            let exact = f64::from(x).exp();
            let got = f64::from(exp(x));
            let ulp = f64::from(f32::EPSILON) * exact;
            worst = worst.max((got - exact).abs() / ulp);
        }
        assert!(worst <= 2.0, "{worst} units in the last place");
        assert_eq!(exp(0.0), 1.0);
        assert_eq!(exp(-87.5), 0.0);
        assert_eq!(exp(88.0), exp(1000.0));
        assert!(exp(f32::NAN).is_nan());
    }

    #[test]
    fn the_vector_paths_of_the_sigmoid_agree_bit_for_bit_with_one_element_at_a_time() {
        let z: Vec<f32> = (0..1001).map(|i| (i as f32 - 500.0) * 0.037).collect();
        let mut batch = vec![0.0; z.len()];
        Sigmoid.forward(&z, &mut batch, 7);
        for (&z, &a) in z.iter().zip(&batch) {
            let mut one = [0.0];
            Sigmoid.forward(&[z], &mut one, 1);
            assert_eq!(one[0].to_bits(), a.to_bits(), "σ({z})");
            assert!((f64::from(a) - 1.0 / (1.0 + (-f64::from(z)).exp())).abs() < 1e-6);
        }
    }
}
