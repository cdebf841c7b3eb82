//! The metrics file of `nn train --metrics`: the figures of every epoch and the test accuracy.

use std::path::Path;

use anyhow::{Context, Result};
use nn_core::atomic::write_bytes;
use nn_core::{EpochRecord, Evaluation, History, StopReason};
use serde::{Deserialize, Serialize};

use crate::options::RunOptions;

/// The JSON written by `--metrics`.
#[derive(Serialize, Deserialize)]
pub struct MetricsFile {
    /// One record per epoch: `epoch`, `eta`, `seconds` and the monitored figures (accuracies as
    /// fractions).
    pub history: Vec<EpochRecord>,
    /// The final model's accuracy on the test images, as a fraction.
    pub test_accuracy: f64,
    /// Test images classified correctly.
    pub test_correct: usize,
    /// Test images.
    pub test_count: usize,
    /// The epoch with the best evaluation accuracy.
    pub best_epoch: Option<usize>,
    /// Why the run stopped early, if it did.
    pub stopped: Option<StopReason>,
    /// Wall-clock seconds of the whole run (this process only, for a resumed run).
    pub total_seconds: f64,
    /// The run's options.
    pub options: RunOptions,
}

/// Writes the metrics of a finished run (its options, history, test result and seconds of
/// training) to `path`, atomically.
pub fn write(
    path: &Path,
    options: &RunOptions,
    history: &History,
    test: &Evaluation,
    seconds: f64,
) -> Result<()> {
    let file = MetricsFile {
        history: history.epochs.clone(),
        test_accuracy: test.accuracy(),
        test_correct: test.correct,
        test_count: test.count,
        best_epoch: history.best_epoch,
        stopped: history.stopped.clone(),
        total_seconds: seconds,
        options: options.clone(),
    };
    let json = serde_json::to_string_pretty(&file).context("cannot serialize the metrics")?;
    write_bytes(path, json.as_bytes())
        .with_context(|| format!("cannot write metrics file {}", path.display()))
}

/// Reads a file [`write()`] wrote.
pub fn read(path: &Path) -> Result<MetricsFile> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read metrics file {}", path.display()))?;
    serde_json::from_str(&text)
        .with_context(|| format!("{} is not a metrics file of nn train", path.display()))
}
