//! A cost defined outside the library: cross-entropy against smoothed labels,
//! C = −Σⱼ [y'ⱼ ln aⱼ + (1 − y'ⱼ) ln(1 − aⱼ)] with y' = (1 − ε) y + ε/2, which keeps the network
//! from driving its outputs all the way to 0 and 1. Its gradient is checked against central
//! differences with [`nn_core::check_gradient`], then it trains a small network on part of MNIST.
//!
//! `cargo run --release --example custom_cost [TRAINING_IMAGES]` (default 10,000).

use nn_core::{
    Activation, Cost, Initializer, Momentum, Monitor, Network, Silent, TrainConfig, Trainer,
    check_gradient,
};
use nn_data::{load_splits, locate_mnist};

/// Cross-entropy against labels smoothed by ε.
#[derive(Debug)]
struct SmoothedCrossEntropy {
    epsilon: f32,
}

impl SmoothedCrossEntropy {
    fn smooth(&self, y: f32) -> f64 {
        f64::from((1.0 - self.epsilon) * y + self.epsilon / 2.0)
    }
}

impl Cost for SmoothedCrossEntropy {
    fn name(&self) -> &'static str {
        "SmoothedCrossEntropy"
    }

    fn total(&self, _z: &[f32], a: &[f32], y: &[f32], _rows: usize, _: &dyn Activation) -> f64 {
        let clamp = |v: f64| v.clamp(1e-12, 1.0 - 1e-12);
        a.iter()
            .zip(y)
            .map(|(&a, &y)| {
                let (a, y) = (clamp(f64::from(a)), self.smooth(y));
                -(y * a.ln() + (1.0 - y) * (1.0 - a).ln())
            })
            .sum()
    }

    /// ∂C/∂a = (a − y') / (a(1 − a)), taken back through the output activation.
    fn delta(
        &self,
        z: &[f32],
        a: &[f32],
        y: &[f32],
        rows: usize,
        output: &dyn Activation,
        delta: &mut [f32],
    ) {
        for ((d, &a), &y) in delta.iter_mut().zip(a).zip(y) {
            let a64 = f64::from(a);
            *d = ((a64 - self.smooth(y)) / (a64 * (1.0 - a64)).max(1e-12)) as f32;
        }
        output.backward(z, a, rows, delta);
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let cost = SmoothedCrossEntropy { epsilon: 0.1 };
    let size: usize = std::env::args().nth(1).map_or(Ok(10_000), |n| n.parse())?;

    let splits = load_splits(&locate_mnist(None)?.dir, None)?;
    let (training, test) = (splits.training.subset(..size), splits.test);

    // Backpropagation of the new cost agrees with the definition of the derivative.
    let small = Network::sigmoid(&[784, 4, 10], Initializer::Default, 1)?;
    let worst = check_gradient(&small, &cost, &[], &training.subset(..5), &[1e-2, 1e-3])
        .iter()
        .map(|c| c.relative_error())
        .fold(0.0, f64::max);
    println!("gradient check: largest relative error {worst:.1e}");
    assert!(worst < 1e-2, "the gradient of the new cost is wrong");

    let network = Network::sigmoid(&[784, 30, 10], Initializer::Default, 1)?;
    let config = TrainConfig {
        epochs: 5,
        eta: 0.1,
        monitor: Monitor {
            evaluation_accuracy: true,
            ..Monitor::default()
        },
        ..TrainConfig::default()
    };
    let trainer = Trainer::new(
        network,
        &cost,
        Box::new(Momentum::new(0.9)?),
        vec![],
        config,
    )?;
    let (_, history) = trainer.train(&training, Some(&test), &mut Silent)?;
    for record in &history.epochs {
        let accuracy = record.evaluation_accuracy.unwrap_or_default();
        println!(
            "epoch {}: test accuracy {:.2}%",
            record.epoch,
            100.0 * accuracy
        );
    }
    Ok(())
}
