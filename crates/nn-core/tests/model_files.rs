//! Saving and loading in network2.py's JSON format.

use std::sync::Arc;

use nn_core::model::MAX_MODEL_FILE_BYTES;
use nn_core::{
    Initializer, MAX_PARAMETERS, ModelError, Network, NetworkError, Softmax, Standardization,
    StandardizationKind, Tanh, load_model, model_from_json, save_model,
};
use proptest::prelude::*;

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
    assert!(
        model
            .network
            .activations()
            .iter()
            .all(|a| a.kind() == nn_core::ActivationKind::Sigmoid)
    );
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

#[test]
fn a_model_we_write_computes_in_network2s_forward_pass_what_it_computes_here() {
    // network2.py's feedforward: a ← σ(w·a + b) per layer, with w and b read from the file as
    // numpy arrays of f64; here the same sums in f64 from the JSON values.
    let network = Network::sigmoid(&[5, 7, 4, 3], Initializer::Default, 9).unwrap();
    let json: serde_json::Value =
        serde_json::from_str(&nn_core::model_to_json(&network, "CrossEntropyCost")).unwrap();
    let number = |v: &serde_json::Value| v.as_f64().unwrap();
    for x in [
        vec![0.0, 0.25, 0.5, 0.75, 1.0],
        vec![1.0, -2.0, 0.0, 3.5, -0.125],
    ] {
        let mut a: Vec<f64> = x.iter().map(|&v| f64::from(v)).collect();
        for (w, b) in json["weights"]
            .as_array()
            .unwrap()
            .iter()
            .zip(json["biases"].as_array().unwrap())
        {
            a = w
                .as_array()
                .unwrap()
                .iter()
                .zip(b.as_array().unwrap())
                .map(|(row, bias)| {
                    let z: f64 = row
                        .as_array()
                        .unwrap()
                        .iter()
                        .zip(&a)
                        .map(|(w, a)| number(w) * a)
                        .sum::<f64>()
                        + number(&bias[0]);
                    sigmoid(z)
                })
                .collect();
        }
        let ours = network.feedforward(&x);
        assert_eq!(ours.len(), a.len());
        for (o, e) in ours.iter().zip(&a) {
            assert!((f64::from(*o) - e).abs() < 1e-6, "{ours:?} vs {a:?}");
        }
    }
}

#[test]
fn a_model_file_larger_than_the_limit_is_refused_unread() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("huge.json");
    // A sparse file: it takes no space, but its length is one byte over the limit.
    let file = std::fs::File::create(&path).unwrap();
    file.set_len(MAX_MODEL_FILE_BYTES + 1).unwrap();
    let error = load_model(&path).unwrap_err();
    assert!(
        matches!(error, NetworkError::ModelFileTooLarge { bytes, limit, .. }
            if bytes == MAX_MODEL_FILE_BYTES + 1 && limit == MAX_MODEL_FILE_BYTES),
        "{error:?}"
    );
    let message = error.to_string();
    assert!(
        message.starts_with(&path.display().to_string()),
        "{message}"
    );
}

#[test]
fn the_model_file_limit_holds_the_largest_network_allowed() {
    // 25 bytes per number with its separator, 4 per bias's brackets: within 32 per parameter.
    let longest = serde_json::to_string(&f64::from(-f32::MIN_POSITIVE * 1.1)).unwrap() + ",";
    assert!(longest.len() <= 25, "{longest}");
    assert!(MAX_MODEL_FILE_BYTES >= 29 * MAX_PARAMETERS as u64);
}

#[test]
fn huge_sizes_in_a_model_file_are_refused_before_anything_is_allocated() {
    for sizes in [
        "[784, 3000000000000000, 10]",
        "[784, 18446744073709551615, 10]",
        "[9223372036854775808, 9223372036854775808]",
    ] {
        let text = NETWORK2_FILE.replace("[2, 3, 1]", sizes);
        let error = model_from_json(&text).unwrap_err();
        assert!(
            matches!(
                error,
                ModelError::Network(NetworkError::TooManyParameters { .. })
            ),
            "{sizes}: {error:?}"
        );
    }
}

