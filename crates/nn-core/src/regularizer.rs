//! The seam for regularization: nn-regularize implements L2, L1 and dropout through it.

use std::fmt::Debug;

use rand::rngs::StdRng;

use crate::network::{Evaluation, LayerShape, Network};

/// A regularization strategy.
///
/// It may add a penalty to the cost (and so a term to each weight's gradient), alter the forward
/// and backward passes during training by masking neurons, and constrain the weights after each
/// update. Biases are never regularized.
///
/// ```
/// use nn_core::Regularizer;
///
/// /// (λ/2n) Σ w², L2 regularization (eq. 87), written outside nn-regularize.
/// #[derive(Debug)]
/// struct Decay(f32);
///
/// impl Regularizer for Decay {
///     fn describe(&self) -> String {
///         format!("decay({})", self.0)
///     }
///     fn penalty(&self, weights: &[&[f32]], n: usize) -> f64 {
///         let sum: f64 = weights.iter().flat_map(|w| w.iter()).map(|&w| f64::from(w * w)).sum();
///         f64::from(self.0) / (2.0 * n as f64) * sum
///     }
///     fn add_weight_gradient(&self, weights: &[f32], n: usize, gradient: &mut [f32]) {
///         for (g, &w) in gradient.iter_mut().zip(weights) {
///             *g += self.0 / n as f32 * w;
///         }
///     }
/// }
///
/// assert_eq!(Decay(2.0).penalty(&[&[1.0, 2.0]], 10), 0.5);
/// let mut gradient = [0.0; 2];
/// Decay(2.0).add_weight_gradient(&[1.0, 2.0], 10, &mut gradient);
/// assert_eq!(gradient, [0.2, 0.4]);
/// ```
pub trait Regularizer: Send + Sync + Debug {
    /// A short description for logs, e.g. `"L2(lambda=5)"`.
    fn describe(&self) -> String;

    /// The penalty added to the cost of `n` examples, given every layer's weights, e.g.
    /// (λ/2n) Σ w² (eq. 87).
    fn penalty(&self, _weights: &[&[f32]], _n: usize) -> f64 {
        0.0
    }

    /// Adds ∂penalty/∂w of one layer's weights to `gradient`, e.g. (λ/n) w for L2 (eq. 88). The
    /// optimizer then turns the sum into an update, which for plain SGD is eq. 93.
    fn add_weight_gradient(&self, _weights: &[f32], _n: usize, _gradient: &mut [f32]) {}

    /// `Some(d)` when the term this strategy adds to each weight's gradient
    /// ([`Regularizer::add_weight_gradient`]) is d·w for `n` examples: L2's d = λ/n (eq. 86),
    /// or 0 for a strategy that adds none (dropout, max-norm). Plain SGD then applies it as the
    /// decay w → (1 − ηd) w of eq. 93 in the pass that computes the gradient, without calling
    /// [`Regularizer::add_weight_gradient`]; masks and constraints apply as usual. `None` (the
    /// default) when the term is anything else or unknown.
    fn weight_decay(&self, _n: usize) -> Option<f32> {
        None
    }

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

/// The regularized cost per example, C = C₀ + Σ penalties (eqs. 87 and 95): C₀ is the average
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
