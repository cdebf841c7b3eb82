//! Mini-batch stochastic gradient descent with monitoring, early stopping, a learning-rate
//! schedule, a divergence guard and resumable state.

use std::ops::ControlFlow;
use std::str::FromStr;

use rand::SeedableRng;
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use serde::{Deserialize, Serialize};

use crate::error::{HyperParameterError, ResumeError};
use crate::network::{Evaluation, Workspace};
use crate::optimizer::{Curvature, OptimizerState};
use crate::regularizer::regularized_cost;
use crate::{Cost, EpochTransform, Examples, Network, Optimizer, Regularizer, TrainError};

/// Which figures to compute after each epoch, as network2.py's four `monitor_*` flags.
///
/// ```
/// use nn_core::Monitor;
///
/// assert_eq!(Monitor::default(), Monitor { training_cost: false, training_accuracy: false,
///     evaluation_cost: false, evaluation_accuracy: false });
/// assert!(Monitor::all().training_cost && Monitor::all().evaluation_accuracy);
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Monitor {
    /// Cost (with regularization terms) on the training data.
    pub training_cost: bool,
    /// Accuracy on the training data.
    pub training_accuracy: bool,
    /// Cost (with regularization terms) on the evaluation data.
    pub evaluation_cost: bool,
    /// Accuracy on the evaluation data.
    pub evaluation_accuracy: bool,
}

impl Monitor {
    /// Every figure.
    pub fn all() -> Self {
        Self {
            training_cost: true,
            training_accuracy: true,
            evaluation_cost: true,
            evaluation_accuracy: true,
        }
    }
}

/// The learning-rate schedule.
///
/// ```
/// use nn_core::{DenseExamples, Initializer, Network, Schedule, Sgd, Silent, TrainConfig, Trainer};
/// use nn_costs::QuadraticCost;
///
/// let data = DenseExamples::classification(vec![vec![0.0], vec![1.0]], vec![0, 1], 2);
/// let network = Network::sigmoid(&[1, 2], Initializer::Default, 1)?;
/// // Exponential decay: epoch t (from 0) trains with η₀ · 0.5ᵗ.
/// let schedule = Schedule::Exponential { factor: 0.5 };
/// let config = TrainConfig { epochs: 3, batch_size: 2, eta: 0.8, schedule, ..TrainConfig::default() };
/// let trainer = Trainer::new(network, &QuadraticCost, Box::new(Sgd), Vec::new(), config)?;
/// let (_, history) = trainer.train(&data, None, &mut Silent)?;
/// let etas: Vec<f32> = history.epochs.iter().map(|e| e.eta).collect();
/// assert_eq!(etas, [0.8, 0.4, 0.2]);
/// // The chapter's: halve after 10 epochs without improvement, stop at η₀/128.
/// assert!(Schedule::halving(10).check().is_ok());
/// let never_lower = Schedule::OnPlateau { patience: 10, factor: 1.0, stop_fraction: 0.01 };
/// assert!(never_lower.check().is_err());
///
/// // Steps: η₀ = 0.8 for epochs 1–2, then 0.2 from epoch 3 on, then 0.1 from epoch 4 on.
/// let network = Network::sigmoid(&[1, 2], Initializer::Default, 1)?;
/// let schedule = Schedule::Steps(vec![(3, 0.2), (4, 0.1)]);
/// let config = TrainConfig { epochs: 4, batch_size: 2, eta: 0.8, schedule, ..TrainConfig::default() };
/// let trainer = Trainer::new(network, &QuadraticCost, Box::new(Sgd), Vec::new(), config)?;
/// let (_, history) = trainer.train(&data, None, &mut Silent)?;
/// let etas: Vec<f32> = history.epochs.iter().map(|e| e.eta).collect();
/// assert_eq!(etas, [0.8, 0.8, 0.2, 0.1]);
/// assert!(Schedule::Steps(vec![(4, 0.1), (3, 0.2)]).check().is_err());
/// # Ok::<(), nn_core::TrainError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub enum Schedule {
    /// η stays as given.
    #[default]
    Constant,
    /// The chapter's exercise: multiply η by `factor` each time `patience` epochs pass without a
    /// better evaluation accuracy, and stop once η has fallen to `stop_fraction` of its start
    /// (the chapter: halve, and stop at 1/128).
    OnPlateau {
        /// Epochs without improvement before η changes.
        patience: usize,
        /// The multiplier, in (0, 1); 0.5 halves.
        factor: f32,
        /// Training stops once η ≤ η₀ · stop_fraction.
        stop_fraction: f32,
    },
    /// Exponential decay: η is multiplied by `factor` ∈ (0, 1) after every epoch, so epoch t
    /// (from 0) trains with η₀ · factorᵗ; slow annealing that needs no evaluation data.
    Exponential {
        /// The per-epoch multiplier, e.g. 0.97.
        factor: f32,
    },
    /// Steps set in advance, as the chapter's "start at 0.25, train for 20 epochs, then switch
    /// to 0.025": each `(k, x)` means "from epoch k (counted from 1) on, η = x", and epochs
    /// before the first step train with η₀. Steps are in increasing order of epoch, every epoch
    /// is at least 2 and every η a finite positive number ([`Schedule::check`]).
    Steps(Vec<(usize, f32)>),
}

impl Schedule {
    /// Smallest factor of `exp:F` that [`Schedule::from_str`] takes: a smaller one takes η below
    /// any useful value within a few epochs (and below the smallest `f32` soon after).
    pub const MIN_EXP_FACTOR: f32 = 0.001;

    /// The chapter's schedule: halve after `patience` epochs without improvement, stop at 1/128.
    pub fn halving(patience: usize) -> Self {
        Self::OnPlateau {
            patience,
            factor: 0.5,
            stop_fraction: 1.0 / 128.0,
        }
    }

