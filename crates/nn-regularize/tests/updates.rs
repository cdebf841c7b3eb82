//! The updates the penalties produce: eq. 93 for L2 and eq. 97 for L1 under plain SGD, the
//! coupled decay under momentum and Adam, and the cost the trainer reports.

use nn_core::{
    Adam, DenseExamples, Initializer, Momentum, Network, Optimizer, Regularizer, Sgd, Silent,
    TrainConfig, Trainer, cost_and_gradient,
};
use nn_costs::CrossEntropyCost;
use nn_regularize::{Dropout, L1, L2, sgn};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

const N: usize = 8;

fn data() -> DenseExamples {
    let mut rng = StdRng::seed_from_u64(5);
    let x = (0..N)
        .map(|_| (0..4).map(|_| rng.random_range(0.0..1.0)).collect())
        .collect();
    let y = (0..N).map(|i| i % 3).collect();
    DenseExamples::classification(x, y, 3)
}

fn network() -> Network {
    Network::sigmoid(&[4, 5, 3], Initializer::Default, 11).unwrap()
}

/// Trains `epochs` epochs with the whole set as the mini-batch, so each epoch is one step.
fn train(
    optimizer: Box<dyn Optimizer>,
    regularizers: Vec<Box<dyn Regularizer>>,
    eta: f32,
    epochs: usize,
) -> Network {
    let config = TrainConfig {
        epochs,
        batch_size: N,
        eta,
        ..TrainConfig::default()
    };
    Trainer::new(
        network(),
        &CrossEntropyCost,
        optimizer,
        regularizers,
        config,
    )
    .unwrap()
    .train(&data(), None, &mut Silent)
    .unwrap()
    .0
}

/// The gradient ∂C₀/∂w of the unregularized cost over the whole set.
fn plain_gradient(network: &Network) -> Vec<f32> {
    cost_and_gradient(network, &CrossEntropyCost, &[], &data()).1
}

/// Applies `rule(parameter, ∂C₀/∂parameter, is_weight)` to every parameter.
fn expected(network: &Network, rule: impl Fn(f32, f32, bool) -> f32) -> Vec<f32> {
    let gradient = plain_gradient(network);
    let mut is_weight = vec![false; gradient.len()];
    for shape in network.layers() {
        is_weight[shape.weights.clone()].fill(true);
    }
    network
        .params()
        .iter()
        .zip(&gradient)
        .zip(&is_weight)
        .map(|((&p, &g), &w)| rule(p, g, w))
        .collect()
}

fn max_difference(a: &[f32], b: &[f32]) -> f32 {
    assert_eq!(a.len(), b.len());
    a.iter()
        .zip(b)
        .map(|(x, y)| (x - y).abs())
        .fold(0.0, f32::max)
}

#[test]
fn sgd_with_l2_is_weight_decay_eq_93() {
    let (eta, lambda) = (0.5f32, 2.0f32);
    let decay = 1.0 - eta * lambda / N as f32;
    let want = expected(&network(), |p, g, is_weight| {
        if is_weight {
            decay * p - eta * g
        } else {
            p - eta * g
        }
    });
    let trained = train(
        Box::new(Sgd),
        vec![Box::new(L2::new(lambda).unwrap())],
        eta,
        1,
    );
    assert!(max_difference(trained.params(), &want) < 1e-6);

    // The same step from cost_and_gradient's regularized gradient and the optimizer by hand.
    let mut params = network().params().to_vec();
    let regularizers: Vec<Box<dyn Regularizer>> = vec![Box::new(L2::new(lambda).unwrap())];
    let (_, gradient) = cost_and_gradient(&network(), &CrossEntropyCost, &regularizers, &data());
    Sgd.step(&mut params, &gradient, eta).unwrap();
    assert!(max_difference(&params, &want) < 1e-6);

    // Without the decay the step is visibly different: the comparison has power.
    let unregularized = train(Box::new(Sgd), Vec::new(), eta, 1);
    assert!(max_difference(unregularized.params(), &want) > 1e-2);
}

#[test]
fn sgd_with_l1_shrinks_by_a_constant_eq_97() {
    let (eta, lambda) = (0.5f32, 2.0f32);
    let shrink = eta * lambda / N as f32;
    let mut start = network();
    // One weight exactly zero: sgn(0) = 0 leaves it to the unregularized rule.
    let first = start.layers()[0].weights.start;
    start.params_mut()[first] = 0.0;
    let gradient = plain_gradient(&start);
    let mut want: Vec<f32> = start
        .params()
        .iter()
        .zip(&gradient)
        .map(|(&p, &g)| p - eta * g)
        .collect();
    for shape in start.layers() {
        for i in shape.weights.clone() {
            want[i] -= shrink * sgn(start.params()[i]);
        }
    }
    assert_eq!(want[first], -eta * gradient[first]);
    let config = TrainConfig {
        epochs: 1,
        batch_size: N,
        eta,
        ..TrainConfig::default()
    };
    let regularizers: Vec<Box<dyn Regularizer>> = vec![Box::new(L1::new(lambda).unwrap())];
    let trained = Trainer::new(
        start.clone(),
        &CrossEntropyCost,
        Box::new(Sgd),
        regularizers,
        config,
    )
    .unwrap()
    .train(&data(), None, &mut Silent)
    .unwrap()
    .0;
    assert!(max_difference(trained.params(), &want) < 1e-6);
    assert!((trained.params()[first] - want[first]).abs() < 1e-7);
}

