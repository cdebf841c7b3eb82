//! The per-epoch training-data hook: artificial expansion of the training data plugs in here.

use crate::Examples;

/// Supplies the training examples of each epoch, e.g. freshly distorted copies of the base set.
///
/// The returned set may be the base set itself, a larger set (offline expansion), or a buffer the
/// transform refills every epoch; its size is the `n` of the `λ/n` regularization scaling.
pub trait EpochTransform: Send {
    /// A short description for logs, e.g. `"elastic(alpha=34, sigma=4)"`.
    fn describe(&self) -> String;

    /// The examples to train on in `epoch` (counted from 0). `seed` is derived from the run's
    /// seed and the epoch, so the same run always sees the same data whatever the thread count.
    fn epoch_examples<'a>(
        &'a mut self,
        epoch: usize,
        seed: u64,
        base: &'a dyn Examples,
    ) -> &'a dyn Examples;
}
