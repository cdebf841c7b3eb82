//! nn-costs: the chapter's cost functions, each an implementation of [`nn_core::Cost`].
//!
//! * [`QuadraticCost`]: C = ½‖y − a‖² (eq. 54; eq. 6 of ch. 1), δᴸ = (a − y) ⊙ σ'(zᴸ) (eq. 30 of
//!   ch. 2), a − y for linear outputs (eq. 68);
//! * [`CrossEntropyCost`]: C = −Σⱼ [yⱼ ln aⱼ + (1 − yⱼ) ln(1 − aⱼ)] (eq. 63), δᴸ = a − y for
//!   sigmoid outputs (eq. 66);
//! * [`LogLikelihoodCost`]: C = −ln a_y (eq. 80), δᴸ = a − y for softmax outputs (eqs. 81-84).
//!
//! Each cost states the output layers it is defined for ([`Cost::check_output`], checked when a
//! [`nn_core::Trainer`] is built): the quadratic cost any, the cross-entropy a sigmoid or
//! softmax layer, the log-likelihood a softmax layer. Each takes its exact shortcut δ = a − y for
//! the [`ActivationKind`] it was derived for; otherwise ∂C/∂a is taken back through the
//! activation's Jacobian. Values are computed in f64 from `z` where that is exact
//! (log-sigmoid, log-softmax), so a saturated output never yields NaN or infinity.
//!
//! # Example
//!
//! ```
//! use nn_core::{Activation, Cost, Sigmoid, Softmax};
//! use nn_costs::LogLikelihoodCost;
//!
//! // One example, three classes, the right one is class 1: C = −ln a₁ (eq. 80).
//! let (z, y) = ([2.0f32, 1.0, 0.1], [0.0f32, 1.0, 0.0]);
//! let mut a = [0.0; 3];
//! Softmax::default().forward(&z, &mut a, 3);
//! let cost = LogLikelihoodCost.total(&z, &a, &y, 3, &Softmax::default());
//! assert!((cost + f64::from(a[1]).ln()).abs() < 1e-6);
//! // δᴸ = a − y (eqs. 81-82).
//! let mut delta = [0.0; 3];
//! LogLikelihoodCost.delta(&z, &a, &y, 3, &Softmax::default(), &mut delta);
//! assert_eq!(delta, [a[0], a[1] - 1.0, a[2]]);
//! // The log-likelihood is paired with a softmax output, not a sigmoid.
//! assert!(LogLikelihoodCost.check_output(&Sigmoid).is_err());
//! ```

use nn_core::{Activation, ActivationKind, Cost, PairingError};

/// The binary entropy of a probability: −[y ln y + (1 − y) ln(1 − y)] (eq. 64), with 0 ln 0 = 0.
/// The cross-entropy C(a, y) is smallest, and equals this, when a = y.
pub fn binary_entropy(y: f64) -> f64 {
    -(xlogx(y) + xlogx(1.0 - y))
}

fn xlogx(x: f64) -> f64 {
    if x <= 0.0 { 0.0 } else { x * x.ln() }
}

/// y ln a with the conventions 0 ln a = 0 and ln 0 clamped to ln(f64::MIN_POSITIVE), so the
/// result is always finite (network2.py gets the same effect with `np.nan_to_num`).
fn y_ln_a(y: f64, a: f64) -> f64 {
    if y == 0.0 {
        0.0
    } else {
        y * a.max(f64::MIN_POSITIVE).ln()
    }
}

/// ln(1 + eˣ), without overflow.
fn softplus(x: f64) -> f64 {
    x.max(0.0) + (-x.abs()).exp().ln_1p()
}

