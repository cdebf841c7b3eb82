//! The chapter's exercises and problems on the cost functions, each a test named after its
//! claim: the derivations of eqs. 61-62, 65-70 and 81-84 are compared with backpropagation's
//! gradients computed by hand in f64, and the claims about the cross-entropy's form are checked
//! on its values.

use std::sync::Arc;

use nn_core::{
    Activation, Cost, DenseExamples, Examples, Identity, Initializer, Network, Sigmoid, Softmax,
    cost_and_gradient,
};
use nn_costs::{CrossEntropyCost, LogLikelihoodCost, QuadraticCost, binary_entropy};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

fn sigma(z: f64) -> f64 {
    1.0 / (1.0 + (-z).exp())
}

/// `count` examples of `inputs` values in [−1, 1) with targets in (0, 1) (or one-hot when
/// `one_hot`), as regression problems have.
fn examples(
    inputs: usize,
    outputs: usize,
    count: usize,
    one_hot: bool,
    seed: u64,
) -> DenseExamples {
    let mut rng = StdRng::seed_from_u64(seed);
    let x = (0..count)
        .map(|_| (0..inputs).map(|_| rng.random_range(-1.0..1.0)).collect())
        .collect();
    if one_hot {
        let classes = (0..count).map(|_| rng.random_range(0..outputs)).collect();
        return DenseExamples::classification(x, classes, outputs);
    }
    let y = (0..count)
        .map(|_| (0..outputs).map(|_| rng.random_range(0.05..0.95)).collect())
        .collect();
    DenseExamples::new(x, y)
}

fn example(data: &DenseExamples, i: usize) -> (Vec<f64>, Vec<f64>) {
    let mut x = vec![0.0f32; data.input_len()];
    let mut y = vec![0.0f32; data.output_len()];
    data.write_input(i, &mut x);
    data.write_target(i, &mut y);
    (
        x.into_iter().map(f64::from).collect(),
        y.into_iter().map(f64::from).collect(),
    )
}

/// z = W a + b of weighted layer `layer`, in f64 from the network's parameters.
fn weighted_input(network: &Network, layer: usize, a: &[f64]) -> Vec<f64> {
    let shape = &network.layers()[layer];
    let w = &network.params()[shape.weights.clone()];
    let b = &network.params()[shape.biases.clone()];
    (0..shape.rows)
        .map(|r| {
            f64::from(b[r])
                + (0..shape.cols)
                    .map(|c| f64::from(w[r + c * shape.rows]) * a[c])
                    .sum::<f64>()
        })
        .collect()
}

/// The output layer's weight and bias gradients, (1/n) Σ_x a_k^{L−1} δ_j and (1/n) Σ_x δ_j,
/// for a two-layer network with sigmoid hidden neurons, where `delta(z, a, y)` is the chapter's
/// formula for the output error δ^L of one example.
fn output_layer_gradient(
    network: &Network,
    data: &DenseExamples,
    output: impl Fn(&[f64]) -> Vec<f64>,
    delta: impl Fn(&[f64], &[f64], &[f64]) -> Vec<f64>,
) -> (Vec<f64>, Vec<f64>) {
    let shape = &network.layers()[1];
    let (mut w, mut b) = (vec![0.0; shape.rows * shape.cols], vec![0.0; shape.rows]);
    let n = data.len() as f64;
    for i in 0..data.len() {
        let (x, y) = example(data, i);
        let hidden: Vec<f64> = weighted_input(network, 0, &x)
            .into_iter()
            .map(sigma)
            .collect();
        let z = weighted_input(network, 1, &hidden);
        let d = delta(&z, &output(&z), &y);
        for j in 0..shape.rows {
            b[j] += d[j] / n;
            for k in 0..shape.cols {
                w[j + k * shape.rows] += hidden[k] * d[j] / n;
            }
        }
    }
    (w, b)
}

fn sigmoid_layer(z: &[f64]) -> Vec<f64> {
    z.iter().map(|&z| sigma(z)).collect()
}

fn softmax_layer(z: &[f64]) -> Vec<f64> {
    let total: f64 = z.iter().map(|z| z.exp()).sum();
    z.iter().map(|z| z.exp() / total).collect()
}

