//! Shared set-up for the benchmarks: the MNIST training images and the book's networks.

use nn_core::{Initializer, Network};
use nn_data::{ImageSet, load_splits};

/// The book's 50,000 training images, found as the `nn` command finds them (relative places
/// taken from the workspace root, as for the tests).
pub fn mnist_training() -> ImageSet {
    load_splits(nn_testdata::mnist_dir(), None)
        .expect("MNIST loads")
        .training
}

/// A sigmoid network of the given sizes with the chapter's default initialization.
pub fn sigmoid_network(sizes: &[usize]) -> Network {
    Network::sigmoid(sizes, Initializer::Default, 1).expect("valid sizes")
}
