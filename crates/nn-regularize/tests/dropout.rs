//! Dropout masks, their expectation, the max-norm constraint, and evaluation without masks.

use nn_core::{
    DenseExamples, Examples, Initializer, LayerShape, Network, Regularizer, Sgd, Silent,
    TrainConfig, Trainer,
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
