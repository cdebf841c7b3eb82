//! `nn search`: the chapter's hyper-parameter heuristics, automated.
//!
//! Trials are ordinary `nn train` runs through [`train::run`].
//! - `eta`: the chapter's threshold, the largest η at which the training cost decreases in each
//!   of the first few epochs, starting from the untrained network's cost: orders of magnitude
//!   from 0.01 (up while the cost decreases, down while it does not), then factors of two; it
//!   proposes half the threshold. Trials use the chapter's setting (all 50,000 training images,
//!   5 epochs), and the cost curve is the mean over 3 seeds, since at epoch resolution a single
//!   run's cost near saturation rises and falls by chance;
//! - `lambda`: the chapter's procedure on validation accuracy: λ = 1 first, then factors of ten
//!   in whichever direction improves, then factors of two around the best; all the training
//!   images (λ enters the weight decay 1 − ηλ/n of eq. 93, so a λ found on fewer images is a
//!   different regularization) and early stopping;
//! - `random`: log-uniform samples of given ranges (Bergstra and Bengio), with the broad
//!   strategy's speed-ups (10,000 training images, 1,000 validation images, early stopping).

use std::fmt;
use std::str::FromStr;

use anyhow::{Context, Result, bail};
use clap::Subcommand;
use nn_core::{TrainError, epoch_seed};

use crate::batch_runs::{self, BatchFlags, FinishedRun, PlannedRun};
use crate::data_source::DataSource;
use crate::interrupt;
use crate::options::options_command;
use crate::options::{ActivationName, CostName, MonitorItem, RunOptions, TrainArgs};
use crate::{digits, options, train};

/// Examples shown by `nn search --help`.
pub const EXAMPLES: &str = "\
Examples:
  nn search eta                               the learning-rate threshold of 784,30,10
  nn search lambda --eta 0.5                  the L2 parameter, on validation accuracy
  nn search random --trials 20 --eta 0.01:10 --lambda 0.01:100 --hidden 10:200 --batch-size 5:100
  nn search eta --quick                       a smoke test of a few seconds";

/// Training images of a random-search trial unless `--train-size` says otherwise.
const TRAIN_SIZE: usize = 10_000;
/// Validation images of a random-search trial unless `--validation-size` says otherwise.
const VALIDATION_SIZE: usize = 1_000;
/// Validation images of an eta trial, where they only fill the table's accuracy column.
const ETA_VALIDATION_SIZE: usize = 1_000;
/// Images and epochs of `--quick`.
const QUICK_TRAIN_SIZE: usize = 1_000;
const QUICK_VALIDATION_SIZE: usize = 500;
/// Epochs in which the training cost must fall for η to be below the threshold.
const ETA_PROBE_EPOCHS: usize = 5;
/// Seeds whose cost curves are averaged in an eta trial.
const ETA_SEEDS: usize = 3;
/// The chapter's first η, and the bounds of the search by orders of magnitude from it.
const ETA_START: f32 = 0.01;
const ETA_BOUNDS: (f32, f32) = (1e-6, 1e3);
/// The chapter's first λ, and the bounds of the search by factors of ten from it.
const LAMBDA_START: f32 = 1.0;
const LAMBDA_BOUNDS: (f32, f32) = (1e-4, 1e4);
/// Upper bound on a trial's epochs for random searches (early stopping usually ends it).
const TRIAL_EPOCHS: usize = 15;
/// Early-stopping patience of random trials.
const PATIENCE: usize = 3;
/// Epochs of a λ trial and its early-stopping patience: the chapter's 30 epochs and its
/// no-improvement-in-ten rule.
const LAMBDA_EPOCHS: usize = 30;
const LAMBDA_PATIENCE: usize = 10;

/// The flags of `nn search`.
#[derive(Debug, clap::Args)]
pub struct SearchArgs {
    /// What to search.
    #[command(subcommand)]
    pub what: SearchKind,
}

