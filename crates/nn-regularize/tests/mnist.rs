//! The chapter's experiments on real MNIST, in reduced form: L1 leaves sparser weights than L2,
//! and regularization narrows the gap between training and test accuracy on 1,000 images.

use std::path::Path;
use std::sync::OnceLock;

use nn_core::{Initializer, Network, Regularizer, Sgd, Silent, TrainConfig, Trainer};
use nn_costs::CrossEntropyCost;
use nn_data::{ImageSet, MnistSplits, load_splits};
use nn_regularize::{L1, L2};

fn mnist() -> &'static MnistSplits {
    static DATA: OnceLock<MnistSplits> = OnceLock::new();
    DATA.get_or_init(|| {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data/mnist");
        load_splits(&dir, None).expect("MNIST in /work/shared/data/mnist")
    })
}

/// Trains [784, 30, 10] on `training` with the cross-entropy cost, η = 0.5 and mini-batches of
/// 10, as the chapter does.
fn train(
    training: &ImageSet,
    regularizers: Vec<Box<dyn Regularizer>>,
    epochs: usize,
    init: Initializer,
) -> Network {
    let config = TrainConfig {
        epochs,
        batch_size: 10,
        eta: 0.5,
        seed: 3,
        ..TrainConfig::default()
    };
    let network = Network::sigmoid(&[784, 30, 10], init, 1).unwrap();
    Trainer::new(
        network,
        &CrossEntropyCost,
        Box::new(Sgd),
        regularizers,
        config,
    )
    .unwrap()
    .train(training, None, &mut Silent)
    .unwrap()
    .0
}

fn near_zero_fraction(network: &Network) -> f64 {
    let weights: Vec<f32> = network
        .layers()
        .iter()
        .flat_map(|s| network.params()[s.weights.clone()].to_vec())
        .collect();
    weights.iter().filter(|w| w.abs() < 1e-3).count() as f64 / weights.len() as f64
}

#[test]
fn l1_leaves_many_more_near_zero_weights_than_l2() {
    let training = mnist().training.subset(..1000);
    let lambda = 1.0;
    let l1 = train(
        &training,
        vec![Box::new(L1::new(lambda).unwrap())],
        5,
        Initializer::Default,
    );
    let l2 = train(
        &training,
        vec![Box::new(L2::new(lambda).unwrap())],
        5,
        Initializer::Default,
    );
    let (sparse, dense) = (near_zero_fraction(&l1), near_zero_fraction(&l2));
    eprintln!("|w| < 1e-3 after 5 epochs at lambda = {lambda}: L1 {sparse:.4}, L2 {dense:.4}");
    assert!(sparse > 0.1, "L1 left only {sparse} near zero");
    assert!(sparse > 4.0 * dense, "L1 {sparse} vs L2 {dense}");
}

/// The chapter's run in full: [784, 30, 10], large initial weights, 1,000 images, 400 epochs.
#[test]
fn regularization_narrows_the_overfitting_gap() {
    let data = mnist();
    let training = data.training.subset(..1000);
    let epochs = 400;
    let accuracy =
        |network: &Network, set: &ImageSet| network.evaluate(set, &CrossEntropyCost).accuracy();
    let plain = train(&training, Vec::new(), epochs, Initializer::Large);
    let regularized = train(
        &training,
        vec![Box::new(L2::new(0.1).unwrap())],
        epochs,
        Initializer::Large,
    );
    let (plain_train, plain_test) = (accuracy(&plain, &training), accuracy(&plain, &data.test));
    let (reg_train, reg_test) = (
        accuracy(&regularized, &training),
        accuracy(&regularized, &data.test),
    );
    let (plain_gap, reg_gap) = (plain_train - plain_test, reg_train - reg_test);
    eprintln!(
        "{epochs} epochs on 1,000 images: unregularized train {plain_train:.4} test {plain_test:.4} gap {plain_gap:.4}; L2(0.1) train {reg_train:.4} test {reg_test:.4} gap {reg_gap:.4}"
    );
    assert!(plain_gap > 0.1, "the unregularized network should overfit");
    // The book: test accuracy plateaus near 82% without regularization, about 87% with it.
    assert!(reg_gap < plain_gap - 0.02, "gaps {reg_gap} vs {plain_gap}");
    assert!(reg_test >= plain_test - 0.005);
}
