//! A log of its own for every training run of an experiment or a search: the front end's
//! [`Progress::run_log`](crate::Progress::run_log) is told each run's [`RunId`] before it
//! trains and may return a [`RunLog`], which sees every epoch beside the progress and is told
//! how the run ended. [`TensorBoardRuns`] keeps one TensorBoard run per training run, each in
//! its own subfolder named as the run.

use std::error::Error;
use std::path::{Path, PathBuf};

use nn_core::Observer;
use nn_tensorboard::{Ending, TensorBoard};
use nn_train::{RunError, RunOptions, RunOutcome};

use crate::error::ChapterError;

/// A training run of an experiment or a search, as the front end's log is told of it.
#[derive(Debug, Clone, Copy)]
pub struct RunId<'a> {
    /// Which run it is, as one folder name: the experiment, the run's place in its list and
    /// label, and the seed (`overfitting-001-unregularized-seed0`, `momentum-range-mu_-0.9-seed1`;
    /// `-quick` ends a smoke test's run), or the search's trial settings and the seed
    /// (`eta0.25-seed0`, `lambda1-seed0`, `random-003-eta0.153-lambda2.31-hidden57-batch12-seed0`).
    /// The same run of the same work has the same name every time.
    pub name: &'a str,
    /// Its options (a rule they cannot express, such as momentum outside [0, 1), shows in the
    /// name's label only).
    pub options: &'a RunOptions,
}

/// A front end's log of one training run ([`Progress::run_log`](crate::Progress::run_log)),
/// e.g. its TensorBoard event file.
pub trait RunLog {
    /// The observer of the run: `progress` (the front end's, which may stop the run) told
    /// everything, and this log told each epoch.
    fn beside<'a>(&'a mut self, progress: &'a mut dyn Observer) -> Box<dyn Observer + 'a>;

    /// Records that the run ended as `ended` and closes the log; the log's own failure, if it
    /// could not be written.
    fn finish(
        self: Box<Self>,
        ended: Result<&RunOutcome, &RunError>,
    ) -> Result<(), Box<dyn Error + Send + Sync>>;
}

/// A run's TensorBoard event file: every epoch's figures, how the run ended
/// ([`Ending::of`]; an interrupted run's file is left as it is, valid, for a restart).
impl RunLog for TensorBoard {
    fn beside<'a>(&'a mut self, progress: &'a mut dyn Observer) -> Box<dyn Observer + 'a> {
        Box::new(TensorBoard::beside(self, progress))
    }

    fn finish(
        self: Box<Self>,
        ended: Result<&RunOutcome, &RunError>,
    ) -> Result<(), Box<dyn Error + Send + Sync>> {
        TensorBoard::finish(*self, Ending::of(ended))?;
        Ok(())
    }
}

/// The TensorBoard runs of an experiment's or a search's training runs: one subfolder of a
/// directory per run, named as the run ([`RunId::name`]), which `tensorboard --logdir DIR`
/// shows side by side, with the same scalars and hyper-parameters as `nn train --tensorboard`
/// writes for one run. A run trained again (interrupted before, or needed anew) restarts its
/// series in its folder ([`TensorBoard::create_or_restart`]); a run read back from its metrics
/// file is not trained, and its folder is left as it is.
///
/// ```
/// use nn_chapter::{RunId, TensorBoardRuns};
///
/// let logs = tempfile::tempdir()?;
/// let options = nn_train::RunOptions::default();
/// let runs = TensorBoardRuns::new(logs.path());
/// let log = runs.open(&RunId { name: "eta0.5-seed0", options: &options })?;
/// drop(log);
/// assert!(logs.path().join("eta0.5-seed0").is_dir());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone)]
pub struct TensorBoardRuns {
    dir: PathBuf,
}

impl TensorBoardRuns {
    /// The runs in subfolders of `dir` (made when the first run starts).
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        Self { dir: dir.into() }
    }

    /// The directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The event file of `run`, in its subfolder.
    pub fn open(&self, run: &RunId<'_>) -> Result<Box<dyn RunLog>, ChapterError> {
        match TensorBoard::create_or_restart(&self.dir, run.name, run.options) {
            Ok(board) => Ok(Box::new(board)),
            Err(e) => Err(ChapterError::RunLog {
                run: run.name.to_string(),
                source: Box::new(e),
            }),
        }
    }
}

/// The name of a run ([`RunId::name`]): each of `parts` as folder-name words, joined by `-`,
/// then the seed, then `quick` for a smoke test's run.
pub(crate) fn run_name(parts: &[&str], seed: u64, quick: bool) -> String {
    let mut words: Vec<String> = parts
        .iter()
        .map(|part| slug(part))
        .filter(|w| !w.is_empty())
        .collect();
    words.push(format!("seed{seed}"));
    if quick {
        words.push("quick".to_string());
    }
    words.join("-")
}

