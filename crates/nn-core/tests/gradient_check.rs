//! Backpropagation against central differences of the cost, for every cost × hidden
//! activation × output activation on small random networks.

use std::sync::Arc;

use nn_core::{
    Activation, Cost, DenseExamples, Initializer, Network, ParameterCheck, activation_from_spec,
    check_gradient, cost_and_gradient,
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

/// Largest relative disagreement between backprop and (C(p + h) − C(p − h)) / 2h, each
/// parameter taking the best of several steps h.
fn check(network: &Network, cost: &dyn Cost, data: &DenseExamples) -> f64 {
    check_gradient(network, cost, &[], data, &[1e-1, 3e-2, 1e-2, 3e-3, 1e-3])
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

#[test]
fn a_wrong_gradient_is_caught() {
    // The check itself must be able to fail: compare the cross-entropy gradient with the
    // finite differences of the quadratic cost, which differ for sigmoid outputs.
    let net = network(&[4, 5, 3], "sigmoid", "sigmoid", 3);
    let data = random_data(4, 3, 7, 4);
    let (_, cross_entropy_gradient) = cost_and_gradient(&net, &CrossEntropyCost, &[], &data);
    let (_, quadratic_gradient) = cost_and_gradient(&net, &QuadraticCost, &[], &data);
    let differ = cross_entropy_gradient
        .iter()
        .zip(&quadratic_gradient)
        .filter(|(a, b)| (*a - *b).abs() > 1e-3 * (a.abs() + b.abs()).max(1e-3))
        .count();
    assert!(differ > cross_entropy_gradient.len() / 2);
    assert!(check(&net, &CrossEntropyCost, &data) < 0.01);
}