    /// The steps of `K=X,K=X,...`, unchecked; `None` if one is not an epoch, `=` and a number.
    fn parse_steps(steps: &str) -> Option<Self> {
        steps
            .split(',')
            .map(|step| {
                let (epoch, eta) = step.split_once('=')?;
                Some((epoch.trim().parse().ok()?, eta.trim().parse().ok()?))
            })
            .collect::<Option<Vec<_>>>()
            .map(Self::Steps)
    }
}

impl FromStr for Schedule {
    type Err = String;

    /// Reads `constant`, `halve:N` (the chapter's [`Schedule::halving`], N ≥ 1), `exp:F`
    /// ([`Schedule::MIN_EXP_FACTOR`] ≤ F < 1) or `steps:K=X,K=X,...` ([`Schedule::Steps`], as
    /// [`Schedule::check`] takes them), as `nn train --lr-schedule` spells them.
    ///
    /// ```
    /// use nn_core::Schedule;
    /// assert_eq!("halve:10".parse(), Ok(Schedule::halving(10)));
    /// assert_eq!("exp:0.97".parse(), Ok(Schedule::Exponential { factor: 0.97 }));
    /// assert!("exp:1e-9".parse::<Schedule>().is_err());
    /// assert_eq!("steps:11=0.1,21=0.02".parse(), Ok(Schedule::Steps(vec![(11, 0.1), (21, 0.02)])));
    /// assert!("steps:5=0.1,3=0.2".parse::<Schedule>().is_err());
    /// ```
    fn from_str(s: &str) -> Result<Self, String> {
        if s == "constant" {
            return Ok(Self::Constant);
        }
        if let Some(steps) = s.strip_prefix("steps:") {
            return Self::parse_steps(steps)
                .ok_or_else(|| {
                    format!(
                        "'{s}' is not a step schedule: use steps:K=X,K=X,... (from epoch K on, eta \
                         = X), e.g. steps:21=0.025"
                    )
                })
                .and_then(|schedule| {
                    schedule.check().map_err(|e| format!("'{s}': {e}"))?;
                    Ok(schedule)
                });
        }
        if let Some(Ok(n)) = s.strip_prefix("halve:").map(str::parse::<usize>)
            && n > 0
        {
            return Ok(Self::halving(n));
        }
        if let Some(Ok(factor)) = s.strip_prefix("exp:").map(str::parse::<f32>)
            && (Self::MIN_EXP_FACTOR..1.0).contains(&factor)
        {
            return Ok(Self::Exponential { factor });
        }
        Err(format!(
            "'{s}' is not a schedule: use halve:N with N >= 1 (e.g. halve:10), exp:F with {} <= \
             F < 1 (e.g. exp:0.97), steps:K=X,... (from epoch K on, eta = X; e.g. \
             steps:21=0.025) or constant",
            Self::MIN_EXP_FACTOR
        ))
    }
}

/// Hyper-parameters of a training run.
///
/// ```
/// use nn_core::{EarlyStopping, Monitor, Schedule, TrainConfig};
///
/// // The chapter's run with early stopping and the halve-on-plateau schedule.
/// let config = TrainConfig {
///     epochs: 60,
///     early_stopping: Some(EarlyStopping::NoImprovement(10)),
///     schedule: Schedule::halving(5),
///     monitor: Monitor::all(),
///     ..TrainConfig::default()
/// };
/// assert!(config.validate().is_ok());
/// assert!(TrainConfig { eta: -1.0, ..config }.validate().is_err());
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrainConfig {
    /// Number of epochs (an upper bound when early stopping or the schedule ends the run).
    pub epochs: usize,
    /// Mini-batch size m. [`Trainer::new`] refuses one whose buffers would exceed
    /// [`crate::MAX_WORKSPACE_BYTES`]; [`Network::max_batch`] gives the largest allowed.
    pub batch_size: usize,
    /// Learning rate η.
    pub eta: f32,
    /// Figures computed after each epoch.
    pub monitor: Monitor,
    /// When to end the run before its last epoch; the network then gets back the weights of
    /// its best epoch.
    pub early_stopping: Option<EarlyStopping>,
    /// Learning-rate schedule.
    pub schedule: Schedule,
    /// Seeds shuffling, dropout masks and data transforms.
    pub seed: u64,
    /// Epochs at chance-level accuracy after which a warning is given.
    pub chance_epochs: usize,
    /// Polyak averaging of the weights over epochs with this β ∈ (0, 1): after epoch t,
    /// w̄ ← w̄ + max(1 − β, 1/t)·(w − w̄), the plain mean of the first 1/(1 − β) epochs' weights
    /// and an exponential moving average after them. Monitoring, early stopping and the
    /// finished network use w̄; training goes on from w.
    #[serde(default)]
    pub weight_averaging: Option<f32>,
}

impl Default for TrainConfig {
    /// network2.py's example run: 30 epochs, mini-batch 10, η = 0.5.
    fn default() -> Self {
        Self {
            epochs: 30,
            batch_size: 10,
            eta: 0.5,
            monitor: Monitor::default(),
            early_stopping: None,
            schedule: Schedule::Constant,
            seed: 0,
            chance_epochs: 3,
            weight_averaging: None,
        }
    }
}

/// Unchecked parameters and their one check, as linfa's `ParamGuard`: a value that passes
/// [`ParamGuard::check`] becomes its checked type, which consumers such as [`Trainer::new`]
/// accept without checking again. The checked type implements the trait too (its check does
/// nothing), so either can be given.
///
/// ```
/// use nn_core::{ParamGuard, TrainConfig, TrainError};
///
/// // A parameter set of one's own: a width that must not be 0.
/// struct Width(usize);
/// struct CheckedWidth(usize);
/// impl ParamGuard for Width {
///     type Checked = CheckedWidth;
///     type Error = String;
///     fn check(self) -> Result<CheckedWidth, String> {
///         match self.0 {
///             0 => Err("width 0: use at least 1".into()),
///             w => Ok(CheckedWidth(w)),
///         }
///     }
/// }
/// assert_eq!(Width(3).check()?.0, 3);
/// assert!(Width(0).check().is_err());
///
/// // The trainer's: checked once, and a checked set passes again unchanged.
/// let checked = TrainConfig::default().check()?;
/// assert_eq!(checked.clone().check()?, checked);
/// let nan = TrainConfig { eta: f32::NAN, ..TrainConfig::default() }.check();
/// assert!(matches!(nan, Err(TrainError::InvalidHyperParameter(_))));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub trait ParamGuard {
    /// The checked parameters.
    type Checked;
    /// Why the parameters were refused.
    type Error;
    /// Checks the parameters, saying which one is wrong and why.
    fn check(self) -> Result<Self::Checked, Self::Error>;
}