/// Calls `f(a, 1 − a, index)` for every output activation, in f64. For a softmax layer 1 − aⱼ
/// is computed as Σₖ≠ⱼ aₖ, which keeps its precision where aⱼ is close to 1 and `1.0 - a` in
/// f32 would round to a few significant digits or to 0.
fn for_each_complement(
    a: &[f32],
    rows: usize,
    output: &dyn Activation,
    mut f: impl FnMut(f64, f64, usize),
) {
    let softmax = matches!(output.kind(), ActivationKind::Softmax { .. });
    for (column, values) in a.chunks_exact(rows).enumerate() {
        for (row, &value) in values.iter().enumerate() {
            let value = f64::from(value);
            let complement = if softmax {
                values
                    .iter()
                    .enumerate()
                    .filter(|&(k, _)| k != row)
                    .map(|(_, &v)| f64::from(v))
                    .sum()
            } else {
                1.0 - value
            };
            f(value, complement, column * rows + row);
        }
    }
}

/// Lower bound on a(1 − a) and a when dividing by them, so δ stays finite at saturation.
const TINY: f32 = 1e-12;

/// The quadratic cost C = ½‖y − a‖² per example (eq. 54; eq. 6 of chapter 1; as network2.py's
/// QuadraticCost).
///
/// ```
/// use nn_core::{Activation, Cost, Identity, Sigmoid};
/// use nn_costs::QuadraticCost;
///
/// let (z, y) = ([0.0f32, 2.0], [1.0f32, 0.0]);
/// let mut a = [0.0; 2];
/// Sigmoid.forward(&z, &mut a, 2);
/// let cost = QuadraticCost.total(&z, &a, &y, 2, &Sigmoid);
/// let half_squares = 0.5 * ((a[0] - 1.0).powi(2) + a[1].powi(2));
/// assert!((cost - f64::from(half_squares)).abs() < 1e-6);
/// // δᴸ = (a − y) ⊙ σ'(z): the σ'(z) that slows learning (eqs. 55-56).
/// let mut delta = [0.0; 2];
/// QuadraticCost.delta(&z, &a, &y, 2, &Sigmoid, &mut delta);
/// assert!((delta[0] - (a[0] - 1.0) * a[0] * (1.0 - a[0])).abs() < 1e-7);
/// // On linear outputs, δᴸ = a − y (eq. 68).
/// QuadraticCost.delta(&z, &z, &y, 2, &Identity, &mut delta);
/// assert_eq!(delta, [-1.0, 2.0]);
/// ```
#[derive(Debug, Clone, Copy, Default)]
pub struct QuadraticCost;

impl Cost for QuadraticCost {
    fn name(&self) -> &'static str {
        "QuadraticCost"
    }

    fn total(
        &self,
        _z: &[f32],
        a: &[f32],
        y: &[f32],
        _rows: usize,
        _output: &dyn Activation,
    ) -> f64 {
        0.5 * a
            .iter()
            .zip(y)
            .map(|(&a, &y)| (f64::from(a) - f64::from(y)).powi(2))
            .sum::<f64>()
    }

    /// δᴸ = (a − y) ⊙ σ'(zᴸ) (eq. 30 of chapter 2); a − y for linear outputs (eq. 68).
    fn delta(
        &self,
        z: &[f32],
        a: &[f32],
        y: &[f32],
        rows: usize,
        output: &dyn Activation,
        delta: &mut [f32],
    ) {
        for ((d, &a), &y) in delta.iter_mut().zip(a).zip(y) {
            *d = a - y;
        }
        output.backward(z, a, rows, delta);
    }
}

