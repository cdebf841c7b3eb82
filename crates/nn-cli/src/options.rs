//! The flags of `nn train` and the resolved options of a run.
//!
//! [`TrainArgs`] is what the command line says: every training option is optional, so a resumed
//! run can tell the flags given now from those its checkpoint fixed. [`RunOptions`] is the
//! complete, serializable description of a run (the book's main run filling the gaps); it is
//! saved in checkpoints and metrics files. [`Recipe`] names whole presets of it, and
//! [`options_command`] writes it back as the `nn train` command line that reproduces the run.

use std::fmt;
use std::path::PathBuf;
use std::str::FromStr;

use anyhow::{Result, bail};
use clap::ValueEnum;
use nn_core::{Schedule, StandardizationKind};
use serde::{Deserialize, Serialize};

use crate::data_source::DataSource;

/// Examples shown by `nn train --help`.
pub const TRAIN_EXAMPLES: &str = "\
Examples:
  nn train
      the book's main run: 784,30,10 sigmoid network, cross-entropy, eta 0.5, mini-batch 10,
      30 epochs, L2 with lambda 5.0, validation accuracy monitored
  nn train --layers 784,100,10 --epochs 60 --save model.json --plot run.svg
  nn train --cost quadratic --lambda 0 --monitor training-cost,evaluation-accuracy
  nn train --cost log-likelihood --dropout 0.5 --expand shift,rotate,elastic --lr-schedule halve:10
  nn train --epochs 30 --checkpoint ckpt --metrics run.json
  nn train --recipe best --epochs 20       the preset aiming at 99.4% (see --help), shortened
  nn train --resume ckpt                   continue a checkpointed run where it stopped";

/// The cost function (`--cost`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Serialize, Deserialize)]
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
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Serialize, Deserialize)]
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
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum InitName {
    /// Weights from N(0, 1/n_in), biases from N(0, 1).
    Default,
    /// Weights and biases from N(0, 1) (Chapter 1's initialization).
    Large,
}

/// The update rule (`--optimizer`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Serialize, Deserialize)]
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
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Serialize, Deserialize)]
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
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Serialize, Deserialize)]
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
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Serialize, Deserialize)]
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
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum LrSchedule {
    /// η stays fixed.
    #[default]
    Constant,
    /// Halve η after this many epochs without a better evaluation accuracy; stop at η₀/128.
    Halve(usize),
    /// Multiply η by this factor after every epoch.
    Exponential(f32),
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
        })
    }
}

