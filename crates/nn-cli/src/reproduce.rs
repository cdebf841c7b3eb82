//! `nn reproduce`: the experiments of Chapter 3 (and a reader's follow-ups), run again and set
//! beside the book's numbers.
//!
//! Every experiment is data ([`catalog`]): a list of runs, each a set of `nn train` flags
//! ([`TrainArgs`]) with the figures to report and the book's value for them, plus the plots to
//! draw and the claims to check. All runs go through [`train::run`], so a reproduction trains
//! exactly as `nn train` does; the one exception is the single-neuron toy of the learning
//! slowdown, which is not an MNIST network ([`slowdown`]).

mod catalog;
mod exercises;
mod figure;
mod hessian;
mod slowdown;

use std::cell::OnceCell;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{Context, Result, bail};
use nn_core::EpochRecord;
use nn_core::atomic::write_bytes;
use nn_data::ImageSet;
use serde::Serialize;

use crate::batch_runs::{self, BatchFlags, FinishedRun, PlannedRun};
use crate::data_source::DataSource;
use crate::destination::{self, Destination};
use crate::digits;
use crate::interrupt;
use crate::options::{self, RunOptions, TrainArgs, options_command};
use crate::train;

pub use catalog::EXPERIMENTS;

/// Every experiment: the chapter's results, then the runs its exercises and problems ask for.
pub fn experiments() -> impl Iterator<Item = &'static Experiment> {
    EXPERIMENTS.iter().chain(exercises::EXERCISES)
}

/// Examples shown by `nn reproduce --help`.
pub const EXAMPLES: &str = "\
Examples:
  nn reproduce --list                        the experiments and the book's figures
  nn reproduce slowdown                      one neuron: quadratic against cross-entropy
  nn reproduce overfitting --out results     1,000 training images for 400 epochs
  nn reproduce regularized --quick           a smoke test of a few seconds";

/// The flags of `nn reproduce`.
#[derive(Debug, clap::Args)]
pub struct ReproduceArgs {
    /// The experiment to run (see --list)
    #[arg(required_unless_present = "list", value_name = "NAME")]
    pub name: Option<String>,
    /// List the experiments with the book's figures and exit
    #[arg(long, conflicts_with = "name")]
    pub list: bool,
    /// Directory for the summaries (NAME.json, NAME.md) and figures (NAME*.png)
    #[arg(long, value_name = "DIR", default_value = "runs/reproduce")]
    pub out: PathBuf,
    /// A smoke test: a few epochs on 1,000 images and a single seed
    #[arg(long)]
    pub quick: bool,
    /// The data set.
    #[command(flatten)]
    pub data: DataSource,
    /// Number of worker threads [default: one per core]
    #[arg(long, value_name = "T")]
    pub threads: Option<usize>,
    /// Running the experiment's runs on other machines.
    #[command(flatten)]
    pub batch: BatchFlags,
}

/// One experiment of the chapter.
pub struct Experiment {
    /// Its name on the command line.
    pub name: &'static str,
    /// What it shows.
    pub title: &'static str,
    /// The book's result (or the cited paper's), in words.
    pub book: &'static str,
    /// What is trained.
    pub body: Body,
}

/// How an experiment trains.
pub enum Body {
    /// The single sigmoid neuron of the chapter's opening.
    Slowdown,
    /// The Hessian technique against gradient descent on pooled digits ([`hessian`]).
    Hessian,
    /// MNIST networks trained by `nn train`.
    Runs {
        /// The runs, full-size.
        runs: fn() -> Vec<RunSpec>,
        /// The figures drawn from them.
        figures: &'static [FigureSpec],
        /// The claims checked on the results.
        checks: fn(&[RunResult]) -> Vec<Check>,
    },
    /// Runs decided as the experiment goes (each step depends on the last).
    Procedure(fn(&Experiment, &ReproduceArgs) -> Result<Ran>),
}

/// What a procedure returns: the results, the checked claims and the figures written.
pub type Ran = (Vec<RunResult>, Vec<Check>, Vec<PathBuf>);