/// The searches.
#[derive(Debug, Subcommand)]
pub enum SearchKind {
    /// The threshold learning rate (training cost stops falling), and half of it.
    Eta(Box<FixedArgs>),
    /// The L2 parameter, by factors of ten and then two, on validation accuracy.
    Lambda(Box<FixedArgs>),
    /// Random search of eta, lambda, hidden neurons and mini-batch size.
    #[command(allow_negative_numbers = true)]
    Random(Box<RandomArgs>),
}

/// The flags of `nn search eta` and `nn search lambda`: the `nn train` flags fix everything but
/// the searched parameter.
#[derive(Debug, clap::Args)]
pub struct FixedArgs {
    /// A smoke test: 1,000 training images, 500 validation images, short trials, one seed
    #[arg(long)]
    pub quick: bool,
    /// Seeds per trial, from --seed on: eta averages their training costs, lambda their
    /// validation accuracies [default: 3 for eta, 1 for lambda]
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..=100))]
    pub seeds: Option<u64>,
    /// The fixed parts of every trial (--train-size defaults to all the training images,
    /// --validation-size to 1,000 for eta and all for lambda, --epochs to 5 for eta and 30 with
    /// early stopping after 10 for lambda)
    #[command(flatten)]
    pub train: Box<TrainArgs>,
}

/// Most hidden neurons `nn search random --hidden` tries.
const MAX_HIDDEN: f64 = 100_000.0;
/// The bounds of any `LOW:HIGH` range: beyond them, rounding to three digits loses the values.
const RANGE_BOUNDS: (f64, f64) = (1e-9, 1e9);

/// A range `LOW:HIGH` sampled log-uniformly.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Range {
    low: f64,
    high: f64,
}

impl FromStr for Range {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        let parsed = s
            .split_once(':')
            .and_then(|(a, b)| Some((a.parse::<f64>().ok()?, b.parse::<f64>().ok()?)));
        match parsed {
            Some((low, high)) if low >= RANGE_BOUNDS.0 && high >= low && high <= RANGE_BOUNDS.1 => {
                Ok(Self { low, high })
            }
            _ => Err(format!(
                "'{s}' is not a range: use LOW:HIGH with {} <= LOW <= HIGH <= {}, e.g. 0.01:10",
                RANGE_BOUNDS.0, RANGE_BOUNDS.1
            )),
        }
    }
}

impl fmt::Display for Range {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.low, self.high)
    }
}

impl Range {
    /// The value at `u` in [0, 1) on a log scale.
    fn at(self, u: f64) -> f64 {
        (self.low.ln() + u * (self.high.ln() - self.low.ln())).exp()
    }
}

/// The flags of `nn search random`.
#[derive(Debug, clap::Args)]
pub struct RandomArgs {
    /// Number of configurations tried
    #[arg(long, default_value_t = 10)]
    pub trials: usize,
    /// Range of the learning rate
    #[arg(long, value_name = "LOW:HIGH", default_value = "0.01:10")]
    pub eta: Range,
    /// Range of the L2 parameter
    #[arg(long, value_name = "LOW:HIGH", default_value = "0.01:100")]
    pub lambda: Range,
    /// Range of the number of hidden neurons (one hidden layer)
    #[arg(long, value_name = "LOW:HIGH", default_value = "10:200")]
    pub hidden: Range,
    /// Range of the mini-batch size
    #[arg(long, value_name = "LOW:HIGH", default_value = "5:100")]
    pub batch_size: Range,
    /// Cost function [default: cross-entropy]
    #[arg(long, value_enum)]
    pub cost: Option<CostName>,
    /// Activation of the hidden layer [default: sigmoid]
    #[arg(long, value_enum)]
    pub activation: Option<ActivationName>,
    /// Training images of each trial [default: 10,000]
    #[arg(long, value_name = "N")]
    pub train_size: Option<usize>,
    /// Validation images of each trial [default: 1,000]
    #[arg(long, value_name = "N")]
    pub validation_size: Option<usize>,
    /// Upper bound on the epochs of each trial (early stopping after 3) [default: 15]
    #[arg(long)]
    pub epochs: Option<usize>,
    /// Seed of the sampling and of every trial
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// The data set.
    #[command(flatten)]
    pub data: DataSource,
    /// Number of worker threads [default: one per core]
    #[arg(long, value_name = "T")]
    pub threads: Option<usize>,
    /// A smoke test: 1,000 training images, 500 validation images, short trials
    #[arg(long)]
    pub quick: bool,
    /// Running the trials on other machines.
    #[command(flatten)]
    pub batch: BatchFlags,
}