/// The flags of `nn train`. Training options left out take the book's main run's values (or,
/// with `--resume`, the checkpointed run's). Negative numbers are taken as values, so that
/// `--eta -1` meets the hyper-parameter's own check.
#[derive(Debug, Clone, Default, clap::Args)]
#[command(allow_negative_numbers = true)]
pub struct TrainArgs {
    /// Start from a preset; explicit flags override its values
    #[arg(long, value_enum)]
    pub recipe: Option<Recipe>,
    /// Layer sizes, input first; the first must be the pixels of an image (784 for MNIST) and
    /// the last the number of classes (10) [default: 784,30,10]
    #[arg(long, value_delimiter = ',', value_name = "SIZES")]
    pub layers: Option<Vec<usize>>,
    /// Cost function [default: cross-entropy]
    #[arg(long, value_enum)]
    pub cost: Option<CostName>,
    /// Activation of the hidden layers [default: sigmoid]
    #[arg(long, value_enum)]
    pub activation: Option<ActivationName>,
    /// Weight initialization [default: default]
    #[arg(long, value_enum)]
    pub init: Option<InitName>,
    /// Learning rate η > 0 [default: 0.5]
    #[arg(long)]
    pub eta: Option<f32>,
    /// Mini-batch size m >= 1, at most the number of training images [default: 10]
    #[arg(long, value_name = "M")]
    pub batch_size: Option<usize>,
    /// Number of epochs, at most 100000 (an upper bound with early stopping or a schedule)
    /// [default: 30]
    #[arg(long)]
    pub epochs: Option<usize>,
    /// L2 regularization parameter λ; 0 turns it off [default: 5.0]
    #[arg(long)]
    pub lambda: Option<f32>,
    /// L1 regularization parameter λ [default: 0, off]
    #[arg(long, value_name = "LAMBDA")]
    pub l1: Option<f32>,
    /// Dropout: probability P in [0, 1) of dropping each hidden neuron [default: 0, off]
    #[arg(long, value_name = "P")]
    pub dropout: Option<f32>,
    /// Dropout of the input pixels: probability P in [0, 1) (Hinton et al. use 0.2)
    /// [default: 0, off]
    #[arg(long, value_name = "P")]
    pub input_dropout: Option<f32>,
    /// Max-norm constraint: rescale each neuron's incoming weights to norm at most C after every
    /// update (Srivastava et al.) [default: off]
    #[arg(long, value_name = "C")]
    pub max_norm: Option<f32>,
    /// Update rule [default: sgd, or momentum when --momentum is given]
    #[arg(long, value_enum)]
    pub optimizer: Option<OptimizerName>,
    /// Momentum coefficient μ in [0, 1) for momentum and nesterov [default: 0.9]
    #[arg(long, value_name = "MU")]
    pub momentum: Option<f32>,
    /// Distortions drawn fresh each epoch to expand the training data, comma-separated
    #[arg(long, value_enum, value_delimiter = ',', value_name = "TRANSFORMS")]
    pub expand: Option<Vec<TransformName>>,
    /// With --expand: fraction F in [0, 1] of the images left undistorted each epoch
    /// [default: 0.5]
    #[arg(long, value_name = "F")]
    pub keep_original: Option<f32>,
    /// Train on the first N of the training images left after --holdout (MNIST: 50,000)
    /// [default: all]
    #[arg(long, value_name = "N")]
    pub train_size: Option<usize>,
    /// Train on the first N images of each class (after --train-size): a class-balanced
    /// few-shot set, e.g. 1 for one image per digit of MNIST [default: all]
    #[arg(long, value_name = "N")]
    pub per_class: Option<usize>,
    /// Monitor on the first N of the held-out validation images (MNIST: 10,000) [default: all]
    #[arg(long, value_name = "N")]
    pub validation_size: Option<usize>,
    /// Data monitored after each epoch [default: validation]
    #[arg(long, value_enum)]
    pub eval: Option<EvalSet>,
    /// Figures computed after each epoch, comma-separated [default: evaluation-accuracy]
    #[arg(long, value_enum, value_delimiter = ',', value_name = "FIGURES")]
    pub monitor: Option<Vec<MonitorItem>>,
    /// Stop after N epochs without a better evaluation accuracy and keep the best weights
    #[arg(long, value_name = "N")]
    pub early_stopping: Option<usize>,
    /// Learning-rate schedule: halve:N halves η after N epochs without improvement and stops at
    /// η/128; exp:F multiplies η by F (0.001 <= F < 1) after every epoch [default: constant]
    #[arg(long, value_name = "SCHEDULE")]
    pub lr_schedule: Option<LrSchedule>,
    /// Polyak averaging: monitor, early-stop and keep the average w̄ of the weights over the
    /// epochs, updated as w̄ ← β w̄ + (1 − β) w after each epoch (a plain mean over the first
    /// 1/(1 − β) epochs); β in (0, 1), e.g. 0.9 [default: off]
    #[arg(long, value_name = "BETA")]
    pub average_weights: Option<f32>,
    /// Train and test on inverted images (dark digits on a light background)
    #[arg(long)]
    pub invert: bool,
    /// Standardize the inputs with statistics of the training images, stored in the model and
    /// applied by eval and predict: none, global (one mean and deviation over all pixels) or
    /// pixel (per pixel, deviations floored at a tenth of the global one) [default: none]
    #[arg(long, value_name = "KIND")]
    pub normalize: Option<StandardizationKind>,
    /// Seed of the initial weights, shuffling, dropout and distortions [default: 0]
    #[arg(long)]
    pub seed: Option<u64>,
    /// Number of worker threads, 1 to 256 [default: one per core]
    #[arg(long, value_name = "T")]
    pub threads: Option<usize>,
    /// The data set.
    #[command(flatten)]
    pub data: DataSource,
    /// Save the trained model (network2.py-compatible JSON)
    #[arg(long, value_name = "MODEL.json")]
    pub save: Option<PathBuf>,
    /// Write a checkpoint into DIR after every epoch
    #[arg(long, value_name = "DIR")]
    pub checkpoint: Option<PathBuf>,
    /// Let --checkpoint DIR replace the checkpoint of another run held there
    #[arg(long)]
    pub overwrite_checkpoint: bool,
    /// Continue the run checkpointed in DIR (its options apply; --epochs may extend it; other
    /// training flags must repeat the saved values) on the same data
    #[arg(long, value_name = "DIR")]
    pub resume: Option<PathBuf>,
    /// Plot cost and accuracy per epoch (.png or .svg)
    #[arg(long, value_name = "FILE")]
    pub plot: Option<PathBuf>,
    /// Write the per-epoch figures and the test accuracy as JSON
    #[arg(long, value_name = "FILE.json")]
    pub metrics: Option<PathBuf>,
    /// Print nothing but warnings and errors
    #[arg(long)]
    pub quiet: bool,
}