/// Hyper-parameters that passed [`TrainConfig`]'s check; it reads as a [`TrainConfig`].
///
/// ```
/// use nn_core::{ParamGuard, TrainConfig};
///
/// let checked = TrainConfig { eta: 0.1, ..TrainConfig::default() }.check()?;
/// assert_eq!(checked.eta, 0.1);
/// assert!(TrainConfig { batch_size: 0, ..TrainConfig::default() }.check().is_err());
/// # Ok::<(), nn_core::TrainError>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct CheckedTrainConfig(TrainConfig);

impl std::ops::Deref for CheckedTrainConfig {
    type Target = TrainConfig;
    fn deref(&self) -> &TrainConfig {
        &self.0
    }
}

impl CheckedTrainConfig {
    /// The hyper-parameters.
    pub fn into_inner(self) -> TrainConfig {
        self.0
    }
}

impl ParamGuard for CheckedTrainConfig {
    type Checked = Self;
    type Error = TrainError;
    fn check(self) -> Result<Self, TrainError> {
        Ok(self)
    }
}

impl ParamGuard for TrainConfig {
    type Checked = CheckedTrainConfig;
    type Error = TrainError;

    /// Rejects hyper-parameters that make no sense, saying which and why.
    fn check(self) -> Result<CheckedTrainConfig, TrainError> {
        self.validate()?;
        Ok(CheckedTrainConfig(self))
    }
}

/// A factor of a learning-rate schedule: it must lie in (0, 1).
fn check_factor(
    factor: f32,
    what: &'static str,
    hint: &'static str,
) -> Result<(), HyperParameterError> {
    if factor > 0.0 && factor < 1.0 {
        Ok(())
    } else {
        Err(HyperParameterError::Fraction {
            what,
            value: factor,
            hint,
        })
    }
}

impl Schedule {
    /// Rejects a schedule whose patience, factor or stopping fraction makes no sense, or steps
    /// that are not in increasing order of epoch from epoch 2 on, each with a finite η > 0.
    pub fn check(&self) -> Result<(), HyperParameterError> {
        match *self {
            Schedule::Constant => Ok(()),
            Schedule::OnPlateau {
                patience,
                factor,
                stop_fraction,
            } => {
                if patience == 0 {
                    return Err(HyperParameterError::Patience {
                        what: "the learning-rate schedule",
                    });
                }
                check_factor(factor, "the schedule's factor", "")?;
                check_factor(stop_fraction, "the schedule's stopping fraction", "")
            }
            Schedule::Exponential { factor } => {
                check_factor(factor, "the exponential schedule's factor", ", e.g. 0.97")
            }
            Schedule::Steps(ref steps) => {
                if steps.is_empty() {
                    return Err(HyperParameterError::NoSteps);
                }
                let mut previous = 1;
                for &(epoch, eta) in steps {
                    if epoch <= previous {
                        return Err(HyperParameterError::StepEpoch { epoch, previous });
                    }
                    if !(eta.is_finite() && eta > 0.0) {
                        return Err(HyperParameterError::StepEta { epoch, eta });
                    }
                    previous = epoch;
                }
                Ok(())
            }
        }
    }
}

impl TrainConfig {
    /// Rejects hyper-parameters that make no sense, saying which and why. [`ParamGuard::check`]
    /// runs it and keeps the result as a [`CheckedTrainConfig`].
    pub fn validate(&self) -> Result<(), TrainError> {
        type E = HyperParameterError;
        if !(self.eta.is_finite() && self.eta > 0.0) {
            return Err(E::Eta { eta: self.eta }.into());
        }
        if self.batch_size == 0 {
            return Err(E::BatchSize.into());
        }
        if self.epochs == 0 {
            return Err(E::Epochs.into());
        }
        match self.early_stopping {
            Some(EarlyStopping::NoImprovement(0)) => {
                return Err(E::Patience {
                    what: "early stopping",
                }
                .into());
            }
            Some(EarlyStopping::GeneralizationLoss(alpha))
                if !(alpha.is_finite() && alpha > 0.0) =>
            {
                return Err(E::GeneralizationLoss { alpha }.into());
            }
            _ => {}
        }
        self.schedule.check()?;
        if let Some(beta) = self.weight_averaging
            && !(beta > 0.0 && beta < 1.0)
        {
            return Err(E::WeightAveraging { beta }.into());
        }
        Ok(())
    }

    fn needs_evaluation_accuracy(&self) -> bool {
        self.monitor.evaluation_accuracy
            || self.early_stopping.is_some()
            || matches!(self.schedule, Schedule::OnPlateau { .. })
    }
}

/// The figures of one epoch. Costs include every regularization penalty; accuracies are
/// fractions in [0, 1].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EpochRecord {
    /// The epoch, counted from 1.
    pub epoch: usize,
    /// The learning rate used in this epoch.
    pub eta: f32,
    /// Seconds spent training in this epoch (monitoring excluded); 0 on wasm32-unknown-unknown,
    /// which has no clock.
    pub seconds: f64,
    /// Average cost on the training data.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub training_cost: Option<f64>,
    /// Accuracy on the training data.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub training_accuracy: Option<f64>,
    /// Average cost on the evaluation data.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub evaluation_cost: Option<f64>,
    /// Accuracy on the evaluation data.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub evaluation_accuracy: Option<f64>,
}

