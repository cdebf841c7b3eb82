//! Dropout masks, their expectation, backpropagation through them, the max-norm constraint, and
//! evaluation without masks.

use std::sync::{Arc, Mutex};

use nn_core::{
    DenseExamples, Examples, Initializer, LayerShape, Momentum, Network, Optimizer, OptimizerState,
    Regularizer, Sgd, Silent, TrainConfig, TrainError, Trainer, cost_and_gradient,
};
use nn_costs::CrossEntropyCost;
use nn_regularize::Dropout;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

fn mask(dropout: &Dropout, layer: usize, layer_count: usize, len: usize, seed: u64) -> Vec<f32> {
    let mut values = vec![1.0; len];
    let mut rng = StdRng::seed_from_u64(seed);
    assert!(dropout.apply_mask(layer, layer_count, &mut rng, &mut values));
    values
}

#[test]
fn masks_drop_the_requested_fraction_and_scale_the_rest() {
    // 1000 neurons by 100 examples.
    let len = 1000 * 100;
    for p in [0.5f32, 0.2, 0.8] {
        let values = mask(&Dropout::new(p).unwrap(), 1, 3, len, 7);
        let dropped = values.iter().filter(|&&m| m == 0.0).count() as f64 / len as f64;
        assert!(
            (dropped - f64::from(p)).abs() < 0.01,
            "p = {p}: dropped {dropped}"
        );
        let kept = 1.0 / (1.0 - p);
        assert!(values.iter().all(|&m| m == 0.0 || m == kept));
        // Every example column loses about the same share: the draws are per example.
        for column in values.chunks_exact(1000) {
            let share = column.iter().filter(|&&m| m == 0.0).count() as f64 / 1000.0;
            assert!((share - f64::from(p)).abs() < 0.07, "column share {share}");
        }
    }
}

#[test]
fn every_mini_batch_gets_a_fresh_mask() {
    let dropout = Dropout::default();
    let mut rng = StdRng::seed_from_u64(3);
    let mut first = vec![1.0; 300];
    let mut second = vec![1.0; 300];
    dropout.apply_mask(1, 3, &mut rng, &mut first);
    dropout.apply_mask(1, 3, &mut rng, &mut second);
    assert_ne!(first, second);
    let differing = first.iter().zip(&second).filter(|(a, b)| a != b).count();
    assert!(differing > 100, "only {differing} of 300 entries changed");
}

#[test]
fn input_layer_only_when_asked_and_output_layer_never() {
    let mut rng = StdRng::seed_from_u64(1);
    let mut values = vec![1.0; 784 * 10];
    let plain = Dropout::new(0.5).unwrap();
    assert!(!plain.apply_mask(0, 3, &mut rng, &mut values));
    assert!(values.iter().all(|&m| m == 1.0));
    for layers in [2, 3, 4] {
        assert!(!plain.apply_mask(layers - 1, layers, &mut rng, &mut values));
    }
    assert!(values.iter().all(|&m| m == 1.0));
    let with_input = plain.with_input(0.2).unwrap();
    let input_mask = mask(&with_input, 0, 3, 784 * 100, 2);
    let dropped = input_mask.iter().filter(|&&m| m == 0.0).count() as f64 / input_mask.len() as f64;
    assert!((dropped - 0.2).abs() < 0.01, "input dropped {dropped}");
    let output = with_input.with_layer_rates(vec![0.2, 0.5, 0.5]).unwrap();
    assert!(!output.apply_mask(2, 3, &mut rng, &mut values));
    // A layer with rate 0 is left alone.
    let none = Dropout::new(0.5)
        .unwrap()
        .with_layer_rates(vec![0.0, 0.0])
        .unwrap();
    assert!(!none.apply_mask(1, 4, &mut rng, &mut values));
    assert!(none.apply_mask(2, 4, &mut rng, &mut values));
}

