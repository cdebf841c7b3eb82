//! Running an experiment: its runs planned (one per seed, shrunk for a smoke test), trained as
//! nn-train's [`Run`] or read back from the metrics files they left, measured, drawn and
//! checked, with progress reported to the front end's [`Progress`].

use std::cell::OnceCell;
use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Instant;

use nn_core::{Observer, TrainError};
use nn_train::{DataSet, Overrides, Run, RunError, RunOptions, RunOutcome};

use crate::error::ChapterError;
use crate::experiment::{Body, Experiment, Metric, RunResult, RunSpec, Summary};
use crate::finished::{self, FinishedRun, PlannedRun};
use crate::run_log::{RunId, RunLog, run_name};
use crate::{catalog, exercises, figure, hessian, network2, slowdown};

/// Every experiment: the chapter's results, then the runs its exercises and problems ask for.
///
/// ```
/// let names: Vec<&str> = nn_chapter::experiments().map(|e| e.name).collect();
/// assert_eq!(names[0], "slowdown");
/// assert!(names.contains(&"overfitting") && names.contains(&"momentum-range"));
/// ```
pub fn experiments() -> impl Iterator<Item = &'static Experiment> {
    catalog::EXPERIMENTS.iter().chain(exercises::EXERCISES)
}

/// The experiment named `name`.
///
/// ```
/// assert_eq!(nn_chapter::find("overfitting")?.name, "overfitting");
/// assert!(nn_chapter::find("no-such-experiment").is_err());
/// # Ok::<(), nn_chapter::ChapterError>(())
/// ```
pub fn find(name: &str) -> Result<&'static Experiment, ChapterError> {
    experiments()
        .find(|e| e.name == name)
        .ok_or_else(|| ChapterError::Unknown {
            name: name.to_string(),
            names: experiments().map(|e| e.name).collect(),
        })
}

/// Runs the experiment named `name` in `session` ([`Experiment::run`]).
///
/// ```no_run
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let data = nn_train::DataSet::mnist()?;
/// let mut session = nn_chapter::Session::new(&data, "runs/reproduce").quick(true);
/// let summary = nn_chapter::run("regularized", &mut session)?;
/// println!("{}", summary.markdown());
/// # Ok(())
/// # }
/// ```
pub fn run(name: &str, session: &mut Session) -> Result<Summary, ChapterError> {
    find(name)?.run(session)
}

/// What a front end sees of the work: the observer of every training run (which may stop it),
/// the steps of the work, how the front end writes a run as a command, and the log it keeps of
/// each run, if any.
pub trait Progress {
    /// The observer of every training run: it sees each mini-batch and may break the run off
    /// (the run then ends in [`ChapterError::Interrupted`], or the trainer's
    /// [`TrainError::Interrupted`]).
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
    /// A smoke test: at most 3 epochs on 1,000 images and a single seed ([`quicken`]).
    pub quick: bool,
    /// Train nothing: read every run from the metrics file its command line wrote into this
    /// directory ([`Experiment::plan`]).
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
    /// ([`Experiment::needs_data`]).
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

impl Experiment {
    /// Whether the experiment trains on the data set (all but the single neuron do).
    ///
    /// ```
    /// assert!(!nn_chapter::find("slowdown")?.needs_data());
    /// assert!(nn_chapter::find("hessian")?.needs_data());
    /// # Ok::<(), nn_chapter::ChapterError>(())
    /// ```
    pub fn needs_data(&self) -> bool {
        !matches!(self.body, Body::Slowdown)
    }

    /// Whether the experiment's runs are fixed in advance, so that they can be trained
    /// elsewhere ([`Experiment::plan`]) and collected.
    pub fn runs_in_batches(&self) -> bool {
        matches!(self.body, Body::Runs { .. })
    }

    /// The runs of the experiment, one per seed, as a session would train them (shrunk when
    /// `quick`), each with the name of its metrics file; an error for an experiment whose runs
    /// depend on one another ([`Experiment::runs_in_batches`]).
    ///
    /// ```
    /// let runs = nn_chapter::find("regularized")?.plan(true)?;
    /// assert_eq!(runs.len(), 1);
    /// assert_eq!((runs[0].options.epochs, runs[0].options.train_size), (3, Some(1_000)));
    /// assert_eq!(nn_chapter::find("regularized")?.plan(false)?.len(), 3);
    /// assert!(nn_chapter::find("hessian")?.plan(true).is_err());
    /// # Ok::<(), nn_chapter::ChapterError>(())
    /// ```
    pub fn plan(&self, quick: bool) -> Result<Vec<PlannedRun>, ChapterError> {
        let Body::Runs { runs, .. } = &self.body else {
            return Err(ChapterError::InProcessOnly {
                experiment: self.name.to_string(),
            });
        };
        Ok(plan(self, &runs(), quick).into_iter().flatten().collect())
    }

