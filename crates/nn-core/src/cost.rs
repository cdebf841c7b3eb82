//! The seam for cost functions: nn-costs implements it for the chapter's three costs.

use std::fmt::Debug;

use crate::{Activation, PairingError};

/// A cost function C(a, y) of the output activations `a` and the desired outputs `y`.
///
/// Both methods take a whole mini-batch: `z`, `a` and `y` are `rows × m` column-major matrices
/// (one example per column) and `output` is the activation of the output layer.
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