/// The cross-entropy cost C = −Σⱼ [yⱼ ln aⱼ + (1 − yⱼ) ln(1 − aⱼ)] per example (eq. 63).
///
/// ```
/// use nn_core::{Activation, Cost, Sigmoid, Tanh};
/// use nn_costs::{CrossEntropyCost, binary_entropy};
///
/// // A neuron saturated on the wrong answer: z = −10, a ≈ 0, y = 1.
/// let (z, y) = ([-10.0f32], [1.0f32]);
/// let mut a = [0.0];
/// Sigmoid.forward(&z, &mut a, 1);
/// // δᴸ = a − y (eq. 66): no σ'(z) factor, so the error is large and learning fast.
/// let mut delta = [0.0];
/// CrossEntropyCost.delta(&z, &a, &y, 1, &Sigmoid, &mut delta);
/// assert_eq!(delta[0], a[0] - 1.0);
/// // The cost is ≈ 10, computed from z without ln 0.
/// assert!((CrossEntropyCost.total(&z, &a, &y, 1, &Sigmoid) - 10.0).abs() < 1e-3);
/// // Its minimum over a is the binary entropy of y (eq. 64), reached at a = y.
/// let (z, a, y) = ([0.0f32], [0.5f32], [0.5f32]);
/// let minimum = CrossEntropyCost.total(&z, &a, &y, 1, &Sigmoid);
/// assert!((minimum - binary_entropy(0.5)).abs() < 1e-9);
/// // tanh outputs are not in (0, 1): the pairing is refused.
/// assert!(CrossEntropyCost.check_output(&Tanh).is_err());
/// ```
#[derive(Debug, Clone, Copy, Default)]
pub struct CrossEntropyCost;

impl Cost for CrossEntropyCost {
    fn name(&self) -> &'static str {
        "CrossEntropyCost"
    }

    /// The cross-entropy is defined for outputs in (0, 1): a sigmoid or a softmax layer.
    fn check_output(&self, output: &dyn Activation) -> Result<(), PairingError> {
        match output.kind() {
            ActivationKind::Sigmoid | ActivationKind::Softmax { .. } => Ok(()),
            ActivationKind::Other => Err(PairingError {
                cost: self.name(),
                output: output.spec(),
                needs: "a sigmoid or softmax",
            }),
        }
    }

    /// For sigmoid outputs computed exactly from z: −y ln σ(z) − (1 − y) ln(1 − σ(z)) =
    /// softplus(z) − y z, which is finite even where σ(z) rounds to 0 or 1.
    fn total(&self, z: &[f32], a: &[f32], y: &[f32], rows: usize, output: &dyn Activation) -> f64 {
        if output.kind() == ActivationKind::Sigmoid {
            z.iter()
                .zip(y)
                .map(|(&z, &y)| {
                    let (z, y) = (f64::from(z), f64::from(y));
                    softplus(z) - y * z
                })
                .sum()
        } else {
            let mut total = 0.0;
            for_each_complement(a, rows, output, |a, one_minus_a, y_index| {
                let y = f64::from(y[y_index]);
                total -= y_ln_a(y, a) + y_ln_a(1.0 - y, one_minus_a);
            });
            total
        }
    }

    /// δᴸ = a − y for sigmoid outputs (eq. 66: the σ'(z) of the quadratic cost cancels, so
    /// learning does not slow down when the output saturates); otherwise ∂C/∂a =
    /// (a − y) / (a(1 − a)) taken back through the output activation.
    fn delta(
        &self,
        z: &[f32],
        a: &[f32],
        y: &[f32],
        rows: usize,
        output: &dyn Activation,
        delta: &mut [f32],
    ) {
        if output.kind() == ActivationKind::Sigmoid {
            for ((d, &a), &y) in delta.iter_mut().zip(a).zip(y) {
                *d = a - y;
            }
        } else {
            for_each_complement(a, rows, output, |a, one_minus_a, i| {
                let slope = (a - f64::from(y[i])) / (a * one_minus_a).max(f64::from(TINY));
                delta[i] = slope as f32;
            });
            output.backward(z, a, rows, delta);
        }
    }
}

