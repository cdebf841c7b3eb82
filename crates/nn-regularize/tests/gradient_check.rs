//! Central-difference checks of the regularized cost's gradient (eqs. 88 and 96) for every cost,
//! hidden activation and sensible output activation.

use std::sync::Arc;

use nn_core::{
    Activation, Cost, DenseExamples, Examples, Identity, Initializer, Network, Regularizer, Relu,
    Sigmoid, Softmax, Tanh, check_gradient, cost_and_gradient,
};
use nn_costs::{CrossEntropyCost, LogLikelihoodCost, QuadraticCost};
use nn_regularize::{L1, L2};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

const H: f32 = 1e-3;
const RELATIVE: f64 = 1e-2;
/// The network runs in f32, so the cost carries rounding of about 1e-6 (more where a softmax or
/// sigmoid output nears 1 and ln(1 − a) loses digits); divided by 2h that is up to ~1e-3.
const ABSOLUTE: f64 = 2e-3;
const EXAMPLES: usize = 6;

fn examples(inputs: usize, classes: usize, seed: u64) -> DenseExamples {
    let mut rng = StdRng::seed_from_u64(seed);
    let x = (0..EXAMPLES)
        .map(|_| (0..inputs).map(|_| rng.random_range(-1.0..1.0)).collect())
        .collect();
    let y = (0..EXAMPLES)
        .map(|_| rng.random_range(0..classes))
        .collect();
    DenseExamples::classification(x, y, classes)
}

/// The weighted inputs z of every hidden layer for every example, computed from the parameters.
fn hidden_zs(network: &Network, data: &DenseExamples) -> Vec<f32> {
    let mut all = Vec::new();
    for i in 0..data.len() {
        let mut a = vec![0.0; data.input_len()];
        data.write_input(i, &mut a);
        let layers = network.layers();
        for (index, shape) in layers.iter().enumerate().take(layers.len() - 1) {
            let w = &network.params()[shape.weights.clone()];
            let b = &network.params()[shape.biases.clone()];
            let z: Vec<f32> = (0..shape.rows)
                .map(|r| {
                    b[r] + (0..shape.cols)
                        .map(|c| w[r + c * shape.rows] * a[c])
                        .sum::<f32>()
                })
                .collect();
            all.extend_from_slice(&z);
            let mut next = vec![0.0; shape.rows];
            network.activations()[index].forward(&z, &mut next, shape.rows);
            a = next;
        }
    }
    all
}

/// A network whose weights all lie at least 0.05 from zero (so L1's |w| has no kink within h),
/// and a data set on which no ReLU's z lies within 0.02 of its kink.
fn setup(
    sizes: &[usize],
    hidden: &Arc<dyn Activation>,
    output: &Arc<dyn Activation>,
) -> (Network, DenseExamples) {
    for seed in 0..100 {
        let mut activations = vec![hidden.clone(); sizes.len() - 2];
        activations.push(output.clone());
        let mut network = Network::new(sizes, activations, Initializer::Default, seed).unwrap();
        network.for_each_weights_mut(|_, weights| {
            for w in weights {
                if w.abs() < 0.05 {
                    *w = if *w < 0.0 { -0.05 } else { 0.05 };
                }
            }
        });
        let data = examples(sizes[0], sizes[sizes.len() - 1], seed + 1000);
        if hidden.spec() != "relu" || hidden_zs(&network, &data).iter().all(|z| z.abs() > 0.02) {
            return (network, data);
        }
    }
    panic!("no setup keeps the ReLUs away from their kink");
}

/// Compares `gradient` with central differences of the regularized cost and returns the
/// parameters that disagree as (index, numeric, given).
fn mismatches(
    network: &Network,
    cost: &dyn Cost,
    regularizers: &[Box<dyn Regularizer>],
    data: &DenseExamples,
    gradient: &[f32],
) -> Vec<(usize, f64, f64)> {
    check_gradient(network, cost, regularizers, data, &[H])
        .into_iter()
        .map(|c| (c.index, c.numeric, f64::from(gradient[c.index])))
        .filter(|&(_, numeric, given)| {
            (numeric - given).abs() > RELATIVE * numeric.abs().max(given.abs()) + ABSOLUTE
        })
        .collect()
}

fn penalties() -> Vec<(&'static str, Vec<Box<dyn Regularizer>>)> {
    vec![
        ("L2", vec![Box::new(L2::new(3.0).unwrap())]),
        ("L1", vec![Box::new(L1::new(3.0).unwrap())]),
        (
            "L1+L2",
            vec![
                Box::new(L1::new(1.5).unwrap()),
                Box::new(L2::new(2.0).unwrap()),
            ],
        ),
    ]
}

/// A cost and the output activations it is checked with.
type CostAndOutputs = (&'static dyn Cost, Vec<Arc<dyn Activation>>);

#[test]
fn regularized_gradients_match_central_differences() {
    let costs: [CostAndOutputs; 3] = [
        (
            &QuadraticCost,
            vec![
                Arc::new(Sigmoid),
                Arc::new(Softmax::default()),
                Arc::new(Identity),
            ],
        ),
        (
            &CrossEntropyCost,
            vec![Arc::new(Sigmoid), Arc::new(Softmax::default())],
        ),
        (
            &LogLikelihoodCost,
            vec![Arc::new(Sigmoid), Arc::new(Softmax::default())],
        ),
    ];
    let hiddens: [Arc<dyn Activation>; 3] = [Arc::new(Sigmoid), Arc::new(Tanh), Arc::new(Relu)];
    let mut checked = 0;
    for sizes in [&[4, 5, 3][..], &[3, 4, 4, 2]] {
        for (cost, outputs) in &costs {
            for output in outputs {
                for hidden in &hiddens {
                    let (network, data) = setup(sizes, hidden, output);
                    for (name, regularizers) in penalties() {
                        let (_, gradient) =
                            cost_and_gradient(&network, *cost, &regularizers, &data);
                        let bad = mismatches(&network, *cost, &regularizers, &data, &gradient);
                        assert!(
                            bad.is_empty(),
                            "{sizes:?} {} {}/{} {name}: (param, numeric, backprop) {bad:?}",
                            cost.name(),
                            hidden.spec(),
                            output.spec()
                        );
                        checked += 1;
                    }
                }
            }
        }
    }
    assert_eq!(checked, 2 * 7 * 3 * 3);
}

#[test]
fn the_check_detects_a_missing_or_wrong_penalty_gradient() {
    let hidden: Arc<dyn Activation> = Arc::new(Sigmoid);
    let output: Arc<dyn Activation> = Arc::new(Sigmoid);
    let (network, data) = setup(&[4, 5, 3], &hidden, &output);
    for (name, regularizers) in penalties() {
        // The gradient of the unregularized cost, checked against the regularized cost.
        let (_, plain) = cost_and_gradient(&network, &CrossEntropyCost, &[], &data);
        let bad = mismatches(&network, &CrossEntropyCost, &regularizers, &data, &plain);
        assert!(bad.len() > 20, "{name}: only {} mismatches", bad.len());
    }
    // Half the L2 term, (λ/2n) w instead of (λ/n) w, is caught as well.
    let half: Vec<Box<dyn Regularizer>> = vec![Box::new(L2::new(1.5).unwrap())];
    let full: Vec<Box<dyn Regularizer>> = vec![Box::new(L2::new(3.0).unwrap())];
    let (_, gradient) = cost_and_gradient(&network, &CrossEntropyCost, &half, &data);
    assert!(mismatches(&network, &CrossEntropyCost, &full, &data, &gradient).len() > 20);
}
