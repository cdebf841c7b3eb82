//! `nn search`: the chapter's hyper-parameter heuristics, automated.
//!
//! Every trial uses the broad strategy's speed-ups: a subset of the training data (10,000
//! images), a small validation set (1,000 images) monitored after every epoch, and early
//! stopping. Trials are ordinary `nn train` runs through [`train::run`].
//! - `eta`: the threshold η at which the training cost stops falling in the first epochs, by
//!   orders of magnitude and then by factors of two; proposes half of it;
//! - `lambda`: λ by factors of ten, then refined by factors of two, on validation accuracy;
//! - `random`: log-uniform samples of given ranges (Bergstra and Bengio).

use std::fmt;
use std::str::FromStr;

use anyhow::{Context, Result, bail};
use clap::Subcommand;
use nn_core::{TrainError, epoch_seed};

use crate::data_source::DataSource;
use crate::options::options_command;
use crate::options::{ActivationName, CostName, MonitorItem, RunOptions, TrainArgs};
use crate::{digits, options, train};
use nn_train::compose;

/// Examples shown by `nn search --help`.
pub const EXAMPLES: &str = "\
Examples:
  nn search eta                               the learning-rate threshold of 784,30,10
  nn search lambda --eta 0.5                  the L2 parameter, on validation accuracy
  nn search random --trials 20 --eta 0.01:10 --lambda 0.01:100 --hidden 10:200 --batch-size 5:100
  nn search eta --quick                       a smoke test of a few seconds";

/// Training images of a trial unless `--train-size` says otherwise.
const TRAIN_SIZE: usize = 10_000;
/// Validation images of a trial unless `--validation-size` says otherwise.
const VALIDATION_SIZE: usize = 1_000;
/// Images and epochs of `--quick`.
const QUICK_TRAIN_SIZE: usize = 1_000;
const QUICK_VALIDATION_SIZE: usize = 500;
/// Epochs in which the training cost must fall for η to be below the threshold.
const ETA_PROBE_EPOCHS: usize = 3;
/// Upper bound on a trial's epochs for λ and random searches (early stopping usually ends it).
const TRIAL_EPOCHS: usize = 15;
/// Early-stopping patience of λ and random trials.
const PATIENCE: usize = 3;
/// Orders of magnitude tried first.
const ETA_DECADES: [f32; 6] = [0.001, 0.01, 0.1, 1.0, 10.0, 100.0];
const LAMBDA_DECADES: [f32; 6] = [0.001, 0.01, 0.1, 1.0, 10.0, 100.0];

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
    /// A smoke test: 1,000 training images, 500 validation images, short trials
    #[arg(long)]
    pub quick: bool,
    /// The fixed parts of every trial (--train-size defaults to 10,000, --validation-size to
    /// 1,000, --epochs to 3 for eta and 15 with early stopping for lambda)
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
}

