//! What a front end gives the chapter's work and sees of it: the [`Session`] (data set, output
//! directory, smoke test or not, runs collected from elsewhere) and the [`Progress`] it is told
//! of each step ([`Event`]) and each training run through.

use std::fmt;
use std::path::{Path, PathBuf};

use nn_core::Observer;
use nn_train::{DataSet, RunOptions};

use crate::error::ChapterError;
use crate::run_log::{RunId, RunLog};

/// What a front end sees of the work: the observer of every training run (which may stop it),
/// the steps of the work, how the front end writes a run as a command, and the log it keeps of
/// each run, if any.
pub trait Progress {
    /// The observer of every training run: it sees each mini-batch and may break the run off
    /// (the run then ends in [`ChapterError::Interrupted`], or the trainer's
    /// [`nn_core::TrainError::Interrupted`]).
    fn observer(&mut self) -> &mut dyn Observer;

    /// A step of the work, e.g. to print as a line.
    fn event(&mut self, _event: &Event<'_>) {}

    /// The command that trains a run with `options`, as this front end writes one, for the
    /// summaries and [`Event::Training`]; empty by default.
    fn command(&self, _options: &RunOptions) -> String {
        String::new()
    }

    /// A log of its own for the training run `run`, about to train: it sees every epoch
    /// beside [`Progress::observer`] and is told how the run ended (e.g. the run's TensorBoard
    /// event file, [`crate::TensorBoardRuns`]); none by default. An error stops the work before
    /// the run trains. Runs of nn-train's options have one (every experiment's and search's but
    /// the single neuron's and the Hessian technique's, which train nn-core networks directly);
    /// a run read back from its metrics file is not trained and has none.
    fn run_log(&mut self, _run: &RunId<'_>) -> Result<Option<Box<dyn RunLog>>, ChapterError> {
        Ok(None)
    }
}

/// A front end that keeps its progress (to look at it after the work) lends it.
impl<P: Progress + ?Sized> Progress for &mut P {
    fn observer(&mut self) -> &mut dyn Observer {
        (**self).observer()
    }

    fn event(&mut self, event: &Event<'_>) {
        (**self).event(event);
    }

    fn command(&self, options: &RunOptions) -> String {
        (**self).command(options)
    }

    fn run_log(&mut self, run: &RunId<'_>) -> Result<Option<Box<dyn RunLog>>, ChapterError> {
        (**self).run_log(run)
    }
}

/// A [`Progress`] that reports nothing and never stops a run.
///
/// ```
/// use nn_chapter::Progress;
/// let mut silent = nn_chapter::Silent::default();
/// assert_eq!(silent.command(&nn_train::RunOptions::default()), "");
/// let _ = silent.observer();
/// ```
#[derive(Debug, Default)]
pub struct Silent(nn_core::Silent);

impl Progress for Silent {
    fn observer(&mut self) -> &mut dyn Observer {
        &mut self.0
    }
}

/// A step of an experiment or a search. Its [`Display`](fmt::Display) is a line for a log.
#[derive(Debug, Clone)]
pub enum Event<'a> {
    /// A run starts training.
    Training {
        /// The experiment.
        experiment: &'a str,
        /// Its run specification's position and their number, for lists of runs.
        position: Option<(usize, usize)>,
        /// The run's label.
        label: &'a str,
        /// Its seed.
        seed: u64,
        /// Its command ([`Progress::command`]) and any note on what it cannot say.
        command: &'a str,
    },
    /// A run finished earlier is read back from its metrics file.
    Earlier {
        /// The experiment.
        experiment: &'a str,
        /// Its run specification's position and their number.
        position: (usize, usize),
        /// The run's label.
        label: &'a str,
        /// Its seed.
        seed: u64,
        /// The metrics file.
        file: &'a Path,
    },
    /// A run finished.
    Trained {
        /// Its test accuracy (%).
        test_accuracy: f64,
        /// The epochs it trained, when worth telling (a rule may stop it early).
        epochs: Option<usize>,
        /// Its seconds of training.
        seconds: f64,
    },
    /// A run diverged: its weights or cost stopped being finite.
    Diverged {
        /// The epoch.
        epoch: usize,
        /// "weights" or "cost".
        what: &'a str,
    },
    /// Anything else worth a line (a search's trial, a step of the Hessian technique).
    Note(String),
}

