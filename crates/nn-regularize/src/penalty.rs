//! Weight penalties: L2 (weight decay, eqs. 85-94) and L1 (eqs. 95-97).
//!
//! Both add a term to the cost of the `n` training examples and the matching term to each
//! weight's gradient; the optimizer turns the sum into an update. Biases are never penalized
//! (eq. 89: ∂C/∂b = ∂C₀/∂b).

use nn_core::Regularizer;

use crate::RegularizeError;

fn check_lambda(kind: &'static str, lambda: f32) -> Result<f32, RegularizeError> {
    if lambda.is_finite() && lambda >= 0.0 {
        Ok(lambda)
    } else {
        Err(RegularizeError::Lambda { kind, lambda })
    }
}

/// L2 regularization (weight decay): C = C₀ + (λ/2n) Σ_w w² (eqs. 85-87).
///
/// The gradient term is ∂C/∂w = ∂C₀/∂w + (λ/n) w (eq. 88), so plain SGD takes the step
/// w → (1 − ηλ/n) w − η ∂C₀/∂w (eqs. 91-93). With momentum or Adam the decay stays a term of the
/// gradient (coupled, as in eq. 93), so it flows through the velocity or the adaptive scaling; it
/// is not the decoupled decay of AdamW.
///
/// ```
/// use nn_core::Regularizer;
/// use nn_regularize::L2;
///
/// let (l2, weights, n) = (L2::new(5.0)?, [1.0f32, -2.0], 10);
/// // (λ/2n) Σ w² = (5/20)(1 + 4) (eq. 87).
/// assert!((l2.penalty(&[&weights], n) - 1.25).abs() < 1e-12);
/// // ∂C/∂w gains (λ/n) w (eq. 88).
/// let mut gradient = [0.0f32; 2];
/// l2.add_weight_gradient(&weights, n, &mut gradient);
/// assert_eq!(gradient, [0.5, -1.0]);
/// assert!(L2::new(-1.0).is_err());
/// # Ok::<(), nn_regularize::RegularizeError>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct L2 {
    lambda: f32,
}

impl L2 {
    /// L2 regularization with parameter λ ≥ 0 of eq. 87 (the chapter uses λ = 0.1 for 1,000
    /// training images and λ = 5.0 for 50,000).
    pub fn new(lambda: f32) -> Result<Self, RegularizeError> {
        Ok(Self {
            lambda: check_lambda("L2", lambda)?,
        })
    }

    /// The regularization parameter λ of eq. 87.
    pub fn lambda(&self) -> f32 {
        self.lambda
    }
}

impl Regularizer for L2 {
    fn describe(&self) -> String {
        format!("L2(lambda={})", self.lambda)
    }

    /// (λ/2n) Σ_w w² over every layer's weights (the penalty of eq. 87).
    fn penalty(&self, weights: &[&[f32]], n: usize) -> f64 {
        let sum: f64 = weights
            .iter()
            .flat_map(|layer| layer.iter())
            .map(|&w| f64::from(w) * f64::from(w))
            .sum();
        f64::from(self.lambda) / (2.0 * n as f64) * sum
    }

    /// Adds (λ/n) w to each weight's gradient (eq. 88).
    fn add_weight_gradient(&self, weights: &[f32], n: usize, gradient: &mut [f32]) {
        let scale = self.lambda / n as f32;
        for (g, &w) in gradient.iter_mut().zip(weights) {
            *g += scale * w;
        }
    }

    /// λ/n: the L2 term of the gradient is (λ/n) w.
    fn weight_decay(&self, n: usize) -> Option<f32> {
        Some(self.lambda / n as f32)
    }
}

/// L1 regularization: C = C₀ + (λ/n) Σ_w |w| (eq. 95).
///
/// The gradient term is ∂C/∂w = ∂C₀/∂w + (λ/n) sgn(w) (eq. 96) with the chapter's convention
/// sgn(0) = 0, so plain SGD takes the step w → w − (ηλ/n) sgn(w) − η ∂C₀/∂w (eq. 97): weights
/// shrink by a constant amount rather than in proportion to their size, which leaves many of them
/// near zero.
///
/// ```
/// use nn_core::Regularizer;
/// use nn_regularize::L1;
///
/// let (l1, weights, n) = (L1::new(2.0)?, [0.5f32, 0.0, -3.0], 4);
/// // (λ/n) Σ |w| = (2/4)(0.5 + 3) (eq. 95).
/// assert!((l1.penalty(&[&weights], n) - 1.75).abs() < 1e-12);
/// // ∂C/∂w gains (λ/n) sgn(w), with sgn(0) = 0 (eq. 96): a constant pull towards 0.
/// let mut gradient = [0.0f32; 3];
/// l1.add_weight_gradient(&weights, n, &mut gradient);
/// assert_eq!(gradient, [0.5, 0.0, -0.5]);
/// # Ok::<(), nn_regularize::RegularizeError>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct L1 {
    lambda: f32,
}