#[test]
fn momentum_carries_the_decay_in_its_velocity() {
    let (eta, lambda, mu) = (0.3f32, 2.0f32, 0.9f32);
    let l2 = || -> Vec<Box<dyn Regularizer>> { vec![Box::new(L2::new(lambda).unwrap())] };
    // From zero velocity, one momentum step is the SGD step including the decay (eq. 93).
    let sgd = train(Box::new(Sgd), l2(), eta, 1);
    let momentum = train(Box::new(Momentum::new(mu).unwrap()), l2(), eta, 1);
    assert!(max_difference(sgd.params(), momentum.params()) < 1e-6);

    // Two steps by hand: v₁ = −η∇C(w₀), w₁ = w₀ + v₁, v₂ = μv₁ − η∇C(w₁), w₂ = w₁ + v₂, where
    // ∇C includes the (λ/n) w term.
    let gradient = |net: &Network| cost_and_gradient(net, &CrossEntropyCost, &l2(), &data()).1;
    let w0 = network();
    let v1: Vec<f32> = gradient(&w0).iter().map(|g| -eta * g).collect();
    let mut w1 = w0.clone();
    w1.params_mut()
        .iter_mut()
        .zip(&v1)
        .for_each(|(w, v)| *w += v);
    let g1 = gradient(&w1);
    let mut w2 = w1.clone();
    w2.params_mut()
        .iter_mut()
        .zip(v1.iter().zip(&g1))
        .for_each(|(w, (v, g))| *w += mu * v - eta * g);
    let trained = train(Box::new(Momentum::new(mu).unwrap()), l2(), eta, 2);
    assert!(max_difference(trained.params(), w2.params()) < 1e-5);
    let sgd_twice = train(Box::new(Sgd), l2(), eta, 2);
    assert!(max_difference(trained.params(), sgd_twice.params()) > 1e-3);
}

/// Adam by hand (β₁ = 0.9, β₂ = 0.999, ε = 1e-8) for `steps` steps in f64, with L2's (λ/n) w
/// either inside the gradient (`coupled`) or subtracted beside the adaptive step (AdamW).
fn adam_by_hand(eta: f32, lambda: f32, steps: usize, coupled: bool) -> Vec<f32> {
    let (b1, b2, eps) = (0.9f64, 0.999f64, 1e-8f64);
    let mut net = network();
    let len = net.params().len();
    let (mut m, mut v) = (vec![0.0f64; len], vec![0.0f64; len]);
    for t in 1..=steps {
        let regularizers: Vec<Box<dyn Regularizer>> = if coupled {
            vec![Box::new(L2::new(lambda).unwrap())]
        } else {
            Vec::new()
        };
        let (_, g) = cost_and_gradient(&net, &CrossEntropyCost, &regularizers, &data());
        let mut decay = vec![0.0f64; len];
        if !coupled {
            for shape in net.layers() {
                for i in shape.weights.clone() {
                    decay[i] = f64::from(lambda) / N as f64 * f64::from(net.params()[i]);
                }
            }
        }
        for i in 0..len {
            let g = f64::from(g[i]);
            m[i] = b1 * m[i] + (1.0 - b1) * g;
            v[i] = b2 * v[i] + (1.0 - b2) * g * g;
            let m_hat = m[i] / (1.0 - b1.powi(t as i32));
            let v_hat = v[i] / (1.0 - b2.powi(t as i32));
            let step = f64::from(eta) * (m_hat / (v_hat.sqrt() + eps) + decay[i]);
            net.params_mut()[i] = (f64::from(net.params()[i]) - step) as f32;
        }
    }
    net.params().to_vec()
}

#[test]
fn adam_scales_the_decay_adaptively() {
    let (eta, lambda) = (0.01f32, 4.0f32);
    for steps in [1, 3] {
        let trained = train(
            Box::new(Adam::default()),
            vec![Box::new(L2::new(lambda).unwrap())],
            eta,
            steps,
        );
        let coupled = adam_by_hand(eta, lambda, steps, true);
        let decoupled = adam_by_hand(eta, lambda, steps, false);
        let error = max_difference(trained.params(), &coupled);
        let gap = max_difference(&coupled, &decoupled);
        assert!(
            error < 1e-5,
            "{steps} steps: off the coupled rule by {error}"
        );
        assert!(
            gap > 100.0 * error.max(1e-6),
            "{steps} steps: AdamW differs by only {gap}"
        );
        assert!(max_difference(trained.params(), &decoupled) > 1e-3);
    }
}

#[test]
fn reported_cost_includes_every_penalty() {
    let regularizers = || -> Vec<Box<dyn Regularizer>> {
        vec![
            Box::new(L2::new(1.0).unwrap()),
            Box::new(L1::new(0.5).unwrap()),
            Box::new(Dropout::new(0.5).unwrap()),
        ]
    };
    let mut config = TrainConfig {
        epochs: 2,
        batch_size: 3,
        eta: 0.5,
        ..TrainConfig::default()
    };
    config.monitor.training_cost = true;
    let (trained, history) = Trainer::new(
        network(),
        &CrossEntropyCost,
        Box::new(Sgd),
        regularizers(),
        config,
    )
    .unwrap()
    .train(&data(), None, &mut Silent)
    .unwrap();
    let reported = history.epochs[1].training_cost.unwrap();
    let (with_penalties, _) =
        cost_and_gradient(&trained, &CrossEntropyCost, &regularizers(), &data());
    let (without, _) = cost_and_gradient(&trained, &CrossEntropyCost, &[], &data());
    assert!((reported - with_penalties).abs() < 1e-9 * with_penalties.max(1.0));
    let weights: Vec<&[f32]> = trained
        .layers()
        .iter()
        .map(|l| &trained.params()[l.weights.clone()])
        .collect();
    let penalty =
        L2::new(1.0).unwrap().penalty(&weights, N) + L1::new(0.5).unwrap().penalty(&weights, N);
    assert!(penalty > 0.1);
    assert!((reported - without - penalty).abs() < 1e-6);
}