/// One finished trial.
struct Trial {
    options: RunOptions,
    /// The training cost of each epoch.
    costs: Vec<f64>,
    /// Peak validation accuracy (%).
    validation: f64,
    epochs: usize,
    seconds: f64,
    /// Whether the training cost fell below the untrained network's and then in every epoch
    /// (eta search).
    falls: bool,
    /// Whether the cost became infinite or NaN, ending the trial.
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
fn fixed_base(fixed: &FixedArgs, searched: &str, epochs: usize) -> Result<TrainArgs> {
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
    let (train, validation) = if fixed.quick {
        (QUICK_TRAIN_SIZE, QUICK_VALIDATION_SIZE)
    } else {
        (TRAIN_SIZE, VALIDATION_SIZE)
    };
    base.train_size = base.train_size.or(Some(train));
    base.validation_size = base.validation_size.or(Some(validation));
    base.epochs = base.epochs.or(Some(if fixed.quick { 2 } else { epochs }));
    base.quiet = true;
    Ok(base)
}

/// Trains one trial and summarises it; `initial` is the untrained network's training cost. A
/// diverging trial is a result (no accuracy, the cost does not fall), not an error.
fn trial(args: &TrainArgs, initial: f64) -> Result<Trial> {
    let outcome = match train::run(args) {
        Ok(outcome) => outcome,
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
    };
    let costs: Vec<f64> = outcome
        .history
        .epochs
        .iter()
        .filter_map(|r| r.training_cost)
        .collect();
    let falls = costs.first().is_some_and(|&c| c < initial)
        && costs.iter().all(|c| c.is_finite())
        && costs.windows(2).all(|w| w[1] < w[0]);
    let validation = outcome
        .history
        .epochs
        .iter()
        .filter_map(|r| r.evaluation_accuracy)
        .reduce(f64::max)
        .map_or(0.0, |a| 100.0 * a);
    Ok(Trial {
        epochs: outcome.history.epochs.len(),
        options: outcome.options,
        costs,
        validation,
        seconds: outcome.seconds,
        falls,
        diverged: false,
    })
}

/// The training cost (with every penalty) of the untrained network of `args` on its training
/// images, as the trainer reports it after each epoch.
fn initial_cost(args: &TrainArgs) -> Result<f64> {
    let options = options::from_args(args, RunOptions::default());
    let network = compose::network(&options)?;
    let cost = compose::cost(options.cost);
    let regularizers = compose::regularizers(&options)?;
    let training = digits::load(&args.data)?
        .training_images(options.train_size, options.per_class)?
        .inverted(options.invert);
    let e = network.evaluate(&training, cost);
    Ok(nn_core::regularized_cost(
        &network,
        &regularizers,
        &e,
        training.len(),
    ))
}

/// `nn search eta`.
fn eta(fixed: &FixedArgs) -> Result<()> {
    let mut base = fixed_base(fixed, "eta", ETA_PROBE_EPOCHS)?;
    base.monitor = Some(vec![
        MonitorItem::TrainingCost,
        MonitorItem::EvaluationAccuracy,
    ]);
    let initial = initial_cost(&base)?;
    tell!("untrained network: training cost {initial:.4}");
    let mut trials: Vec<Trial> = Vec::new();
    let try_eta = |eta: f32, trials: &mut Vec<Trial>| -> Result<bool> {
        let args = TrainArgs {
            eta: Some(eta),
            ..base.clone()
        };
        let t = trial(&args, initial).with_context(|| format!("trial with eta {eta}"))?;
        let costs: Vec<String> = t.costs.iter().map(|c| format!("{c:.4}")).collect();
        tell!(
            "eta {eta:<8} training cost {} -> {}",
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
    // Orders of magnitude, upwards until the cost stops falling.
    let mut last_good: Option<f32> = None;
    let mut first_bad: Option<f32> = None;
    for eta in ETA_DECADES {
        if try_eta(eta, &mut trials)? {
            last_good = Some(eta);
        } else {
            first_bad = Some(eta);
            break;
        }
    }
    let Some(mut good) = last_good else {
        print_table(&trials, "eta");
        bail!(
            "the training cost does not fall even at eta {}: check the other flags (e.g. a very \
             large --lambda)",
            ETA_DECADES[0]
        );
    };
    // Refine between the last good and the first bad value by factors of two.
    if let Some(mut bad) = first_bad {
        while good * 2.0 < bad {
            let eta = good * 2.0;
            if try_eta(eta, &mut trials)? {
                good = eta;
            } else {
                bad = eta;
            }
        }
    }
    let proposed = good / 2.0;
    print_table(&trials, "eta");
    match first_bad {
        Some(_) => say!(
            "Threshold: the training cost falls in the first {} epochs up to eta = {good}; \
             proposed eta = {proposed} (half the threshold)",
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
    let mut base = fixed_base(fixed, "lambda", TRIAL_EPOCHS)?;
    base.early_stopping = base.early_stopping.or(Some(PATIENCE));
    let mut trials: Vec<Trial> = Vec::new();
    let try_lambda = |lambda: f32, trials: &mut Vec<Trial>| -> Result<f64> {
        if let Some(t) = trials.iter().find(|t| t.options.lambda == lambda) {
            return Ok(t.validation);
        }
        let args = TrainArgs {
            lambda: Some(lambda),
            ..base.clone()
        };
        let t =
            trial(&args, f64::INFINITY).with_context(|| format!("trial with lambda {lambda}"))?;
        tell!(
            "lambda {lambda:<8} validation accuracy {:.2}% after {} epochs",
            t.validation,
            t.epochs
        );
        let accuracy = t.validation;
        trials.push(t);
        Ok(accuracy)
    };
    let mut best = (f64::NEG_INFINITY, LAMBDA_DECADES[0]);
    for lambda in LAMBDA_DECADES {
        let accuracy = try_lambda(lambda, &mut trials)?;
        if accuracy > best.0 {
            best = (accuracy, lambda);
        }
    }
    // Refine by factors of two on either side of the best decade, while it improves.
    for factor in [2.0_f32, 0.5] {
        let mut lambda = best.1;
        loop {
            lambda *= factor;
            if !(best.1 / 10.0..=best.1 * 10.0).contains(&lambda) {
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
        "Best: lambda = {} with {:.2}% validation accuracy",
        best.1,
        best.0
    );
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
    let mut trials = Vec::new();
    for i in 0..args.trials {
        let u = |k: usize| uniform(args.seed, 4 * i + k);
        let eta = three_digits(args.eta.at(u(0)));
        let lambda = three_digits(args.lambda.at(u(1)));
        let hidden = args.hidden.at(u(2)).round().max(1.0) as usize;
        let batch = args.batch_size.at(u(3)).round().max(1.0) as usize;
        let trial_args = TrainArgs {
            layers: Some(vec![784, hidden, 10]),
            cost: args.cost,
            activation: args.activation,
            eta: Some(eta),
            lambda: Some(lambda),
            batch_size: Some(batch),
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
        let t = trial(&trial_args, f64::INFINITY).with_context(|| format!("trial {}", i + 1))?;
        tell!(
            "trial {:>3}/{}: eta {eta} lambda {lambda} hidden {hidden} batch {batch}: \
             {:.2}% validation accuracy",
            i + 1,
            args.trials,
            t.validation
        );
        trials.push(t);
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