/// The log-likelihood cost C = −ln a_y (eq. 80), for a softmax output layer; in general
/// −Σⱼ yⱼ ln aⱼ, which is the same for one-hot y.
///
/// ```
/// use nn_core::{Activation, Cost, Softmax};
/// use nn_costs::{LogLikelihoodCost, cost_by_name};
///
/// // A softmax output confidently wrong: the cost −ln a_y stays finite (computed from z).
/// let (z, y) = ([200.0f32, 0.0], [0.0f32, 1.0]);
/// let mut a = [0.0; 2];
/// Softmax::default().forward(&z, &mut a, 2);
/// assert_eq!(a[1], 0.0);
/// let cost = LogLikelihoodCost.total(&z, &a, &y, 2, &Softmax::default());
/// assert!((cost - 200.0).abs() < 1e-3);
/// // Found by network2.py's class name or the command line's.
/// assert_eq!(cost_by_name("log-likelihood").map(|c| c.name()), Some("LogLikelihoodCost"));
/// ```
#[derive(Debug, Clone, Copy, Default)]
pub struct LogLikelihoodCost;

impl Cost for LogLikelihoodCost {
    fn name(&self) -> &'static str {
        "LogLikelihoodCost"
    }

    /// The log-likelihood reads the outputs as a probability distribution over the classes
    /// (eq. 80), which only a softmax layer gives; on sigmoid outputs it would only push the
    /// right output up and never the wrong ones down.
    fn check_output(&self, output: &dyn Activation) -> Result<(), PairingError> {
        match output.kind() {
            ActivationKind::Softmax { .. } => Ok(()),
            ActivationKind::Sigmoid | ActivationKind::Other => Err(PairingError {
                cost: self.name(),
                output: output.spec(),
                needs: "a softmax",
            }),
        }
    }

    /// For softmax outputs uses the stable log-softmax ln aⱼ = c zⱼ − ln Σₖ e^(c zₖ).
    fn total(&self, z: &[f32], a: &[f32], y: &[f32], rows: usize, output: &dyn Activation) -> f64 {
        match output.kind() {
            ActivationKind::Softmax { temperature: c } => {
                let c = f64::from(c);
                z.chunks_exact(rows)
                    .zip(y.chunks_exact(rows))
                    .map(|(z, y)| {
                        let max = z
                            .iter()
                            .map(|&v| c * f64::from(v))
                            .fold(f64::NEG_INFINITY, f64::max);
                        let log_sum = max
                            + z.iter()
                                .map(|&v| (c * f64::from(v) - max).exp())
                                .sum::<f64>()
                                .ln();
                        z.iter()
                            .zip(y)
                            .map(|(&z, &y)| -f64::from(y) * (c * f64::from(z) - log_sum))
                            .sum::<f64>()
                    })
                    .sum()
            }
            ActivationKind::Sigmoid | ActivationKind::Other => a
                .iter()
                .zip(y)
                .map(|(&a, &y)| -y_ln_a(f64::from(y), f64::from(a)))
                .sum(),
        }
    }

    /// δᴸ = c (a Σⱼyⱼ − y) for a softmax of temperature c, which is a − y for one-hot y and c = 1
    /// (eqs. 81-82); otherwise ∂C/∂aⱼ = −yⱼ/aⱼ taken back through the output activation.
    fn delta(
        &self,
        z: &[f32],
        a: &[f32],
        y: &[f32],
        rows: usize,
        output: &dyn Activation,
        delta: &mut [f32],
    ) {
        match output.kind() {
            ActivationKind::Softmax { temperature: c } => {
                for ((d, a), y) in delta
                    .chunks_exact_mut(rows)
                    .zip(a.chunks_exact(rows))
                    .zip(y.chunks_exact(rows))
                {
                    let mass: f32 = y.iter().sum();
                    for ((d, &a), &y) in d.iter_mut().zip(a).zip(y) {
                        *d = c * (a * mass - y);
                    }
                }
            }
            ActivationKind::Sigmoid | ActivationKind::Other => {
                for ((d, &a), &y) in delta.iter_mut().zip(a).zip(y) {
                    *d = -y / a.max(TINY);
                }
                output.backward(z, a, rows, delta);
            }
        }
    }
}