/// One configuration trained by an experiment (once per seed).
pub struct RunSpec {
    /// Its name in tables and legends.
    pub label: &'static str,
    /// The line joining it to others in a figure against [`RunSpec::x`] (e.g. "no expansion").
    pub series: &'static str,
    /// Its abscissa in such a figure (e.g. the training-set size).
    pub x: Option<f64>,
    /// The `nn train` flags.
    pub args: TrainArgs,
    /// The figures reported, each with the book's value when it gives one.
    pub measures: Vec<Measure>,
    /// The seeds trained; the spread over them is reported.
    pub seeds: Vec<u64>,
}

/// A figure reported for a run, next to the book's.
#[derive(Debug, Clone, Copy)]
pub struct Measure {
    /// What is measured.
    pub metric: Metric,
    /// The book's value, in the metric's unit.
    pub book: Option<f64>,
}

/// What a run reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Metric {
    /// The final model's accuracy on the test set (%).
    TestAccuracy,
    /// The best accuracy on the monitored data over all epochs (%), as the book quotes.
    PeakEvaluationAccuracy,
    /// Accuracy on the training data after the last epoch (%).
    FinalTrainingAccuracy,
    /// Cost on the training data after the last epoch.
    FinalTrainingCost,
    /// The epoch in which the cost on the monitored data was lowest.
    LowestEvaluationCostEpoch,
    /// Accuracy on the monitored data after this epoch (%).
    EvaluationAccuracyAfter(usize),
    /// The best accuracy on the training data over all epochs (%), as the book quotes.
    PeakTrainingAccuracy,
    /// The final model's accuracy on all 10,000 validation images (%), as the book's
    /// `more_data.py` scores it (computed once, after training).
    ValidationAccuracy,
    /// The number of epochs trained (fewer than asked when early stopping or a schedule ends
    /// the run).
    EpochsTrained,
    /// Training seconds (summed over the epochs, monitoring excluded) until the accuracy on the
    /// monitored data first reaches this percentage.
    SecondsToEvaluationAccuracy(u8),
    /// Training seconds per epoch (monitoring excluded), the mean over the epochs.
    SecondsPerEpoch,
}

impl Metric {
    /// The metric's name in tables.
    pub fn describe(self) -> String {
        match self {
            Self::TestAccuracy => "test accuracy (%)".into(),
            Self::PeakEvaluationAccuracy => "peak evaluation accuracy (%)".into(),
            Self::FinalTrainingAccuracy => "final training accuracy (%)".into(),
            Self::FinalTrainingCost => "final training cost".into(),
            Self::LowestEvaluationCostEpoch => "epoch of lowest evaluation cost".into(),
            Self::EvaluationAccuracyAfter(e) => format!("evaluation accuracy after epoch {e} (%)"),
            Self::PeakTrainingAccuracy => "peak training accuracy (%)".into(),
            Self::ValidationAccuracy => "validation accuracy (%)".into(),
            Self::EpochsTrained => "epochs trained".into(),
            Self::SecondsToEvaluationAccuracy(p) => {
                format!("training seconds to {p}% evaluation accuracy")
            }
            Self::SecondsPerEpoch => "seconds per epoch".into(),
        }
    }

    /// The value of the metric for a finished run; `None` when the run never reached it.
    /// [`Metric::ValidationAccuracy`] needs the trained network (a run collected from its
    /// metrics file has none) and the validation images, read from `data` at the first such
    /// measure and kept in `validation` for the others.
    fn measure(
        self,
        outcome: &FinishedRun,
        data: &DataSource,
        validation: &OnceCell<ImageSet>,
    ) -> Result<Option<f64>> {
        if !matches!(self, Self::ValidationAccuracy) {
            return Ok(self.of_figures(outcome));
        }
        let Some((network, cost)) = &outcome.model else {
            bail!(
                "the {} needs the trained network, which a metrics file does not hold: run \
                 this experiment in one process, without --collect",
                self.describe()
            );
        };
        if validation.get().is_none() {
            let images = digits::load(data)?.validation_images(None)?;
            validation.set(images).ok();
        }
        let images = validation.get().expect("loaded above");
        let evaluation = if outcome.options.invert {
            network.evaluate(&images.clone().inverted(true), *cost)
        } else {
            network.evaluate(images, *cost)
        };
        Ok(Some(100.0 * evaluation.accuracy()))
    }

