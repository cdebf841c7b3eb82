//! Finished runs, whether trained in this process or on other machines: the metrics file a
//! run leaves (its options, every epoch's figures and the test result), the runs of a batch
//! planned with the names of their files, and those files read back.

use std::path::{Path, PathBuf};

use nn_core::atomic::write_bytes;
use nn_core::{Cost, EpochRecord, History, Network, StopReason};
use nn_train::{Field, OptionDifference, RunOptions, RunOutcome};
use serde::{Deserialize, Serialize};

use crate::error::ChapterError;

/// The metrics file of a run: the figures of every epoch and the test accuracy.
#[derive(Debug, Clone, Serialize, Deserialize)]
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

impl MetricsFile {
    /// The metrics of a finished run.
    pub fn of(outcome: &RunOutcome) -> Self {
        Self {
            history: outcome.history.epochs.clone(),
            test_accuracy: outcome.test.accuracy(),
            test_correct: outcome.test.correct,
            test_count: outcome.test.count,
            best_epoch: outcome.history.best_epoch,
            stopped: outcome.history.stopped.clone(),
            total_seconds: outcome.seconds,
            options: outcome.options.clone(),
        }
    }

    /// Writes the file to `path`, atomically.
    pub fn write(&self, path: &Path) -> Result<(), ChapterError> {
        let json = serde_json::to_string_pretty(self).expect("metrics serialize");
        write_bytes(path, json.as_bytes()).map_err(|e| ChapterError::io("write", path, e))
    }

    /// Reads a file [`MetricsFile::write`] wrote.
    ///
    /// ```
    /// let dir = tempfile::tempdir()?;
    /// let path = dir.path().join("run.json");
    /// std::fs::write(&path, "{}")?;
    /// let error = nn_chapter::MetricsFile::read(&path).unwrap_err();
    /// assert!(error.to_string().contains("is not a metrics file"), "{error}");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn read(path: &Path) -> Result<Self, ChapterError> {
        let text = std::fs::read_to_string(path).map_err(|e| ChapterError::io("read", path, e))?;
        serde_json::from_str(&text).map_err(|source| ChapterError::Format {
            path: path.to_path_buf(),
            what: "a metrics file of a training run",
            source,
        })
    }
}

/// Writes the metrics file of a finished run.
pub(crate) fn write_metrics(path: &Path, outcome: &RunOutcome) -> Result<(), ChapterError> {
    MetricsFile::of(outcome).write(path)
}

/// One run of a batch: its options (seed included) and the name of its metrics file.
#[derive(Debug, Clone)]
pub struct PlannedRun {
    /// The run's options.
    pub options: RunOptions,
    /// The metrics file's name, unique in the batch.
    pub file: String,
}

/// The test figures of a finished run.
#[derive(Debug, Clone, Copy)]
pub struct TestResult {
    /// Test images classified correctly.
    pub correct: usize,
    /// Test images.
    pub count: usize,
}

impl TestResult {
    /// Correct classifications as a fraction in [0, 1].
    ///
    /// ```
    /// let test = nn_chapter::TestResult { correct: 3, count: 4 };
    /// assert_eq!(test.accuracy(), 0.75);
    /// assert_eq!(nn_chapter::TestResult { correct: 0, count: 0 }.accuracy(), 0.0);
    /// ```
    pub fn accuracy(&self) -> f64 {
        if self.count == 0 {
            0.0
        } else {
            self.correct as f64 / self.count as f64
        }
    }
}

/// What a finished run leaves for a summary, whether trained here or read from its metrics file.
pub struct FinishedRun {
    /// The options the run used.
    pub options: RunOptions,
    /// Every epoch's figures, the best epoch and why the run stopped.
    pub history: History,
    /// The final model on the test images.
    pub test: TestResult,
    /// Wall-clock seconds of the training loop.
    pub seconds: f64,
    /// The trained network and its cost, when the run was trained in this process (a metrics
    /// file does not hold the network).
    pub model: Option<(Network, &'static dyn Cost)>,
}

impl From<&RunOutcome> for FinishedRun {
    fn from(outcome: &RunOutcome) -> Self {
        Self {
            options: outcome.options.clone(),
            history: outcome.history.clone(),
            test: TestResult {
                correct: outcome.test.correct,
                count: outcome.test.count,
            },
            seconds: outcome.seconds,
            model: Some((outcome.network.clone(), outcome.cost)),
        }
    }
}

/// Reads the metrics file of every run from `dir`, checking each was written by that run.
pub fn collect(dir: &Path, runs: &[PlannedRun]) -> Result<Vec<FinishedRun>, ChapterError> {
    let missing: Vec<&str> = runs
        .iter()
        .map(|r| r.file.as_str())
        .filter(|f| !dir.join(f).is_file())
        .collect();
    if let Some(first) = missing.first() {
        return Err(ChapterError::Missing {
            dir: dir.to_path_buf(),
            missing: missing.len(),
            runs: runs.len(),
            first: (*first).to_string(),
        });
    }
    runs.iter()
        .map(|run| read_run(&dir.join(&run.file), run))
        .collect()
}

/// The finished run `run` from its metrics file `path`, checking the file was written by it.
pub fn read_run(path: &Path, run: &PlannedRun) -> Result<FinishedRun, ChapterError> {
    let file = MetricsFile::read(path)?;
    if file.options != run.options {
        let mut differing = run.options.differences(&file.options);
        if file.options.epochs != run.options.epochs {
            differing.push(OptionDifference {
                field: Field::Epochs,
                saved: file.options.epochs.into(),
                given: run.options.epochs.into(),
            });
        }
        return Err(ChapterError::OtherRun {
            path: PathBuf::from(path),
            differing,
        });
    }
    Ok(FinishedRun {
        options: file.options,
        history: History {
            epochs: file.history,
            best_epoch: file.best_epoch,
            stopped: file.stopped,
        },
        test: TestResult {
            correct: file.test_correct,
            count: file.test_count,
        },
        seconds: file.total_seconds,
        model: None,
    })
}

/// A metrics file name from a batch's name and a run's position and seed.
///
/// ```
/// assert_eq!(nn_chapter::metrics_file_name("full regularized", 0, 2), "full-regularized-001-seed2.json");
/// ```
pub fn file_name(batch: &str, index: usize, seed: u64) -> String {
    let name: String = batch
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect();
    format!("{name}-{:03}-seed{seed}.json", index + 1)
}