/// One finished trial: the mean over its seeds.
struct Trial {
    options: RunOptions,
    /// The training cost of each epoch, averaged over the seeds.
    costs: Vec<f64>,
    /// Peak validation accuracy (%), averaged over the seeds.
    validation: f64,
    /// Epochs trained (the most of any seed).
    epochs: usize,
    /// Seconds of training, summed over the seeds.
    seconds: f64,
    /// Whether the training cost fell below the untrained network's and then in every epoch
    /// (eta search).
    falls: bool,
    /// Whether the cost of some seed became infinite or NaN, ending the trial.
    diverged: bool,
}

/// Runs `nn search`.
pub fn run(args: &SearchArgs) -> Result<()> {
    match &args.what {
        SearchKind::Eta(fixed) => eta(fixed),
        SearchKind::Lambda(fixed) => lambda(fixed),
        SearchKind::Random(random) => random_search(random),
    }
}

/// The trial's flags from the fixed ones with the search's defaults filled in.
fn fixed_base(
    fixed: &FixedArgs,
    searched: &str,
    epochs: usize,
    validation: Option<usize>,
) -> Result<TrainArgs> {
    let t = &fixed.train;
    if t.resume.is_some() || t.checkpoint.is_some() || t.save.is_some() {
        bail!("nn search trains many short trials: drop --resume, --checkpoint and --save");
    }
    if t.plot.is_some() || t.metrics.is_some() {
        bail!("nn search writes a table, not per-run files: drop --plot and --metrics");
    }
    let mut base = (**t).clone();
    match searched {
        "eta" if base.eta.is_some() => bail!("--eta: nn search eta searches it; drop the flag"),
        "lambda" if base.lambda.is_some() => {
            bail!("--lambda: nn search lambda searches it; drop the flag")
        }
        _ => {}
    }
    if fixed.quick {
        base.train_size = base.train_size.or(Some(QUICK_TRAIN_SIZE));
        base.validation_size = base.validation_size.or(Some(QUICK_VALIDATION_SIZE));
        base.epochs = base.epochs.or(Some(2));
    } else {
        base.validation_size = base.validation_size.or(validation);
        base.epochs = base.epochs.or(Some(epochs));
    }
    base.quiet = true;
    Ok(base)
}

/// The seeds of each trial: `--seeds`, or one with `--quick`, or the search's default.
fn seed_count(fixed: &FixedArgs, default: usize) -> usize {
    match (fixed.seeds, fixed.quick) {
        (Some(n), _) => n as usize,
        (None, true) => 1,
        (None, false) => default,
    }
}

/// `args` with its seed moved `k` places on from `--seed`.
fn seeded(args: &TrainArgs, k: usize) -> TrainArgs {
    TrainArgs {
        seed: Some(args.seed.unwrap_or(RunOptions::default().seed) + k as u64),
        ..args.clone()
    }
}

/// Trains one trial once per seed and summarises the mean ([`summarise`]). A diverging seed
/// makes a diverged trial (no accuracy, the cost does not fall), which is a result, not an
/// error.
fn trial(args: &TrainArgs, seeds: usize, initial: f64) -> Result<Trial> {
    let mut outcomes = Vec::with_capacity(seeds);
    for k in 0..seeds {
        match train::run(&seeded(args, k)) {
            Ok(outcome) => outcomes.push(FinishedRun::from(&outcome)),
            Err(e)
                if e.chain()
                    .any(|c| matches!(c.downcast_ref(), Some(TrainError::Diverged { .. }))) =>
            {
                return Ok(Trial {
                    options: options::from_args(args, RunOptions::default()),
                    costs: Vec::new(),
                    validation: 0.0,
                    epochs: 0,
                    seconds: 0.0,
                    falls: false,
                    diverged: true,
                });
            }
            Err(e) => return Err(e),
        }
    }
    Ok(summarise(outcomes, initial))
}