/// `label` as part of a folder name: its words joined by `_`, each keeping only its letters,
/// digits and `.+-_` (`L2, lambda 5` is `L2_lambda_5`, `mu -0.9` is `mu_-0.9`).
fn slug(label: &str) -> String {
    label
        .split_whitespace()
        .map(|word| {
            word.chars()
                .filter(|c| c.is_alphanumeric() || ".+-_".contains(*c))
                .collect::<String>()
        })
        .filter(|w| !w.is_empty())
        .collect::<Vec<_>>()
        .join("_")
}

#[cfg(test)]
mod tests {
    use std::error::Error;

    use nn_core::{EpochRecord, Observer, Silent};
    use nn_train::{DataSet, Overrides, RunError, RunOptions, RunOutcome};

    use super::{RunId, RunLog, run_name};
    use crate::{ChapterError, Event, Progress, runner};

    /// A log that counts the epochs it sees, and then fails to be completed.
    #[derive(Default)]
    struct Counting {
        epochs: usize,
    }

    struct Both<'a>(&'a mut Counting, &'a mut dyn Observer);

    impl Observer for Both<'_> {
        fn epoch_done(&mut self, record: &EpochRecord) {
            self.0.epochs += 1;
            self.1.epoch_done(record);
        }
    }

    impl RunLog for Counting {
        fn beside<'a>(&'a mut self, progress: &'a mut dyn Observer) -> Box<dyn Observer + 'a> {
            Box::new(Both(self, progress))
        }

        fn finish(
            self: Box<Self>,
            ended: Result<&RunOutcome, &RunError>,
        ) -> Result<(), Box<dyn Error + Send + Sync>> {
            let epochs = ended.map_err(|e| e.to_string())?.history.epochs.len();
            Err(format!("{} of {epochs} epochs seen; the disk is full", self.epochs).into())
        }
    }

    /// A front end that keeps a [`Counting`] log of each run (or refuses to), and its notes.
    struct Logging {
        silent: Silent,
        names: Vec<String>,
        notes: Vec<String>,
        refuse: bool,
    }

    impl Progress for Logging {
        fn observer(&mut self) -> &mut dyn Observer {
            &mut self.silent
        }

        fn event(&mut self, event: &Event<'_>) {
            self.notes.push(event.to_string());
        }

        fn run_log(&mut self, run: &RunId<'_>) -> Result<Option<Box<dyn RunLog>>, ChapterError> {
            self.names.push(run.name.to_string());
            match self.refuse {
                true => Err(ChapterError::RunLog {
                    run: run.name.to_string(),
                    source: "taken".into(),
                }),
                false => Ok(Some(Box::new(Counting::default()))),
            }
        }
    }

    #[test]
    fn each_run_is_logged_and_a_log_that_fails_is_a_warning_not_the_runs_error() {
        let dir = tempfile::tempdir().unwrap();
        nn_train::write_example_data(dir.path()).unwrap();
        let files = nn_data::IdxFiles::in_dir(dir.path()).unwrap();
        let data = DataSet::load(files, "the example".into(), None).unwrap();
        let options = RunOptions {
            layers: vec![16, 8, 4],
            epochs: 3,
            ..RunOptions::default()
        };
        let mut progress = Logging {
            silent: Silent,
            names: Vec::new(),
            notes: Vec::new(),
            refuse: false,
        };
        let trained = runner::train(
            "a-run",
            &options,
            &data,
            Overrides::default(),
            &mut progress,
        );
        assert_eq!(trained.unwrap().unwrap().history.epochs.len(), 3);
        assert_eq!(progress.names, ["a-run"]);
        assert_eq!(
            progress.notes,
            [
                "    warning: the log of run a-run is incomplete: 3 of 3 epochs seen; the disk is full"
            ]
        );

        // A log that cannot be opened stops the work before the run trains.
        progress.refuse = true;
        let refused = runner::train(
            "a-run",
            &options,
            &data,
            Overrides::default(),
            &mut progress,
        );
        let error = refused.unwrap_err().to_string();
        assert_eq!(error, "cannot keep the log of run a-run: taken");
        // Options that make no run are the run's error, and no log is opened for them.
        let bad = RunOptions {
            layers: vec![16],
            ..options
        };
        let failed = runner::train("bad", &bad, &data, Overrides::default(), &mut progress);
        assert!(failed.unwrap().is_err());
        assert_eq!(progress.names, ["a-run", "a-run"]);
    }

    #[test]
    fn names_keep_the_labels_words_and_tell_runs_apart() {
        assert_eq!(
            run_name(&["regularized", "001", "L2, lambda 5, eta 0.5"], 2, false),
            "regularized-001-L2_lambda_5_eta_0.5-seed2"
        );
        assert_eq!(
            run_name(&["momentum-range", "mu -0.9"], 0, true),
            "momentum-range-mu_-0.9-seed0-quick"
        );
        assert_ne!(
            run_name(&["momentum-range", "mu -0.9"], 0, false),
            run_name(&["momentum-range", "mu 0.9"], 0, false)
        );
        assert_eq!(
            run_name(&["training-size", "1,000 images (plain SGD)"], 0, false),
            "training-size-1000_images_plain_SGD-seed0"
        );
        assert_eq!(run_name(&["eta0.25"], 1, false), "eta0.25-seed1");
    }
}