    /// The value of the metric read from a finished run's figures; `None` when the run never
    /// reached it, and for [`Metric::ValidationAccuracy`], which evaluates the network
    /// ([`Metric::measure`]).
    pub fn of_figures(self, outcome: &FinishedRun) -> Option<f64> {
        let epochs = &outcome.history.epochs;
        let percent = |v: Option<f64>| v.map(|a| 100.0 * a);
        match self {
            Self::TestAccuracy => Some(100.0 * outcome.test.accuracy()),
            Self::PeakEvaluationAccuracy => percent(
                epochs
                    .iter()
                    .filter_map(|r| r.evaluation_accuracy)
                    .reduce(f64::max),
            ),
            Self::FinalTrainingAccuracy => percent(epochs.last().and_then(|r| r.training_accuracy)),
            Self::FinalTrainingCost => epochs.last().and_then(|r| r.training_cost),
            Self::LowestEvaluationCostEpoch => epochs
                .iter()
                .filter_map(|r| r.evaluation_cost.map(|c| (r.epoch, c)))
                .min_by(|a, b| a.1.total_cmp(&b.1))
                .map(|(epoch, _)| epoch as f64),
            Self::EvaluationAccuracyAfter(e) => percent(
                epochs
                    .iter()
                    .find(|r| r.epoch == e)
                    .and_then(|r| r.evaluation_accuracy),
            ),
            Self::PeakTrainingAccuracy => percent(
                epochs
                    .iter()
                    .filter_map(|r| r.training_accuracy)
                    .reduce(f64::max),
            ),
            Self::ValidationAccuracy => None,
            Self::EpochsTrained => Some(epochs.len() as f64),
            Self::SecondsToEvaluationAccuracy(p) => {
                let mut seconds = 0.0;
                epochs.iter().find_map(|r| {
                    seconds += r.seconds;
                    let reached = r.evaluation_accuracy? * 100.0 >= f64::from(p);
                    reached.then_some(seconds)
                })
            }
            Self::SecondsPerEpoch => (!epochs.is_empty())
                .then(|| epochs.iter().map(|r| r.seconds).sum::<f64>() / epochs.len() as f64),
        }
    }
}

/// What a figure plots.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Curve {
    /// Training cost per epoch.
    TrainingCost,
    /// Cost on the monitored data per epoch.
    EvaluationCost,
    /// Training accuracy per epoch (%).
    TrainingAccuracy,
    /// Accuracy on the monitored data per epoch (%).
    EvaluationAccuracy,
    /// Accuracy on the monitored data (%) against the training seconds so far (the chapter's
    /// way of choosing the mini-batch size).
    EvaluationAccuracyAgainstTime,
    /// The first measure of each run against its [`RunSpec::x`], one line per series.
    MeasureAgainstX,
}

/// A figure of an experiment, written to `NAME<suffix>.png`.
pub struct FigureSpec {
    /// Appended to the experiment's name to make the file name.
    pub suffix: &'static str,
    /// The figure's caption.
    pub title: &'static str,
    /// What is plotted.
    pub curve: Curve,
    /// The runs drawn, by label; empty for all.
    pub runs: &'static [&'static str],
    /// The x label (for [`Curve::MeasureAgainstX`]).
    pub x_label: &'static str,
    /// Whether the x axis is logarithmic.
    pub log_x: bool,
}

/// A claim of the book checked on our results.
#[derive(Debug, Clone, Serialize)]
pub struct Check {
    /// The claim.
    pub claim: String,
    /// Whether our results bear it out.
    pub holds: bool,
    /// The figures behind the verdict.
    pub detail: String,
}

/// One reported figure of a run: the book's and ours over the seeds.
#[derive(Debug, Clone, Serialize)]
pub struct MeasureResult {
    /// What was measured.
    pub metric: String,
    /// The book's value.
    pub book: Option<f64>,
    /// Ours: the mean over the seeds that reached a value.
    pub ours: Option<f64>,
    /// Ours for each seed.
    pub per_seed: Vec<Option<f64>>,
    /// Largest minus smallest over the seeds (with two or more seeds).
    pub spread: Option<f64>,
}

