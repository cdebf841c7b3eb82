//! Errors of the core: every message is one line that says what is wrong and how to fix it.

use std::path::PathBuf;

/// A network could not be built, loaded or saved.
#[derive(Debug, thiserror::Error)]
pub enum NetworkError {
    /// Fewer than two layers, or a layer of size zero.
    #[error(
        "invalid layer sizes {}: give at least an input and an output layer, each of size 1 or more",
        list_text(.0)
    )]
    InvalidSizes(Vec<usize>),
    /// An activation name that is not known.
    #[error(
        "unknown activation '{0}': use sigmoid, tanh, relu, identity, softmax or softmax:C with C > 0"
    )]
    UnknownActivation(String),
    /// The number of activations does not match the number of layers.
    #[error("{given} activations given for {layers} weighted layers")]
    ActivationCount {
        /// Activations given.
        given: usize,
        /// Weighted layers (layer sizes minus one).
        layers: usize,
    },
    /// More weighted layers than [`crate::MAX_LAYERS`].
    #[error("{layers} weighted layers are more than the limit of {limit}")]
    TooManyLayers {
        /// The number of weighted layers asked for.
        layers: usize,
        /// The limit.
        limit: usize,
    },
    /// Layer sizes whose weights and biases would exceed [`crate::MAX_PARAMETERS`].
    #[error(
        "layer sizes {} need {} parameters, more than the limit of {limit} (1 GiB of \
         32-bit numbers); use smaller layers",
        list_text(sizes),
        count_text(*count)
    )]
    TooManyParameters {
        /// The layer sizes asked for.
        sizes: Vec<usize>,
        /// The number of weights and biases, `None` when it overflows `usize`.
        count: Option<usize>,
        /// The limit.
        limit: usize,
    },
    /// Mini-batch buffers that would exceed [`crate::MAX_WORKSPACE_BYTES`].
    #[error(
        "a mini-batch of {batch} examples for layer sizes {} needs {} bytes of buffers, \
         more than the limit of {limit} (2 GiB); {}",
        list_text(sizes),
        count_text(*bytes),
        if *max_batch == 0 {
            "use smaller layers".to_string()
        } else {
            format!("use a mini-batch of at most {max_batch}")
        }
    )]
    WorkspaceTooLarge {
        /// The layer sizes.
        sizes: Vec<usize>,
        /// The mini-batch size asked for.
        batch: usize,
        /// The bytes the buffers would take, `None` when the count overflows `usize`.
        bytes: Option<usize>,
        /// The limit.
        limit: usize,
        /// The largest mini-batch whose buffers fit (0 when not even one example fits).
        max_batch: usize,
    },
    /// An input standardization that does not fit the network or holds unusable statistics.
    #[error("invalid input standardization: {0}")]
    InvalidStandardization(String),
    /// A saved model whose contents do not describe a valid network.
    #[error("{path}: {problem}")]
    InvalidModel {
        /// The model file.
        path: PathBuf,
        /// What is wrong, e.g. "layer 1 weights have 29 rows, expected 30".
        problem: Box<ModelError>,
    },
    /// A model file larger than [`crate::model::MAX_MODEL_FILE_BYTES`].
    #[error(
        "{path}: the file has {bytes} bytes, more than the limit of {limit} for a model file; \
         it is not a model written by nn or network2.py"
    )]
    ModelFileTooLarge {
        /// The model file.
        path: PathBuf,
        /// Its size, or the bytes read before the limit was passed.
        bytes: u64,
        /// The limit.
        limit: u64,
    },
    /// Reading or writing a file failed.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The operating-system error.
        source: std::io::Error,
    },
}

