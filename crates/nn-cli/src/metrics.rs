//! The metrics file of `nn train --metrics`: the figures of every epoch and the test accuracy.

use std::path::Path;

use anyhow::{Context, Result};
use nn_core::atomic::write_bytes;
use nn_core::{EpochRecord, StopReason};
use serde::Serialize;

use crate::options::RunOptions;
use crate::train::RunOutcome;

/// The JSON written by `--metrics`.
#[derive(Serialize)]
struct MetricsFile<'a> {
    /// One record per epoch: `epoch`, `eta`, `seconds` and the monitored figures (accuracies as
    /// fractions).
    history: &'a [EpochRecord],
    /// The final model's accuracy on the test images, as a fraction.
    test_accuracy: f64,
    /// Test images classified correctly.
    test_correct: usize,
    /// Test images.
    test_count: usize,
    /// The epoch with the best evaluation accuracy.
    best_epoch: Option<usize>,
    /// Why the run stopped early, if it did.
    stopped: Option<&'a StopReason>,
    /// Wall-clock seconds of the whole run (this process only, for a resumed run).
    total_seconds: f64,
    /// The run's options.
    options: &'a RunOptions,
}

/// Writes the metrics of a finished run to `path`, atomically.
pub fn write(path: &Path, outcome: &RunOutcome) -> Result<()> {
    let file = MetricsFile {
        history: &outcome.history.epochs,
        test_accuracy: outcome.test.accuracy(),
        test_correct: outcome.test.correct,
        test_count: outcome.test.count,
        best_epoch: outcome.history.best_epoch,
        stopped: outcome.history.stopped.as_ref(),
        total_seconds: outcome.seconds,
        options: &outcome.options,
    };
    let json = serde_json::to_string_pretty(&file).context("cannot serialize the metrics")?;
    write_bytes(path, json.as_bytes())
        .with_context(|| format!("cannot write metrics file {}", path.display()))
}