    /// Runs the experiment: trains (or collects) its runs, draws its figures into the output
    /// directory and checks its claims.
    pub fn run(&'static self, session: &mut Session) -> Result<Summary, ChapterError> {
        std::fs::create_dir_all(&session.out)
            .map_err(|e| ChapterError::io("create", &session.out, e))?;
        if session.collect.is_some() && !self.runs_in_batches() {
            return Err(ChapterError::InProcessOnly {
                experiment: self.name.to_string(),
            });
        }
        let started = Instant::now();
        let (runs, checks, figures) = match &self.body {
            Body::Slowdown => slowdown::run(self.name, session)?,
            Body::Hessian => hessian::run(self.name, session)?,
            Body::Procedure(procedure) => procedure(self, session)?,
            Body::Runs {
                runs,
                figures,
                checks,
            } => {
                let results = train_all(self, runs(), session)?;
                let mut files = Vec::new();
                for spec in *figures {
                    let path = session.figure_path(self.name, spec.suffix);
                    figure::draw_runs(&path, spec, &results)?;
                    files.push(path);
                }
                let checks = checks(&results);
                (results, checks, files)
            }
        };
        let network2 = network2::compare(self.name, &runs);
        Ok(Summary {
            name: self.name,
            title: self.title,
            book: self.book,
            quick: session.quick,
            command: String::new(),
            total_seconds: started.elapsed().as_secs_f64(),
            figures: figures.iter().map(|p| file_name(p).to_string()).collect(),
            runs,
            checks,
            network2,
        })
    }
}

/// The file name of a path, for summaries.
fn file_name(path: &Path) -> &str {
    path.file_name()
        .and_then(|n| n.to_str())
        .unwrap_or_default()
}

/// The runs of `specs`, one list per specification with one run per seed (the first seed only
/// when `quick`, shrunk by [`quicken`]).
fn plan(experiment: &Experiment, specs: &[RunSpec], quick: bool) -> Vec<Vec<PlannedRun>> {
    specs
        .iter()
        .enumerate()
        .map(|(i, spec)| {
            let seeds = if quick {
                &spec.seeds[..1]
            } else {
                &spec.seeds[..]
            };
            let mut options = spec.options.clone();
            if quick {
                quicken(&mut options);
            }
            seeds
                .iter()
                .map(|&seed| PlannedRun {
                    options: RunOptions {
                        seed,
                        ..options.clone()
                    },
                    file: finished::file_name(experiment.name, i, seed),
                })
                .collect()
        })
        .collect()
}

/// Trains the run named `name` ([`RunId::name`]) with `overrides` in place of its options'
/// optimizer or early-stopping rule, watched by `progress`'s observer and by the log
/// `progress` keeps of the run ([`Progress::run_log`]), which is told how it ended. The log
/// that cannot be opened stops the work (the outer error); the run's own result is the inner
/// one; a log that could not be completed is told as a warning ([`Event::Note`]).
pub(crate) fn train(
    name: &str,
    options: &RunOptions,
    data: &DataSet,
    overrides: Overrides,
    progress: &mut dyn Progress,
) -> Result<Result<RunOutcome, RunError>, ChapterError> {
    let run = match Run::new_with(options.clone(), data, overrides) {
        Ok(run) => run,
        Err(e) => return Ok(Err(e)),
    };
    let Some(mut log) = progress.run_log(&RunId { name, options })? else {
        return Ok(run.train(progress.observer()));
    };
    let trained = run.train(&mut *log.beside(progress.observer()));
    if let Err(e) = log.finish(trained.as_ref()) {
        progress.event(&Event::Note(format!(
            "    warning: the log of run {name} is incomplete: {e}"
        )));
    }
    Ok(trained)
}

/// Trains every run of `experiment` for every seed (or, collecting, reads their metrics files),
/// and collects the results.
fn train_all(
    experiment: &Experiment,
    specs: Vec<RunSpec>,
    session: &mut Session,
) -> Result<Vec<RunResult>, ChapterError> {
    let planned = plan(experiment, &specs, session.quick);
    let mut collected = match &session.collect {
        Some(dir) => {
            let all: Vec<PlannedRun> = planned.iter().flatten().cloned().collect();
            Some(finished::collect(dir, &all)?.into_iter())
        }
        None => None,
    };
    // Every run trained here keeps its metrics file there as it finishes, so that an experiment
    // stopped part-way trains only the rest when it is run again.
    let kept = session.out.join(format!("{}-runs", experiment.name));
    if collected.is_none() {
        std::fs::create_dir_all(&kept).map_err(|e| ChapterError::io("create", &kept, e))?;
    }
    let all_runs = planned.iter().map(Vec::len).sum::<usize>();
    let mut finished = 0;
    let mut results = Vec::new();
    let validation = OnceCell::new();
    let count = specs.len();
    for (i, (spec, runs)) in specs.into_iter().zip(planned).enumerate() {
        let needs_model = spec
            .measures
            .iter()
            .any(|m| matches!(m.metric, Metric::ValidationAccuracy));
        let mut outcomes: Vec<FinishedRun> = Vec::new();
        for run in &runs {
            let seed = run.options.seed;
            let file = kept.join(&run.file);
            let earlier = (collected.is_none() && !needs_model && file.is_file())
                .then(|| finished::read_run(&file, run).ok())
                .flatten();
            let outcome = match (collected.as_mut(), earlier) {
                (Some(files), _) => files.next().expect("a metrics file per run"),
                (None, Some(earlier)) => {
                    session.progress.event(&Event::Earlier {
                        experiment: experiment.name,
                        position: (i + 1, count),
                        label: spec.label,
                        seed,
                        file: &file,
                    });
                    earlier
                }
                (None, None) => {
                    let command = session.progress.command(&run.options);
                    session.progress.event(&Event::Training {
                        experiment: experiment.name,
                        position: Some((i + 1, count)),
                        label: spec.label,
                        seed,
                        command: &command,
                    });
                    let name = run_name(
                        &[experiment.name, &format!("{:03}", i + 1), spec.label],
                        seed,
                        session.quick,
                    );
                    let trained = train(
                        &name,
                        &run.options,
                        session.data()?,
                        Overrides::default(),
                        &mut *session.progress,
                    )?;
                    let outcome = trained.map_err(|e| match e {
                        RunError::Train(TrainError::Interrupted { .. }) => {
                            ChapterError::Interrupted {
                                experiment: experiment.name.to_string(),
                                run: finished + 1,
                                runs: all_runs,
                                label: spec.label.to_string(),
                                seed,
                                finished,
                                kept: kept.clone(),
                            }
                        }
                        e => ChapterError::of_run(experiment.name, spec.label, e),
                    })?;
                    finished::write_metrics(&file, &outcome)?;
                    session.progress.event(&Event::Trained {
                        test_accuracy: 100.0 * outcome.test.accuracy(),
                        epochs: None,
                        seconds: outcome.seconds,
                    });
                    FinishedRun::from(&outcome)
                }
            };
            finished += 1;
            outcomes.push(outcome);
        }
        let seeds: Vec<u64> = runs.iter().map(|r| r.options.seed).collect();
        let measures = spec
            .measures
            .iter()
            .map(|m| {
                let per_seed = outcomes
                    .iter()
                    .map(|o| m.metric.measure(o, session.data(), &validation))
                    .collect::<Result<Vec<Option<f64>>, ChapterError>>()?;
                Ok(crate::experiment::MeasureResult::from_seeds(
                    m.metric.describe(),
                    m.book,
                    per_seed,
                ))
            })
            .collect::<Result<_, ChapterError>>()?;
        let first = &outcomes[0];
        results.push(RunResult {
            label: spec.label.to_string(),
            series: spec.series.to_string(),
            x: spec.x,
            options: Some(first.options.clone()),
            command: session.progress.command(&runs[0].options),
            seeds,
            measures,
            test_accuracy: outcomes.iter().map(|o| 100.0 * o.test.accuracy()).collect(),
            seconds: outcomes.iter().map(|o| o.seconds).collect(),
            history: first.history.epochs.clone(),
        });
    }
    Ok(results)
}

/// Shrinks a run to a smoke test: at most 3 epochs, 1,000 training and validation images, and
/// λ scaled with the training images so that the weight decay factor 1 − ηλ/n (eq. 92) stays
/// the same, as the chapter does when it changes n.
///
/// ```
/// let mut options = nn_train::RunOptions::default();
/// nn_chapter::quicken(&mut options);
/// assert_eq!((options.epochs, options.train_size, options.validation_size), (3, Some(1_000), Some(1_000)));
/// assert_eq!(options.lambda, 5.0 * 1_000.0 / 50_000.0);
/// ```
pub fn quicken(options: &mut RunOptions) {
    let size = options.train_size.unwrap_or(50_000);
    let quick = size.min(1_000);
    options.epochs = options.epochs.min(3);
    options.train_size = Some(quick);
    options.validation_size = Some(options.validation_size.unwrap_or(10_000).min(1_000));
    options.lambda = options.lambda * quick as f32 / size as f32;
}
