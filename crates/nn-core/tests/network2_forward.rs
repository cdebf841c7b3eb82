//! A model trained on MNIST and saved to a file is read back as plain JSON and run through
//! network2.py's forward pass, a ← σ(w·a + b) layer by layer, computed here by hand in f64:
//! it must give the outputs, classes and accuracy our network gives.

use nn_core::{Initializer, Network, Sgd, Silent, TrainConfig, Trainer, save_model};
use nn_costs::CrossEntropyCost;
use nn_data::{ImageSet, load_splits};
use serde_json::Value;

fn sigmoid(z: f64) -> f64 {
    1.0 / (1.0 + (-z).exp())
}

fn numbers(value: &Value) -> Vec<f64> {
    value
        .as_array()
        .expect("a list")
        .iter()
        .map(|v| v.as_f64().expect("a number"))
        .collect()
}

/// network2.py's `feedforward` on the `weights` (per layer a list of rows) and `biases` (per
/// layer a list of one-element lists) of a model file: for each layer, a_j ← σ(Σ_k w_jk a_k + b_j).
fn network2_feedforward(model: &Value, x: &[f32]) -> Vec<f64> {
    let mut a: Vec<f64> = x.iter().map(|&v| f64::from(v)).collect();
    let layers = model["weights"].as_array().unwrap();
    let biases = model["biases"].as_array().unwrap();
    assert_eq!(layers.len(), biases.len());
    for (w, b) in layers.iter().zip(biases) {
        let rows = w.as_array().unwrap();
        let b = b.as_array().unwrap();
        assert_eq!(rows.len(), b.len());
        a = rows
            .iter()
            .zip(b)
            .map(|(row, bias)| {
                let row = numbers(row);
                assert_eq!(row.len(), a.len(), "a row has one weight per input");
                let bias = numbers(bias);
                assert_eq!(bias.len(), 1, "a bias is a one-element list");
                let z: f64 = row.iter().zip(&a).map(|(w, a)| w * a).sum::<f64>() + bias[0];
                sigmoid(z)
            })
            .collect();
    }
    a
}

/// The largest difference between our outputs and network2's on `images`, and how many of
/// the images network2's outputs classify as we do.
fn compare(network: &Network, model: &Value, images: &ImageSet, count: usize) -> (f64, usize) {
    let mut x = vec![0.0; 784];
    let mut worst = 0.0f64;
    let mut same_class = 0;
    for i in 0..count {
        nn_core::Examples::write_input(images, i, &mut x);
        let theirs = network2_feedforward(model, &x);
        let ours = network.feedforward(&x);
        for (o, t) in ours.iter().zip(&theirs) {
            worst = worst.max((f64::from(*o) - t).abs());
        }
        let their_class = theirs
            .iter()
            .enumerate()
            .max_by(|a, b| a.1.total_cmp(b.1))
            .unwrap()
            .0;
        same_class += usize::from(network.classify(&x) == Some(their_class));
    }
    (worst, same_class)
}

#[test]
fn a_trained_model_file_computes_in_network2s_forward_pass_what_it_computes_here() {
    let data = load_splits(nn_testdata::mnist_dir(), None).expect("MNIST loads");
    let training = data.training.subset(..1_000);
    let config = TrainConfig {
        epochs: 2,
        ..TrainConfig::default()
    };
    let network = Network::sigmoid(&[784, 30, 10], Initializer::Default, 4).unwrap();
    let (network, _) = Trainer::new(
        network,
        &CrossEntropyCost,
        Box::new(Sgd),
        Vec::new(),
        config,
    )
    .unwrap()
    .train(&training, None, &mut Silent)
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("model.json");
    save_model(&network, "CrossEntropyCost", &path).unwrap();
    let model: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    assert_eq!(model["sizes"], serde_json::json!([784, 30, 10]));
    assert_eq!(model["cost"], "CrossEntropyCost");

    let count = 200;
    let (worst, same_class) = compare(&network, &model, &data.test, count);
    assert!(worst < 1e-5, "outputs differ by up to {worst}");
    assert_eq!(same_class, count);

    // The check can fail: a file whose weight matrices were written column by column (the
    // column-major buffer cut into rows of n_in numbers) has the right nesting and sizes, and
    // network2's forward pass on it is reported.
    let mut transposed = model.clone();
    for (layer, shape) in network.layers().iter().enumerate() {
        let flat = &network.params()[shape.weights.clone()];
        transposed["weights"][layer] = flat
            .chunks_exact(shape.cols)
            .map(|row| row.iter().map(|&w| f64::from(w)).collect::<Vec<_>>())
            .collect::<Vec<_>>()
            .into();
    }
    let (worst, same_class) = compare(&network, &transposed, &data.test, count);
    assert!(worst > 0.1, "outputs differ by only {worst}");
    assert!(
        same_class < count / 2,
        "{same_class} of {count} classes agree"
    );
}
