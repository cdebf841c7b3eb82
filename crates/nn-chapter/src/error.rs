//! The errors of the chapter's experiments and searches: one line each, naming a run setting by
//! its [`nn_train::Field`] (`` `eta` ``) as nn-train does, so that each front end spells it as
//! its own flag or keyword ([`nn_train::Field::rewrite`]).

use std::path::PathBuf;

use nn_core::TrainError;
use nn_train::{OptionDifference, RunError};

/// What can go wrong in an experiment or a search.
#[derive(Debug, thiserror::Error)]
pub enum ChapterError {
    /// A run of an experiment failed (bad options, data that do not fit, training broken off).
    #[error("{experiment}: run '{label}'")]
    Run {
        /// The experiment.
        experiment: String,
        /// The run's label.
        label: String,
        /// Why.
        #[source]
        source: Box<RunError>,
    },
    /// A run was built or trained outside an experiment's list of runs (a search's trial, the
    /// untrained network of a search) and failed.
    #[error(transparent)]
    Options(Box<RunError>),
    /// Training failed or was broken off: a run of an experiment, or a network trained
    /// directly by nn-core (the single neuron, the Hessian technique).
    #[error("{what}")]
    Train {
        /// What was trained.
        what: String,
        /// Why.
        #[source]
        source: TrainError,
    },
    /// The front end's log of a run could not be opened ([`crate::Progress::run_log`]), e.g.
    /// its TensorBoard folder holds another run's events.
    #[error("cannot keep the log of run {run}: {source}")]
    RunLog {
        /// The run's name ([`crate::RunId::name`]).
        run: String,
        /// Why.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// A network could not be built.
    #[error(transparent)]
    Network(#[from] nn_core::NetworkError),
    /// The work stopped at a safe point because the observer asked it to; `kept` says what
    /// was kept and how to continue.
    #[error("interrupted in run {run} of {runs} of {experiment} ({label}, seed {seed}); {}",
        kept_runs(*finished, kept))]
    Interrupted {
        /// The experiment.
        experiment: String,
        /// The run interrupted, counted from 1.
        run: usize,
        /// The experiment's runs.
        runs: usize,
        /// Its label.
        label: String,
        /// Its seed.
        seed: u64,
        /// Runs finished before it.
        finished: usize,
        /// Where the finished runs' metrics files are kept.
        kept: PathBuf,
    },
    /// A measure needs the trained network, which a metrics file does not hold.
    #[error(
        "the {metric} needs the trained network, which a metrics file does not hold: run this \
         experiment in one process, not from collected metrics files"
    )]
    NeedsModel {
        /// The measure.
        metric: String,
    },
    /// Some runs of a batch have no metrics file yet.
    #[error(
        "{}: {missing} of {runs} runs have no metrics file there (the first: {first}); run \
         their command lines first", dir.display()
    )]
    Missing {
        /// The directory searched.
        dir: PathBuf,
        /// Runs without a file.
        missing: usize,
        /// All the runs.
        runs: usize,
        /// The first missing file's name.
        first: String,
    },
    /// A metrics file was written by another run than the one planned.
    #[error(
        "{} was written by another run than this batch's (its options differ: {})",
        path.display(),
        differing.iter().map(ToString::to_string).collect::<Vec<_>>().join(", ")
    )]
    OtherRun {
        /// The file.
        path: PathBuf,
        /// How its options differ from the planned run's (saved: the file's).
        differing: Vec<OptionDifference>,
    },
    /// A file could not be read or written.
    #[error("cannot {action} {}: {source}", path.display())]
    Io {
        /// "read", "write" or "create".
        action: &'static str,
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// A file is not what it should be.
    #[error("{} is not {what}: {source}", path.display())]
    Format {
        /// The file.
        path: PathBuf,
        /// What it should be.
        what: &'static str,
        /// Why.
        #[source]
        source: serde_json::Error,
    },
    /// A figure could not be drawn.
    #[error("cannot draw the figure {}: {message}", path.display())]
    Figure {
        /// The file.
        path: PathBuf,
        /// Why.
        message: String,
    },
    /// An experiment that trains in this process only was asked for its plan.
    #[error("{experiment} trains in this process only: its runs depend on one another")]
    InProcessOnly {
        /// The experiment.
        experiment: String,
    },
    /// No experiment has this name.
    #[error("no experiment named '{name}'; choose one of {}", names.join(", "))]
    Unknown {
        /// The name asked for.
        name: String,
        /// The names there are.
        names: Vec<&'static str>,
    },
    /// A trial of a search failed.
    #[error("{trial}")]
    Trial {
        /// Which trial, e.g. "trial with eta 0.1".
        trial: String,
        /// Why.
        #[source]
        source: Box<ChapterError>,
    },
    /// An experiment that trains on the data set was run without one.
    #[error("this experiment trains on a data set, and none was given")]
    NoData,
    /// A search was asked for no trials.
    #[error("a random search needs at least one trial")]
    NoTrials,
    /// The η search found no learning rate at which the training cost falls.
    #[error(
        "the training cost does not fall in the first {epochs} epochs even at eta {eta}: check \
         the other settings (e.g. a very large `lambda`)"
    )]
    NeverFalls {
        /// Epochs of each trial.
        epochs: usize,
        /// The smallest η tried.
        eta: f32,
        /// The trials, for a table.
        trials: Vec<crate::trial::Trial>,
    },
    /// A search stopped at a safe point because the observer asked it to.
    #[error("interrupted in trial {} of the {search} search; {}", trials.len() + 1,
        kept_trials(trials.len()))]
    SearchInterrupted {
        /// The search: "eta", "lambda" or "random".
        search: &'static str,
        /// The trials finished before it, for a table.
        trials: Vec<crate::trial::Trial>,
    },
}