/// Everything that determines a run's result: the training options with every default filled
/// in. Output files, thread count and data location are not part of it.
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
    /// Distortions applied each epoch (empty = none).
    pub expand: Vec<TransformName>,
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
    /// The options the flags ask for, on top of `base` (the defaults, or a checkpoint's).
    pub fn from_args(args: &TrainArgs, base: RunOptions) -> Self {
        let mut o = base;
        macro_rules! take {
            ($($field:ident),*) => {
                $(if let Some(v) = &args.$field { o.$field = v.clone(); })*
            };
        }
        take!(
            layers,
            cost,
            activation,
            init,
            eta,
            batch_size,
            epochs,
            lambda,
            l1,
            dropout,
            input_dropout,
            optimizer,
            momentum,
            expand,
            keep_original,
            eval,
            monitor,
            lr_schedule,
            normalize,
            seed
        );
        if args.train_size.is_some() {
            o.train_size = args.train_size;
        }
        if args.per_class.is_some() {
            o.per_class = args.per_class;
        }
        if args.validation_size.is_some() {
            o.validation_size = args.validation_size;
        }
        if args.early_stopping.is_some() {
            o.early_stopping = args.early_stopping;
        }
        if args.max_norm.is_some() {
            o.max_norm = args.max_norm;
        }
        if args.average_weights.is_some() {
            o.average_weights = args.average_weights;
        }
        if args.momentum.is_some() && args.optimizer.is_none() && o.optimizer == OptimizerName::Sgd
        {
            o.optimizer = OptimizerName::Momentum;
        }
        o.invert |= args.invert;
        o
    }

    /// Whether a figure is monitored.
    pub fn monitors(&self, item: MonitorItem) -> bool {
        self.monitor.contains(&item)
    }
}

/// The training flags given alongside `--resume` whose values differ from the checkpoint's
/// `saved` options: an error names each with the saved and the given value. Flags that repeat
/// the saved values are accepted (the same command with `--resume` added), and `--epochs` may
/// extend the run.
pub fn check_resume_flags(args: &TrainArgs, saved: &RunOptions) -> Result<()> {
    let base = args.recipe.map_or_else(|| saved.clone(), |r| r.options());
    let given = RunOptions::from_args(args, base);
    // A value as on the command line, from its JSON form: `0.5`, `cross-entropy`, `784,30,10`.
    let show = |json: String| match json.as_str() {
        "null" => "none".to_string(),
        text => text
            .trim_start_matches('[')
            .trim_end_matches(']')
            .replace('"', ""),
    };
    let mut differing = Vec::new();
    macro_rules! compare {
        ($($field:ident => $flag:literal),* $(,)?) => {
            $(if given.$field != saved.$field {
                differing.push(format!(
                    "{} (saved {}, given {})",
                    $flag,
                    show(serde_json::to_string(&saved.$field).unwrap_or_default()),
                    show(serde_json::to_string(&given.$field).unwrap_or_default())
                ));
            })*
        };
    }
    compare!(
        layers => "--layers",
        cost => "--cost",
        activation => "--activation",
        init => "--init",
        eta => "--eta",
        batch_size => "--batch-size",
        lambda => "--lambda",
        l1 => "--l1",
        dropout => "--dropout",
        input_dropout => "--input-dropout",
        max_norm => "--max-norm",
        optimizer => "--optimizer",
        momentum => "--momentum",
        expand => "--expand",
        keep_original => "--keep-original",
        train_size => "--train-size",
        per_class => "--per-class",
        validation_size => "--validation-size",
        eval => "--eval",
        monitor => "--monitor",
        early_stopping => "--early-stopping",
        lr_schedule => "--lr-schedule",
        average_weights => "--average-weights",
        invert => "--invert",
        normalize => "--normalize",
        seed => "--seed",
    );
    if !differing.is_empty() {
        bail!(
            "--resume continues a run with the options saved in its checkpoint, but {}{} differ{}; \
             drop {} or start a new run",
            args.recipe
                .and_then(|r| r.to_possible_value())
                .map_or_else(String::new, |r| format!("with --recipe {} ", r.get_name())),
            differing.join(", "),
            if differing.len() == 1 { "s" } else { "" },
            if differing.len() == 1 { "it" } else { "them" }
        );
    }
    Ok(())
}