impl L1 {
    /// L1 regularization with parameter λ ≥ 0 of eq. 95.
    pub fn new(lambda: f32) -> Result<Self, RegularizeError> {
        Ok(Self {
            lambda: check_lambda("L1", lambda)?,
        })
    }

    /// The regularization parameter λ of eq. 95.
    pub fn lambda(&self) -> f32 {
        self.lambda
    }
}

/// sgn(w) with sgn(0) = 0, as eqs. 96-97 take it (unlike `f32::signum`, which gives ±1 at ±0).
pub fn sgn(w: f32) -> f32 {
    if w > 0.0 {
        1.0
    } else if w < 0.0 {
        -1.0
    } else {
        0.0
    }
}

impl Regularizer for L1 {
    fn describe(&self) -> String {
        format!("L1(lambda={})", self.lambda)
    }

    /// (λ/n) Σ_w |w| over every layer's weights (the penalty of eq. 95).
    fn penalty(&self, weights: &[&[f32]], n: usize) -> f64 {
        let sum: f64 = weights
            .iter()
            .flat_map(|layer| layer.iter())
            .map(|&w| f64::from(w.abs()))
            .sum();
        f64::from(self.lambda) / n as f64 * sum
    }

    /// Adds (λ/n) sgn(w) to each weight's gradient (eq. 96, sgn(0) = 0).
    fn add_weight_gradient(&self, weights: &[f32], n: usize, gradient: &mut [f32]) {
        let scale = self.lambda / n as f32;
        for (g, &w) in gradient.iter_mut().zip(weights) {
            *g += scale * sgn(w);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lambda_is_validated() {
        assert_eq!(L2::new(0.1).unwrap().lambda(), 0.1);
        assert_eq!(L1::new(0.0).unwrap().lambda(), 0.0);
        let err = L2::new(-1.0).unwrap_err();
        assert_eq!(
            err.to_string(),
            "L2 regularization parameter lambda = -1 must be finite and non-negative"
        );
        assert!(L1::new(f32::NAN).is_err());
        assert!(L1::new(f32::INFINITY).is_err());
        assert_eq!(
            L1::new(-0.5).unwrap_err(),
            RegularizeError::Lambda {
                kind: "L1",
                lambda: -0.5
            }
        );
    }

    #[test]
    fn penalties_by_hand() {
        let a = [1.0, -2.0];
        let b = [3.0];
        let weights: [&[f32]; 2] = [&a, &b];
        // (λ/2n) Σ w² = (2/(2·4)) · 14 = 3.5; (λ/n) Σ |w| = (2/4) · 6 = 3.
        assert!((L2::new(2.0).unwrap().penalty(&weights, 4) - 3.5).abs() < 1e-12);
        assert!((L1::new(2.0).unwrap().penalty(&weights, 4) - 3.0).abs() < 1e-12);
    }

    #[test]
    fn gradient_terms_by_hand() {
        let w = [0.5, -0.25, 0.0];
        let mut g = [1.0, 1.0, 1.0];
        L2::new(4.0).unwrap().add_weight_gradient(&w, 2, &mut g);
        assert_eq!(g, [2.0, 0.5, 1.0]);
        let mut g = [1.0, 1.0, 1.0];
        L1::new(4.0).unwrap().add_weight_gradient(&w, 2, &mut g);
        assert_eq!(g, [3.0, -1.0, 1.0]);
    }

    #[test]
    fn sgn_of_zero_is_zero() {
        assert_eq!(sgn(0.0), 0.0);
        assert_eq!(sgn(-0.0), 0.0);
        assert_eq!(sgn(1e-30), 1.0);
        assert_eq!(sgn(-3.0), -1.0);
        assert_eq!(0.0f32.signum(), 1.0);
    }
}
