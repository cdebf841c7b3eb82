//! The per-epoch training-data hook: artificial expansion of the training data plugs in here.

use crate::{Examples, TrainError};

/// Supplies the training examples of each epoch, e.g. freshly distorted copies of the base set.
///
/// The returned set may be the base set itself, a larger set (offline expansion), or a buffer the
/// transform refills every epoch; its size is the `n` of the `λ/n` regularization scaling.
///
/// ```
/// use nn_core::{DenseExamples, EpochTransform, Examples, TrainError};
///
/// /// Trains on the base set in even epochs and on a fixed extra set in odd ones.
/// struct Alternate(DenseExamples);
///
/// impl EpochTransform for Alternate {
///     fn describe(&self) -> String {
///         "alternate".into()
///     }
///     fn epoch_examples<'a>(&'a mut self, epoch: usize, _seed: u64, base: &'a dyn Examples)
///         -> Result<&'a dyn Examples, TrainError> {
///         Ok(if epoch % 2 == 0 { base } else { &self.0 })
///     }
/// }
///
/// let base = DenseExamples::classification(vec![vec![0.0]; 4], vec![0; 4], 2);
/// let mut alternate = Alternate(DenseExamples::classification(vec![vec![1.0]; 6], vec![1; 6], 2));
/// assert_eq!(alternate.epoch_examples(0, 1, &base)?.len(), 4);
/// assert_eq!(alternate.epoch_examples(1, 2, &base)?.len(), 6);
/// # Ok::<(), TrainError>(())
/// ```
pub trait EpochTransform: Send {
    /// A short description for logs, e.g. `"elastic(alpha=34, sigma=4)"`.
    fn describe(&self) -> String;

    /// The examples to train on in `epoch` (counted from 0), made from `base`, the trainer's
    /// training set. `seed` is derived from the run's seed and the epoch, so the same run always
    /// sees the same data whatever the thread count. Fails with
    /// [`TrainError::TransformInput`] when `base` is not data the transform works on.
    fn epoch_examples<'a>(
        &'a mut self,
        epoch: usize,
        seed: u64,
        base: &'a dyn Examples,
    ) -> Result<&'a dyn Examples, TrainError>;
}
