//! nn-regularize: the chapter's regularization strategies as [`nn_core::Regularizer`]s.
//!
//! * [`L2`]: weight decay, C = C₀ + (λ/2n) Σ_w w² (eqs. 85-87), giving the SGD update
//!   w → (1 − ηλ/n) w − η ∂C₀/∂w (eqs. 91-93);
//! * [`L1`]: C = C₀ + (λ/n) Σ_w |w| (eq. 95), giving w → w − (ηλ/n) sgn(w) − η ∂C₀/∂w (eq. 97);
//! * [`Dropout`]: inverted dropout of a fraction p of the hidden (and optionally input) neurons in
//!   each mini-batch, with an optional max-norm constraint.
//!
//! Any combination of them can be given to one [`nn_core::Trainer`], with any optimizer; the
//! reported cost then includes every penalty term. The chapter's fourth technique, artificially
//! expanding the training data, works on images and lives with them: nn-data's `DataExpansion`,
//! an [`nn_core::EpochTransform`] given to the trainer through `with_transform` beside these.
//! This crate depends on nn-core alone.
//!
//! # Weight decay with momentum and Adam
//!
//! The penalties enter training only as terms of the gradient (∂C/∂w = ∂C₀/∂w + (λ/n) w for
//! L2, eq. 88). Plain SGD turns that into eq. 93. Momentum and Nesterov accumulate the decay term
//! in their velocity like any other part of the gradient, and Adam divides it by its running
//! root-mean-square gradient like the rest: the decay is coupled, not the decoupled decay
//! w → w − ηλ' w applied beside the adaptive step (AdamW, Loshchilov and Hutter 2019).
//!
//! # Dropout at evaluation
//!
//! Dropout scales the activations of kept neurons by 1/(1 − p) during training, so evaluation runs
//! the full network unchanged; this is equivalent to the chapter's halving of the weights
//! outgoing from the hidden neurons at test time.
//!
//! # Example
//!
//! L2 weight decay and dropout of half the hidden neurons, given to one trainer:
//!
//! ```
//! use nn_core::{DenseExamples, Initializer, Network, Regularizer, Sgd, Silent, TrainConfig, Trainer};
//! use nn_costs::CrossEntropyCost;
//! use nn_regularize::{Dropout, L2};
//!
//! let points: Vec<Vec<f32>> = (0..100).map(|i| vec![(i % 10) as f32 / 10.0]).collect();
//! let classes = points.iter().map(|p| usize::from(p[0] > 0.45)).collect();
//! let data = DenseExamples::classification(points, classes, 2);
//! let regularizers: Vec<Box<dyn Regularizer>> =
//!     vec![Box::new(L2::new(0.1)?), Box::new(Dropout::new(0.5)?)];
//! let network = Network::sigmoid(&[1, 10, 2], Initializer::Default, 1)?;
//! let config = TrainConfig { epochs: 3, ..TrainConfig::default() };
//! let trainer = Trainer::new(network, &CrossEntropyCost, Box::new(Sgd), regularizers, config)?;
//! let (_, history) = trainer.train(&data, None, &mut Silent)?;
//! assert_eq!(history.epochs.len(), 3);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod dropout;
mod error;
mod penalty;

pub use dropout::Dropout;
pub use error::RegularizeError;
pub use penalty::{L1, L2, sgn};