/// Asserts that backpropagation's output-layer gradient of `cost` is the formula's.
fn assert_output_layer_gradient(
    network: &Network,
    cost: &dyn Cost,
    data: &DenseExamples,
    expected: (Vec<f64>, Vec<f64>),
) {
    let (_, gradient) = cost_and_gradient(network, cost, &[], data);
    let shape = &network.layers()[1];
    for (got, want) in gradient[shape.weights.clone()]
        .iter()
        .chain(&gradient[shape.biases.clone()])
        .zip(expected.0.iter().chain(&expected.1))
    {
        assert!(
            (f64::from(*got) - want).abs() < 1e-6 + 1e-4 * want.abs(),
            "{}: backprop {got} against the formula's {want}",
            cost.name()
        );
    }
}

/// Exercise (cross-entropy section): for targets y in (0, 1), as in regression problems, the
/// cross-entropy of a sigmoid neuron is smallest at σ(z) = y for every input, where it equals
/// the binary entropy −[y ln y + (1 − y) ln(1 − y)] (eq. 64) and its gradient σ(z) − y vanishes.
#[test]
fn cross_entropy_is_minimized_where_the_output_equals_the_target() {
    let targets = [0.03f32, 0.2, 0.5, 0.71, 0.9];
    let best: Vec<f32> = targets.iter().map(|&y| (y / (1.0 - y)).ln()).collect();
    let cost = |z: &[f32]| {
        let mut a = vec![0.0; z.len()];
        Sigmoid.forward(z, &mut a, 1);
        CrossEntropyCost.total(z, &a, &targets, 1, &Sigmoid)
    };
    let minimum = cost(&best);
    let entropy: f64 = targets.iter().map(|&y| binary_entropy(f64::from(y))).sum();
    assert!(
        (minimum - entropy).abs() < 1e-5,
        "{minimum} against eq. 64's {entropy}"
    );
    let mut a = vec![0.0; best.len()];
    Sigmoid.forward(&best, &mut a, 1);
    let mut delta = vec![0.0; best.len()];
    CrossEntropyCost.delta(&best, &a, &targets, 1, &Sigmoid, &mut delta);
    assert!(delta.iter().all(|d| d.abs() < 1e-6), "{delta:?}");
    for i in 0..targets.len() {
        for step in [-1.0f32, -0.1, 0.1, 1.0] {
            let mut moved = best.clone();
            moved[i] += step;
            assert!(cost(&moved) > minimum, "moving z_{i} by {step}");
        }
    }
}

/// Exercise: −[a ln y + (1 − a) ln(1 − y)], the cross-entropy with the roles of y and a swapped,
/// is infinite whenever y is 0 or 1 and the output a is not, which is every classification
/// target; the right form, −[y ln a + (1 − y) ln(1 − a)], is finite for outputs in (0, 1).
#[test]
fn the_cross_entropy_with_y_and_a_swapped_is_infinite_for_targets_of_0_and_1() {
    let swapped = |a: f64, y: f64| -(a * y.ln() + (1.0 - a) * (1.0 - y).ln());
    let right = |a: f64, y: f64| -(y * a.ln() + (1.0 - y) * (1.0 - a).ln());
    for y in [0.0f32, 1.0] {
        for z in [-3.0f32, 0.0, 2.0] {
            let a = sigma(f64::from(z));
            assert!(swapped(a, f64::from(y)).is_infinite(), "y = {y}, a = {a}");
            // The library's cost is the right form (eq. 57), value for value.
            let cost = CrossEntropyCost.total(&[z], &[a as f32], &[y], 1, &Sigmoid);
            let want = right(a, f64::from(y));
            assert!(want.is_finite() && want > 0.0);
            assert!(
                (cost - want).abs() < 1e-6 * (1.0 + want),
                "y = {y}, a = {a}: {cost} against eq. 57's {want}"
            );
        }
    }
}

