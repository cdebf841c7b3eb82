//! The complete, serializable description of a run ([`RunOptions`], the book's main run by
//! default) and its presets ([`Recipe`]): plain data, checked once into
//! [`crate::CheckedRunOptions`] by [`crate::compose`]. Errors name an option by its
//! [`crate::Field`].

use std::fmt;
use std::str::FromStr;

use nn_core::{Schedule, StandardizationKind};
use serde::{Deserialize, Serialize};

use crate::error::OptionDifference;
use crate::field::Field;

/// The cost function (`--cost`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "clap", derive(clap::ValueEnum))]
#[serde(rename_all = "kebab-case")]
pub enum CostName {
    /// C = ½‖y − a‖² (eq. 6), with sigmoid output neurons.
    Quadratic,
    /// The cross-entropy (eq. 63), with sigmoid output neurons.
    CrossEntropy,
    /// C = −ln a_y (eq. 80), with a softmax output layer.
    LogLikelihood,
}

impl CostName {
    /// Every cost.
    pub const ALL: [Self; 3] = [Self::Quadratic, Self::CrossEntropy, Self::LogLikelihood];

    /// The name of `cost`, one of nn-costs' costs.
    ///
    /// ```
    /// use nn_train::CostName;
    /// let cost = nn_costs::cost_by_name("CrossEntropyCost").unwrap();
    /// assert_eq!(CostName::of(cost), Some(CostName::CrossEntropy));
    /// ```
    pub fn of(cost: &dyn nn_core::Cost) -> Option<Self> {
        Self::ALL
            .into_iter()
            .find(|name| name.cost().name() == cost.name())
    }

    /// The cost function: C = ½‖y − a‖² (eq. 6), the cross-entropy (eq. 63) or the
    /// log-likelihood C = −ln a_y (eq. 80), from nn-costs.
    ///
    /// ```
    /// use nn_train::CostName;
    /// assert_eq!(CostName::LogLikelihood.cost().name(), "LogLikelihoodCost");
    /// ```
    pub fn cost(self) -> &'static dyn nn_core::Cost {
        nn_costs::cost_by_name(self.flag()).expect("every cost name names a cost of nn-costs")
    }

    /// The name as written on the command line.
    pub fn flag(self) -> &'static str {
        match self {
            Self::Quadratic => "quadratic",
            Self::CrossEntropy => "cross-entropy",
            Self::LogLikelihood => "log-likelihood",
        }
    }
}

/// The activation of the hidden layers (`--activation`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "clap", derive(clap::ValueEnum))]
#[serde(rename_all = "kebab-case")]
pub enum ActivationName {
    /// σ(z) = 1/(1 + e^−z).
    Sigmoid,
    /// tanh(z).
    Tanh,
    /// max(0, z).
    Relu,
}

impl ActivationName {
    /// The specification nn-core understands.
    pub fn spec(self) -> &'static str {
        match self {
            Self::Sigmoid => "sigmoid",
            Self::Tanh => "tanh",
            Self::Relu => "relu",
        }
    }
}

/// The weight initialization (`--init`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "clap", derive(clap::ValueEnum))]
#[serde(rename_all = "kebab-case")]
pub enum InitName {
    /// Weights from N(0, 1/n_in), biases from N(0, 1).
    Default,
    /// Weights and biases from N(0, 1) (Chapter 1's initialization).
    Large,
}

/// The update rule (`--optimizer`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "clap", derive(clap::ValueEnum))]
#[serde(rename_all = "kebab-case")]
pub enum OptimizerName {
    /// Plain stochastic gradient descent.
    Sgd,
    /// Momentum-based gradient descent (eqs. 107-108), with `--momentum`.
    Momentum,
    /// Nesterov's accelerated gradient, with `--momentum`.
    Nesterov,
    /// Adam with its usual constants.
    Adam,
    /// The damped Hessian technique (eq. 106); small networks only.
    Newton,
}

/// A distortion for artificially expanding the training data (`--expand`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "clap", derive(clap::ValueEnum))]
#[serde(rename_all = "kebab-case")]
pub enum TransformName {
    /// Shift by up to two pixels.
    Shift,
    /// Rotate by up to 15 degrees.
    Rotate,
    /// Shear horizontally.
    Skew,
    /// Scale by up to 15%.
    Scale,
    /// Elastic distortion (Simard et al.).
    Elastic,
    /// Rotation, scaling of each axis and elastic distortion at once (Ciresan et al.).
    AffineElastic,
}

