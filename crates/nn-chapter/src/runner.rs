//! Running an experiment: its runs planned (one per seed, shrunk for a smoke test), trained as
//! nn-train's [`Run`] or read back from the metrics files they left, measured, drawn and
//! checked, with progress reported to the front end's [`Progress`].

use std::cell::OnceCell;
use std::path::Path;
use std::time::Instant;

use nn_core::TrainError;
use nn_train::{DataSet, Overrides, Run, RunError, RunOptions, RunOutcome};

use crate::error::ChapterError;
use crate::experiment::{Body, Experiment, Metric, RunResult, RunSpec};
use crate::finished::{self, FinishedRun, PlannedRun};
use crate::run_log::{RunId, run_name};
use crate::session::{Event, Progress, Session};
use crate::summary::Summary;
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