/// Eqs. 61 and 62: for a sigmoid neuron with the cross-entropy cost,
/// ∂C/∂w_j = (1/n) Σ_x x_j (σ(z) − y) and ∂C/∂b = (1/n) Σ_x (σ(z) − y), with no σ'(z) factor.
#[test]
fn cross_entropy_gradient_of_a_sigmoid_neuron_is_x_times_sigma_minus_y() {
    let network = Network::sigmoid(&[3, 1], Initializer::Large, 1).unwrap();
    let data = examples(3, 1, 8, false, 2);
    let (_, gradient) = cost_and_gradient(&network, &CrossEntropyCost, &[], &data);
    let n = data.len() as f64;
    let mut expected = [0.0; 4];
    for i in 0..data.len() {
        let (x, y) = example(&data, i);
        let error = sigma(weighted_input(&network, 0, &x)[0]) - y[0];
        for j in 0..3 {
            expected[j] += x[j] * error / n;
        }
        expected[3] += error / n;
    }
    for (got, want) in gradient.iter().zip(expected) {
        assert!(
            (f64::from(*got) - want).abs() < 1e-6,
            "{gradient:?} against {expected:?}"
        );
    }
}

/// Problem "Many-layer multi-neuron networks": with sigmoid outputs, the quadratic cost's
/// output-layer gradient is (1/n) Σ a_k^{L−1} (a_j − y_j) σ'(z_j) (eq. 65), while the
/// cross-entropy's output error is δ^L = a^L − y (eq. 66), so its gradient is
/// (1/n) Σ a_k^{L−1} (a_j − y_j) (eq. 67), and (1/n) Σ (a_j − y_j) for the biases.
#[test]
fn output_layer_gradients_of_the_quadratic_and_cross_entropy_costs_eqs_65_to_67() {
    let network = Network::sigmoid(&[4, 5, 3], Initializer::Large, 3).unwrap();
    let data = examples(4, 3, 6, false, 4);
    let quadratic = output_layer_gradient(&network, &data, sigmoid_layer, |z, a, y| {
        (0..z.len())
            .map(|j| (a[j] - y[j]) * sigma(z[j]) * (1.0 - sigma(z[j])))
            .collect()
    });
    assert_output_layer_gradient(&network, &QuadraticCost, &data, quadratic.clone());
    let cross_entropy = output_layer_gradient(&network, &data, sigmoid_layer, |_, a, y| {
        a.iter().zip(y).map(|(a, y)| a - y).collect()
    });
    assert_output_layer_gradient(&network, &CrossEntropyCost, &data, cross_entropy.clone());
    // The formulas differ by the σ'(z) factor: the comparison tells them apart.
    let differ = quadratic
        .0
        .iter()
        .zip(&cross_entropy.0)
        .filter(|(q, c)| (*q - *c).abs() > 1e-3)
        .count();
    assert!(differ > quadratic.0.len() / 2);
}

/// Problem "Using the quadratic cost when we have linear neurons in the output layer": with
/// a^L = z^L, δ^L = a^L − y (eq. 68), so ∂C/∂w_jk = (1/n) Σ a_k^{L−1} (a_j − y_j) (eq. 69) and
/// ∂C/∂b_j = (1/n) Σ (a_j − y_j) (eq. 70).
#[test]
fn linear_outputs_with_the_quadratic_cost_have_error_a_minus_y_eqs_68_to_70() {
    let activations: Vec<Arc<dyn Activation>> = vec![Arc::new(Sigmoid), Arc::new(Identity)];
    let network = Network::new(&[4, 5, 3], activations, Initializer::Default, 5).unwrap();
    let data = examples(4, 3, 6, false, 6);
    let expected = output_layer_gradient(
        &network,
        &data,
        |z| z.to_vec(),
        |_, a, y| a.iter().zip(y).map(|(a, y)| a - y).collect(),
    );
    assert_output_layer_gradient(&network, &QuadraticCost, &data, expected);
}

