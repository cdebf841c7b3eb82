//! One finished trial of a search ([`crate::search`]), plain data that the searches' results
//! and errors both hold.

use nn_train::RunOptions;

/// One finished trial: the mean over its seeds.
#[derive(Debug, Clone)]
pub struct Trial {
    /// The options of its first seed.
    pub options: RunOptions,
    /// The training cost of each epoch, averaged over the seeds.
    pub costs: Vec<f64>,
    /// Peak validation accuracy (%), averaged over the seeds.
    pub validation: f64,
    /// Epochs trained (the most of any seed).
    pub epochs: usize,
    /// Seconds of training, summed over the seeds.
    pub seconds: f64,
    /// Whether the training cost fell below the untrained network's and then in every epoch
    /// (η search).
    pub falls: bool,
    /// Whether the cost of some seed became infinite or NaN, ending the trial.
    pub diverged: bool,
}
