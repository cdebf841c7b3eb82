//! The chapter's opening toy: one sigmoid neuron learning to map x = 1 to y = 0 with η = 0.15.
//! From w = 0.6, b = 0.9 both costs learn; from the saturated start w = 2, b = 2 the quadratic
//! cost barely moves for many epochs (σ'(z) is tiny, eqs. 55-56) while the cross-entropy does not
//! slow down (eq. 61: the gradient is proportional to σ(z) − y).

use nn_core::{Cost, DenseExamples, Monitor, Network, Sgd, Silent, TrainConfig, Trainer};
use nn_costs::{CrossEntropyCost, QuadraticCost};

fn cost_curve(cost: &dyn Cost, w: f32, b: f32) -> Vec<f64> {
    let mut network = Network::sigmoid(&[1, 1], Default::default(), 0).unwrap();
    network.params_mut().copy_from_slice(&[w, b]);
    let data = DenseExamples::new(vec![vec![1.0]], vec![vec![0.0]]);
    let config = TrainConfig {
        epochs: 300,
        batch_size: 1,
        eta: 0.15,
        monitor: Monitor {
            training_cost: true,
            ..Monitor::default()
        },
        ..TrainConfig::default()
    };
    let trainer = Trainer::new(network, cost, Box::new(Sgd), Vec::new(), config).unwrap();
    let (_, history) = trainer.train(&data, None, &mut Silent).unwrap();
    history
        .epochs
        .iter()
        .map(|e| e.training_cost.unwrap())
        .collect()
}

fn initial_cost(cost: &dyn Cost, w: f32, b: f32) -> f64 {
    let a = 1.0 / (1.0 + (-(f64::from(w) + f64::from(b))).exp());
    if cost.name() == "QuadraticCost" {
        0.5 * a * a
    } else {
        -(1.0 - a).ln()
    }
}

#[test]
fn both_costs_learn_from_the_unsaturated_start() {
    for cost in [&QuadraticCost as &dyn Cost, &CrossEntropyCost] {
        let curve = cost_curve(cost, 0.6, 0.9);
        let start = initial_cost(cost, 0.6, 0.9);
        assert!(
            curve[299] < 0.05 * start,
            "{}: {} -> {}",
            cost.name(),
            start,
            curve[299]
        );
        assert!(
            curve.windows(2).all(|w| w[1] <= w[0]),
            "{} does not fall steadily",
            cost.name()
        );
    }
    // The book's figure: output 0.09 after 300 epochs with the quadratic cost.
    let final_output = (2.0 * cost_curve(&QuadraticCost, 0.6, 0.9)[299]).sqrt();
    assert!((final_output - 0.09).abs() < 0.02, "output {final_output}");
}

#[test]
fn quadratic_cost_learns_slowly_from_a_saturated_neuron_and_cross_entropy_does_not() {
    let quadratic = cost_curve(&QuadraticCost, 2.0, 2.0);
    let cross_entropy = cost_curve(&CrossEntropyCost, 2.0, 2.0);
    let (q0, c0) = (
        initial_cost(&QuadraticCost, 2.0, 2.0),
        initial_cost(&CrossEntropyCost, 2.0, 2.0),
    );
    // The book: the quadratic cost stays almost flat for the first 150 or so epochs.
    assert!(
        quadratic[99] > 0.9 * q0,
        "quadratic cost fell from {q0} to {} in 100 epochs",
        quadratic[99]
    );
    // Cross-entropy drops fast from the start: most of the way within 50 epochs.
    assert!(
        cross_entropy[49] < 0.1 * c0,
        "cross-entropy only fell from {c0} to {}",
        cross_entropy[49]
    );
    // In relative terms cross-entropy is far ahead at every point of the first 150 epochs.
    for epoch in [10, 50, 100, 150] {
        assert!(
            cross_entropy[epoch] / c0 < 0.5 * quadratic[epoch] / q0,
            "epoch {epoch}"
        );
    }
}