/// What is wrong with model JSON (see [`crate::model_from_json`]).
#[derive(Debug, thiserror::Error)]
pub enum ModelError {
    /// Text that is not JSON, or JSON without the keys and types of a model.
    #[error("not a model file: {0}")]
    Syntax(#[from] serde_json::Error),
    /// Sizes, activations or standardization that do not describe a network we can build.
    #[error(transparent)]
    Network(#[from] NetworkError),
    /// A number of weight or bias layers that does not match the sizes.
    #[error(
        "sizes {} need {expected} weight and bias layers, the file has {weights} and {biases}",
        list_text(sizes)
    )]
    LayerCount {
        /// The sizes in the file.
        sizes: Vec<usize>,
        /// Weighted layers the sizes describe.
        expected: usize,
        /// Weight layers in the file.
        weights: usize,
        /// Bias layers in the file.
        biases: usize,
    },
    /// A weight matrix with the wrong number of rows.
    #[error(
        "layer {layer} weights have {rows} rows, expected {expected} (sizes {})",
        list_text(sizes)
    )]
    WeightRows {
        /// The weighted layer, counted from 1.
        layer: usize,
        /// Rows in the file.
        rows: usize,
        /// Rows the sizes ask for.
        expected: usize,
        /// The sizes in the file.
        sizes: Vec<usize>,
    },
    /// A weight row with the wrong number of columns.
    #[error("layer {layer} weights row {row} has {columns} columns, expected {expected}")]
    WeightColumns {
        /// The weighted layer, counted from 1.
        layer: usize,
        /// The row, counted from 0.
        row: usize,
        /// Columns in the file.
        columns: usize,
        /// Columns the sizes ask for.
        expected: usize,
    },
    /// A bias vector of the wrong length.
    #[error("layer {layer} biases have {count} entries, expected {expected}")]
    BiasCount {
        /// The weighted layer, counted from 1.
        layer: usize,
        /// Entries in the file.
        count: usize,
        /// Entries the sizes ask for.
        expected: usize,
    },
    /// A bias that is not written as network2.py writes it, `[b]`.
    #[error("layer {layer} bias {index} must be a one-element list")]
    BiasShape {
        /// The weighted layer, counted from 1.
        layer: usize,
        /// The bias, counted from 0.
        index: usize,
    },
    /// A number that is NaN, infinite, or too large for a 32-bit float (e.g. 1e39).
    #[error("{what} is {value}, not a finite 32-bit number")]
    NotFinite {
        /// Which number, e.g. "layer 1 weight (0, 3)".
        what: String,
        /// Its value as read.
        value: f64,
    },
}

/// The one-line message for an error and its causes, joined by ": " as anyhow's `{:#}` joins
/// them, except that a cause whose text the message already holds is not repeated (many errors
/// quote their cause, e.g. "model.json: Is a directory (os error 21)", and also give it as their
/// `source`).
///
/// ```
/// use std::io;
/// let error = nn_core::NetworkError::Io {
///     path: "model.json".into(),
///     source: io::Error::new(io::ErrorKind::Other, "disk full"),
/// };
/// assert_eq!(nn_core::error::message_chain(&error), "model.json: disk full");
/// ```
pub fn message_chain(error: &(dyn std::error::Error + 'static)) -> String {
    let mut message = error.to_string();
    let mut cause = error.source();
    while let Some(next) = cause {
        let text = next.to_string();
        if !message.contains(&text) {
            message.push_str(": ");
            message.push_str(&text);
        }
        cause = next.source();
    }
    message
}

/// How many values [`list_text`] shows at most before it abbreviates.
const LISTED_AT_MOST: usize = 12;

/// A list of sizes or dimensions for a one-line error message, as `{:?}` writes it when it is
/// short, else its first and last values around a count of those left out, e.g.
/// `[784, 1, 1, 1, 1, 1, 1, 1, 1, ... 999989 more ..., 1, 10]`: a file can hold a million
/// layer sizes, which would make an error line megabytes long.
pub fn list_text(values: &[usize]) -> String {
    if values.len() <= LISTED_AT_MOST {
        return format!("{values:?}");
    }
    let (head, tail) = (LISTED_AT_MOST - 3, 2);
    let join = |part: &[usize]| {
        part.iter()
            .map(usize::to_string)
            .collect::<Vec<_>>()
            .join(", ")
    };
    format!(
        "[{}, ... {} more ..., {}]",
        join(&values[..head]),
        values.len() - head - tail,
        join(&values[values.len() - tail..])
    )
}

/// A count for an error message; `None` stands for one that overflowed.
fn count_text(count: Option<usize>) -> String {
    count.map_or_else(|| format!("more than {}", usize::MAX), |c| c.to_string())
}

/// A cost paired with an output activation it is not defined for.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error(
    "the {cost} needs {needs} output layer, not {output}; pair it with {needs} output or choose \
     another cost"
)]
pub struct PairingError {
    /// The cost's name, e.g. `"LogLikelihoodCost"`.
    pub cost: &'static str,
    /// The output activation's spec, e.g. `"sigmoid"`.
    pub output: String,
    /// What the cost needs, e.g. `"a softmax"`.
    pub needs: &'static str,
}