/// A preset configuration (`--recipe`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Serialize, Deserialize)]
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

/// The `nn train` command line that trains with `o`, every option spelled out.
pub fn options_command(o: &RunOptions) -> String {
    let mut line = format!(
        "nn train --layers {} --cost {} --activation {} --init {} --eta {} --batch-size {} \
         --epochs {} --lambda {}",
        join(&o.layers),
        o.cost.flag(),
        o.activation.spec(),
        value_name(&o.init),
        o.eta,
        o.batch_size,
        o.epochs,
        o.lambda
    );
    let mut add = |s: String| {
        line.push(' ');
        line.push_str(&s);
    };
    if o.l1 != 0.0 {
        add(format!("--l1 {}", o.l1));
    }
    if o.dropout != 0.0 {
        add(format!("--dropout {}", o.dropout));
    }
    if o.input_dropout != 0.0 {
        add(format!("--input-dropout {}", o.input_dropout));
    }
    if let Some(c) = o.max_norm {
        add(format!("--max-norm {c}"));
    }
    if o.optimizer != OptimizerName::Sgd {
        add(format!(
            "--optimizer {} --momentum {}",
            value_name(&o.optimizer),
            o.momentum
        ));
    }
    if !o.expand.is_empty() {
        let names: Vec<String> = o.expand.iter().map(value_name).collect();
        add(format!("--expand {}", names.join(",")));
        if o.keep_original != RunOptions::default().keep_original {
            add(format!("--keep-original {}", o.keep_original));
        }
    }
    if let Some(n) = o.train_size {
        add(format!("--train-size {n}"));
    }
    if let Some(n) = o.per_class {
        add(format!("--per-class {n}"));
    }
    if let Some(n) = o.validation_size {
        add(format!("--validation-size {n}"));
    }
    add(format!("--eval {}", o.eval.name()));
    if o.monitor.is_empty() {
        // An empty list cannot be written on the command line; accuracy is the cheapest.
        add("--monitor evaluation-accuracy".to_string());
    } else {
        let names: Vec<String> = o.monitor.iter().map(value_name).collect();
        add(format!("--monitor {}", names.join(",")));
    }
    if let Some(n) = o.early_stopping {
        add(format!("--early-stopping {n}"));
    }
    if o.lr_schedule != crate::options::LrSchedule::Constant {
        add(format!("--lr-schedule {}", o.lr_schedule));
    }
    if let Some(beta) = o.average_weights {
        add(format!("--average-weights {beta}"));
    }
    if o.invert {
        add("--invert".to_string());
    }
    add(format!("--seed {}", o.seed));
    line
}

/// The command-line spelling of a value enum.
fn value_name<T: clap::ValueEnum>(value: &T) -> String {
    value
        .to_possible_value()
        .map(|v| v.get_name().to_string())
        .unwrap_or_default()
}

/// Sizes written as on the command line: `784,30,10`.
pub fn join(sizes: &[usize]) -> String {
    sizes
        .iter()
        .map(usize::to_string)
        .collect::<Vec<_>>()
        .join(",")
}