/// The cost with network2.py's class name (`"QuadraticCost"`, `"CrossEntropyCost"`) or ours
/// (`"LogLikelihoodCost"`), or a command-line name (`quadratic`, `cross-entropy`,
/// `log-likelihood`).
pub fn cost_by_name(name: &str) -> Option<&'static dyn Cost> {
    match name {
        "QuadraticCost" | "quadratic" => Some(&QuadraticCost),
        "CrossEntropyCost" | "cross-entropy" => Some(&CrossEntropyCost),
        "LogLikelihoodCost" | "log-likelihood" => Some(&LogLikelihoodCost),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use nn_core::{Sigmoid, Softmax};

    #[test]
    fn binary_entropy_is_the_minimum_of_the_cross_entropy() {
        assert_eq!(binary_entropy(0.0), 0.0);
        assert!((binary_entropy(0.5) - std::f64::consts::LN_2).abs() < 1e-12);
        let y = 0.3f32;
        let z = (y / (1.0 - y)).ln();
        let mut a = [0.0];
        Sigmoid.forward(&[z], &mut a, 1);
        let at_y = CrossEntropyCost.total(&[z], &a, &[y], 1, &Sigmoid);
        assert!((at_y - binary_entropy(f64::from(y))).abs() < 1e-6);
        for other in [-2.0f32, 0.0, 2.0] {
            Sigmoid.forward(&[other], &mut a, 1);
            assert!(CrossEntropyCost.total(&[other], &a, &[y], 1, &Sigmoid) > at_y);
        }
    }

    #[test]
    fn cross_entropy_is_finite_at_saturated_outputs() {
        // σ(40) rounds to exactly 1 in f32 and σ(-120) to almost 0 (exactly 0 in network2, which
        // needs nan_to_num here); the cost is computed from z, so outputs of exactly 1 and 0
        // are harmless.
        let z = [40.0f32, -120.0];
        let mut a = [0.0; 2];
        Sigmoid.forward(&z, &mut a, 2);
        assert_eq!(a[0], 1.0);
        assert!(a[1] >= 0.0 && a[1] < 1e-34, "{}", a[1]);
        let a = [1.0, 0.0];
        let cost = CrossEntropyCost.total(&z, &a, &[0.0, 1.0], 2, &Sigmoid);
        assert!((cost - 160.0).abs() < 1e-9, "{cost}");
        let mut delta = [0.0; 2];
        CrossEntropyCost.delta(&z, &a, &[0.0, 1.0], 2, &Sigmoid, &mut delta);
        assert_eq!(delta, [1.0, -1.0]);
        let identity_cost = CrossEntropyCost.total(&z, &a, &[0.0, 1.0], 2, &nn_core::Identity);
        assert!(identity_cost.is_finite());
    }

    #[test]
    fn log_likelihood_with_softmax_is_minus_log_of_the_right_output() {
        let z = [2.0f32, 1.0, 0.1];
        let mut a = [0.0; 3];
        Softmax::default().forward(&z, &mut a, 3);
        let cost = LogLikelihoodCost.total(&z, &a, &[0.0, 1.0, 0.0], 3, &Softmax::default());
        assert!((cost + f64::from(a[1]).ln()).abs() < 1e-6);
        let huge = [1000.0f32, -1000.0, 0.0];
        Softmax::default().forward(&huge, &mut a, 3);
        let cost = LogLikelihoodCost.total(&huge, &a, &[0.0, 1.0, 0.0], 3, &Softmax::default());
        assert!((cost - 2000.0).abs() < 1e-6, "{cost}");
    }

    #[test]
    fn names_match_network2() {
        assert_eq!(
            cost_by_name("CrossEntropyCost").unwrap().name(),
            "CrossEntropyCost"
        );
        assert_eq!(cost_by_name("quadratic").unwrap().name(), "QuadraticCost");
        assert!(cost_by_name("hinge").is_none());
    }
}