/// The data monitored during training (`--eval`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "clap", derive(clap::ValueEnum))]
#[serde(rename_all = "kebab-case")]
pub enum EvalSet {
    /// The validation images held out from the end of the training file (--holdout; MNIST's
    /// last 10,000).
    Validation,
    /// The test images.
    Test,
}

impl EvalSet {
    /// The set's name in output lines.
    pub fn name(self) -> &'static str {
        match self {
            Self::Validation => "validation",
            Self::Test => "test",
        }
    }
}

/// One figure computed after each epoch (`--monitor`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "clap", derive(clap::ValueEnum))]
#[serde(rename_all = "kebab-case")]
pub enum MonitorItem {
    /// Cost on the training data.
    TrainingCost,
    /// Accuracy on the training data.
    TrainingAccuracy,
    /// Cost on the evaluation data.
    EvaluationCost,
    /// Accuracy on the evaluation data.
    EvaluationAccuracy,
}

/// The learning-rate schedule (`--lr-schedule`).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum LrSchedule {
    /// η stays fixed.
    #[default]
    Constant,
    /// Halve η after this many epochs without a better evaluation accuracy; stop at η₀/128.
    Halve(usize),
    /// Multiply η by this factor after every epoch.
    Exponential(f32),
    /// From epoch k on, η = x, for each (k, x) ([`Schedule::Steps`]).
    Steps(Vec<(usize, f32)>),
}

/// Most epochs of a run (`--epochs`): the chapter's longest runs take a few hundred.
pub const MAX_EPOCHS: usize = 100_000;

impl fmt::Display for LrSchedule {
    /// The command-line spelling, which [`FromStr`] reads back.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Constant => write!(f, "constant"),
            Self::Halve(n) => write!(f, "halve:{n}"),
            Self::Exponential(factor) => write!(f, "exp:{factor}"),
            Self::Steps(steps) => {
                let steps: Vec<String> = steps.iter().map(|(k, x)| format!("{k}={x}")).collect();
                write!(f, "steps:{}", steps.join(","))
            }
        }
    }
}

impl FromStr for LrSchedule {
    type Err = String;

    /// Reads the spellings of [`Schedule::from_str`], the library's one parser.
    fn from_str(s: &str) -> Result<Self, String> {
        Ok(match s.parse::<Schedule>()? {
            Schedule::Constant => Self::Constant,
            Schedule::OnPlateau { patience, .. } => Self::Halve(patience),
            Schedule::Exponential { factor } => Self::Exponential(factor),
            Schedule::Steps(steps) => Self::Steps(steps),
        })
    }
}

impl LrSchedule {
    /// The schedule nn-core's trainer runs.
    pub fn schedule(&self) -> Schedule {
        match *self {
            Self::Constant => Schedule::Constant,
            Self::Halve(patience) => Schedule::halving(patience),
            Self::Exponential(factor) => Schedule::Exponential { factor },
            Self::Steps(ref steps) => Schedule::Steps(steps.clone()),
        }
    }
}