/// A rule for ending a run early, judged on the evaluation accuracy after each epoch. The
/// chapter's rule, and Prechelt's generalization loss ("Early stopping — but when?", 1998) as
/// the alternative the chapter's exercise asks for.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub enum EarlyStopping {
    /// No-improvement-in-n: stop after this many epochs without a better evaluation accuracy.
    NoImprovement(usize),
    /// GL_α: stop once the generalization loss GL(t) = 100·(E(t)/E_opt(t) − 1) exceeds α, E(t)
    /// being the evaluation error rate (1 − accuracy) after epoch t and E_opt(t) the lowest one
    /// so far. It stops on the first bad epoch, however early, rather than waiting n epochs.
    GeneralizationLoss(f64),
}

impl EarlyStopping {
    /// Prechelt's GL(t) = 100·(E(t)/E_opt(t) − 1) for the accuracy after epoch t and the best
    /// accuracy so far; 0 when both error rates are 0.
    pub fn generalization_loss(accuracy: f64, best: f64) -> f64 {
        let (error, lowest) = (1.0 - accuracy, 1.0 - best);
        if error <= lowest {
            0.0
        } else {
            100.0 * (error / lowest - 1.0)
        }
    }

    /// Whether the run ends after an epoch with evaluation accuracy `accuracy`, the best so far
    /// being `best` and `stale` epochs having passed without improvement.
    fn stops(self, accuracy: f64, best: f64, stale: usize) -> bool {
        match self {
            Self::NoImprovement(patience) => stale >= patience,
            Self::GeneralizationLoss(alpha) => Self::generalization_loss(accuracy, best) > alpha,
        }
    }
}

/// Why a run ended before its last epoch.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum StopReason {
    /// The early-stopping rule ended the run.
    EarlyStopping(EarlyStopping),
    /// The schedule brought η down to its stopping fraction.
    LearningRateExhausted,
}

/// Everything a run needs to continue exactly where it was: saved in checkpoints.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrainingState {
    /// One record per finished epoch.
    pub history: Vec<EpochRecord>,
    /// The current learning rate.
    pub eta: f32,
    /// Best evaluation accuracy so far and the epoch that reached it.
    pub best: Option<(f64, usize)>,
    /// Parameters at the best epoch (kept when early stopping is on).
    pub best_params: Option<Vec<f32>>,
    /// The running average w̄ of the weights (kept when weight averaging is on).
    #[serde(default)]
    pub averaged_params: Option<Vec<f32>>,
    /// Epochs since the evaluation accuracy last improved.
    pub epochs_without_improvement: usize,
    /// Epochs since the schedule last changed η (or since the last improvement).
    pub epochs_since_eta_change: usize,
    /// Consecutive epochs at chance-level accuracy.
    pub chance_streak: usize,
    /// Set once the run has ended early.
    pub stopped: Option<StopReason>,
}

impl TrainingState {
    /// The state of a run before its first epoch, at learning rate `eta`.
    pub fn new(eta: f32) -> Self {
        Self {
            history: Vec::new(),
            eta,
            best: None,
            best_params: None,
            averaged_params: None,
            epochs_without_improvement: 0,
            epochs_since_eta_change: 0,
            chance_streak: 0,
            stopped: None,
        }
    }
}

/// Hears about training progress; the CLI draws its progress bars with it.
///
/// ```
/// use nn_core::{EpochRecord, Observer};
///
/// /// Prints one line per epoch.
/// struct Log;
///
/// impl Observer for Log {
///     fn epoch_done(&mut self, record: &EpochRecord) {
///         if let Some(accuracy) = record.evaluation_accuracy {
///             println!("epoch {}: {:.2}%", record.epoch, 100.0 * accuracy);
///         }
///     }
/// }
/// ```
pub trait Observer {
    /// `done` of `total` mini-batches of `epoch` (from 1) are finished. Returning
    /// [`ControlFlow::Break`] abandons the epoch: the trainer puts the network and the optimizer
    /// back as they were after the last completed epoch and returns
    /// [`TrainError::Interrupted`] (how a Ctrl-C stops training within a mini-batch).
    fn batch_done(&mut self, _epoch: usize, _done: usize, _total: usize) -> ControlFlow<()> {
        ControlFlow::Continue(())
    }
    /// An epoch has finished and been monitored.
    fn epoch_done(&mut self, _record: &EpochRecord) {}
    /// Something the user should know, e.g. accuracy stuck at chance level.
    fn warning(&mut self, _message: &str) {}
}

/// An observer that ignores everything.
#[derive(Debug, Default)]
pub struct Silent;

impl Observer for Silent {}

/// A finished run: its history, when it stopped and why.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct History {
    /// One record per epoch.
    pub epochs: Vec<EpochRecord>,
    /// Epoch (from 1) with the best evaluation accuracy, whose weights the network holds when
    /// early stopping is on.
    pub best_epoch: Option<usize>,
    /// Why the run ended early, if it did.
    pub stopped: Option<StopReason>,
}

/// Starts a clock: the function it gives returns the seconds since. wasm32-unknown-unknown has
/// no clock (std's `Instant` panics there), so its epochs record 0 seconds and the page that
/// runs them times them itself.
#[cfg(not(all(target_arch = "wasm32", target_os = "unknown")))]
fn stopwatch() -> impl Fn() -> f64 {
    let started = std::time::Instant::now();
    move || started.elapsed().as_secs_f64()
}

/// See the other target's `stopwatch`.
#[cfg(all(target_arch = "wasm32", target_os = "unknown"))]
fn stopwatch() -> impl Fn() -> f64 {
    || 0.0
}