/// z = W a + b of a layer with `rows` neurons fed by the `cols`-vector `a`.
fn weighted_input(w: &[f32], b: &[f32], a: &[f32], rows: usize) -> Vec<f64> {
    (0..rows)
        .map(|r| {
            f64::from(b[r])
                + a.iter()
                    .enumerate()
                    .map(|(c, &x)| f64::from(w[r + c * rows]) * f64::from(x))
                    .sum::<f64>()
        })
        .collect()
}

#[test]
fn expected_weighted_input_is_unchanged_by_inverted_dropout() {
    let network = Network::sigmoid(&[20, 30, 10], Initializer::Default, 4).unwrap();
    let mut rng = StdRng::seed_from_u64(9);
    let x: Vec<f32> = (0..20).map(|_| rng.random_range(0.0..1.0)).collect();
    let first = &network.layers()[0];
    let hidden: Vec<f32> = weighted_input(
        &network.params()[first.weights.clone()],
        &network.params()[first.biases.clone()],
        &x,
        30,
    )
    .iter()
    .map(|&z| (1.0 / (1.0 + (-z).exp())) as f32)
    .collect();
    let second = &network.layers()[1];
    let (w, b) = (
        &network.params()[second.weights.clone()],
        &network.params()[second.biases.clone()],
    );
    let full = weighted_input(w, b, &hidden, 10);
    // 4000 masked copies of the hidden layer: one mini-batch of 4000 columns.
    let samples = 4000;
    let masks = mask(&Dropout::default(), 1, 3, 30 * samples, 21);
    let zs: Vec<Vec<f64>> = masks
        .chunks_exact(30)
        .map(|m| {
            let thinned: Vec<f32> = hidden.iter().zip(m).map(|(a, m)| a * m).collect();
            weighted_input(w, b, &thinned, 10)
        })
        .collect();
    let mut detectable = 0;
    for neuron in 0..10 {
        let values: Vec<f64> = zs.iter().map(|z| z[neuron]).collect();
        let mean = values.iter().sum::<f64>() / samples as f64;
        let variance =
            values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (samples - 1) as f64;
        let standard_error = (variance / samples as f64).sqrt();
        assert!(standard_error > 0.0);
        assert!(
            (mean - full[neuron]).abs() < 4.0 * standard_error,
            "neuron {neuron}: mean z {mean} vs {} (se {standard_error})",
            full[neuron]
        );
        // Without the 1/(1 − p) scaling the mean would be off by half of Σ w a.
        let unscaled = 0.5 * (mean - f64::from(b[neuron])) + f64::from(b[neuron]);
        if (unscaled - full[neuron]).abs() > 4.0 * standard_error {
            detectable += 1;
        }
    }
    assert!(
        detectable >= 5,
        "only {detectable} neurons would notice unscaled dropout"
    );
}

#[test]
fn max_norm_caps_each_neurons_incoming_weights() {
    let (rows, cols) = (6, 5);
    let shape = LayerShape {
        rows,
        cols,
        weights: 0..rows * cols,
        biases: rows * cols..rows * cols + rows,
    };
    let mut rng = StdRng::seed_from_u64(8);
    let mut weights: Vec<f32> = (0..rows * cols)
        .map(|_| rng.random_range(-2.0..2.0))
        .collect();
    // Neuron 2's incoming weights are small and must stay as they are.
    for c in 0..cols {
        weights[2 + c * rows] = 0.1;
    }
    let row_norm = |w: &[f32], r: usize| {
        (0..cols)
            .map(|c| w[r + c * rows].powi(2))
            .sum::<f32>()
            .sqrt()
    };
    let before = weights.clone();
    let dropout = Dropout::default().with_max_norm(1.5).unwrap();
    dropout.constrain(&shape, &mut weights);
    for r in 0..rows {
        let (old, new) = (row_norm(&before, r), row_norm(&weights, r));
        if old > 1.5 {
            assert!((new - 1.5).abs() < 1e-5, "row {r}: {old} -> {new}");
            for c in 0..cols {
                let i = r + c * rows;
                assert!((weights[i] - before[i] * 1.5 / old).abs() < 1e-6);
            }
        } else {
            assert_eq!(new, old);
        }
    }
    assert_eq!(row_norm(&weights, 2), row_norm(&before, 2));
    // Without the bound nothing changes.
    let mut untouched = before.clone();
    Dropout::default().constrain(&shape, &mut untouched);
    assert_eq!(untouched, before);
}

