//! nn-core: feedforward networks trained by matrix-based mini-batch backpropagation.

pub mod examples;
pub mod transform;

pub use examples::{DenseExamples, Examples};
pub use transform::EpochTransform;