/// Problems "Derive equations (81) and (82)" and "Backpropagation with softmax and the
/// log-likelihood cost": for a softmax output layer and C = −ln a_y (eq. 80),
/// δ_j^L = a_j^L − y_j (eq. 84), hence ∂C/∂b_j = a_j − y_j (eq. 81) and
/// ∂C/∂w_jk = a_k^{L−1} (a_j − y_j) (eq. 82). The shortcut is also compared with the full chain
/// rule, ∂C/∂a_j = −y_j/a_j taken back through the softmax's Jacobian.
#[test]
fn softmax_with_the_log_likelihood_has_error_a_minus_y_eqs_81_to_84() {
    let activations: Vec<Arc<dyn Activation>> =
        vec![Arc::new(Sigmoid), Arc::new(Softmax::default())];
    let network = Network::new(&[4, 5, 3], activations, Initializer::Large, 7).unwrap();
    let data = examples(4, 3, 6, true, 8);
    let expected = output_layer_gradient(&network, &data, softmax_layer, |_, a, y| {
        a.iter().zip(y).map(|(a, y)| a - y).collect()
    });
    assert_output_layer_gradient(&network, &LogLikelihoodCost, &data, expected);

    let z = [0.4f32, -1.3, 2.2];
    let y = [0.0f32, 1.0, 0.0];
    let mut a = [0.0; 3];
    Softmax::default().forward(&z, &mut a, 3);
    let mut delta = [0.0; 3];
    LogLikelihoodCost.delta(&z, &a, &y, 3, &Softmax::default(), &mut delta);
    let mut chain: Vec<f32> = y.iter().zip(&a).map(|(y, a)| -y / a).collect();
    Softmax::default().backward(&z, &a, 3, &mut chain);
    for j in 0..3 {
        assert!((delta[j] - (a[j] - y[j])).abs() < 1e-7);
        assert!(
            (chain[j] - delta[j]).abs() < 1e-6,
            "{chain:?} against {delta:?}"
        );
    }
}

/// Problem: the x_j factor of eq. 61 slows the learning of weights from inputs near 0, and no
/// cost can remove it. The cost depends on w_j only through z = Σ w_j x_j + b, so for every cost
/// ∂C/∂w_j = x_j ∂C/∂z = x_j ∂C/∂b: a weight from an input of 0 gets no gradient at all.
#[test]
fn no_cost_removes_the_input_factor_from_the_weight_gradient() {
    let x = vec![0.8f32, 0.0, -0.3, 1e-3];
    let costs: [(&dyn Cost, Arc<dyn Activation>); 3] = [
        (&QuadraticCost, Arc::new(Sigmoid)),
        (&CrossEntropyCost, Arc::new(Sigmoid)),
        (&LogLikelihoodCost, Arc::new(Softmax::default())),
    ];
    for (cost, output) in costs {
        let network = Network::new(&[4, 3], vec![output], Initializer::Large, 9).unwrap();
        let data = DenseExamples::classification(vec![x.clone()], vec![1], 3);
        let (_, gradient) = cost_and_gradient(&network, cost, &[], &data);
        let shape = &network.layers()[0];
        let (w, b) = (
            &gradient[shape.weights.clone()],
            &gradient[shape.biases.clone()],
        );
        for j in 0..3 {
            assert!(b[j] != 0.0);
            for (k, &x) in x.iter().enumerate() {
                let expected = x * b[j];
                assert!(
                    (w[j + 3 * k] - expected).abs() <= 1e-6 * (1.0 + expected.abs()),
                    "{}: ∂C/∂w_{j}{k} = {} against x_k ∂C/∂b_j = {expected}",
                    cost.name(),
                    w[j + 3 * k]
                );
            }
            assert_eq!(w[j + 3], 0.0, "{}: the weight from x = 0", cost.name());
        }
    }
}

/// Problem on `Network.cost_derivative`: written for the cross-entropy it would be
/// ∂C/∂a = (a − y)/(a(1 − a)), which divides by zero once an output saturates at exactly 0 or 1
/// (σ(z) is 1 in f32 from z ≈ 17 on); network2.py's `CrossEntropyCost.delta` returns the product
/// with σ'(z) already simplified, δ = a − y, as our cost does. Where both are defined they agree.
#[test]
fn the_cross_entropy_error_never_divides_by_a_saturated_output() {
    let z = [40.0f32, -0.5, 1.2];
    let y = [0.0f32, 1.0, 0.0];
    let mut a = [0.0; 3];
    Sigmoid.forward(&z, &mut a, 3);
    assert_eq!(a[0], 1.0);
    let cost_derivative: Vec<f32> = a
        .iter()
        .zip(&y)
        .map(|(a, y)| (a - y) / (a * (1.0 - a)))
        .collect();
    assert!(!cost_derivative[0].is_finite());
    let mut delta = [0.0; 3];
    CrossEntropyCost.delta(&z, &a, &y, 3, &Sigmoid, &mut delta);
    assert_eq!(delta[0], 1.0);
    for j in 1..3 {
        let through_sigma_prime = cost_derivative[j] * a[j] * (1.0 - a[j]);
        assert!((delta[j] - through_sigma_prime).abs() < 1e-6);
        assert_eq!(delta[j], a[j] - y[j]);
    }
}