/// `error`, or when it is the search stopping on a signal, the table of the trials finished
/// before it (printed) and a stop that says so.
fn stopped(error: anyhow::Error, trials: &[Trial], search: &str) -> anyhow::Error {
    if !interrupt::is_stop(&error) {
        return error;
    }
    if !trials.is_empty() {
        print_table(trials, search);
    }
    interrupt::Stopped::new(format!(
        "interrupted in trial {} of the {search} search; {}",
        trials.len() + 1,
        match trials.len() {
            0 => "no trial had finished".to_string(),
            1 => "the finished trial is in the table above".to_string(),
            n => format!("the {n} finished trials are in the table above"),
        }
    ))
    .into()
}

/// The mean of a trial's runs (at least one); `initial` is the untrained networks' mean
/// training cost.
fn summarise(mut outcomes: Vec<FinishedRun>, initial: f64) -> Trial {
    let count = outcomes.len() as f64;
    let curves: Vec<Vec<f64>> = outcomes
        .iter()
        .map(|o| {
            o.history
                .epochs
                .iter()
                .filter_map(|r| r.training_cost)
                .collect()
        })
        .collect();
    let length = curves.iter().map(Vec::len).min().unwrap_or(0);
    let costs: Vec<f64> = (0..length)
        .map(|i| curves.iter().map(|c| c[i]).sum::<f64>() / count)
        .collect();
    let falls = costs.first().is_some_and(|&c| c < initial)
        && costs.iter().all(|c| c.is_finite())
        && costs.windows(2).all(|w| w[1] < w[0]);
    let validation = outcomes
        .iter()
        .map(|o| {
            o.history
                .epochs
                .iter()
                .filter_map(|r| r.evaluation_accuracy)
                .reduce(f64::max)
                .map_or(0.0, |a| 100.0 * a)
        })
        .sum::<f64>()
        / count;
    Trial {
        epochs: outcomes
            .iter()
            .map(|o| o.history.epochs.len())
            .max()
            .unwrap_or(0),
        seconds: outcomes.iter().map(|o| o.seconds).sum(),
        options: outcomes.swap_remove(0).options,
        costs,
        validation,
        falls,
        diverged: false,
    }
}

/// The training cost (with every penalty, as the trainer reports it after each epoch) of the
/// untrained network of `args` on its training images: the network `nn train` starts from,
/// built by the same run (recipe, standardization and seed included).
fn initial_cost(args: &TrainArgs) -> Result<f64> {
    let base = args
        .recipe
        .map_or_else(RunOptions::default, |r| r.options());
    let options = options::from_args(args, base);
    let data = digits::load(&args.data)?;
    Ok(nn_train::Run::new(options, &data)?.training_cost())
}