/// The seed of one epoch: a SplitMix64 step of the run's seed and the epoch number, so epoch
/// k's shuffle, masks and transforms are the same whether or not the run was resumed.
pub fn epoch_seed(seed: u64, epoch: usize) -> u64 {
    let mut x = seed ^ (epoch as u64 + 1).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    x ^ (x >> 31)
}

/// Trains a network by mini-batch SGD (or another [`Optimizer`]).
///
/// [`Trainer::train`] runs every epoch; [`Trainer::run_epoch`] runs one, so a caller can do
/// something between epochs (save a checkpoint of [`Trainer::state`], stop), then
/// [`Trainer::finish`] hands the network back.
///
/// ```
/// use nn_core::{DenseExamples, Examples, Initializer, Monitor, Network, Sgd, Silent};
/// use nn_core::{EarlyStopping, TrainConfig, Trainer};
/// use nn_costs::CrossEntropyCost;
///
/// // Is the first input larger than the second?
/// let points: Vec<Vec<f32>> = (0..100)
///     .map(|i| vec![(i % 11) as f32 / 11.0, (i % 7) as f32 / 7.0])
///     .collect();
/// let classes = points.iter().map(|p| usize::from(p[0] > p[1])).collect();
/// let data = DenseExamples::classification(points, classes, 2);
///
/// let config = TrainConfig {
///     epochs: 8,
///     eta: 3.0,
///     early_stopping: Some(EarlyStopping::NoImprovement(3)),
///     monitor: Monitor { evaluation_accuracy: true, ..Monitor::default() },
///     ..TrainConfig::default()
/// };
/// let network = Network::sigmoid(&[2, 6, 2], Initializer::Default, 3)?;
/// let mut trainer = Trainer::new(network, &CrossEntropyCost, Box::new(Sgd), Vec::new(), config)?;
/// while !trainer.is_finished() {
///     let record = trainer.run_epoch(&data, Some(&data), &mut Silent)?;
///     assert!(record.evaluation_accuracy.is_some());
/// }
/// let (network, history) = trainer.finish();
/// // With early stopping the network keeps the weights of its best epoch.
/// let best = history.best_epoch.expect("an evaluated epoch");
/// let accuracy = network.evaluate(&data, &CrossEntropyCost).accuracy();
/// assert_eq!(Some(accuracy), history.epochs[best - 1].evaluation_accuracy);
/// # Ok::<(), nn_core::TrainError>(())
/// ```
pub struct Trainer<'c> {
    network: Network,
    cost: &'c dyn Cost,
    optimizer: Box<dyn Optimizer>,
    regularizers: Vec<Box<dyn Regularizer>>,
    transform: Option<Box<dyn EpochTransform>>,
    config: CheckedTrainConfig,
    state: TrainingState,
    workspace: Workspace,
    gradient: Vec<f32>,
    order: Vec<usize>,
    /// A scratch copy of the network for optimizers that probe the cost elsewhere.
    probe: Option<Network>,
    /// The parameters as the last completed epoch left them, put back when an observer
    /// interrupts an epoch.
    epoch_start: Vec<f32>,
}

impl std::fmt::Debug for Trainer<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Trainer")
            .field("sizes", &self.network.sizes())
            .field("cost", &self.cost.name())
            .field("optimizer", &self.optimizer.describe())
            .field("config", &self.config)
            .finish()
    }
}

impl<'c> Trainer<'c> {
    /// Prepares a run; fails on nonsensical hyper-parameters (checked here unless `config` is a
    /// [`CheckedTrainConfig`] already), a cost that is not defined for the
    /// network's output activation ([`Cost::check_output`]), a mini-batch whose buffers would
    /// exceed [`crate::MAX_WORKSPACE_BYTES`], or an optimizer that refuses the network.
    pub fn new(
        network: Network,
        cost: &'c dyn Cost,
        mut optimizer: Box<dyn Optimizer>,
        regularizers: Vec<Box<dyn Regularizer>>,
        config: impl ParamGuard<Checked = CheckedTrainConfig, Error = TrainError>,
    ) -> Result<Self, TrainError> {
        let config = config.check()?;
        if let Some(output) = network.activations().last() {
            cost.check_output(output.as_ref())?;
        }
        let workspace = Workspace::new(&network, config.batch_size)?;
        optimizer.prepare(network.params().len())?;
        let gradient = vec![0.0; network.params().len()];
        let state = TrainingState::new(config.eta);
        let probe = optimizer.needs_curvature().then(|| network.clone());
        Ok(Self {
            network,
            cost,
            optimizer,
            regularizers,
            transform: None,
            config,
            state,
            workspace,
            gradient,
            order: Vec::new(),
            probe,
            epoch_start: Vec::new(),
        })
    }

    /// Trains on the examples the transform supplies each epoch instead of the base set.
    pub fn with_transform(mut self, transform: Box<dyn EpochTransform>) -> Self {
        self.transform = Some(transform);
        self
    }

    /// Continues a checkpointed run: its state and the optimizer's state.
    pub fn resume(
        &mut self,
        state: TrainingState,
        optimizer_state: OptimizerState,
    ) -> Result<(), TrainError> {
        if state.history.len() > self.config.epochs {
            return Err(ResumeError::TooManyEpochs {
                saved: state.history.len(),
                asked: self.config.epochs,
            }
            .into());
        }
        for (params, what) in [
            (&state.best_params, "best"),
            (&state.averaged_params, "averaged"),
        ] {
            if params
                .as_ref()
                .is_some_and(|p| p.len() != self.network.params().len())
            {
                return Err(ResumeError::Weights { what }.into());
            }
        }
        self.optimizer.restore(optimizer_state)?;
        self.state = state;
        Ok(())
    }

    /// The network as it is now.
    pub fn network(&self) -> &Network {
        &self.network
    }

    /// The regularizers whose penalties the cost includes.
    pub fn regularizers(&self) -> &[Box<dyn Regularizer>] {
        &self.regularizers
    }

    /// The run's resumable state.
    pub fn state(&self) -> &TrainingState {
        &self.state
    }