/// Everything that determines a run's result: the training options with every default filled
/// in. Output files, thread count and data location are not part of it. The default is the
/// book's main run; [`ParamGuard::check`](nn_core::ParamGuard::check) checks it once into a [`CheckedRunOptions`](crate::CheckedRunOptions).
///
/// ```
/// use nn_train::{CostName, Recipe, RunOptions};
///
/// let book = RunOptions::default();
/// assert_eq!((book.layers.as_slice(), book.eta, book.lambda), (&[784, 30, 10][..], 0.5, 5.0));
/// assert_eq!(Recipe::Book.options(), book);
/// // Serializable: checkpoints and metrics files keep it as JSON.
/// let json = serde_json::to_string(&book)?;
/// assert_eq!(serde_json::from_str::<RunOptions>(&json)?, book);
/// let best = Recipe::Best.options();
/// assert_eq!(best.cost, CostName::LogLikelihood);
/// # Ok::<(), serde_json::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunOptions {
    /// Layer sizes, input first.
    pub layers: Vec<usize>,
    /// Cost function.
    pub cost: CostName,
    /// Hidden-layer activation.
    pub activation: ActivationName,
    /// Weight initialization.
    pub init: InitName,
    /// Learning rate.
    pub eta: f32,
    /// Mini-batch size.
    pub batch_size: usize,
    /// Number of epochs.
    pub epochs: usize,
    /// L2 parameter (0 = off).
    pub lambda: f32,
    /// L1 parameter (0 = off).
    pub l1: f32,
    /// Dropout probability (0 = off).
    pub dropout: f32,
    /// Input dropout probability (0 = off).
    #[serde(default)]
    pub input_dropout: f32,
    /// Max-norm bound (`None` = off).
    #[serde(default)]
    pub max_norm: Option<f32>,
    /// Update rule.
    pub optimizer: OptimizerName,
    /// Momentum coefficient for momentum and Nesterov.
    pub momentum: f32,
    /// Distortions for artificially expanding the training data (empty = none): in each epoch,
    /// every image outside the `keep_original` fraction (drawn afresh each epoch) is distorted
    /// by one of them, chosen at random; with `expand_copies`, copies made once instead.
    pub expand: Vec<TransformName>,
    /// Offline expansion: the training images followed by this many distorted copies of them,
    /// made once from the run's seed (the images `nn data expand --copies N --seed S` writes),
    /// instead of fresh distortions each epoch (`None`).
    #[serde(default)]
    pub expand_copies: Option<usize>,
    /// Fraction of the images left undistorted each epoch of `expand`.
    #[serde(default = "default_keep_original")]
    pub keep_original: f32,
    /// Number of training images used (`None` = all).
    pub train_size: Option<usize>,
    /// Images of each class kept for training (`None` = all).
    #[serde(default)]
    pub per_class: Option<usize>,
    /// Number of validation images used (`None` = all).
    pub validation_size: Option<usize>,
    /// The monitored data.
    pub eval: EvalSet,
    /// The monitored figures.
    pub monitor: Vec<MonitorItem>,
    /// Early-stopping patience.
    pub early_stopping: Option<usize>,
    /// Learning-rate schedule.
    pub lr_schedule: LrSchedule,
    /// Polyak averaging factor β of the weights (`None` = off).
    #[serde(default)]
    pub average_weights: Option<f32>,
    /// Inverted images.
    pub invert: bool,
    /// Input standardization fitted on the training images.
    #[serde(default)]
    pub normalize: StandardizationKind,
    /// Seed.
    pub seed: u64,
}

/// Half of the images stay undistorted in each epoch of `--expand`, so the network keeps
/// seeing real handwriting.
fn default_keep_original() -> f32 {
    0.5
}

impl Default for RunOptions {
    /// The book's main run of Chapter 3 (network2.py's example).
    fn default() -> Self {
        Self {
            layers: vec![784, 30, 10],
            cost: CostName::CrossEntropy,
            activation: ActivationName::Sigmoid,
            init: InitName::Default,
            eta: 0.5,
            batch_size: 10,
            epochs: 30,
            lambda: 5.0,
            l1: 0.0,
            dropout: 0.0,
            input_dropout: 0.0,
            max_norm: None,
            optimizer: OptimizerName::Sgd,
            momentum: 0.9,
            expand: Vec::new(),
            expand_copies: None,
            keep_original: default_keep_original(),
            train_size: None,
            per_class: None,
            validation_size: None,
            eval: EvalSet::Validation,
            monitor: vec![MonitorItem::EvaluationAccuracy],
            early_stopping: None,
            lr_schedule: LrSchedule::Constant,
            average_weights: None,
            invert: false,
            normalize: StandardizationKind::None,
            seed: 0,
        }
    }
}

impl RunOptions {
    /// Whether a figure is monitored.
    pub fn monitors(&self, item: MonitorItem) -> bool {
        self.monitor.contains(&item)
    }

    /// Sets the momentum coefficient μ; plain SGD given one becomes momentum-based gradient
    /// descent (eqs. 107-108), since a coefficient for a rule that has none would otherwise be
    /// ignored without a word. Another rule (Nesterov, Adam) is kept. `nn train --momentum`
    /// and Python's `momentum=` keyword both mean this.
    ///
    /// ```
    /// use nn_train::{OptimizerName, RunOptions};
    /// let mut options = RunOptions::default();
    /// options.set_momentum(0.9);
    /// assert_eq!(options.optimizer, OptimizerName::Momentum);
    /// ```
    pub fn set_momentum(&mut self, momentum: f32) {
        self.momentum = momentum;
        if self.optimizer == OptimizerName::Sgd {
            self.optimizer = OptimizerName::Momentum;
        }
    }