impl MeasureResult {
    /// The figure `metric` over the seeds: the mean and spread of the values reached.
    pub fn from_seeds(metric: String, book: Option<f64>, per_seed: Vec<Option<f64>>) -> Self {
        let values: Vec<f64> = per_seed.iter().flatten().copied().collect();
        let ours = (!values.is_empty()).then(|| values.iter().sum::<f64>() / values.len() as f64);
        let spread = (values.len() > 1).then(|| {
            values.iter().copied().fold(f64::NEG_INFINITY, f64::max)
                - values.iter().copied().fold(f64::INFINITY, f64::min)
        });
        Self {
            metric,
            book,
            ours,
            per_seed,
            spread,
        }
    }
}

/// The results of one run specification.
#[derive(Debug, Clone, Serialize)]
pub struct RunResult {
    /// The run's label.
    pub label: String,
    /// Its series in figures against x.
    pub series: String,
    /// Its abscissa in such figures.
    pub x: Option<f64>,
    /// The options of the first seed's run (none for the single neuron).
    pub options: Option<RunOptions>,
    /// The equivalent command line (empty for the single neuron).
    pub command: String,
    /// The seeds trained.
    pub seeds: Vec<u64>,
    /// The reported figures.
    pub measures: Vec<MeasureResult>,
    /// Test accuracy (%) of each seed's final model.
    pub test_accuracy: Vec<f64>,
    /// Training seconds of each seed.
    pub seconds: Vec<f64>,
    /// The first seed's figures per epoch (drawn in the figures).
    pub history: Vec<EpochRecord>,
}

impl RunResult {
    /// The mean of our value of `metric`, if measured.
    pub fn ours(&self, metric: Metric) -> Option<f64> {
        let name = metric.describe();
        self.measures.iter().find(|m| m.metric == name)?.ours
    }
}

/// The summary written to `NAME.json`.
#[derive(Serialize)]
struct Summary<'a> {
    name: &'a str,
    title: &'a str,
    book: &'a str,
    quick: bool,
    command: String,
    total_seconds: f64,
    runs: &'a [RunResult],
    checks: &'a [Check],
    figures: Vec<String>,
}

/// Runs `nn reproduce`.
pub fn run(args: &ReproduceArgs) -> Result<()> {
    if args.list {
        for e in experiments() {
            say!("{:<14} {}", e.name, e.title);
            say!("{:<14}   book: {}", "", e.book);
        }
        return Ok(());
    }
    let name = args.name.as_deref().unwrap_or_default();
    let Some(experiment) = experiments().find(|e| e.name == name) else {
        let names: Vec<&str> = experiments().map(|e| e.name).collect();
        bail!(
            "no experiment named '{name}'; choose one of {} (nn reproduce --list)",
            names.join(", ")
        );
    };
    if let Some(file) = &args.batch.write_commands {
        let Body::Runs { runs, .. } = &experiment.body else {
            bail!("--write-commands: {name} trains in this process only; run it without the flag");
        };
        let planned: Vec<PlannedRun> = plan(experiment, &runs(), args)
            .into_iter()
            .flatten()
            .collect();
        return batch_runs::write_commands(file, &planned, &args.data);
    }
    if args.batch.collect.is_some() && !matches!(experiment.body, Body::Runs { .. }) {
        bail!("--collect: {name} trains in this process only; run it without the flag");
    }
    std::fs::create_dir_all(&args.out)
        .with_context(|| format!("--out {}: cannot create the directory", args.out.display()))?;
    let out = [Destination::dir("--out", &args.out)];
    destination::check(&out, &[])?;
    let _lock = destination::lock(&out)?;
    let started = Instant::now();
    let (runs, checks, figures) = match &experiment.body {
        Body::Slowdown => slowdown::run(experiment.name, &args.out)?,
        Body::Hessian => hessian::run(experiment.name, args)?,
        Body::Procedure(procedure) => procedure(experiment, args)?,
        Body::Runs {
            runs,
            figures,
            checks,
        } => {
            let results = train_all(experiment, runs(), args)?;
            let mut files = Vec::new();
            for spec in *figures {
                let path = args
                    .out
                    .join(format!("{}{}.png", experiment.name, spec.suffix));
                figure::draw_runs(&path, spec, &results)?;
                files.push(path);
            }
            let checks = checks(&results);
            (results, checks, files)
        }
    };
    let total_seconds = started.elapsed().as_secs_f64();
    let figures: Vec<String> = figures.iter().map(|p| file_name(p).to_string()).collect();
    let summary = Summary {
        name: experiment.name,
        title: experiment.title,
        book: experiment.book,
        quick: args.quick,
        command: format!(
            "nn reproduce {}{}",
            experiment.name,
            if args.quick { " --quick" } else { "" }
        ),
        total_seconds,
        runs: &runs,
        checks: &checks,
        figures,
    };
    let json_path = args.out.join(format!("{}.json", experiment.name));
    let json = serde_json::to_string_pretty(&summary).context("cannot serialize the summary")?;
    write_bytes(&json_path, json.as_bytes())
        .with_context(|| format!("cannot write {}", json_path.display()))?;
    let md_path = args.out.join(format!("{}.md", experiment.name));
    let markdown = markdown(&summary);
    write_bytes(&md_path, markdown.as_bytes())
        .with_context(|| format!("cannot write {}", md_path.display()))?;
    say!("{}", markdown.strip_suffix('\n').unwrap_or(&markdown));
    say!(
        "Wrote {} and {} in {total_seconds:.1} s",
        json_path.display(),
        md_path.display()
    );
    Ok(())
}