/// `nn search eta`.
fn eta(fixed: &FixedArgs) -> Result<()> {
    let mut base = fixed_base(fixed, "eta", ETA_PROBE_EPOCHS, Some(ETA_VALIDATION_SIZE))?;
    base.monitor = Some(vec![
        MonitorItem::TrainingCost,
        MonitorItem::EvaluationAccuracy,
    ]);
    let seeds = seed_count(fixed, ETA_SEEDS);
    let mut initial = 0.0;
    for k in 0..seeds {
        initial += initial_cost(&seeded(&base, k))? / seeds as f64;
    }
    tell!("untrained network: training cost {initial:.4} (mean of {seeds} seeds)");
    let mut trials: Vec<Trial> = Vec::new();
    let try_eta = |eta: f32, trials: &mut Vec<Trial>| -> Result<bool> {
        let args = TrainArgs {
            eta: Some(eta),
            ..base.clone()
        };
        let t = trial(&args, seeds, initial)
            .map_err(|e| stopped(e, trials, "eta"))
            .with_context(|| format!("trial with eta {eta}"))?;
        let costs: Vec<String> = t.costs.iter().map(|c| format!("{c:.4}")).collect();
        tell!(
            "eta {eta:<8} training cost {initial:.4} -> {} {}",
            if t.diverged {
                "diverged".to_string()
            } else {
                costs.join(", ")
            },
            if t.falls { "falls" } else { "does not fall" }
        );
        let falls = t.falls;
        trials.push(t);
        Ok(falls)
    };
    // Orders of magnitude from 0.01: up while the cost falls, down while it does not.
    let (mut good, mut bad) = (None, None);
    let mut eta = ETA_START;
    let upwards = try_eta(eta, &mut trials)?;
    *(if upwards { &mut good } else { &mut bad }) = Some(eta);
    loop {
        eta = three_digits(f64::from(eta) * if upwards { 10.0 } else { 0.1 });
        if !(ETA_BOUNDS.0..=ETA_BOUNDS.1).contains(&eta) {
            break;
        }
        let falls = try_eta(eta, &mut trials)?;
        match (upwards, falls) {
            (true, true) => good = Some(eta),
            (false, false) => bad = Some(eta),
            (true, false) => {
                bad = Some(eta);
                break;
            }
            (false, true) => {
                good = Some(eta);
                break;
            }
        }
    }
    let Some(mut good) = good else {
        print_table(&trials, "eta");
        bail!(
            "the training cost does not fall in the first {} epochs even at eta {}: check the \
             other flags (e.g. a very large --lambda)",
            base.epochs.unwrap_or(ETA_PROBE_EPOCHS),
            ETA_BOUNDS.0
        );
    };
    // Refine between the largest good and the smallest bad value by factors of two.
    if let Some(mut bad) = bad {
        while good * 2.0 < bad {
            let eta = three_digits(f64::from(good) * 2.0);
            if try_eta(eta, &mut trials)? {
                good = eta;
            } else {
                bad = eta;
            }
        }
    }
    let proposed = good / 2.0;
    print_table(&trials, "eta");
    match bad {
        Some(_) => say!(
            "Threshold: the training cost{} decreases in each of the first {} epochs up to eta = \
             {good}; proposed eta = {proposed} (half the threshold)",
            if seeds > 1 {
                format!(" (mean of {seeds} seeds)")
            } else {
                String::new()
            },
            base.epochs.unwrap_or(ETA_PROBE_EPOCHS)
        ),
        None => say!("The training cost fell at every eta up to {good}; proposed eta = {proposed}"),
    }
    let best = options::from_args(
        &TrainArgs {
            eta: Some(proposed),
            ..(*fixed.train).clone()
        },
        RunOptions::default(),
    );
    say!("{}", options_command(&full_data(best)));
    Ok(())
}

/// `nn search lambda`.
fn lambda(fixed: &FixedArgs) -> Result<()> {
    let mut base = fixed_base(fixed, "lambda", LAMBDA_EPOCHS, None)?;
    base.early_stopping = base.early_stopping.or(Some(LAMBDA_PATIENCE));
    let seeds = seed_count(fixed, 1);
    let mut trials: Vec<Trial> = Vec::new();
    let try_lambda = |lambda: f32, trials: &mut Vec<Trial>| -> Result<f64> {
        if let Some(t) = trials.iter().find(|t| t.options.lambda == lambda) {
            return Ok(t.validation);
        }
        let args = TrainArgs {
            lambda: Some(lambda),
            ..base.clone()
        };
        let t = trial(&args, seeds, f64::INFINITY)
            .map_err(|e| stopped(e, trials, "lambda"))
            .with_context(|| format!("trial with lambda {lambda}"))?;
        tell!(
            "lambda {lambda:<8} validation accuracy {:.2}% after {} epochs",
            t.validation,
            t.epochs
        );
        let accuracy = t.validation;
        trials.push(t);
        Ok(accuracy)
    };
    // λ = 1, then factors of ten in whichever direction improves, while it improves.
    let mut best = (try_lambda(LAMBDA_START, &mut trials)?, LAMBDA_START);
    for factor in [10.0, 0.1] {
        let mut lambda = best.1;
        loop {
            lambda = three_digits(f64::from(lambda) * factor);
            if !(LAMBDA_BOUNDS.0..=LAMBDA_BOUNDS.1).contains(&lambda) {
                break;
            }
            let accuracy = try_lambda(lambda, &mut trials)?;
            if accuracy > best.0 {
                best = (accuracy, lambda);
            } else {
                break;
            }
        }
    }
    // Refine by factors of two on either side of the best order of magnitude, while it improves.
    let decade = best.1;
    for factor in [2.0, 0.5] {
        let mut lambda = decade;
        loop {
            lambda = three_digits(f64::from(lambda) * factor);
            if !(decade / 10.0..=decade * 10.0).contains(&lambda) {
                break;
            }
            let accuracy = try_lambda(lambda, &mut trials)?;
            if accuracy > best.0 {
                best = (accuracy, lambda);
            } else {
                break;
            }
        }
    }
    print_table(&trials, "lambda");
    say!(
        "Best: lambda = {} with {:.2}% validation accuracy{}; the chapter then re-optimizes eta \
         with it",
        best.1,
        best.0,
        if seeds > 1 {
            format!(" (mean of {seeds} seeds)")
        } else {
            String::new()
        }
    );
    if let Some(n) = base.train_size {
        say!(
            "(lambda was chosen on {n} training images: on n images the weight decay is \
             1 - eta*lambda/n (eq. 93), so scale it by n/{n} for another training set)"
        );
    }
    let options = options::from_args(
        &TrainArgs {
            lambda: Some(best.1),
            ..(*fixed.train).clone()
        },
        RunOptions::default(),
    );
    say!("{}", options_command(&full_data(options)));
    Ok(())
}