impl fmt::Display for Event<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Training {
                experiment,
                position,
                label,
                seed,
                command,
            } => match position {
                Some((i, count)) => write!(
                    f,
                    "{experiment} [{i}/{count}] {label} (seed {seed}): {command}"
                ),
                None => write!(f, "{experiment} {label} (seed {seed}): {command}"),
            },
            Self::Earlier {
                experiment,
                position: (i, count),
                label,
                seed,
                file,
            } => write!(
                f,
                "{experiment} [{i}/{count}] {label} (seed {seed}): finished earlier, read from {}",
                file.display()
            ),
            Self::Trained {
                test_accuracy,
                epochs,
                seconds,
            } => match epochs {
                Some(epochs) => write!(
                    f,
                    "    test accuracy {test_accuracy:.2}% after {epochs} epochs in {seconds:.1} s"
                ),
                None => write!(f, "    test accuracy {test_accuracy:.2}% in {seconds:.1} s"),
            },
            Self::Diverged { epoch, what } => write!(
                f,
                "    diverged: the {what} stopped being finite in epoch {epoch}"
            ),
            Self::Note(line) => f.write_str(line),
        }
    }
}

/// Where and how experiments run: the data set, the output directory (summaries, figures and
/// the metrics file of every finished run, so that an interrupted experiment trains only the
/// rest when run again), whether as a smoke test, whether from metrics files written
/// elsewhere, and the front end's [`Progress`].
pub struct Session<'a> {
    /// The data set every run trains on (the single neuron needs none).
    pub data: Option<&'a DataSet>,
    /// The output directory.
    pub out: PathBuf,
    /// A smoke test: at most 3 epochs on 1,000 images and a single seed ([`crate::quicken`]).
    pub quick: bool,
    /// Train nothing: read every run from the metrics file its command line wrote into this
    /// directory ([`crate::Experiment::plan`]).
    pub collect: Option<PathBuf>,
    /// What the front end sees.
    pub progress: Box<dyn Progress + 'a>,
}

impl<'a> Session<'a> {
    /// A session on `data` writing into `out`, full-size, silent.
    ///
    /// ```
    /// let files = nn_data::IdxFiles::in_dir(nn_testdata::mnist_dir())?;
    /// let data = nn_train::DataSet::load(files, "MNIST".into(), None)?;
    /// let session = nn_chapter::Session::new(&data, "out").quick(true);
    /// assert!(session.quick && session.collect.is_none() && session.data().is_ok());
    /// assert!(nn_chapter::Session::without_data("out").data().is_err());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn new(data: &'a DataSet, out: impl Into<PathBuf>) -> Self {
        Self {
            data: Some(data),
            ..Self::without_data(out)
        }
    }

    /// A session without a data set, for the experiments that need none
    /// ([`crate::Experiment::needs_data`]).
    pub fn without_data(out: impl Into<PathBuf>) -> Self {
        Self {
            data: None,
            out: out.into(),
            quick: false,
            collect: None,
            progress: Box::new(Silent::default()),
        }
    }

    /// The same session as a smoke test ([`Session::quick`]) or not.
    pub fn quick(self, quick: bool) -> Self {
        Self { quick, ..self }
    }

    /// The same session reporting to `progress`.
    pub fn progress(self, progress: impl Progress + 'a) -> Self {
        Self {
            progress: Box::new(progress),
            ..self
        }
    }

    /// The same session reading its runs from the metrics files in `dir`.
    pub fn collect(self, dir: Option<PathBuf>) -> Self {
        Self {
            collect: dir,
            ..self
        }
    }

    /// The data set, or an error when the session has none.
    pub fn data(&self) -> Result<&'a DataSet, ChapterError> {
        self.data.ok_or(ChapterError::NoData)
    }

    /// The file `NAME<suffix>.png` of the output directory.
    pub(crate) fn figure_path(&self, experiment: &str, suffix: &str) -> PathBuf {
        self.out.join(format!("{experiment}{suffix}.png"))
    }
}
