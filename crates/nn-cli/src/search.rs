//! `nn search`: the chapter's hyper-parameter heuristics (nn-chapter's [`nn_chapter::search`]):
//! the threshold η, λ on validation accuracy, and random search. This maps the flags onto the
//! searches' run options and prints their tables and the `nn train` line of the winner.

use std::path::PathBuf;

use anyhow::{Result, bail};
use clap::Subcommand;
use nn_chapter::ChapterError;
use nn_chapter::search::{self as chapter, RandomSearch, Range, Trial};

use crate::batch_runs::{self, BatchFlags};
use crate::data_source::DataSource;
use crate::interrupt;
use crate::options::{ActivationName, CostName, RunOptions, TrainArgs, from_args, options_command};
use crate::reproduce::Lines;
use crate::{digits, train};

/// Examples shown by `nn search --help`.
pub const EXAMPLES: &str = "\
Examples:
  nn search eta                               the learning-rate threshold of 784,30,10
  nn search lambda --eta 0.5                  the L2 parameter, on validation accuracy
  nn search random --trials 20 --eta 0.01:10 --lambda 0.01:100 --hidden 10:200 --batch-size 5:100
  nn search eta --quick                       a smoke test of a few seconds
  nn search lambda --tensorboard runs/tb      a TensorBoard run per trial and seed";

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
    /// Write a TensorBoard run per trial into DIR, each in a subfolder named by its settings
    #[arg(long, value_name = "DIR", conflicts_with_all = ["write_commands", "collect"])]
    pub tensorboard: Option<PathBuf>,
    /// Running the trials on other machines.
    #[command(flatten)]
    pub batch: BatchFlags,
}

/// Runs `nn search`.
pub fn run(args: &SearchArgs) -> Result<()> {
    match &args.what {
        SearchKind::Eta(fixed) => eta(fixed),
        SearchKind::Lambda(fixed) => lambda(fixed),
        SearchKind::Random(random) => random_search(random),
    }
}

/// The trials' options from the fixed flags with the search's defaults filled in.
fn fixed_base(
    fixed: &FixedArgs,
    searched: &str,
    epochs: usize,
    validation: Option<usize>,
) -> Result<RunOptions> {
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
        base.train_size = base.train_size.or(Some(chapter::QUICK_TRAIN_SIZE));
        base.validation_size = base
            .validation_size
            .or(Some(chapter::QUICK_VALIDATION_SIZE));
        base.epochs = base.epochs.or(Some(chapter::QUICK_EPOCHS));
    } else {
        base.validation_size = base.validation_size.or(validation);
        base.epochs = base.epochs.or(Some(epochs));
    }
    if searched == "lambda" {
        base.early_stopping = base.early_stopping.or(Some(chapter::LAMBDA_PATIENCE));
    }
    let recipe = base
        .recipe
        .map_or_else(RunOptions::default, |r| r.options());
    train::set_threads(t.threads)?;
    Ok(from_args(&base, recipe))
}

/// The seeds of each trial: `--seeds`, or one with `--quick`, or the search's default.
fn seed_count(fixed: &FixedArgs, default: usize) -> usize {
    match (fixed.seeds, fixed.quick) {
        (Some(n), _) => n as usize,
        (None, true) => 1,
        (None, false) => default,
    }
}

/// A search's error for `nn`: a stopped search prints the table of the trials it finished, and
/// so does an η search that found no η at which the cost falls.
fn search_error(error: ChapterError) -> anyhow::Error {
    match &error {
        ChapterError::SearchInterrupted { search, trials } => {
            print_table(trials, search);
            interrupt::Stopped::new(error.to_string()).into()
        }
        ChapterError::NeverFalls { trials, .. } => {
            print_table(trials, "eta");
            error.into()
        }
        _ => error.into(),
    }
}