/// A uniform number in [0, 1) from the seed and a counter.
fn uniform(seed: u64, counter: usize) -> f64 {
    (epoch_seed(seed, counter) >> 11) as f64 / (1u64 << 53) as f64
}

/// `x` rounded to three significant digits, so that tables and command lines stay readable.
fn three_digits(x: f64) -> f32 {
    let scale = 10f64.powi(2 - x.log10().floor() as i32);
    ((x * scale).round() / scale) as f32
}

/// `nn search random`.
fn random_search(args: &RandomArgs) -> Result<()> {
    if args.trials == 0 {
        bail!("--trials 0: try at least one configuration");
    }
    if args.hidden.high > MAX_HIDDEN {
        bail!(
            "--hidden {}: use at most {MAX_HIDDEN} hidden neurons",
            args.hidden
        );
    }
    let (train, validation) = if args.quick {
        (QUICK_TRAIN_SIZE, QUICK_VALIDATION_SIZE)
    } else {
        (TRAIN_SIZE, VALIDATION_SIZE)
    };
    let epochs = args
        .epochs
        .unwrap_or(if args.quick { 2 } else { TRIAL_EPOCHS });
    let planned: Vec<PlannedRun> = (0..args.trials)
        .map(|i| {
            let u = |k: usize| uniform(args.seed, 4 * i + k);
            let hidden = args.hidden.at(u(2)).round().max(1.0) as usize;
            let trial_args = TrainArgs {
                layers: Some(vec![784, hidden, 10]),
                cost: args.cost,
                activation: args.activation,
                eta: Some(three_digits(args.eta.at(u(0)))),
                lambda: Some(three_digits(args.lambda.at(u(1)))),
                batch_size: Some(args.batch_size.at(u(3)).round().max(1.0) as usize),
                epochs: Some(epochs),
                early_stopping: Some(PATIENCE),
                train_size: Some(args.train_size.unwrap_or(train)),
                validation_size: Some(args.validation_size.unwrap_or(validation)),
                seed: Some(args.seed),
                data: args.data.clone(),
                threads: args.threads,
                quiet: true,
                ..TrainArgs::default()
            };
            PlannedRun {
                args: trial_args,
                file: batch_runs::file_name("random", i, args.seed),
            }
        })
        .collect();
    if let Some(file) = &args.batch.write_commands {
        return batch_runs::write_commands(file, &planned, &args.data);
    }
    let mut trials = Vec::new();
    match &args.batch.collect {
        Some(dir) => {
            for outcome in batch_runs::collect(dir, &planned)? {
                trials.push(summarise(vec![outcome], f64::INFINITY));
            }
        }
        None => {
            for (i, run) in planned.iter().enumerate() {
                let t = trial(&run.args, 1, f64::INFINITY)
                    .map_err(|e| stopped(e, &trials, "random"))
                    .with_context(|| format!("trial {}", i + 1))?;
                tell!(
                    "trial {:>3}/{}: eta {} lambda {} hidden {} batch {}: {:.2}% validation \
                     accuracy",
                    i + 1,
                    args.trials,
                    t.options.eta,
                    t.options.lambda,
                    t.options.layers[1],
                    t.options.batch_size,
                    t.validation
                );
                trials.push(t);
            }
        }
    }
    print_table(&trials, "random");
    let best = trials
        .iter()
        .max_by(|a, b| a.validation.total_cmp(&b.validation))
        .expect("at least one trial");
    say!(
        "Best: {:.2}% validation accuracy (ranges eta {}, lambda {}, hidden {}, batch size {})",
        best.validation,
        args.eta,
        args.lambda,
        args.hidden,
        args.batch_size
    );
    say!("{}", options_command(&full_data(best.options.clone())));
    Ok(())
}