/// A hyper-parameter outside its meaningful range, or a combination that cannot run.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum HyperParameterError {
    /// A learning rate η that is not a positive number.
    #[error("eta = {eta} must be a positive number (try 0.5 for cross-entropy)")]
    Eta {
        /// The value given.
        eta: f32,
    },
    /// A mini-batch size of 0.
    #[error("mini-batch size must be at least 1 (the book uses 10)")]
    BatchSize,
    /// Zero epochs.
    #[error("epochs must be at least 1")]
    Epochs,
    /// A patience of 0 epochs.
    #[error("{what} needs a patience of at least 1 epoch")]
    Patience {
        /// `"early stopping"` or `"the learning-rate schedule"`.
        what: &'static str,
    },
    /// A generalization-loss threshold α that is not a positive number.
    #[error("the generalization-loss threshold alpha = {alpha} must be a positive number (e.g. 5)")]
    GeneralizationLoss {
        /// The value given.
        alpha: f64,
    },
    /// A schedule's factor or stopping fraction outside (0, 1).
    #[error("{what} {value} must lie in (0, 1){hint}")]
    Fraction {
        /// Which, e.g. `"the schedule's factor"`.
        what: &'static str,
        /// The value given.
        value: f32,
        /// An example of a good value, e.g. `", e.g. 0.97"`, or nothing.
        hint: &'static str,
    },
    /// A step schedule without steps.
    #[error(
        "a step schedule needs at least one step K=X (from epoch K on, eta = X), e.g. steps:21=0.025"
    )]
    NoSteps,
    /// A step whose epoch is not after the previous step's (or is epoch 1, which trains with
    /// the initial η).
    #[error(
        "the step at epoch {epoch} must come after epoch {previous}: steps start at epoch 2 (epoch \
         1 trains with `eta`) and their epochs increase"
    )]
    StepEpoch {
        /// The step's epoch.
        epoch: usize,
        /// The previous step's epoch, or 1.
        previous: usize,
    },
    /// A step whose η is not a finite positive number.
    #[error("the step at epoch {epoch} has eta = {eta}, which must be a finite positive number")]
    StepEta {
        /// The step's epoch.
        epoch: usize,
        /// The value given.
        eta: f32,
    },
    /// A weight-averaging β outside (0, 1).
    #[error(
        "the weight-averaging factor {beta} must lie in (0, 1), e.g. 0.9 (an average over about \
         10 epochs)"
    )]
    WeightAveraging {
        /// The value given.
        beta: f32,
    },
    /// A momentum coefficient μ outside [0, 1).
    #[error("momentum coefficient mu = {mu} must be in [0, 1) (0.9 is usual)")]
    Momentum {
        /// The value given.
        mu: f32,
    },
    /// Adam's β₁ or β₂ outside [0, 1).
    #[error("Adam's {which} = {value} must be in [0, 1) (0.9 and 0.999 are usual)")]
    AdamBeta {
        /// `"beta1"` or `"beta2"`.
        which: &'static str,
        /// The value given.
        value: f32,
    },
    /// Adam's ε not a positive finite number.
    #[error("Adam's epsilon = {epsilon} must be finite and positive (1e-8 is usual)")]
    AdamEpsilon {
        /// The value given.
        epsilon: f32,
    },
    /// A Newton damping λ that is negative or not finite.
    #[error("Newton damping {damping} must be finite and non-negative")]
    NewtonDamping {
        /// The value given.
        damping: f64,
    },
    /// Evaluation monitoring, early stopping or the plateau schedule without evaluation data.
    #[error(
        "evaluation monitoring, early stopping and the halve-on-plateau schedule need \
         evaluation data"
    )]
    NeedsEvaluationData,
}

/// An optimizer that cannot handle a network or a step.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum OptimizerError {
    /// More parameters than any network may have ([`crate::MAX_PARAMETERS`]).
    #[error("{count} parameters are more than the limit of {limit}")]
    TooManyParameters {
        /// Parameters asked for.
        count: usize,
        /// The limit.
        limit: usize,
    },
    /// A network too large for the Hessian technique ([`crate::Newton::MAX_PARAMETERS`]).
    #[error(
        "the Hessian technique builds a {count} x {count} Hessian every step from two backward \
         passes of the mini-batch per parameter and decomposes it (about 10 x {count}^3 \
         operations), which only networks of at most {limit} parameters afford: use \
         `optimizer` momentum, the chapter's affordable alternative, for this one"
    )]
    HessianTooLarge {
        /// The network's parameters.
        count: usize,
        /// The limit.
        limit: usize,
    },
    /// The Hessian technique asked for a step without the cost's curvature.
    #[error("the Hessian technique needs the cost's curvature")]
    MissingCurvature,
    /// The Hessian had entries that are not finite.
    #[error("the Hessian of the mini-batch is not finite: the network's outputs overflowed")]
    NotFinite,
}