/// The runs of `specs`, one list per specification with one run per seed, as `nn train` would
/// train them (quietly, on the data and threads of `args`).
fn plan(experiment: &Experiment, specs: &[RunSpec], args: &ReproduceArgs) -> Vec<Vec<PlannedRun>> {
    specs
        .iter()
        .enumerate()
        .map(|(i, spec)| {
            let seeds = if args.quick {
                &spec.seeds[..1]
            } else {
                &spec.seeds[..]
            };
            let mut train_args = spec.args.clone();
            if args.quick {
                quicken(&mut train_args);
            }
            train_args.quiet = true;
            train_args.data.clone_from(&args.data);
            train_args.threads = args.threads;
            seeds
                .iter()
                .map(|&seed| PlannedRun {
                    args: TrainArgs {
                        seed: Some(seed),
                        ..train_args.clone()
                    },
                    file: batch_runs::file_name(experiment.name, i, seed),
                })
                .collect()
        })
        .collect()
}

/// Trains every run of `experiment` for every seed, quietly (or, with `--collect`, reads their
/// metrics files), and collects the results.
fn train_all(
    experiment: &Experiment,
    specs: Vec<RunSpec>,
    args: &ReproduceArgs,
) -> Result<Vec<RunResult>> {
    let planned = plan(experiment, &specs, args);
    let mut collected = match &args.batch.collect {
        Some(dir) => {
            let all: Vec<PlannedRun> = planned.iter().flatten().cloned().collect();
            Some(batch_runs::collect(dir, &all)?.into_iter())
        }
        None => None,
    };
    // Every run trained here keeps its metrics file there as it finishes, so that a reproduction
    // stopped part-way trains only the rest when it is run again.
    let kept = args.out.join(format!("{}-runs", experiment.name));
    if collected.is_none() {
        std::fs::create_dir_all(&kept)
            .with_context(|| format!("cannot create {}", kept.display()))?;
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
            let seed = run.args.seed.unwrap_or_default();
            let file = kept.join(&run.file);
            let earlier = (collected.is_none() && !needs_model && file.is_file())
                .then(|| batch_runs::read_run(&file, run).ok())
                .flatten();
            let outcome = match (collected.as_mut(), earlier) {
                (Some(files), _) => files.next().context("a metrics file per run")?,
                (None, Some(earlier)) => {
                    tell!(
                        "{} [{}/{count}] {} (seed {seed}): finished earlier, read from {}",
                        experiment.name,
                        i + 1,
                        spec.label,
                        file.display()
                    );
                    earlier
                }
                (None, None) => {
                    tell!(
                        "{} [{}/{count}] {} (seed {seed}): {}",
                        experiment.name,
                        i + 1,
                        spec.label,
                        command_line(&run.args)
                    );
                    let run_args = TrainArgs {
                        metrics: Some(file.clone()),
                        ..run.args.clone()
                    };
                    let outcome = train::run(&run_args).map_err(|e| {
                        if !interrupt::is_stop(&e) {
                            return e.context(format!("{}: run '{}'", experiment.name, spec.label));
                        }
                        interrupt::Stopped::new(format!(
                            "interrupted in run {} of {all_runs} of {} ({}, seed {seed}); {}",
                            finished + 1,
                            experiment.name,
                            spec.label,
                            match finished {
                                0 => "no run had finished".to_string(),
                                n => format!(
                                    "the {n} finished runs are kept in {}: the same command \
                                     trains only the rest",
                                    kept.display()
                                ),
                            }
                        ))
                        .into()
                    })?;
                    tell!(
                        "    test accuracy {:.2}% in {:.1} s",
                        100.0 * outcome.test.accuracy(),
                        outcome.seconds
                    );
                    FinishedRun::from(&outcome)
                }
            };
            finished += 1;
            outcomes.push(outcome);
        }
        let seeds: Vec<u64> = runs
            .iter()
            .map(|r| r.args.seed.unwrap_or_default())
            .collect();
        let measures = spec
            .measures
            .iter()
            .map(|m| {
                let per_seed = outcomes
                    .iter()
                    .map(|o| m.metric.measure(o, &args.data, &validation))
                    .collect::<Result<Vec<Option<f64>>>>()?;
                Ok(MeasureResult::from_seeds(
                    m.metric.describe(),
                    m.book,
                    per_seed,
                ))
            })
            .collect::<Result<_>>()?;
        let first = &outcomes[0];
        let shown = &runs[0].args;
        results.push(RunResult {
            label: spec.label.to_string(),
            series: spec.series.to_string(),
            x: spec.x,
            options: Some(first.options.clone()),
            command: command_line(shown),
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
fn quicken(args: &mut TrainArgs) {
    let size = args.train_size.unwrap_or(50_000);
    let quick = size.min(1_000);
    args.epochs = Some(args.epochs.unwrap_or(30).min(3));
    args.train_size = Some(quick);
    args.validation_size = Some(args.validation_size.unwrap_or(10_000).min(1_000));
    args.lambda = args.lambda.map(|l| l * quick as f32 / size as f32);
}

/// The `nn train` command line of a run: every training flag given explicitly.
pub fn command_line(args: &TrainArgs) -> String {
    let options = options::from_args(args, RunOptions::default());
    options_command(&options)
}

/// The file name of a path, for summaries.
fn file_name(path: &Path) -> &str {
    path.file_name()
        .and_then(|n| n.to_str())
        .unwrap_or_default()
}

/// A number for a table: 2 decimals, or "-" when missing.
fn cell(v: Option<f64>) -> String {
    v.map_or_else(
        || "-".to_string(),
        |v| {
            if v.abs() < 1.0 {
                format!("{v:.3}")
            } else {
                format!("{v:.2}")
            }
        },
    )
}

/// The markdown summary.
fn markdown(s: &Summary) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "# {}: {}\n", s.name, s.title);
    let _ = writeln!(out, "Book: {}\n", s.book);
    if s.quick {
        let _ = writeln!(
            out,
            "**Quick run** (a smoke test: few epochs, 1,000 images): the figures are not \
             comparable with the book's.\n"
        );
    }
    let _ = writeln!(
        out,
        "| run | figure | book | ours (mean) | per seed | spread |\n|---|---|---|---|---|---|"
    );
    for r in s.runs {
        for m in &r.measures {
            let per_seed: Vec<String> = m.per_seed.iter().map(|v| cell(*v)).collect();
            let _ = writeln!(
                out,
                "| {} | {} | {} | {} | {} | {} |",
                r.label,
                m.metric,
                cell(m.book),
                cell(m.ours),
                per_seed.join(", "),
                cell(m.spread)
            );
        }
    }
    if !s.checks.is_empty() {
        let _ = writeln!(out, "\nClaims:\n");
        for c in s.checks {
            let verdict = if c.holds { "holds" } else { "DOES NOT HOLD" };
            let _ = writeln!(out, "- {} — {verdict} ({})", c.claim, c.detail);
        }
    }
    let commands: Vec<&RunResult> = s.runs.iter().filter(|r| !r.command.is_empty()).collect();
    if !commands.is_empty() {
        let _ = writeln!(out, "\nCommands (first seed):\n");
        for r in commands {
            let _ = writeln!(out, "- {}: `{}`", r.label, r.command);
        }
    }
    if !s.figures.is_empty() {
        let _ = writeln!(out, "\nFigures: {}", s.figures.join(", "));
    }
    let _ = writeln!(
        out,
        "\nReproduce with `{}` ({:.0} s).",
        s.command, s.total_seconds
    );
    out
}