    /// The optimizer's state, for checkpoints.
    pub fn optimizer_state(&self) -> OptimizerState {
        self.optimizer.state()
    }

    /// The run's hyper-parameters.
    pub fn config(&self) -> &TrainConfig {
        &self.config
    }

    /// True once every epoch has run or the run stopped early.
    pub fn is_finished(&self) -> bool {
        self.state.stopped.is_some() || self.state.history.len() >= self.config.epochs
    }

    /// Runs every remaining epoch and returns the trained network with its history.
    pub fn train(
        mut self,
        training: &dyn Examples,
        evaluation: Option<&dyn Examples>,
        observer: &mut dyn Observer,
    ) -> Result<(Network, History), TrainError> {
        while !self.is_finished() {
            self.run_epoch(training, evaluation, observer)?;
        }
        Ok(self.finish())
    }

    /// Ends the run: with early stopping, the network gets back the best weights it had;
    /// otherwise, with weight averaging, it takes the averaged weights.
    pub fn finish(mut self) -> (Network, History) {
        let kept = match self.config.early_stopping {
            Some(_) => self.state.best_params.take(),
            None => self.state.averaged_params.take(),
        };
        if let Some(kept) = kept {
            self.network.params_mut().copy_from_slice(&kept);
        }
        let history = History {
            epochs: self.state.history,
            best_epoch: self.state.best.map(|b| b.1),
            stopped: self.state.stopped,
        };
        (self.network, history)
    }

    /// Runs one epoch: shuffle, one update per mini-batch, then monitoring, early stopping,
    /// the schedule and the divergence guard. Returns the epoch's record.
    ///
    /// When `observer` breaks off the epoch ([`Observer::batch_done`]), the network and the
    /// optimizer are put back as the last completed epoch left them, the epoch is not counted,
    /// and the result is [`TrainError::Interrupted`]; the trainer can go on (or
    /// [`Trainer::finish`]) as if the epoch had never started.
    pub fn run_epoch(
        &mut self,
        training: &dyn Examples,
        evaluation: Option<&dyn Examples>,
        observer: &mut dyn Observer,
    ) -> Result<EpochRecord, TrainError> {
        self.network.check_shape(training, "training data")?;
        if let Some(evaluation) = evaluation {
            self.network.check_shape(evaluation, "evaluation data")?;
        } else if self.config.needs_evaluation_accuracy() || self.config.monitor.evaluation_cost {
            return Err(HyperParameterError::NeedsEvaluationData.into());
        }
        if training.is_empty() {
            return Err(TrainError::EmptyTrainingData);
        }
        let epoch = self.state.history.len() + 1;
        let seed = epoch_seed(self.config.seed, epoch);
        let eta = self.state.eta;
        let elapsed = stopwatch();
        let Self {
            network,
            cost,
            optimizer,
            regularizers,
            transform,
            config,
            workspace,
            gradient,
            order,
            probe,
            epoch_start,
            ..
        } = self;
        let data: &dyn Examples = match transform {
            Some(t) => t.epoch_examples(epoch - 1, seed, training)?,
            None => training,
        };
        let trained_on = data.len();
        epoch_start.clear();
        epoch_start.extend_from_slice(network.params());
        let optimizer_start = optimizer.state();
        let outcome = Batches {
            network,
            cost: *cost,
            optimizer: optimizer.as_mut(),
            regularizers,
            workspace,
            gradient,
            order,
            probe,
            batch_size: config.batch_size,
            eta,
        }
        .run(data, epoch, seed, observer)?;
        if outcome.is_break() {
            network.params_mut().copy_from_slice(epoch_start);
            optimizer.restore(optimizer_start)?;
            return Err(TrainError::Interrupted {
                epoch,
                completed: epoch - 1,
            });
        }
        let seconds = elapsed();
        if !self.network.is_finite() {
            return Err(TrainError::Diverged {
                epoch,
                what: "weights",
                eta,
            });
        }
        self.update_average(epoch);
        let record = self.monitored_with_average(|trainer| {
            trainer.monitor(epoch, eta, seconds, (training, trained_on), evaluation)
        })?;
        self.update_schedule(&record, observer);
        self.state.history.push(record.clone());
        observer.epoch_done(&record);
        Ok(record)
    }

    /// Polyak averaging after epoch t (from 1): w̄ ← w̄ + max(1 − β, 1/t)·(w − w̄).
    fn update_average(&mut self, epoch: usize) {
        let Some(beta) = self.config.weight_averaging else {
            return;
        };
        let params = self.network.params();
        let average = self
            .state
            .averaged_params
            .get_or_insert_with(|| params.to_vec());
        let rate = (1.0 - beta).max(1.0 / epoch as f32);
        for (a, &w) in average.iter_mut().zip(params) {
            *a += rate * (w - *a);
        }
    }

    /// Runs `f` with the averaged weights in the network when weight averaging is on, and puts
    /// the trained weights back afterwards.
    fn monitored_with_average<T>(&mut self, f: impl FnOnce(&mut Self) -> T) -> T {
        let Some(mut average) = self.state.averaged_params.take() else {
            return f(self);
        };
        self.network.params_mut().swap_with_slice(&mut average);
        let result = f(self);
        self.network.params_mut().swap_with_slice(&mut average);
        self.state.averaged_params = Some(average);
        result
    }