fn toy_data() -> DenseExamples {
    let mut rng = StdRng::seed_from_u64(2);
    let x = (0..60)
        .map(|_| (0..8).map(|_| rng.random_range(0.0..1.0)).collect())
        .collect();
    let y = (0..60).map(|i| i % 4).collect();
    DenseExamples::classification(x, y, 4)
}

fn train(regularizers: Vec<Box<dyn Regularizer>>) -> Network {
    let config = TrainConfig {
        epochs: 5,
        batch_size: 6,
        eta: 3.0,
        seed: 17,
        ..TrainConfig::default()
    };
    let network = Network::sigmoid(&[8, 12, 9, 4], Initializer::Large, 1).unwrap();
    Trainer::new(
        network,
        &CrossEntropyCost,
        Box::new(Sgd),
        regularizers,
        config,
    )
    .unwrap()
    .train(&toy_data(), None, &mut Silent)
    .unwrap()
    .0
}

#[test]
fn training_through_the_thinned_network() {
    let plain = train(Vec::new());
    let dropped = train(vec![Box::new(Dropout::default())]);
    assert_ne!(plain.params(), dropped.params());
    // Masks come from the run's seed: the same run gives the same network.
    assert_eq!(
        dropped.params(),
        train(vec![Box::new(Dropout::default())]).params()
    );
    // Rate 0 everywhere draws no mask, and the run is the plain one.
    assert_eq!(
        plain.params(),
        train(vec![Box::new(Dropout::new(0.0).unwrap())]).params()
    );
    // The max-norm constraint holds after every update, for every layer.
    let capped = train(vec![Box::new(
        Dropout::default().with_max_norm(0.8).unwrap(),
    )]);
    let norms = |net: &Network| -> Vec<f32> {
        net.layers()
            .iter()
            .flat_map(|s| {
                let w = &net.params()[s.weights.clone()];
                (0..s.rows)
                    .map(|r| {
                        w.iter()
                            .skip(r)
                            .step_by(s.rows)
                            .map(|v| v * v)
                            .sum::<f32>()
                            .sqrt()
                    })
                    .collect::<Vec<_>>()
            })
            .collect()
    };
    assert!(norms(&capped).iter().all(|&n| n <= 0.8 + 1e-5));
    assert!(norms(&dropped).iter().any(|&n| n > 1.0));
}

/// Training with dropout on the input and hidden layers, momentum and L2 at the best recipe's
/// mini-batch of 100 through hidden layers of 400: the masks are drawn on one core while the
/// other loads the images, and each layer's masking, activation and σ' are cut between the two
/// cores by columns (40,000 numbers per hidden layer). None of it may change a bit.
#[test]
fn dropout_training_split_between_two_cores_is_bit_identical_to_one_core() {
    let inputs = (0..400)
        .map(|i| {
            (0..784)
                .map(|j| ((i * 7919 + j * 104_729) % 1000) as f32 / 1000.0)
                .collect()
        })
        .collect();
    let data = DenseExamples::classification(inputs, (0..400).map(|i| i % 10).collect(), 10);
    let run = |threads: usize, seed: u64| {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap();
        pool.install(|| {
            let config = TrainConfig {
                epochs: 2,
                batch_size: 100,
                eta: 0.05,
                seed,
                ..TrainConfig::default()
            };
            let network = Network::sigmoid(&[784, 400, 400, 10], Initializer::Default, 3).unwrap();
            let dropout = Dropout::new(0.2).unwrap().with_input(0.2).unwrap();
            let regularizers: Vec<Box<dyn Regularizer>> = vec![
                Box::new(dropout),
                Box::new(nn_regularize::L2::new(5.0).unwrap()),
            ];
            let optimizer = Box::new(Momentum::new(0.9).unwrap());
            let trainer = Trainer::new(network, &CrossEntropyCost, optimizer, regularizers, config);
            let (network, _) = trainer.unwrap().train(&data, None, &mut Silent).unwrap();
            network.params().to_vec()
        })
    };
    let one = run(1, 4);
    assert_eq!(
        one.iter().map(|p| p.to_bits()).collect::<Vec<_>>(),
        run(2, 4).iter().map(|p| p.to_bits()).collect::<Vec<_>>()
    );
    // Not vacuous: other masks (another seed) give another network.
    assert_ne!(one, run(2, 5));
}