    /// The options as a JSON object, one entry per [`Field`] under its name (as the metrics
    /// and checkpoint files keep them); `serde_json::from_value` reads it back.
    ///
    /// ```
    /// let fields = nn_train::RunOptions::default().to_fields();
    /// assert_eq!(fields["eta"], 0.5);
    /// assert!(fields.keys().all(|name| nn_train::Field::from_name(name).is_some()));
    /// ```
    pub fn to_fields(&self) -> serde_json::Map<String, serde_json::Value> {
        match serde_json::to_value(self) {
            Ok(serde_json::Value::Object(map)) => map,
            _ => unreachable!("run options serialize as an object"),
        }
    }

    /// The options in which these differ from `saved`, a checkpoint's, other than `epochs`
    /// (which a resumed run may extend): a run resumed with any of them changed would not end
    /// as the run never interrupted, so [`crate::Run::resume`] refuses them.
    ///
    /// ```
    /// use nn_train::{Field, RunOptions};
    ///
    /// let saved = RunOptions::default();
    /// let given = RunOptions { eta: 0.1, epochs: 60, ..RunOptions::default() };
    /// let differences = given.differences(&saved);
    /// assert_eq!(differences.len(), 1);
    /// assert_eq!(differences[0].field, Field::Eta);
    /// assert_eq!(differences[0].to_string(), "`eta` (saved 0.5, given 0.1)");
    /// ```
    pub fn differences(&self, saved: &RunOptions) -> Vec<OptionDifference> {
        let (given, saved) = (self.to_fields(), saved.to_fields());
        given
            .into_iter()
            .filter(|(name, value)| name != "epochs" && saved.get(name) != Some(value))
            .map(|(name, given)| OptionDifference {
                field: Field::from_name(&name).expect("every option is a field"),
                saved: saved.get(&name).cloned().unwrap_or_default(),
                given,
            })
            .collect()
    }
}

/// A preset configuration (`--recipe`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "clap", derive(clap::ValueEnum))]
#[serde(rename_all = "kebab-case")]
pub enum Recipe {
    /// The book's main run (the defaults): 784,30,10 sigmoid, cross-entropy, eta 0.5, batch 10,
    /// lambda 5.0, 30 epochs
    Book,
    /// Beyond the book, aiming at >= 99.4% with a fully-connected net: 784,800,800,10 ReLU,
    /// softmax + log-likelihood, dropout 0.2, L2 lambda 5.0, momentum 0.9, eta 0.05 multiplied
    /// by 0.985 after every epoch, batch 100, fresh affine + elastic distortions of 80% of the
    /// images each epoch, Polyak averaging of the weights over epochs (beta 0.9), early stopping
    /// on the averaged weights after 100 epochs without a better validation accuracy, at most
    /// 350 epochs
    Best,
}

impl Recipe {
    /// The options of the preset.
    pub fn options(self) -> RunOptions {
        match self {
            Self::Book => RunOptions::default(),
            Self::Best => RunOptions {
                layers: vec![784, 800, 800, 10],
                cost: CostName::LogLikelihood,
                activation: ActivationName::Relu,
                init: InitName::Default,
                eta: 0.05,
                batch_size: 100,
                epochs: 350,
                lambda: 5.0,
                l1: 0.0,
                dropout: 0.2,
                optimizer: OptimizerName::Momentum,
                momentum: 0.9,
                expand: vec![TransformName::AffineElastic],
                keep_original: 0.2,
                eval: EvalSet::Validation,
                monitor: vec![MonitorItem::EvaluationAccuracy],
                early_stopping: Some(100),
                lr_schedule: LrSchedule::Exponential(0.985),
                average_weights: Some(0.9),
                ..RunOptions::default()
            },
        }
    }
}

/// Sizes written as on the command line: `784,30,10`.
pub fn join(sizes: &[usize]) -> String {
    sizes
        .iter()
        .map(usize::to_string)
        .collect::<Vec<_>>()
        .join(",")
}