    fn monitor(
        &mut self,
        epoch: usize,
        eta: f32,
        seconds: f64,
        (training, trained_on): (&dyn Examples, usize),
        evaluation: Option<&dyn Examples>,
    ) -> Result<EpochRecord, TrainError> {
        let monitor = self.config.monitor;
        let mut record = EpochRecord {
            epoch,
            eta,
            seconds,
            training_cost: None,
            training_accuracy: None,
            evaluation_cost: None,
            evaluation_accuracy: None,
        };
        if monitor.training_cost || monitor.training_accuracy {
            let e = self.network.evaluate(training, self.cost);
            if monitor.training_cost {
                record.training_cost = Some(self.average_cost(&e, trained_on, epoch, eta)?);
            }
            if monitor.training_accuracy {
                record.training_accuracy = Some(e.accuracy());
            }
        }
        if let Some(evaluation) = evaluation
            && (monitor.evaluation_cost || self.config.needs_evaluation_accuracy())
        {
            let e = self.network.evaluate(evaluation, self.cost);
            if monitor.evaluation_cost {
                record.evaluation_cost = Some(self.average_cost(&e, e.count, epoch, eta)?);
            }
            if self.config.needs_evaluation_accuracy() {
                record.evaluation_accuracy = Some(e.accuracy());
            }
        }
        Ok(record)
    }

    /// The average cost of `evaluation` plus every penalty term for `n` examples. As in
    /// network2.py's `total_cost`, n is the size of the set the cost is reported for, or for the
    /// training cost the size of the set the epoch trained on (larger with offline expansion),
    /// so the reported cost is the one being minimised.
    fn average_cost(
        &self,
        evaluation: &Evaluation,
        n: usize,
        epoch: usize,
        eta: f32,
    ) -> Result<f64, TrainError> {
        let cost = regularized_cost(&self.network, &self.regularizers, evaluation, n);
        if cost.is_finite() {
            Ok(cost)
        } else {
            Err(TrainError::Diverged {
                epoch,
                what: "cost",
                eta,
            })
        }
    }

    fn update_schedule(&mut self, record: &EpochRecord, observer: &mut dyn Observer) {
        match &self.config.schedule {
            Schedule::Exponential { factor } => self.state.eta *= factor,
            Schedule::Steps(steps) => {
                if let Some(&(_, eta)) = steps.iter().find(|(k, _)| *k == record.epoch + 1) {
                    self.state.eta = eta;
                }
            }
            Schedule::Constant | Schedule::OnPlateau { .. } => {}
        }
        let Some(accuracy) = record.evaluation_accuracy.or(record.training_accuracy) else {
            return;
        };
        let classes = self.network.output_size().max(2) as f64;
        if accuracy <= 1.0 / classes + 0.02 {
            self.state.chance_streak += 1;
            if self.state.chance_streak == self.config.chance_epochs {
                observer.warning(&format!(
                    "accuracy has stayed at chance level ({:.1}%) for {} epochs: the learning rate (eta = {}) or the regularization may be far too large",
                    accuracy * 100.0,
                    self.state.chance_streak,
                    record.eta
                ));
            }
        } else {
            self.state.chance_streak = 0;
        }
        let Some(accuracy) = record.evaluation_accuracy else {
            return;
        };
        if self.state.best.is_none_or(|(best, _)| accuracy > best) {
            self.state.best = Some((accuracy, record.epoch));
            self.state.epochs_without_improvement = 0;
            self.state.epochs_since_eta_change = 0;
            if self.config.early_stopping.is_some() {
                let kept = self
                    .state
                    .averaged_params
                    .as_deref()
                    .unwrap_or(self.network.params());
                self.state.best_params = Some(kept.to_vec());
            }
        } else {
            self.state.epochs_without_improvement += 1;
            self.state.epochs_since_eta_change += 1;
        }
        if let Schedule::OnPlateau {
            patience,
            factor,
            stop_fraction,
        } = self.config.schedule
            && self.state.epochs_since_eta_change >= patience
        {
            self.state.eta *= factor;
            self.state.epochs_since_eta_change = 0;
            if self.state.eta <= self.config.eta * stop_fraction * (1.0 + 1e-6) {
                self.state.stopped = Some(StopReason::LearningRateExhausted);
            }
        }
        if let (Some(rule), Some((best, _))) = (self.config.early_stopping, self.state.best)
            && rule.stops(accuracy, best, self.state.epochs_without_improvement)
        {
            self.state.stopped = Some(StopReason::EarlyStopping(rule));
        }
    }
}

fn add_penalty_gradients(
    network: &Network,
    regularizers: &[Box<dyn Regularizer>],
    n: usize,
    gradient: &mut [f32],
) {
    for regularizer in regularizers {
        for shape in network.layers() {
            regularizer.add_weight_gradient(
                &network.params()[shape.weights.clone()],
                n,
                &mut gradient[shape.weights.clone()],
            );
        }
    }
}

/// The weight decay d of eq. 93 (the sum of every regularizer's [`Regularizer::weight_decay`]
/// for `n` examples) when the optimizer's step with these regularizers can be taken inside
/// backpropagation ([`Network::backprop_step`], [`Optimizer::fused`]), `None` when the step
/// needs the whole gradient.
fn fused_decay(
    optimizer: &mut dyn Optimizer,
    regularizers: &[Box<dyn Regularizer>],
    n: usize,
) -> Option<f32> {
    optimizer.fused()?;
    regularizers
        .iter()
        .try_fold(0.0, |decay, r| Some(decay + r.weight_decay(n)?))
}

/// What one epoch's mini-batches need of the trainer, borrowed apart from the epoch transform
/// that supplies their data.
struct Batches<'t> {
    network: &'t mut Network,
    cost: &'t dyn Cost,
    optimizer: &'t mut dyn Optimizer,
    regularizers: &'t [Box<dyn Regularizer>],
    workspace: &'t mut Workspace,
    gradient: &'t mut [f32],
    order: &'t mut Vec<usize>,
    probe: &'t mut Option<Network>,
    batch_size: usize,
    eta: f32,
}