#[test]
fn evaluation_runs_the_full_network_without_masks() {
    let trained = train(vec![Box::new(
        Dropout::new(0.5).unwrap().with_input(0.2).unwrap(),
    )]);
    let data = toy_data();
    let mut correct = 0;
    for i in 0..data.len() {
        let mut a = vec![0.0; 8];
        data.write_input(i, &mut a);
        let input = a.clone();
        for shape in trained.layers() {
            let z = weighted_input(
                &trained.params()[shape.weights.clone()],
                &trained.params()[shape.biases.clone()],
                &a,
                shape.rows,
            );
            a = z
                .iter()
                .map(|&z| (1.0 / (1.0 + (-z).exp())) as f32)
                .collect();
        }
        let output = trained.feedforward(&input);
        for (got, want) in output.iter().zip(&a) {
            assert!((got - want).abs() < 1e-5, "{output:?} vs {a:?}");
        }
        assert_eq!(output, trained.feedforward(&input));
        correct += usize::from(nn_core::argmax(&a) == data.class(i).unwrap());
    }
    assert_eq!(trained.evaluate(&data, &CrossEntropyCost).correct, correct);
}

/// The last mask drawn for each layer (input layer 0), empty for layers never masked.
type Masks = Arc<Mutex<Vec<Vec<f32>>>>;

/// Dropout that keeps a copy of every mask it draws, so that a test can run the thinned
/// network again with the same masks.
#[derive(Debug)]
struct RecordedDropout {
    dropout: Dropout,
    masks: Masks,
}

impl Regularizer for RecordedDropout {
    fn describe(&self) -> String {
        self.dropout.describe()
    }
    fn apply_mask(
        &self,
        layer: usize,
        layer_count: usize,
        rng: &mut StdRng,
        mask: &mut [f32],
    ) -> bool {
        let active = self.dropout.apply_mask(layer, layer_count, rng, mask);
        if active {
            self.masks.lock().unwrap()[layer] = mask.to_vec();
        }
        active
    }
}

/// An update rule that keeps the gradient it is given and leaves the parameters alone.
#[derive(Debug)]
struct RecordedGradient(Arc<Mutex<Vec<f32>>>);

impl Optimizer for RecordedGradient {
    fn describe(&self) -> String {
        "recorded gradient".into()
    }
    fn prepare(&mut self, _parameter_count: usize) -> Result<(), TrainError> {
        Ok(())
    }
    fn step(&mut self, _params: &mut [f32], gradient: &[f32], _eta: f32) -> Result<(), TrainError> {
        *self.0.lock().unwrap() = gradient.to_vec();
        Ok(())
    }
    fn state(&self) -> OptimizerState {
        OptimizerState::Stateless
    }
    fn restore(&mut self, _state: OptimizerState) -> Result<(), TrainError> {
        Ok(())
    }
}

