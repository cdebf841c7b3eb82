//! The chapter's main run, as network2.py's example session does it: a [784, 30, 10] network of
//! sigmoid neurons, cross-entropy cost, the improved initialization, η = 0.5, mini-batches of 10,
//! L2 regularization with λ = 5.0, 30 epochs on MNIST's 50,000 training images, then the test
//! accuracy (the chapter reports 96.49%; this prints 95.36%, as `nn train` does).
//!
//! `cargo run --release --example book_main [TRAINING_IMAGES [EPOCHS]]`; MNIST is found, or
//! downloaded, as `nn` finds it.

use nn_core::{Initializer, Network, Sgd, Silent, TrainConfig, Trainer};
use nn_costs::CrossEntropyCost;
use nn_data::{load_splits, locate_mnist};
use nn_regularize::L2;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let arg = |i: usize, default: usize| std::env::args().nth(i).map_or(Ok(default), |a| a.parse());
    let (size, epochs) = (arg(1, 50_000)?, arg(2, 30)?);
    let mnist = load_splits(&locate_mnist(None)?.dir, None)?;
    let training = mnist.training.subset(..size.min(mnist.training.len()));
    let network = Network::sigmoid(&[784, 30, 10], Initializer::Default, 0)?;
    // network2.py's defaults: mini-batch 10, eta 0.5 (TrainConfig::default); lambda 5.0.
    let config = TrainConfig {
        epochs,
        ..TrainConfig::default()
    };
    let l2 = vec![Box::new(L2::new(5.0)?) as _];
    let trainer = Trainer::new(network, &CrossEntropyCost, Box::new(Sgd), l2, config)?;
    let (network, history) = trainer.train(&training, None, &mut Silent)?;
    let test = network.evaluate(&mnist.test, &CrossEntropyCost);
    println!(
        "[784, 30, 10] after {} epochs on {} images: test accuracy {:.2}%",
        history.epochs.len(),
        training.len(),
        100.0 * test.accuracy()
    );
    Ok(())
}
