//! nn-core: feedforward networks trained by matrix-based mini-batch backpropagation.
//!
//! The crate holds the math and the seams. Costs ([`Cost`]), regularizers ([`Regularizer`]),
//! update rules ([`Optimizer`]), activations ([`Activation`]) and per-epoch data transforms
//! ([`EpochTransform`]) are traits; other crates implement them and the [`Trainer`] composes
//! them as trait objects.
//!
//! Sizes that come from outside are bounded before anything is allocated: a network has at most
//! [`MAX_PARAMETERS`] weights and biases, a mini-batch's buffers take at most
//! [`MAX_WORKSPACE_BYTES`], a model file at most [`model::MAX_MODEL_FILE_BYTES`]. Inputs may be
//! standardized by statistics the network carries ([`Standardization`]).
//!
//! # Features
//!
//! `parallel` (default, brings rayon) cuts a mini-batch's large products and element-wise
//! passes between two cores (a persistent helper thread) and spreads [`Network::evaluate`]
//! over rayon's pool. With `default-features = false` everything runs on the calling thread and
//! the crate needs no threads, so it builds for targets without them (wasm32-unknown-unknown).
//! A seed gives the same parameters, bit for bit, either way, as it does whatever the number of
//! threads: the work is cut at places that depend on the sizes only, each part is computed
//! alike on any thread, and partial sums are added in a fixed order. nn-costs and
//! nn-regularize leave the choice to their user; nn-train turns it on (its own default
//! `parallel` feature).
//!
//! # Example
//!
//! A network that learns which of two inputs is larger, trained by mini-batch SGD with the
//! cross-entropy cost of nn-costs:
//!
//! ```
//! use nn_core::{DenseExamples, Initializer, Monitor, Network, Sgd, Silent, TrainConfig, Trainer};
//! use nn_costs::CrossEntropyCost;
//!
//! let points: Vec<Vec<f32>> = (0..200)
//!     .map(|i| vec![(i % 17) as f32 / 17.0, (i % 13) as f32 / 13.0])
//!     .collect();
//! let classes = points.iter().map(|p| usize::from(p[1] > p[0])).collect();
//! let data = DenseExamples::classification(points, classes, 2);
//!
//! let network = Network::sigmoid(&[2, 8, 2], Initializer::Default, 1)?;
//! let config = TrainConfig {
//!     epochs: 30,
//!     batch_size: 10,
//!     eta: 3.0,
//!     monitor: Monitor { training_accuracy: true, ..Monitor::default() },
//!     ..TrainConfig::default()
//! };
//! let trainer = Trainer::new(network, &CrossEntropyCost, Box::new(Sgd), Vec::new(), config)?;
//! let (network, history) = trainer.train(&data, None, &mut Silent)?;
//! let accuracy = history.epochs.last().and_then(|e| e.training_accuracy).unwrap();
//! assert!(accuracy > 0.9, "{accuracy}");
//! assert_eq!(network.sizes(), [2, 8, 2]);
//! # Ok::<(), nn_core::TrainError>(())
//! ```

pub mod activation;
pub mod atomic;
pub mod cost;
pub mod error;
pub mod examples;
pub mod framing;
pub mod gradient_check;
pub mod kernel;
pub mod model;
pub mod network;
pub mod optimizer;
mod pair;
pub mod regularizer;
pub mod standardize;
pub mod trainer;
pub mod transform;

pub use activation::{
    Activation, ActivationKind, Identity, Relu, Sigmoid, Softmax, Tanh, activation_from_spec,
};
pub use cost::Cost;
pub use error::{
    HyperParameterError, ModelError, NetworkError, OptimizerError, PairingError, ResumeError,
    TrainError,
};
pub use examples::{DenseExamples, Examples};
pub use framing::{Centring, Framing, FramingError};
pub use gradient_check::{GradientCheck, ParameterCheck, check_gradient};
pub use model::{Model, load_model, model_from_json, model_to_json, save_model};
pub use network::{
    Evaluation, Initializer, LayerShape, MAX_LAYERS, MAX_PARAMETERS, MAX_WORKSPACE_BYTES, Network,
    Workspace, argmax, predicted_class,
};
pub use optimizer::{Adam, Curvature, FusedStep, Momentum, Newton, Optimizer, OptimizerState, Sgd};
pub use regularizer::{Regularizer, regularized_cost};
pub use standardize::{PIXEL_STD_FLOOR, Standardization, StandardizationKind};
pub use trainer::{
    CheckedTrainConfig, EarlyStopping, EpochRecord, History, Monitor, Observer, ParamGuard,
    Schedule, Silent, StopReason, TrainConfig, Trainer, TrainingState, cost_and_gradient,
    epoch_seed,
};
pub use transform::EpochTransform;
