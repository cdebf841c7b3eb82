//! Trains three networks on made-up data and prints, for each, a digest of its parameters' bits,
//! of its training history and of its evaluation. The shapes take every path that nn-core can
//! cut between two cores: 784-30-10 at batch 10 (products cut, element-wise passes not),
//! 784-100-10 at batch 10, and 784-800-10 at batch 100 (products and element-wise passes cut),
//! and the evaluation spreads over more than one chunk. The printed lines are the same, bit for
//! bit, whether nn-core is built with its `parallel` feature or without it, which CI checks:
//!
//! ```sh
//! cargo run --release -p nn-core --example parameter_digest
//! cargo run --release -p nn-core --no-default-features --example parameter_digest
//! ```

use nn_core::{
    DenseExamples, Initializer, Momentum, Monitor, Network, Silent, TrainConfig, Trainer,
};
use nn_costs::CrossEntropyCost;

/// `n` examples of `inputs` numbers in [0, 1) from a xorshift generator seeded by `seed`, each
/// of a random one of ten classes, whose tenth of the inputs is brighter than the rest.
fn examples(n: usize, inputs: usize, seed: u64) -> DenseExamples {
    let mut state = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        (state >> 40) as f32 / (1u64 << 24) as f32
    };
    let tenth = inputs.div_ceil(10);
    let classes: Vec<usize> = (0..n).map(|_| (next() * 10.0) as usize).collect();
    let points = classes
        .iter()
        .map(|&class| {
            (0..inputs)
                .map(|i| next() * if i / tenth == class { 1.0 } else { 0.5 })
                .collect()
        })
        .collect();
    DenseExamples::classification(points, classes, 10)
}

/// The FNV-1a hash of a sequence of 64-bit words.
fn fnv1a(words: impl IntoIterator<Item = u64>) -> u64 {
    words.into_iter().fold(0xcbf2_9ce4_8422_2325, |hash, word| {
        word.to_le_bytes().iter().fold(hash, |h, &b| {
            (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3)
        })
    })
}

/// The bits of an optional figure of the history (all ones for none).
fn bits(figure: Option<f64>) -> u64 {
    figure.map_or(u64::MAX, f64::to_bits)
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let (training, evaluation) = (examples(1_200, 784, 1), examples(1_000, 784, 2));
    for (sizes, batch_size) in [
        (&[784, 30, 10][..], 10),
        (&[784, 100, 10][..], 10),
        (&[784, 800, 10][..], 100),
    ] {
        let network = Network::sigmoid(sizes, Initializer::Default, 3)?;
        let config = TrainConfig {
            epochs: 2,
            batch_size,
            eta: 0.5,
            seed: 7,
            monitor: Monitor::all(),
            ..TrainConfig::default()
        };
        let momentum = Box::new(Momentum::new(0.5)?);
        let trainer = Trainer::new(network, &CrossEntropyCost, momentum, Vec::new(), config)?;
        let (network, history) = trainer.train(&training, Some(&evaluation), &mut Silent)?;
        let parameters = fnv1a(network.params().iter().map(|p| u64::from(p.to_bits())));
        let epochs = fnv1a(history.epochs.iter().flat_map(|e| {
            [
                e.epoch as u64,
                u64::from(e.eta.to_bits()),
                bits(e.training_cost),
                bits(e.training_accuracy),
                bits(e.evaluation_cost),
                bits(e.evaluation_accuracy),
            ]
        }));
        let result = network.evaluate(&evaluation, &CrossEntropyCost);
        println!(
            "{sizes:?} batch {batch_size}: parameters {parameters:016x}, history {epochs:016x}, \
             evaluation cost {:016x} ({:.6}), correct {}/{}",
            result.cost_sum.to_bits(),
            result.cost_sum,
            result.correct,
            result.count
        );
    }
    eprintln!(
        "nn-core built {} the parallel feature",
        if cfg!(feature = "parallel") {
            "with"
        } else {
            "without"
        }
    );
    Ok(())
}
