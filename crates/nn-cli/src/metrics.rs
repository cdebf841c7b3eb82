//! The metrics file of `nn train --metrics`: nn-chapter's [`MetricsFile`], the figures of every
//! epoch and the test accuracy, which `nn reproduce --collect` reads back.

use std::path::Path;

use anyhow::Result;
use nn_chapter::MetricsFile;
use nn_core::{Evaluation, History};

use crate::options::RunOptions;

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
    Ok(file.write(path)?)
}
