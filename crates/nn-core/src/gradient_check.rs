//! Checking backpropagation against the definition of the derivative: for each parameter p,
//! ∂C/∂p ≈ (C(p + h) − C(p − h)) / 2h. A new [`Cost`], [`Regularizer`] or [`crate::Activation`]
//! is right when its backpropagated gradient agrees with these central differences.

use crate::{Cost, Examples, Network, Regularizer, cost_and_gradient};

/// One parameter's backpropagated derivative beside its central difference.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ParameterCheck {
    /// The parameter's index in [`Network::params`].
    pub index: usize,
    /// ∂C/∂p as backpropagation computes it.
    pub analytic: f64,
    /// (C(p + h) − C(p − h)) / 2h for the step h that agreed best.
    pub numeric: f64,
}

impl ParameterCheck {
    /// |numeric − analytic| / max(|numeric| + |analytic|, 0.01): near 0 when they agree, 1 when
    /// they have opposite signs; derivatives below 0.01 are compared absolutely.
    pub fn relative_error(&self) -> f64 {
        (self.numeric - self.analytic).abs() / (self.numeric.abs() + self.analytic.abs()).max(1e-2)
    }
}

/// Every parameter's check ([`check_gradient`]), in the order of [`Network::params`]; it reads
/// as a slice of [`ParameterCheck`]s.
#[derive(Debug, Clone, PartialEq)]
pub struct GradientCheck(Vec<ParameterCheck>);

impl GradientCheck {
    /// The check that disagrees most ([`ParameterCheck::relative_error`]); `None` for a
    /// network without parameters.
    pub fn worst(&self) -> Option<&ParameterCheck> {
        self.0
            .iter()
            .max_by(|a, b| a.relative_error().total_cmp(&b.relative_error()))
    }

    /// The largest relative error of any parameter, 0 without parameters: the one figure to
    /// compare with a tolerance.
    pub fn worst_relative_error(&self) -> f64 {
        self.worst().map_or(0.0, ParameterCheck::relative_error)
    }
}

impl From<Vec<ParameterCheck>> for GradientCheck {
    fn from(checks: Vec<ParameterCheck>) -> Self {
        Self(checks)
    }
}

impl std::ops::Deref for GradientCheck {
    type Target = [ParameterCheck];
    fn deref(&self) -> &[ParameterCheck] {
        &self.0
    }
}

impl<'a> IntoIterator for &'a GradientCheck {
    type Item = &'a ParameterCheck;
    type IntoIter = std::slice::Iter<'a, ParameterCheck>;
    fn into_iter(self) -> Self::IntoIter {
        self.0.iter()
    }
}

/// Compares the gradient of the regularized cost C = C₀ + penalties on `data` (as
/// [`cost_and_gradient`] computes it, the whole set taken as one mini-batch) with central
/// differences, one parameter at a time. Each parameter is tried with every step h of `steps`
/// and the one that agrees best is kept: large steps suffer truncation error where the cost
/// curves sharply, small ones f32 rounding and kinks such as ReLU's; a wrong formula disagrees
/// at every step. The step is taken as the difference actually stored in f32.
///
/// It costs two evaluations of the cost per parameter and step, so it is meant for small
/// networks and a handful of examples.
///
/// # Panics
/// When `steps` is empty, or when `data` does not fit one mini-batch ([`Network::max_batch`]).
///
/// ```
/// use nn_core::{DenseExamples, Initializer, Network, Sigmoid, check_gradient};
/// use nn_costs::CrossEntropyCost;
/// use std::sync::Arc;
///
/// let network = Network::new(&[2, 3, 2], vec![Arc::new(Sigmoid), Arc::new(Sigmoid)],
///     Initializer::Default, 1).unwrap();
/// let data = DenseExamples::classification(vec![vec![0.5, -0.2], vec![0.1, 0.9]], vec![0, 1], 2);
/// let checks = check_gradient(&network, &CrossEntropyCost, &[], &data, &[1e-2, 1e-3]);
/// assert_eq!(checks.len(), network.params().len());
/// assert!(checks.worst_relative_error() < 1e-2, "{:?}", checks.worst());
/// ```
pub fn check_gradient(
    network: &Network,
    cost: &dyn Cost,
    regularizers: &[Box<dyn Regularizer>],
    data: &dyn Examples,
    steps: &[f32],
) -> GradientCheck {
    assert!(!steps.is_empty(), "check_gradient needs at least one step");
    let (_, gradient) = cost_and_gradient(network, cost, regularizers, data);
    let mut probe = network.clone();
    gradient
        .iter()
        .enumerate()
        .map(|(index, &analytic)| {
            let original = network.params()[index];
            steps
                .iter()
                .map(|&h| {
                    probe.params_mut()[index] = original + h;
                    let plus = cost_and_gradient(&probe, cost, regularizers, data).0;
                    probe.params_mut()[index] = original - h;
                    let minus = cost_and_gradient(&probe, cost, regularizers, data).0;
                    probe.params_mut()[index] = original;
                    let step = f64::from(original + h) - f64::from(original - h);
                    ParameterCheck {
                        index,
                        analytic: f64::from(analytic),
                        numeric: (plus - minus) / step,
                    }
                })
                .min_by(|a, b| a.relative_error().total_cmp(&b.relative_error()))
                .expect("at least one step")
        })
        .collect::<Vec<_>>()
        .into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_worst_check_is_the_one_that_disagrees_most() {
        let check = |index, analytic, numeric| ParameterCheck {
            index,
            analytic,
            numeric,
        };
        let report = GradientCheck::from(vec![
            check(0, 1.0, 1.0),
            check(1, 1.0, -1.0),
            check(2, 0.5, 0.6),
        ]);
        assert_eq!(report.worst().map(|c| c.index), Some(1));
        assert_eq!(report.worst_relative_error(), 1.0);
        assert_eq!(GradientCheck::from(Vec::new()).worst_relative_error(), 0.0);
    }
}
