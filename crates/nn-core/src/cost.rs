//! The seam for cost functions: nn-costs implements it for the chapter's three costs.

use std::fmt::Debug;

use crate::{Activation, PairingError};

/// A cost function C(a, y) of the output activations `a` and the desired outputs `y`.
///
/// Both methods take a whole mini-batch: `z`, `a` and `y` are `rows × m` column-major matrices
/// (one example per column) and `output` is the activation of the output layer.
///
/// A new cost, the mean absolute error Σ|a − y|, written outside nn-costs:
///
/// ```
/// use nn_core::{Activation, Cost, Identity};
///
/// #[derive(Debug)]
/// struct Absolute;
///
/// impl Cost for Absolute {
///     fn name(&self) -> &'static str {
///         "AbsoluteCost"
///     }
///     fn total(&self, _z: &[f32], a: &[f32], y: &[f32], _rows: usize, _: &dyn Activation) -> f64 {
///         a.iter().zip(y).map(|(&a, &y)| f64::from((a - y).abs())).sum()
///     }
///     fn delta(&self, z: &[f32], a: &[f32], y: &[f32], rows: usize, output: &dyn Activation,
///              delta: &mut [f32]) {
///         for ((d, &a), &y) in delta.iter_mut().zip(a).zip(y) {
///             *d = (a - y).signum();
///         }
///         output.backward(z, a, rows, delta);
///     }
/// }
///
/// let (z, y) = ([0.5f32, -1.0], [0.0f32, 0.0]);
/// assert_eq!(Absolute.total(&z, &z, &y, 2, &Identity), 1.5);
/// let mut delta = [0.0; 2];
/// Absolute.delta(&z, &z, &y, 2, &Identity, &mut delta);
/// assert_eq!(delta, [1.0, -1.0]);
/// ```
///
/// [`crate::check_gradient`] checks such a cost's backpropagated gradient.
pub trait Cost: Send + Sync + Debug {
    /// The name network2.py uses for this cost in saved models, e.g. `"CrossEntropyCost"`.
    fn name(&self) -> &'static str;

    /// Refuses an output activation the cost is not defined for, e.g. the log-likelihood
    /// (eq. 80) on anything but a softmax layer. [`crate::Trainer::new`] calls it with the
    /// network's output activation; the default accepts every activation.
    fn check_output(&self, _output: &dyn Activation) -> Result<(), PairingError> {
        Ok(())
    }

    /// The cost summed over the examples of the batch (divide by n for the chapter's average).
    fn total(&self, z: &[f32], a: &[f32], y: &[f32], rows: usize, output: &dyn Activation) -> f64;

    /// The output error δᴸ = ∂C/∂zᴸ of each example (BP1), written into `delta`.
    fn delta(
        &self,
        z: &[f32],
        a: &[f32],
        y: &[f32],
        rows: usize,
        output: &dyn Activation,
        delta: &mut [f32],
    );
}
