//! The seam for regularization: nn-regularize implements L2, L1 and dropout through it.

use std::fmt::Debug;

use rand::rngs::StdRng;

use crate::network::{Evaluation, LayerShape, Network};

/// A regularization strategy.
///
/// It may add a penalty to the cost (and so a term to each weight's gradient), alter the forward
/// and backward passes during training by masking neurons, and constrain the weights after each
/// update. Biases are never regularized.
pub trait Regularizer: Send + Sync + Debug {
    /// A short description for logs, e.g. `"L2(lambda=5)"`.
    fn describe(&self) -> String;

    /// The penalty added to the cost of `n` examples, given every layer's weights, e.g.
    /// (λ/2n) Σ w² (eq. 85).
    fn penalty(&self, _weights: &[&[f32]], _n: usize) -> f64 {
        0.0
    }

    /// Adds ∂penalty/∂w of one layer's weights to `gradient`, e.g. (λ/n) w for L2 (eq. 86). The
    /// optimizer then turns the sum into an update, which for plain SGD is eq. 93.
    fn add_weight_gradient(&self, _weights: &[f32], _n: usize, _gradient: &mut [f32]) {}

    /// During training only: multiplies `mask` (one value per neuron and example of `layer`,
    /// column-major, `layer` 0 being the input layer and `layer_count` the number of layers
    /// including input and output) by this strategy's mask for the current mini-batch and
    /// returns true, or returns false to leave the layer alone. The masked activations feed the
    /// next layer, and backpropagation runs through the same mask.
    fn apply_mask(
        &self,
        _layer: usize,
        _layer_count: usize,
        _rng: &mut StdRng,
        _mask: &mut [f32],
    ) -> bool {
        false
    }

    /// Adjusts one layer's weights after each update (e.g. a max-norm constraint).
    fn constrain(&self, _shape: &LayerShape, _weights: &mut [f32]) {}
}

/// The regularized cost per example, C = C₀ + Σ penalties (eqs. 85 and 95): C₀ is the average
/// cost of `evaluation`, and every regularizer's penalty is taken on `network`'s weights for `n`
/// examples (the n of λ/n, the size of the set trained on). The trainer reports this cost.
pub fn regularized_cost(
    network: &Network,
    regularizers: &[Box<dyn Regularizer>],
    evaluation: &Evaluation,
    n: usize,
) -> f64 {
    let weights: Vec<&[f32]> = network
        .layers()
        .iter()
        .map(|l| &network.params()[l.weights.clone()])
        .collect();
    let penalty: f64 = regularizers.iter().map(|r| r.penalty(&weights, n)).sum();
    evaluation.cost_sum / evaluation.count as f64 + penalty
}