/// A checkpoint that does not belong to the run resuming from it.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ResumeError {
    /// More finished epochs than the run asks for.
    #[error("the checkpoint has {saved} epochs, more than the {asked} asked for")]
    TooManyEpochs {
        /// Epochs in the checkpoint.
        saved: usize,
        /// Epochs of the run.
        asked: usize,
    },
    /// Best or averaged weights of another network.
    #[error("the checkpoint's {what} weights do not fit this network")]
    Weights {
        /// `"best"` or `"averaged"`.
        what: &'static str,
    },
    /// Optimizer state vectors of another network.
    #[error("the checkpoint's {optimizer} state does not fit this network")]
    OptimizerStateSize {
        /// The optimizer, e.g. `"momentum"`.
        optimizer: &'static str,
    },
    /// The state of another optimizer.
    #[error("the checkpoint's optimizer state is not that of {optimizer}")]
    OtherOptimizer {
        /// The optimizer resuming, e.g. `"adam"`.
        optimizer: &'static str,
    },
    /// Adam's step count stored as something other than a whole number up to 2²⁴.
    #[error("the optimizer state has a step count of {value:?}, not a count")]
    StepCount {
        /// The stored vector.
        value: Vec<f32>,
    },
    /// A number of state vectors no optimizer keeps.
    #[error("the optimizer state has {count} vectors, a number no optimizer keeps")]
    VectorCount {
        /// The vectors stored.
        count: usize,
    },
}

/// Training could not start or could not go on.
#[derive(Debug, thiserror::Error)]
pub enum TrainError {
    /// A hyper-parameter outside its meaningful range.
    #[error("invalid hyper-parameter: {0}")]
    InvalidHyperParameter(#[from] HyperParameterError),
    /// Data whose shape does not fit the network.
    #[error(
        "the {what} has inputs of size {inputs} and {classes} classes, but the network's layers \
         are {sizes:?}; make the first layer {inputs} and the last {classes}"
    )]
    ShapeMismatch {
        /// Which data, e.g. "training data".
        what: String,
        /// The data's input length.
        inputs: usize,
        /// The data's output length (classes).
        classes: usize,
        /// The network's layer sizes.
        sizes: Vec<usize>,
    },
    /// A training set without examples.
    #[error("the training data is empty")]
    EmptyTrainingData,
    /// The cost or the parameters became NaN or infinite.
    #[error(
        "training diverged in epoch {epoch}: the {what} became NaN or infinite; try a smaller learning rate than eta = {eta}, or weaker regularization (a smaller lambda) if it is large"
    )]
    Diverged {
        /// The epoch (counted from 1) in which it happened.
        epoch: usize,
        /// What became non-finite: "cost" or "weights".
        what: &'static str,
        /// The learning rate in force.
        eta: f32,
    },
    /// An optimizer that cannot handle this network or this step.
    #[error(transparent)]
    Optimizer(#[from] OptimizerError),
    /// A checkpoint that does not belong to this run.
    #[error("cannot resume: {0}")]
    Resume(#[from] ResumeError),
    /// A network error.
    #[error(transparent)]
    Network(#[from] NetworkError),
    /// A cost paired with an output activation it is not defined for.
    #[error(transparent)]
    Pairing(#[from] PairingError),
    /// An observer broke off an epoch ([`crate::Observer::batch_done`]); the network and the
    /// optimizer are as the last completed epoch left them.
    #[error("training was interrupted in epoch {epoch}; the network is as after epoch {completed}")]
    Interrupted {
        /// The epoch (counted from 1) that was broken off.
        epoch: usize,
        /// The epochs completed before it.
        completed: usize,
    },
    /// An epoch transform given training data it does not work on.
    #[error("the {transform} transform needs {needs} as the training data")]
    TransformInput {
        /// The transform, as it describes itself.
        transform: String,
        /// What it works on, e.g. "images (nn_data::ImageSet)".
        needs: &'static str,
    },
}

#[cfg(test)]
mod tests {
    use super::list_text;

    #[test]
    fn long_lists_are_shortened_to_their_ends_and_a_count() {
        assert_eq!(list_text(&[784, 30, 10]), "[784, 30, 10]");
        let twelve: Vec<usize> = (1..=12).collect();
        assert_eq!(list_text(&twelve), format!("{twelve:?}"));
        let mut million = vec![784];
        million.extend(std::iter::repeat_n(1, 999_998));
        million.push(10);
        let text = list_text(&million);
        assert_eq!(
            text,
            "[784, 1, 1, 1, 1, 1, 1, 1, 1, ... 999989 more ..., 1, 10]"
        );
        assert!(text.len() < 80);
    }
}