/// What an interrupted experiment kept.
fn kept_runs(finished: usize, kept: &std::path::Path) -> String {
    match finished {
        0 => "no run had finished".to_string(),
        n => format!(
            "the {n} finished runs are kept in {}: the same command trains only the rest",
            kept.display()
        ),
    }
}

/// What an interrupted search kept.
fn kept_trials(finished: usize) -> String {
    match finished {
        0 => "no trial had finished".to_string(),
        1 => "the finished trial is in the table above".to_string(),
        n => format!("the {n} finished trials are in the table above"),
    }
}

impl From<RunError> for ChapterError {
    fn from(error: RunError) -> Self {
        Self::Options(Box::new(error))
    }
}

impl ChapterError {
    /// An I/O error on `path`.
    pub(crate) fn io(action: &'static str, path: &std::path::Path, source: std::io::Error) -> Self {
        Self::Io {
            action,
            path: path.to_path_buf(),
            source,
        }
    }

    /// The error of the run `label` of `experiment`: the trainer's own error stays itself
    /// ([`ChapterError::Train`]), so that a caller finds a diverged or interrupted run in the
    /// chain of sources.
    pub(crate) fn of_run(experiment: &str, label: &str, error: RunError) -> Self {
        match error {
            RunError::Train(source) => Self::Train {
                what: format!("{experiment}: run '{label}'"),
                source,
            },
            source => Self::Run {
                experiment: experiment.to_string(),
                label: label.to_string(),
                source: Box::new(source),
            },
        }
    }

    /// Whether a training run was broken off by its observer (directly, or inside a run).
    pub fn is_interrupt(&self) -> bool {
        match self {
            Self::Interrupted { .. } | Self::SearchInterrupted { .. } => true,
            Self::Options(source) => {
                matches!(**source, RunError::Train(TrainError::Interrupted { .. }))
            }
            Self::Train { source, .. } => matches!(source, TrainError::Interrupted { .. }),
            _ => false,
        }
    }
}