impl Batches<'_> {
    /// Shuffles `data` with the epoch's seed and makes one update per mini-batch.
    fn run(
        self,
        data: &dyn Examples,
        epoch: usize,
        seed: u64,
        observer: &mut dyn Observer,
    ) -> Result<ControlFlow<()>, TrainError> {
        let Self {
            network,
            cost,
            optimizer,
            regularizers,
            workspace,
            gradient,
            order,
            probe,
            batch_size,
            eta,
        } = self;
        network.check_shape(data, "transformed training data")?;
        let n = data.len();
        let mut rng = StdRng::seed_from_u64(seed);
        order.clear();
        order.extend(0..n);
        order.shuffle(&mut rng);
        let total = n.div_ceil(batch_size);
        let layer_count = network.sizes().len();
        let fused = fused_decay(&mut *optimizer, regularizers, n).filter(|_| probe.is_none());
        for (done, batch) in order.chunks(batch_size).enumerate() {
            let m = batch.len();
            let sizes = network.sizes();
            workspace.load_and_draw_masks(data, batch, |masks, mask_active| {
                for (layer, (mask, active)) in masks.iter_mut().zip(mask_active).enumerate() {
                    let mask = &mut mask[..sizes[layer] * m];
                    // A mask no regularizer drew into is still all ones (as allocated).
                    if *active {
                        mask.fill(1.0);
                    }
                    *active = false;
                    for regularizer in regularizers {
                        *active |= regularizer.apply_mask(layer, layer_count, &mut rng, mask);
                    }
                }
            });
            let next = (done + 1) * batch_size;
            for &index in order
                .get(next..(next + batch_size).min(n))
                .unwrap_or_default()
            {
                data.prefetch(index);
            }
            if let Some((decay, step)) = fused.zip(optimizer.fused()) {
                network.backprop_step(workspace, m, cost, eta, decay, step);
            } else {
                network.backprop(workspace, m, cost, gradient);
                add_penalty_gradients(network, regularizers, n, gradient);
                match probe.as_mut() {
                    Some(probe) => {
                        let mut curvature = BatchCurvature {
                            network: probe,
                            workspace,
                            cost,
                            regularizers,
                            m,
                            n,
                        };
                        optimizer.curvature_step(
                            network.params_mut(),
                            gradient,
                            eta,
                            &mut curvature,
                        )?
                    }
                    None => optimizer.step(network.params_mut(), gradient, eta)?,
                }
            }
            network.for_each_weights_mut(|shape, weights| {
                regularizers
                    .iter()
                    .for_each(|r| r.constrain(shape, weights));
            });
            if observer.batch_done(epoch, done + 1, total).is_break() {
                return Ok(ControlFlow::Break(()));
            }
        }
        Ok(ControlFlow::Continue(()))
    }
}

/// The gradient of the current mini-batch's regularized cost at any parameters, for the
/// Hessian technique. It reuses the batch already loaded in the workspace (and its masks).
struct BatchCurvature<'a> {
    network: &'a mut Network,
    workspace: &'a mut Workspace,
    cost: &'a dyn Cost,
    regularizers: &'a [Box<dyn Regularizer>],
    m: usize,
    n: usize,
}

impl Curvature for BatchCurvature<'_> {
    fn gradient_at(&mut self, params: &[f32], gradient: &mut [f32]) {
        self.network.params_mut().copy_from_slice(params);
        self.network
            .backprop(self.workspace, self.m, self.cost, gradient);
        add_penalty_gradients(self.network, self.regularizers, self.n, gradient);
    }
}

/// The regularized cost C = C₀ + penalties averaged over every example of `data`, taken as one
/// mini-batch with n = `data.len()`, and its gradient as backpropagation computes it (laid out
/// like [`Network::params`]). Gradient checks compare it with finite differences of the cost.
///
/// # Panics
/// When the whole set does not fit one [`Workspace`] ([`Network::max_batch`]); this is meant for
/// small sets.
pub fn cost_and_gradient(
    network: &Network,
    cost: &dyn Cost,
    regularizers: &[Box<dyn Regularizer>],
    data: &dyn Examples,
) -> (f64, Vec<f32>) {
    let n = data.len();
    let mut workspace =
        Workspace::new(network, n).expect("a data set small enough for one mini-batch");
    let indices: Vec<usize> = (0..n).collect();
    workspace.load_indices(data, &indices);
    let mut gradient = vec![0.0; network.params().len()];
    network.backprop(&mut workspace, n, cost, &mut gradient);
    add_penalty_gradients(network, regularizers, n, &mut gradient);
    let evaluation = network.evaluate(data, cost);
    (
        regularized_cost(network, regularizers, &evaluation, n),
        gradient,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn step_schedules_parse_from_their_command_line_spelling() {
        assert_eq!(
            "steps:21=0.025".parse(),
            Ok(Schedule::Steps(vec![(21, 0.025)]))
        );
        assert_eq!(
            "steps:11=0.1,21=0.02".parse(),
            Ok(Schedule::Steps(vec![(11, 0.1), (21, 0.02)]))
        );
    }

    #[test]
    fn step_schedules_that_make_no_sense_are_refused_with_the_reason() {
        for (text, reason) in [
            ("steps:", "is not a step schedule"),
            ("steps:5", "is not a step schedule"),
            ("steps:5=x", "is not a step schedule"),
            ("steps:0=0.1", "step at epoch 0 must come after epoch 1"),
            ("steps:1=0.1", "step at epoch 1 must come after epoch 1"),
            ("steps:5=-1", "step at epoch 5 has eta = -1"),
            ("steps:5=0", "step at epoch 5 has eta = 0"),
            ("steps:5=1e39", "step at epoch 5 has eta = inf"),
            (
                "steps:5=0.1,3=0.2",
                "step at epoch 3 must come after epoch 5",
            ),
            (
                "steps:5=0.1,5=0.2",
                "step at epoch 5 must come after epoch 5",
            ),
        ] {
            let error = text.parse::<Schedule>().unwrap_err();
            assert!(error.contains(reason), "{text}: {error}");
            assert!(!error.contains('\n'), "{text}: one line: {error}");
        }
        assert_eq!(
            Schedule::Steps(Vec::new()).check(),
            Err(HyperParameterError::NoSteps)
        );
    }
}