/// The winning options for a full run: all the data, 30 epochs with early stopping after 10.
fn full_data(mut options: RunOptions) -> RunOptions {
    options.train_size = None;
    options.validation_size = None;
    options.epochs = options.epochs.max(30);
    options.early_stopping = Some(10);
    options.monitor = vec![MonitorItem::EvaluationAccuracy];
    options
}

/// The trials sorted by validation accuracy, best first.
fn print_table(trials: &[Trial], search: &str) {
    let mut sorted: Vec<&Trial> = trials.iter().collect();
    sorted.sort_by(|a, b| b.validation.total_cmp(&a.validation));
    say!(
        "{:>4} {:>10} {:>10} {:>8} {:>6} {:>7} {:>12} {:>8}  note",
        "rank",
        "eta",
        "lambda",
        "hidden",
        "batch",
        "epochs",
        "validation%",
        "seconds"
    );
    for (rank, t) in sorted.iter().enumerate() {
        let hidden = t.options.layers[1..t.options.layers.len() - 1]
            .iter()
            .map(usize::to_string)
            .collect::<Vec<_>>()
            .join(",");
        let note = match (t.diverged, search == "eta", t.falls) {
            (true, _, _) => "diverged",
            (false, true, true) => "cost falls",
            (false, true, false) => "cost does not fall",
            (false, false, _) => "",
        };
        say!(
            "{:>4} {:>10} {:>10} {:>8} {:>6} {:>7} {:>12.2} {:>8.1}  {note}",
            rank + 1,
            t.options.eta,
            t.options.lambda,
            hidden,
            t.options.batch_size,
            t.epochs,
            t.validation,
            t.seconds
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The flags of a one-epoch run on 1,000 MNIST images from seed `seed`.
    fn small_run(seed: u64, eta: f32) -> TrainArgs {
        TrainArgs {
            train_size: Some(1_000),
            validation_size: Some(100),
            epochs: Some(1),
            eta: Some(eta),
            seed: Some(seed),
            monitor: Some(vec![MonitorItem::TrainingCost]),
            data: DataSource {
                data: Some(nn_testdata::mnist_dir().to_path_buf()),
                ..DataSource::default()
            },
            quiet: true,
            ..TrainArgs::default()
        }
    }

    #[test]
    fn the_untrained_cost_is_the_cost_of_the_network_training_starts_from() {
        // An epoch at a negligible eta leaves the network where it started: its training cost
        // is the untrained network's, which another seed's network does not match.
        let args = small_run(3, 1e-9);
        let initial = initial_cost(&args).unwrap();
        let outcome = train::run(&args).unwrap();
        let after = outcome.history.epochs[0].training_cost.unwrap();
        assert!(
            ((after - initial) / initial).abs() < 1e-5,
            "{initial} against {after}"
        );
        let other = initial_cost(&small_run(4, 1e-9)).unwrap();
        assert!(((other - initial) / initial).abs() > 1e-3, "{other}");
    }
}
