//! Errors for hyper-parameters that make no sense, each saying which value and why.

use thiserror::Error;

/// A regularization hyper-parameter outside its meaningful range.
///
/// ```
/// use nn_regularize::{Dropout, L1, RegularizeError};
///
/// let err = L1::new(f32::INFINITY).unwrap_err();
/// assert!(matches!(err, RegularizeError::Lambda { kind: "L1", .. }));
/// assert_eq!(
///     err.to_string(),
///     "L1 regularization parameter lambda = inf must be finite and non-negative"
/// );
/// assert_eq!(Dropout::new(0.5)?.with_max_norm(0.0), Err(RegularizeError::MaxNorm { bound: 0.0 }));
/// # Ok::<(), RegularizeError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Error)]
pub enum RegularizeError {
    /// λ of L1 or L2 regularization (eqs. 87 and 95) is negative, infinite or NaN.
    #[error("{kind} regularization parameter lambda = {lambda} must be finite and non-negative")]
    Lambda {
        /// `"L1"` or `"L2"`.
        kind: &'static str,
        /// The value given.
        lambda: f32,
    },
    /// A dropout rate p outside [0, 1): p = 1 would remove every neuron.
    #[error("dropout rate {rate} must be in [0, 1)")]
    DropoutRate {
        /// The value given.
        rate: f32,
    },
    /// A max-norm bound c that is not a positive finite number.
    #[error("max-norm bound {bound} must be finite and positive")]
    MaxNorm {
        /// The value given.
        bound: f32,
    },
}
