//! The chapter's hyper-parameter heuristics, automated. Every trial is an nn-train run of
//! [`RunOptions`].
//! - [`eta`]: the chapter's threshold, the largest η at which the training cost decreases in
//!   each of the first few epochs, starting from the untrained network's cost: orders of
//!   magnitude from 0.01 (up while the cost decreases, down while it does not), then factors of
//!   two; it proposes half the threshold. The cost curve is the mean over several seeds, since
//!   at epoch resolution a single run's cost near saturation rises and falls by chance;
//! - [`lambda`]: the chapter's procedure on validation accuracy: λ = 1 first, then factors of
//!   ten in whichever direction improves, then factors of two around the best (λ enters the
//!   weight decay 1 − ηλ/n of eq. 93, so a λ found on fewer images is a different
//!   regularization);
//! - [`RandomSearch`]: log-uniform samples of given ranges (Bergstra and Bengio), with the broad
//!   strategy's speed-ups (10,000 training images, 1,000 validation images, early stopping).

use std::fmt;
use std::path::Path;
use std::str::FromStr;

use nn_core::{TrainError, epoch_seed};
use nn_train::{ActivationName, CostName, DataSet, MonitorItem, Overrides, RunError, RunOptions};

use crate::error::ChapterError;
use crate::finished::{self, FinishedRun, PlannedRun};
use crate::run_log::run_name;
use crate::runner::train;
use crate::session::{Event, Progress};
pub use crate::trial::Trial;

/// Training images of a random-search trial unless told otherwise.
pub const TRAIN_SIZE: usize = 10_000;
/// Validation images of a random-search trial unless told otherwise.
pub const VALIDATION_SIZE: usize = 1_000;
/// Validation images of an η trial, where they only fill the table's accuracy column.
pub const ETA_VALIDATION_SIZE: usize = 1_000;
/// Training images of a smoke test.
pub const QUICK_TRAIN_SIZE: usize = 1_000;
/// Validation images of a smoke test.
pub const QUICK_VALIDATION_SIZE: usize = 500;
/// Epochs of a smoke test's trials.
pub const QUICK_EPOCHS: usize = 2;
/// Epochs in which the training cost must fall for η to be below the threshold.
pub const ETA_PROBE_EPOCHS: usize = 5;
/// Seeds whose cost curves are averaged in an η trial.
pub const ETA_SEEDS: usize = 3;
/// The chapter's first η, and the bounds of the search by orders of magnitude from it.
const ETA_START: f32 = 0.01;
const ETA_BOUNDS: (f32, f32) = (1e-6, 1e3);
/// The chapter's first λ, and the bounds of the search by factors of ten from it.
const LAMBDA_START: f32 = 1.0;
const LAMBDA_BOUNDS: (f32, f32) = (1e-4, 1e4);
/// Upper bound on a trial's epochs for random searches (early stopping usually ends it).
pub const TRIAL_EPOCHS: usize = 15;
/// Early-stopping patience of random trials.
pub const PATIENCE: usize = 3;
/// Epochs of a λ trial: the chapter's 30.
pub const LAMBDA_EPOCHS: usize = 30;
/// Early-stopping patience of a λ trial: the chapter's no-improvement-in-ten.
pub const LAMBDA_PATIENCE: usize = 10;
/// Most hidden neurons a random search tries.
pub const MAX_HIDDEN: f64 = 100_000.0;
/// The bounds of any `LOW:HIGH` range: beyond them, rounding to three digits loses the values.
const RANGE_BOUNDS: (f64, f64) = (1e-9, 1e9);

/// A range `LOW:HIGH` sampled log-uniformly.
///
/// ```
/// let range: nn_chapter::search::Range = "0.01:10".parse()?;
/// assert_eq!(range.to_string(), "0.01:10");
/// assert_eq!(range.high(), 10.0);
/// assert!("10:0.1".parse::<nn_chapter::search::Range>().is_err());
/// # Ok::<(), String>(())
/// ```
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

    /// The upper end.
    pub fn high(self) -> f64 {
        self.high
    }
}

/// `options` with its seed moved `k` places on.
fn seeded(options: &RunOptions, k: usize) -> RunOptions {
    RunOptions {
        seed: options.seed + k as u64,
        ..options.clone()
    }
}