/// `nn search eta`.
fn eta(fixed: &FixedArgs) -> Result<()> {
    let base = fixed_base(
        fixed,
        "eta",
        chapter::ETA_PROBE_EPOCHS,
        Some(chapter::ETA_VALIDATION_SIZE),
    )?;
    let seeds = seed_count(fixed, chapter::ETA_SEEDS);
    let data = digits::load(&fixed.train.data)?;
    let mut lines = Lines::logging(&fixed.train.tensorboard);
    let found = chapter::eta(&base, seeds, &data, &mut lines).map_err(search_error)?;
    print_table(&found.trials, "eta");
    for line in found.conclusion(seeds, base.epochs) {
        say!("{line}");
    }
    let best = TrainArgs {
        eta: Some(found.proposed),
        ..(*fixed.train).clone()
    };
    say!(
        "{}",
        options_command(&chapter::full_data(from_args(&best, RunOptions::default())))
    );
    Ok(())
}

/// `nn search lambda`.
fn lambda(fixed: &FixedArgs) -> Result<()> {
    let base = fixed_base(fixed, "lambda", chapter::LAMBDA_EPOCHS, None)?;
    let seeds = seed_count(fixed, 1);
    let data = digits::load(&fixed.train.data)?;
    let mut lines = Lines::logging(&fixed.train.tensorboard);
    let found = chapter::lambda(&base, seeds, &data, &mut lines).map_err(search_error)?;
    print_table(&found.trials, "lambda");
    for line in found.conclusion(seeds, base.train_size) {
        say!("{line}");
    }
    let best = TrainArgs {
        lambda: Some(found.best),
        ..(*fixed.train).clone()
    };
    say!(
        "{}",
        options_command(&chapter::full_data(from_args(&best, RunOptions::default())))
    );
    Ok(())
}

/// `nn search random`.
fn random_search(args: &RandomArgs) -> Result<()> {
    if args.trials == 0 {
        bail!("--trials 0: try at least one configuration");
    }
    if args.hidden.high() > chapter::MAX_HIDDEN {
        bail!(
            "--hidden {}: use at most {} hidden neurons",
            args.hidden,
            chapter::MAX_HIDDEN
        );
    }
    let (train_size, validation_size) = if args.quick {
        (chapter::QUICK_TRAIN_SIZE, chapter::QUICK_VALIDATION_SIZE)
    } else {
        (chapter::TRAIN_SIZE, chapter::VALIDATION_SIZE)
    };
    let default = RunOptions::default();
    let search = RandomSearch {
        trials: args.trials,
        eta: args.eta,
        lambda: args.lambda,
        hidden: args.hidden,
        batch_size: args.batch_size,
        cost: args.cost.unwrap_or(default.cost),
        activation: args.activation.unwrap_or(default.activation),
        train_size: args.train_size.unwrap_or(train_size),
        validation_size: args.validation_size.unwrap_or(validation_size),
        epochs: args.epochs.unwrap_or(if args.quick {
            chapter::QUICK_EPOCHS
        } else {
            chapter::TRIAL_EPOCHS
        }),
        seed: args.seed,
    };
    if let Some(file) = &args.batch.write_commands {
        return batch_runs::write_commands(file, &search.plan(), &args.data);
    }
    let trials = match &args.batch.collect {
        Some(dir) => search.collect(dir)?,
        None => {
            train::set_threads(args.threads)?;
            let data = digits::load(&args.data)?;
            search
                .run(&data, &mut Lines::logging(&args.tensorboard))
                .map_err(search_error)?
        }
    };
    print_table(&trials, "random");
    let best = chapter::best(&trials).expect("at least one trial");
    say!(
        "Best: {:.2}% validation accuracy (ranges eta {}, lambda {}, hidden {}, batch size {})",
        best.validation,
        args.eta,
        args.lambda,
        args.hidden,
        args.batch_size
    );
    say!(
        "{}",
        options_command(&chapter::full_data(best.options.clone()))
    );
    Ok(())
}

/// Prints the trials sorted by validation accuracy, best first.
fn print_table(trials: &[Trial], search: &str) {
    if trials.is_empty() {
        return;
    }
    for line in chapter::table(trials, search) {
        say!("{line}");
    }
}
