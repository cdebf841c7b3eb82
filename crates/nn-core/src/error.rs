//! Errors of the core: every message is one line that says what is wrong and how to fix it.

use std::path::PathBuf;

/// A network could not be built, loaded or saved.
#[derive(Debug, thiserror::Error)]
pub enum NetworkError {
    /// Fewer than two layers, or a layer of size zero.
    #[error(
        "invalid layer sizes {0:?}: give at least an input and an output layer, each of size 1 or more"
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
    /// A saved model whose contents do not describe a valid network.
    #[error("{path}: {problem}")]
    InvalidModel {
        /// The model file.
        path: PathBuf,
        /// What is wrong, e.g. "layer 1 weights have 29 rows, expected 30".
        problem: String,
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

/// Training could not start or could not go on.
#[derive(Debug, thiserror::Error)]
pub enum TrainError {
    /// A hyper-parameter outside its meaningful range.
    #[error("invalid hyper-parameter: {0}")]
    InvalidHyperParameter(String),
    /// Data whose shape does not fit the network.
    #[error("{0}")]
    ShapeMismatch(String),
    /// The cost or the parameters became NaN or infinite.
    #[error(
        "training diverged in epoch {epoch}: the {what} became NaN or infinite; try a smaller learning rate than eta = {eta}"
    )]
    Diverged {
        /// The epoch (counted from 1) in which it happened.
        epoch: usize,
        /// What became non-finite: "cost" or "weights".
        what: &'static str,
        /// The learning rate in force.
        eta: f32,
    },
    /// An optimizer that cannot handle this network.
    #[error("{0}")]
    Optimizer(String),
    /// A checkpoint that does not belong to this run.
    #[error("cannot resume: {0}")]
    Resume(String),
    /// A network error.
    #[error(transparent)]
    Network(#[from] NetworkError),
}