/// Trains one trial, named `name` by its settings, once per seed and summarises the mean
/// ([`summarise`]). Each seed's run is named `name` and the seed ([`crate::RunId::name`]). A
/// diverging seed makes a diverged trial (no accuracy, the cost does not fall), which is a
/// result, not an error.
fn trial(
    name: &str,
    options: &RunOptions,
    seeds: usize,
    initial: f64,
    data: &DataSet,
    progress: &mut dyn Progress,
) -> Result<Trial, ChapterError> {
    let mut outcomes = Vec::with_capacity(seeds);
    for k in 0..seeds {
        let run = seeded(options, k);
        let named = run_name(&[name], run.seed, false);
        match train(&named, &run, data, Overrides::default(), progress)? {
            Ok(outcome) => outcomes.push(FinishedRun::from(&outcome)),
            Err(RunError::Train(TrainError::Diverged { .. })) => {
                return Ok(Trial {
                    options: options.clone(),
                    costs: Vec::new(),
                    validation: 0.0,
                    epochs: 0,
                    seconds: 0.0,
                    falls: false,
                    diverged: true,
                });
            }
            Err(e) => return Err(e.into()),
        }
    }
    Ok(summarise(outcomes, initial))
}

/// `error` as the search `search` stopping, with the trials finished before it, when it is an
/// interruption; otherwise `error` in the trial `what`.
fn stopped(
    error: ChapterError,
    trials: &[Trial],
    search: &'static str,
    what: String,
) -> ChapterError {
    if error.is_interrupt() {
        ChapterError::SearchInterrupted {
            search,
            trials: trials.to_vec(),
        }
    } else {
        ChapterError::Trial {
            trial: what,
            source: Box::new(error),
        }
    }
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
/// untrained network of `options` on its training images: the network training starts from,
/// built by the same run (standardization and seed included).
pub fn initial_cost(options: &RunOptions, data: &DataSet) -> Result<f64, ChapterError> {
    Ok(nn_train::Run::new(options.clone(), data)?.training_cost())
}

/// What the η search found.
#[derive(Debug, Clone)]
pub struct EtaFound {
    /// Every trial, in the order tried.
    pub trials: Vec<Trial>,
    /// The largest η at which the training cost fell in every epoch.
    pub threshold: f32,
    /// Whether a larger η was tried at which it did not (otherwise the search hit its bound).
    pub bounded: bool,
    /// Half the threshold.
    pub proposed: f32,
}

impl EtaFound {
    /// What the search found, in words, for trials of `seeds` seeds and `epochs` epochs.
    ///
    /// ```
    /// let found = nn_chapter::search::EtaFound {
    ///     trials: Vec::new(),
    ///     threshold: 1.0,
    ///     bounded: true,
    ///     proposed: 0.5,
    /// };
    /// assert!(found.conclusion(3, 5)[0].contains("(mean of 3 seeds) decreases in each of the first 5 epochs"));
    /// ```
    pub fn conclusion(&self, seeds: usize, epochs: usize) -> Vec<String> {
        let (good, proposed) = (self.threshold, self.proposed);
        vec![match self.bounded {
            true => format!(
                "Threshold: the training cost{} decreases in each of the first {epochs} epochs \
                 up to eta = {good}; proposed eta = {proposed} (half the threshold)",
                mean_of(seeds)
            ),
            false => format!(
                "The training cost fell at every eta up to {good}; proposed eta = {proposed}"
            ),
        }]
    }
}

/// " (mean of N seeds)" for more than one seed.
fn mean_of(seeds: usize) -> String {
    if seeds > 1 {
        format!(" (mean of {seeds} seeds)")
    } else {
        String::new()
    }
}

/// The chapter's η threshold for the runs `base` (its η is what is searched), each trial the
/// mean of `seeds` seeds from `base.seed` on.
pub fn eta(
    base: &RunOptions,
    seeds: usize,
    data: &DataSet,
    progress: &mut dyn Progress,
) -> Result<EtaFound, ChapterError> {
    let mut base = base.clone();
    base.monitor = vec![MonitorItem::TrainingCost, MonitorItem::EvaluationAccuracy];
    let mut initial = 0.0;
    for k in 0..seeds {
        initial += initial_cost(&seeded(&base, k), data)? / seeds as f64;
    }
    progress.event(&Event::Note(format!(
        "untrained network: training cost {initial:.4} (mean of {seeds} seeds)"
    )));
    let mut trials: Vec<Trial> = Vec::new();
    let mut try_eta = |eta: f32, trials: &mut Vec<Trial>| -> Result<bool, ChapterError> {
        let options = RunOptions {
            eta,
            ..base.clone()
        };
        let t = trial(
            &format!("eta{eta}"),
            &options,
            seeds,
            initial,
            data,
            progress,
        )
        .map_err(|e| stopped(e, trials, "eta", format!("trial with eta {eta}")))?;
        let costs: Vec<String> = t.costs.iter().map(|c| format!("{c:.4}")).collect();
        progress.event(&Event::Note(format!(
            "eta {eta:<8} training cost {initial:.4} -> {} {}",
            if t.diverged {
                "diverged".to_string()
            } else {
                costs.join(", ")
            },
            if t.falls { "falls" } else { "does not fall" }
        )));
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
        return Err(ChapterError::NeverFalls {
            epochs: base.epochs,
            eta: ETA_BOUNDS.0,
            trials,
        });
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
    Ok(EtaFound {
        trials,
        threshold: good,
        bounded: bad.is_some(),
        proposed: good / 2.0,
    })
}

/// What the λ search found.
#[derive(Debug, Clone)]
pub struct LambdaFound {
    /// Every trial, in the order tried.
    pub trials: Vec<Trial>,
    /// The best λ.
    pub best: f32,
    /// Its validation accuracy (%), the mean over the seeds.
    pub accuracy: f64,
}

impl LambdaFound {
    /// What the search found, in words, for trials of `seeds` seeds on `train_size` images
    /// (all when none).
    ///
    /// ```
    /// let found = nn_chapter::search::LambdaFound { trials: Vec::new(), best: 2.0, accuracy: 96.5 };
    /// let lines = found.conclusion(1, Some(1_000));
    /// assert!(lines[0].starts_with("Best: lambda = 2 with 96.50% validation accuracy;"));
    /// assert!(lines[1].contains("scale it by n/1000"));
    /// ```
    pub fn conclusion(&self, seeds: usize, train_size: Option<usize>) -> Vec<String> {
        let mut lines = vec![format!(
            "Best: lambda = {} with {:.2}% validation accuracy{}; the chapter then re-optimizes \
             eta with it",
            self.best,
            self.accuracy,
            mean_of(seeds)
        )];
        if let Some(n) = train_size {
            lines.push(format!(
                "(lambda was chosen on {n} training images: on n images the weight decay is \
                 1 - eta*lambda/n (eq. 93), so scale it by n/{n} for another training set)"
            ));
        }
        lines
    }
}

/// The chapter's λ search for the runs `base` (its λ is what is searched), each trial the mean
/// of `seeds` seeds from `base.seed` on.
pub fn lambda(
    base: &RunOptions,
    seeds: usize,
    data: &DataSet,
    progress: &mut dyn Progress,
) -> Result<LambdaFound, ChapterError> {
    let mut trials: Vec<Trial> = Vec::new();
    let mut try_lambda = |lambda: f32, trials: &mut Vec<Trial>| -> Result<f64, ChapterError> {
        if let Some(t) = trials.iter().find(|t| t.options.lambda == lambda) {
            return Ok(t.validation);
        }
        let options = RunOptions {
            lambda,
            ..base.clone()
        };
        let name = format!("lambda{lambda}");
        let t = trial(&name, &options, seeds, f64::INFINITY, data, progress)
            .map_err(|e| stopped(e, trials, "lambda", format!("trial with lambda {lambda}")))?;
        progress.event(&Event::Note(format!(
            "lambda {lambda:<8} validation accuracy {:.2}% after {} epochs",
            t.validation, t.epochs
        )));
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
    Ok(LambdaFound {
        trials,
        best: best.1,
        accuracy: best.0,
    })
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

/// A random search of η, λ, the hidden neurons of one hidden layer and the mini-batch size.
#[derive(Debug, Clone)]
pub struct RandomSearch {
    /// Configurations tried.
    pub trials: usize,
    /// Range of the learning rate.
    pub eta: Range,
    /// Range of the L2 parameter.
    pub lambda: Range,
    /// Range of the number of hidden neurons.
    pub hidden: Range,
    /// Range of the mini-batch size.
    pub batch_size: Range,
    /// Cost function.
    pub cost: CostName,
    /// Activation of the hidden layer.
    pub activation: ActivationName,
    /// Training images of each trial.
    pub train_size: usize,
    /// Validation images of each trial.
    pub validation_size: usize,
    /// Upper bound on each trial's epochs (early stopping after [`PATIENCE`]).
    pub epochs: usize,
    /// Seed of the sampling and of every trial.
    pub seed: u64,
}

impl RandomSearch {
    /// The trials, each with the name of its metrics file.
    ///
    /// ```
    /// use nn_chapter::search::{RandomSearch, Range};
    /// let search = RandomSearch {
    ///     trials: 3,
    ///     eta: "0.1:1".parse()?,
    ///     lambda: "0.01:100".parse()?,
    ///     hidden: "10:40".parse()?,
    ///     batch_size: "5:100".parse()?,
    ///     cost: nn_train::CostName::CrossEntropy,
    ///     activation: nn_train::ActivationName::Sigmoid,
    ///     train_size: 1_000,
    ///     validation_size: 500,
    ///     epochs: 2,
    ///     seed: 0,
    /// };
    /// let runs = search.plan();
    /// assert_eq!(runs.len(), 3);
    /// assert!(runs.iter().all(|r| (0.1..=1.0).contains(&r.options.eta)));
    /// assert!(runs.iter().all(|r| (10..=40).contains(&r.options.layers[1])));
    /// # Ok::<(), String>(())
    /// ```
    pub fn plan(&self) -> Vec<PlannedRun> {
        (0..self.trials)
            .map(|i| {
                let u = |k: usize| uniform(self.seed, 4 * i + k);
                let hidden = self.hidden.at(u(2)).round().max(1.0) as usize;
                let options = RunOptions {
                    layers: vec![784, hidden, 10],
                    cost: self.cost,
                    activation: self.activation,
                    eta: three_digits(self.eta.at(u(0))),
                    lambda: three_digits(self.lambda.at(u(1))),
                    batch_size: self.batch_size.at(u(3)).round().max(1.0) as usize,
                    epochs: self.epochs,
                    early_stopping: Some(PATIENCE),
                    train_size: Some(self.train_size),
                    validation_size: Some(self.validation_size),
                    seed: self.seed,
                    ..RunOptions::default()
                };
                PlannedRun {
                    options,
                    file: finished::file_name("random", i, self.seed),
                }
            })
            .collect()
    }

    /// The trials from the metrics files their command lines ([`RandomSearch::plan`]) wrote
    /// into `dir`, in the order planned.
    pub fn collect(&self, dir: &Path) -> Result<Vec<Trial>, ChapterError> {
        if self.trials == 0 {
            return Err(ChapterError::NoTrials);
        }
        Ok(finished::collect(dir, &self.plan())?
            .into_iter()
            .map(|outcome| summarise(vec![outcome], f64::INFINITY))
            .collect())
    }

    /// Trains the trials, in the order planned.
    pub fn run(
        &self,
        data: &DataSet,
        progress: &mut dyn Progress,
    ) -> Result<Vec<Trial>, ChapterError> {
        if self.trials == 0 {
            return Err(ChapterError::NoTrials);
        }
        let mut trials = Vec::new();
        for (i, run) in self.plan().iter().enumerate() {
            let o = &run.options;
            let name = format!(
                "random-{:03}-eta{}-lambda{}-hidden{}-batch{}",
                i + 1,
                o.eta,
                o.lambda,
                o.layers[1],
                o.batch_size
            );
            let t = trial(&name, o, 1, f64::INFINITY, data, progress)
                .map_err(|e| stopped(e, &trials, "random", format!("trial {}", i + 1)))?;
            progress.event(&Event::Note(format!(
                "trial {:>3}/{}: eta {} lambda {} hidden {} batch {}: {:.2}% validation accuracy",
                i + 1,
                self.trials,
                t.options.eta,
                t.options.lambda,
                t.options.layers[1],
                t.options.batch_size,
                t.validation
            )));
            trials.push(t);
        }
        Ok(trials)
    }
}

/// The trial with the best validation accuracy.
pub fn best(trials: &[Trial]) -> Option<&Trial> {
    trials
        .iter()
        .max_by(|a, b| a.validation.total_cmp(&b.validation))
}

/// The winning options for a full run: all the data, 30 epochs with early stopping after 10.
///
/// ```
/// let options = nn_train::RunOptions { train_size: Some(1_000), epochs: 5, ..Default::default() };
/// let full = nn_chapter::search::full_data(options);
/// assert_eq!((full.train_size, full.epochs, full.early_stopping), (None, 30, Some(10)));
/// ```
pub fn full_data(mut options: RunOptions) -> RunOptions {
    options.train_size = None;
    options.validation_size = None;
    options.epochs = options.epochs.max(30);
    options.early_stopping = Some(10);
    options.monitor = vec![MonitorItem::EvaluationAccuracy];
    options
}

/// The trials as a table sorted by validation accuracy, best first, one line each (the η
/// search notes whether the cost falls).
pub fn table(trials: &[Trial], search: &str) -> Vec<String> {
    let mut sorted: Vec<&Trial> = trials.iter().collect();
    sorted.sort_by(|a, b| b.validation.total_cmp(&a.validation));
    let mut lines = vec![format!(
        "{:>4} {:>10} {:>10} {:>8} {:>6} {:>7} {:>12} {:>8}  note",
        "rank", "eta", "lambda", "hidden", "batch", "epochs", "validation%", "seconds"
    )];
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
        lines.push(format!(
            "{:>4} {:>10} {:>10} {:>8} {:>6} {:>7} {:>12.2} {:>8.1}  {note}",
            rank + 1,
            t.options.eta,
            t.options.lambda,
            hidden,
            t.options.batch_size,
            t.epochs,
            t.validation,
            t.seconds
        ));
    }
    lines
}
