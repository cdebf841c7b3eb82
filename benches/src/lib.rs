//! Shared set-up for the benchmarks: the MNIST training images and the book's networks.

use nn_core::{Initializer, Network};
use nn_data::{ImageSet, load_splits, locate_mnist};

/// The book's 50,000 training images, found as the `nn` command finds them.
pub fn mnist_training() -> ImageSet {
    let location = locate_mnist(None).unwrap_or_else(|e| panic!("benchmarks need MNIST: {e}"));
    load_splits(&location.dir, None)
        .expect("MNIST loads")
        .training
}

/// A sigmoid network of the given sizes with the chapter's default initialization.
pub fn sigmoid_network(sizes: &[usize]) -> Network {
    Network::sigmoid(sizes, Initializer::Default, 1).expect("valid sizes")
}
