//! Backpropagation against central differences of the cost, for every cost × hidden
//! activation × output activation on small random networks.

use std::sync::Arc;

use nn_core::{
    Activation, Cost, DenseExamples, Initializer, Network, ParameterCheck, Sigmoid,
    activation_from_spec, check_gradient,
};
use nn_costs::{CrossEntropyCost, LogLikelihoodCost, QuadraticCost};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

fn random_data(inputs: usize, outputs: usize, count: usize, seed: u64) -> DenseExamples {
    let mut rng = StdRng::seed_from_u64(seed);
    let xs = (0..count)
        .map(|_| (0..inputs).map(|_| rng.random_range(-1.0..1.0)).collect())
        .collect();
    let classes = (0..count).map(|_| rng.random_range(0..outputs)).collect();
    DenseExamples::classification(xs, classes, outputs)
}

/// The steps h each parameter's central difference tries, keeping the one that agrees best.
const STEPS: [f32; 5] = [1e-1, 3e-2, 1e-2, 3e-3, 1e-3];

/// Largest relative disagreement between backprop and (C(p + h) − C(p − h)) / 2h, each
/// parameter taking the best of the [`STEPS`].
fn check(network: &Network, cost: &dyn Cost, data: &DenseExamples) -> f64 {
    check_gradient(network, cost, &[], data, &STEPS)
        .iter()
        .map(ParameterCheck::relative_error)
        .fold(0.0, f64::max)
}

fn network(sizes: &[usize], hidden: &str, output: &str, seed: u64) -> Network {
    let mut activations: Vec<Arc<dyn Activation>> = (0..sizes.len() - 2)
        .map(|_| activation_from_spec(hidden).unwrap())
        .collect();
    activations.push(activation_from_spec(output).unwrap());
    Network::new(sizes, activations, Initializer::Default, seed).unwrap()
}

#[test]
fn backprop_matches_finite_differences_for_every_combination() {
    let costs: [&dyn Cost; 3] = [&QuadraticCost, &CrossEntropyCost, &LogLikelihoodCost];
    let mut checked = 0;
    for cost in costs {
        for hidden in ["sigmoid", "tanh", "relu", "identity"] {
            for output in [
                "sigmoid",
                "softmax",
                "softmax:2",
                "tanh",
                "identity",
                "relu",
            ] {
                // Cross-entropy needs outputs in (0, 1) and log-likelihood positive outputs.
                let bounded = matches!(output, "sigmoid" | "softmax" | "softmax:2");
                if cost.name() != "QuadraticCost" && !bounded {
                    continue;
                }
                for (seed, sizes) in [(1u64, vec![4, 5, 3]), (2, vec![3, 6, 4, 3])] {
                    let net = network(&sizes, hidden, output, seed);
                    let data = random_data(sizes[0], *sizes.last().unwrap(), 7, seed + 10);
                    let worst = check(&net, cost, &data);
                    assert!(
                        worst < 0.02,
                        "{} with {hidden} hidden and {output} output layers on {sizes:?}: relative error {worst}",
                        cost.name()
                    );
                    checked += 1;
                }
            }
        }
    }
    assert_eq!(checked, 2 * (4 * 6 + 4 * 3 + 4 * 3));
}

/// The logistic sigmoid with a wrong derivative: σ'(z) taken as σ(z) instead of σ(z)(1 − σ(z)),
/// the kind of slip the chapter's first exercise guards against.
#[derive(Debug)]
struct SigmoidMissingOneMinusA;

impl Activation for SigmoidMissingOneMinusA {
    fn spec(&self) -> String {
        "sigmoid-missing-1-a".into()
    }
    fn forward(&self, z: &[f32], a: &mut [f32], rows: usize) {
        Sigmoid.forward(z, a, rows);
    }
    fn backward(&self, _z: &[f32], a: &[f32], _rows: usize, grad: &mut [f32]) {
        grad.iter_mut().zip(a).for_each(|(g, a)| *g *= a);
    }
}

/// The cross-entropy's value with the quadratic cost's output error (a − y) σ'(z): the value
/// and the gradient of two different costs.
#[derive(Debug)]
struct CrossEntropyWithQuadraticDelta;

impl Cost for CrossEntropyWithQuadraticDelta {
    fn name(&self) -> &'static str {
        "CrossEntropyWithQuadraticDelta"
    }
    fn total(&self, z: &[f32], a: &[f32], y: &[f32], rows: usize, output: &dyn Activation) -> f64 {
        CrossEntropyCost.total(z, a, y, rows, output)
    }
    fn delta(
        &self,
        z: &[f32],
        a: &[f32],
        y: &[f32],
        rows: usize,
        output: &dyn Activation,
        delta: &mut [f32],
    ) {
        QuadraticCost.delta(z, a, y, rows, output, delta);
    }
}

/// The parameters whose backpropagated derivative disagrees with the central differences.
fn disagreeing(network: &Network, cost: &dyn Cost, data: &DenseExamples) -> Vec<usize> {
    check_gradient(network, cost, &[], data, &STEPS)
        .iter()
        .filter(|c| c.relative_error() > 0.02)
        .map(|c| c.index)
        .collect()
}

#[test]
fn a_wrong_gradient_is_caught() {
    let data = random_data(4, 3, 7, 4);
    let right = network(&[4, 5, 3], "sigmoid", "sigmoid", 3);
    assert!(disagreeing(&right, &CrossEntropyCost, &data).is_empty());

    // A wrong derivative in the hidden layer: every parameter below it is reported, none of
    // the output layer's, whose gradient does not pass through the hidden layer's σ'.
    let activations: Vec<Arc<dyn Activation>> =
        vec![Arc::new(SigmoidMissingOneMinusA), Arc::new(Sigmoid)];
    let mut wrong = Network::zeros(&[4, 5, 3], activations).unwrap();
    wrong.params_mut().copy_from_slice(right.params());
    let hidden = right.layers()[0].weights.start..right.layers()[0].biases.end;
    let reported = disagreeing(&wrong, &CrossEntropyCost, &data);
    let in_hidden = reported.iter().filter(|i| hidden.contains(i)).count();
    assert!(
        in_hidden > hidden.len() * 3 / 4 && in_hidden == reported.len(),
        "{} of the hidden layer's {} parameters reported, {} elsewhere",
        in_hidden,
        hidden.len(),
        reported.len() - in_hidden
    );

    // A cost whose output error belongs to another cost: the output layer is reported too.
    let reported = disagreeing(&right, &CrossEntropyWithQuadraticDelta, &data);
    let output = right.layers()[1].weights.start..right.layers()[1].biases.end;
    assert!(
        reported.iter().filter(|i| output.contains(i)).count() > output.len() * 3 / 4,
        "{reported:?}"
    );
}
