//! Saving and loading in network2.py's JSON format.

use std::sync::Arc;

use nn_core::{Initializer, Network, Softmax, Tanh, load_model, model_from_json, save_model};

#[test]
fn save_then_load_is_bit_identical() {
    let dir = tempfile::tempdir().unwrap();
    let network = Network::new(
        &[784, 30, 10],
        vec![Arc::new(Tanh), Arc::new(Softmax { temperature: 1.5 })],
        Initializer::Default,
        42,
    )
    .unwrap();
    let path = dir.path().join("model.json");
    save_model(&network, "LogLikelihoodCost", &path).unwrap();
    let model = load_model(&path).unwrap();
    assert_eq!(model.cost, "LogLikelihoodCost");
    assert_eq!(model.network.sizes(), network.sizes());
    let bits = |n: &Network| n.params().iter().map(|p| p.to_bits()).collect::<Vec<_>>();
    assert_eq!(bits(&model.network), bits(&network));
    let specs: Vec<String> = model
        .network
        .activations()
        .iter()
        .map(|a| a.spec())
        .collect();
    assert_eq!(specs, ["tanh", "softmax:1.5"]);
    let again = dir.path().join("again.json");
    save_model(&model.network, &model.cost, &again).unwrap();
    assert_eq!(
        std::fs::read(&path).unwrap(),
        std::fs::read(&again).unwrap()
    );
    // Nothing but the model is left in the folder: the temporary file was renamed.
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 2);
}

/// A [2, 3, 1] network as network2.py's `save` writes it (keys and nesting exactly so).
const NETWORK2_FILE: &str = r#"{"sizes": [2, 3, 1],
 "weights": [[[0.1, -0.2], [0.3, 0.4], [-0.5, 0.6]], [[0.7, -0.8, 0.9]]],
 "biases": [[[0.01], [-0.02], [0.03]], [[-0.04]]],
 "cost": "CrossEntropyCost"}"#;

fn sigmoid(z: f64) -> f64 {
    1.0 / (1.0 + (-z).exp())
}

#[test]
fn a_network2_file_loads_and_computes_as_network2_does() {
    let model = model_from_json(NETWORK2_FILE).unwrap();
    assert_eq!(model.cost, "CrossEntropyCost");
    assert!(model.network.activations().iter().all(|a| a.is_sigmoid()));
    let x = [0.25, -0.75];
    let hidden: Vec<f64> = [
        ([0.1, -0.2], 0.01),
        ([0.3, 0.4], -0.02),
        ([-0.5, 0.6], 0.03),
    ]
    .iter()
    .map(|(w, b)| sigmoid(w[0] * x[0] + w[1] * x[1] + b))
    .collect();
    let expected = sigmoid(0.7 * hidden[0] - 0.8 * hidden[1] + 0.9 * hidden[2] - 0.04);
    let output = model.network.feedforward(&[0.25, -0.75]);
    assert!(
        (f64::from(output[0]) - expected).abs() < 1e-6,
        "{output:?} vs {expected}"
    );
}

#[test]
fn our_files_keep_network2_keys_and_nesting() {
    let network = Network::sigmoid(&[2, 3, 1], Initializer::Large, 1).unwrap();
    let json: serde_json::Value =
        serde_json::from_str(&nn_core::model_to_json(&network, "QuadraticCost")).unwrap();
    assert_eq!(json["sizes"], serde_json::json!([2, 3, 1]));
    assert_eq!(json["cost"], "QuadraticCost");
    assert_eq!(json["weights"][0].as_array().unwrap().len(), 3);
    assert_eq!(json["weights"][0][0].as_array().unwrap().len(), 2);
    assert_eq!(json["biases"][1][0].as_array().unwrap().len(), 1);
    assert_eq!(
        json["weights"][1][0][2].as_f64().unwrap() as f32,
        network.weights(1)[(0, 2)]
    );
}

#[test]
fn broken_files_are_refused_with_the_reason() {
    let cases = [
        (
            NETWORK2_FILE.replace("[0.7, -0.8, 0.9]", "[0.7, -0.8]"),
            "row 0 has 2 columns, expected 3",
        ),
        (
            NETWORK2_FILE.replace("[[-0.04]]", "[[-0.04], [0.5]]"),
            "biases have 2 entries, expected 1",
        ),
        (
            NETWORK2_FILE.replace("0.3, 0.4", "0.3, 1e999"),
            "out of range",
        ),
        (
            NETWORK2_FILE.replace("[2, 3, 1]", "[2, 0, 1]"),
            "invalid layer sizes",
        ),
        (
            NETWORK2_FILE.replace("[[0.01]", "[[0.01, 0.02]"),
            "one-element list",
        ),
        (
            NETWORK2_FILE.replace("0.3, 0.4", "0.3, 1e39"),
            "not a finite 32-bit number",
        ),
        ("{\"sizes\": [2, 1]}".to_string(), "not a model file"),
        ("not json".to_string(), "not a model file"),
    ];
    for (text, expected) in cases {
        let error = model_from_json(&text)
            .err()
            .unwrap_or_else(|| panic!("accepted: {text}"))
            .to_string();
        assert!(error.contains(expected), "{error:?} lacks {expected:?}");
    }
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("broken.json");
    std::fs::write(&path, "{").unwrap();
    let message = load_model(&path).unwrap_err().to_string();
    assert!(
        message.starts_with(&path.display().to_string()) && !message.contains('\n'),
        "{message}"
    );
}