/// One way of spoiling a valid model file.
#[derive(Debug, Clone)]
enum Mutation {
    /// Sets layer size `index` to `value`.
    Size(usize, usize),
    /// Replaces the `node`-th JSON value (in document order) by `text`.
    Node(usize, &'static str),
    /// Keeps only the first `length` bytes.
    Truncate(usize),
    /// Removes the last weight layer (`true`) or bias layer (`false`).
    DropLayer(bool),
    /// Repeats the last weight layer (`true`) or bias layer (`false`).
    RepeatLayer(bool),
}

/// Replacement texts: other types, numbers out of f32's range, non-JSON numbers, odd shapes.
const REPLACEMENTS: [&str; 16] = [
    "NaN",
    "Infinity",
    "-Infinity",
    "1e39",
    "-1e39",
    "1e999",
    "1e308",
    "0",
    "-1",
    "3.5",
    "null",
    "true",
    "\"x\"",
    "[]",
    "{}",
    "[[1e39]]",
];

/// How many of [`REPLACEMENTS`], from the first, are not JSON or not a finite f32.
const NOT_F32: usize = 7;

fn mutation() -> impl Strategy<Value = Mutation> {
    let size = prop_oneof![
        Just(0usize),
        Just(usize::MAX),
        Just(usize::MAX - 1),
        Just(1usize << 63),
        Just((1usize << 32) + 3),
        1usize..8,
        any::<usize>(),
    ];
    prop_oneof![
        (0usize..3, size).prop_map(|(i, v)| Mutation::Size(i, v)),
        (
            any::<usize>(),
            proptest::sample::select(REPLACEMENTS.to_vec())
        )
            .prop_map(|(n, t)| Mutation::Node(n, t)),
        any::<usize>().prop_map(Mutation::Truncate),
        any::<bool>().prop_map(Mutation::DropLayer),
        any::<bool>().prop_map(Mutation::RepeatLayer),
    ]
}

/// Every node of `value`, in document order, as a JSON pointer.
fn pointers(value: &serde_json::Value, at: String, out: &mut Vec<String>) {
    match value {
        serde_json::Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                pointers(item, format!("{at}/{i}"), out);
            }
        }
        serde_json::Value::Object(fields) => {
            for (key, item) in fields {
                pointers(item, format!("{at}/{key}"), out);
            }
        }
        _ => {}
    }
    out.push(at);
}

/// A [2, 3, 2] model with tanh, softmax and pixel standardization, and the mutation applied;
/// the second value says whether the mutation certainly makes the file invalid.
fn mutated(mutation: &Mutation) -> (String, bool) {
    let mut network = Network::new(
        &[2, 3, 2],
        vec![Arc::new(Tanh), Arc::new(Softmax { temperature: 1.0 })],
        Initializer::Default,
        3,
    )
    .unwrap();
    let data =
        nn_core::DenseExamples::classification(vec![vec![0.0, 1.0], vec![1.0, 0.5]], vec![0, 1], 2);
    network
        .set_standardization(Standardization::fit(StandardizationKind::Pixel, &data).unwrap())
        .unwrap();
    let text = nn_core::model_to_json(&network, "LogLikelihoodCost");
    let mut json: serde_json::Value = serde_json::from_str(&text).unwrap();
    let layers = |json: &mut serde_json::Value, weights: bool| {
        json[if weights { "weights" } else { "biases" }]
            .as_array_mut()
            .unwrap()
            .clone()
    };
    match *mutation {
        Mutation::Size(index, value) => {
            let invalid = json["sizes"][index] != value;
            json["sizes"][index] = value.into();
            (json.to_string(), invalid)
        }
        Mutation::Node(node, replacement) => {
            let mut all = Vec::new();
            pointers(&json, String::new(), &mut all);
            let pointer = &all[node % all.len()];
            const MARK: &str = "@mutation@";
            *json.pointer_mut(pointer).unwrap() = MARK.into();
            let text = json
                .to_string()
                .replace(&format!("\"{MARK}\""), replacement);
            // Not JSON, or a number no f32 holds.
            let invalid =
                REPLACEMENTS[..NOT_F32].contains(&replacement) && pointer != "/format_version";
            (text, invalid)
        }
        Mutation::Truncate(length) => (text[..length % text.len()].to_string(), true),
        Mutation::DropLayer(weights) => {
            let mut list = layers(&mut json, weights);
            list.pop();
            json[if weights { "weights" } else { "biases" }] = list.into();
            (json.to_string(), true)
        }
        Mutation::RepeatLayer(weights) => {
            let mut list = layers(&mut json, weights);
            list.push(list.last().unwrap().clone());
            json[if weights { "weights" } else { "biases" }] = list.into();
            (json.to_string(), true)
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn a_mutated_model_file_is_refused_in_one_line_or_loads_consistently(m in mutation()) {
        let (text, invalid) = mutated(&m);
        match model_from_json(&text) {
            Err(error) => {
                let message = error.to_string();
                prop_assert!(!message.contains('\n'), "{}", message);
            }
            Ok(model) => {
                prop_assert!(!invalid, "accepted {:?}: {}", m, text);
                let network = &model.network;
                prop_assert!(network.is_finite());
                let expected: usize = network
                    .sizes()
                    .windows(2)
                    .map(|p| p[0] * p[1] + p[1])
                    .sum();
                prop_assert_eq!(network.params().len(), expected);
                let output = network.feedforward(&vec![0.5; network.input_size()]);
                prop_assert_eq!(output.len(), network.output_size());
            }
        }
    }
}