/// The masks per layer (input layer 0) and the backpropagated gradient of one training step
/// on the single example `data`, through dropout of the input and hidden layers.
fn masked_gradient(
    network: &Network,
    data: &DenseExamples,
    seed: u64,
) -> (Vec<Vec<f32>>, Vec<f32>) {
    let masks: Masks = Arc::new(Mutex::new(vec![Vec::new(); network.sizes().len() - 1]));
    let gradient = Arc::new(Mutex::new(Vec::new()));
    let dropout = RecordedDropout {
        dropout: Dropout::new(0.5).unwrap().with_input(0.3).unwrap(),
        masks: masks.clone(),
    };
    let config = TrainConfig {
        epochs: 1,
        batch_size: 1,
        seed,
        ..TrainConfig::default()
    };
    Trainer::new(
        network.clone(),
        &CrossEntropyCost,
        Box::new(RecordedGradient(gradient.clone())),
        vec![Box::new(dropout)],
        config,
    )
    .unwrap()
    .train(data, None, &mut Silent)
    .unwrap();
    let masks = masks.lock().unwrap().clone();
    assert!(
        masks.iter().all(|m| !m.is_empty()),
        "every layer but the output masked"
    );
    let gradient = gradient.lock().unwrap().clone();
    (masks, gradient)
}

/// The cost of the thinned network: masking layer l's activations by m is multiplying column k
/// of the next layer's weight matrix by m_k, so the full network with those weights gives it
/// without any of the masking code.
fn thinned_cost(network: &Network, masks: &[Vec<f32>], data: &DenseExamples) -> f64 {
    let mut thinned = network.clone();
    let mut masks = masks.iter();
    thinned.for_each_weights_mut(|shape, weights| {
        let mask = masks.next().expect("one mask per weighted layer");
        for (column, &m) in weights.chunks_exact_mut(shape.rows).zip(mask) {
            column.iter_mut().for_each(|w| *w *= m);
        }
    });
    let evaluation = thinned.evaluate(data, &CrossEntropyCost);
    evaluation.cost_sum / evaluation.count as f64
}

/// The parameters whose `gradient` disagrees with the central differences of the thinned
/// network's cost.
fn disagreeing(
    network: &Network,
    masks: &[Vec<f32>],
    data: &DenseExamples,
    gradient: &[f32],
) -> Vec<usize> {
    let h = 1e-3f32;
    let mut probe = network.clone();
    (0..gradient.len())
        .filter(|&i| {
            let original = network.params()[i];
            probe.params_mut()[i] = original + h;
            let plus = thinned_cost(&probe, masks, data);
            probe.params_mut()[i] = original - h;
            let minus = thinned_cost(&probe, masks, data);
            probe.params_mut()[i] = original;
            let numeric = (plus - minus) / (f64::from(original + h) - f64::from(original - h));
            let given = f64::from(gradient[i]);
            (numeric - given).abs() > 1e-2 * numeric.abs().max(given.abs()) + 1e-3
        })
        .collect()
}

#[test]
fn backpropagation_through_dropout_masks_matches_finite_differences() {
    let network = Network::sigmoid(&[6, 7, 5, 3], Initializer::Large, 11).unwrap();
    let mut rng = StdRng::seed_from_u64(12);
    let mut dropped = 0;
    let mut previous: Option<Vec<Vec<f32>>> = None;
    for seed in 0..6 {
        let x: Vec<f32> = (0..6).map(|_| rng.random_range(-1.0..1.0)).collect();
        let data = DenseExamples::classification(vec![x], vec![seed as usize % 3], 3);
        let (masks, gradient) = masked_gradient(&network, &data, seed);
        dropped += masks.iter().flatten().filter(|&&m| m == 0.0).count();
        let wrong = disagreeing(&network, &masks, &data, &gradient);
        assert!(
            wrong.is_empty(),
            "seed {seed}: parameters {wrong:?} disagree"
        );

        // The check can fail: the full network's gradient, and the gradient through the masks
        // of another example, are both reported against this example's thinned network.
        let (_, unmasked) = cost_and_gradient(&network, &CrossEntropyCost, &[], &data);
        assert!(disagreeing(&network, &masks, &data, &unmasked).len() > 10);
        if let Some(other) = &previous
            && other != &masks
        {
            assert!(!disagreeing(&network, other, &data, &gradient).is_empty());
        }
        previous = Some(masks);
    }
    assert!(dropped > 10, "only {dropped} neurons dropped in six steps");
}
