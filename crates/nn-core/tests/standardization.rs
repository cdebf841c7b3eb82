//! Input standardization: fitted on training examples, carried by the network into every
//! forward pass, saved with the model.

use nn_core::{
    DenseExamples, Examples, Initializer, Network, NetworkError, PIXEL_STD_FLOOR, Sgd, Silent,
    Standardization, StandardizationKind, TrainConfig, Trainer, load_model, model_from_json,
    model_to_json, save_model,
};
use nn_costs::CrossEntropyCost;

/// Three examples of three inputs; the last input is constant.
fn small_set() -> DenseExamples {
    DenseExamples::classification(
        vec![
            vec![0.0, 2.0, 1.0],
            vec![2.0, 2.0, 1.0],
            vec![4.0, 8.0, 1.0],
        ],
        vec![0, 1, 1],
        2,
    )
}

fn inputs(data: &dyn Examples) -> Vec<Vec<f32>> {
    (0..data.len())
        .map(|i| {
            let mut column = vec![0.0; data.input_len()];
            data.write_input(i, &mut column);
            column
        })
        .collect()
}

fn classes(data: &dyn Examples) -> Vec<usize> {
    (0..data.len()).map(|i| data.class(i).unwrap()).collect()
}

/// The same set with every input mapped through `f`.
fn mapped(data: &dyn Examples, f: impl Fn(usize, f32) -> f32) -> DenseExamples {
    let columns = inputs(data)
        .into_iter()
        .map(|x| x.iter().enumerate().map(|(i, &v)| f(i, v)).collect())
        .collect();
    DenseExamples::classification(columns, classes(data), data.output_len())
}

fn bits(values: &[f32]) -> Vec<u32> {
    values.iter().map(|v| v.to_bits()).collect()
}

#[test]
fn fitting_gives_the_population_mean_and_deviation() {
    let data = small_set();
    // All nine values: mean 21/9, deviation √(Σ(x − mean)²/9).
    let values = [0.0, 2.0, 1.0, 2.0, 2.0, 1.0, 4.0, 8.0, 1.0f64];
    let mean = values.iter().sum::<f64>() / 9.0;
    let std = (values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / 9.0).sqrt();
    let global = Standardization::fit(StandardizationKind::Global, &data).unwrap();
    assert_eq!(global.kind(), StandardizationKind::Global);
    assert_eq!(global.mean(), [mean as f32]);
    assert_eq!(global.std(), [std as f32]);
    let pixel = Standardization::fit(StandardizationKind::Pixel, &data).unwrap();
    assert_eq!(pixel.mean(), [2.0, 4.0, 1.0]);
    // Input 0: deviations −2, 0, 2; input 1: −2, −2, 4; input 2 is constant and gets the floor.
    assert_eq!(
        pixel.std(),
        [
            (8.0f64 / 3.0).sqrt() as f32,
            8.0f64.sqrt() as f32,
            (f64::from(PIXEL_STD_FLOOR) * std) as f32
        ]
    );
    let none = Standardization::fit(StandardizationKind::None, &data).unwrap();
    assert!(none.is_none() && none.mean().is_empty());
}

#[test]
fn fitting_refuses_constant_empty_and_non_finite_inputs() {
    let constant = DenseExamples::classification(vec![vec![3.0, 3.0]; 4], vec![0; 4], 2);
    let empty = DenseExamples::classification(Vec::new(), Vec::new(), 2);
    let nan =
        DenseExamples::classification(vec![vec![0.0, f32::NAN], vec![1.0, 2.0]], vec![0, 1], 2);
    for kind in [StandardizationKind::Global, StandardizationKind::Pixel] {
        for data in [&constant, &empty, &nan] {
            assert!(
                matches!(
                    Standardization::fit(kind, data),
                    Err(NetworkError::InvalidStandardization(_))
                ),
                "{kind:?} {data:?}"
            );
        }
    }
}

#[test]
fn a_standardized_network_computes_what_a_plain_one_computes_on_standardized_inputs() {
    let data = small_set();
    let plain = Network::sigmoid(&[3, 4, 2], Initializer::Default, 5).unwrap();
    for kind in [StandardizationKind::Global, StandardizationKind::Pixel] {
        let standardization = Standardization::fit(kind, &data).unwrap();
        let mut network = plain.clone();
        network
            .set_standardization(standardization.clone())
            .unwrap();
        let by_hand = mapped(&data, |i, x| {
            let j = i.min(standardization.mean().len() - 1);
            (x - standardization.mean()[j]) * (1.0 / standardization.std()[j])
        });
        for (raw, standardized) in inputs(&data).iter().zip(inputs(&by_hand)) {
            assert_eq!(
                bits(&network.feedforward(raw)),
                bits(&plain.feedforward(&standardized))
            );
        }
        let (ours, theirs) = (
            network.evaluate(&data, &CrossEntropyCost),
            plain.evaluate(&by_hand, &CrossEntropyCost),
        );
        assert_eq!(ours.cost_sum.to_bits(), theirs.cost_sum.to_bits());
        // Training applies it too: both runs end with the same parameters, bit for bit.
        let config = TrainConfig {
            epochs: 3,
            batch_size: 2,
            ..TrainConfig::default()
        };
        let train = |network: Network, data: &DenseExamples| {
            Trainer::new(
                network,
                &CrossEntropyCost,
                Box::new(Sgd),
                Vec::new(),
                config.clone(),
            )
            .unwrap()
            .train(data, None, &mut Silent)
            .unwrap()
            .0
        };
        let trained = train(network, &data);
        assert_eq!(trained.standardization(), &standardization);
        assert_eq!(
            bits(trained.params()),
            bits(train(plain.clone(), &by_hand).params())
        );
    }
}

#[test]
fn no_standardization_leaves_every_output_bit_identical() {
    let data = small_set();
    let plain = Network::sigmoid(&[3, 4, 2], Initializer::Default, 5).unwrap();
    let mut none = plain.clone();
    none.set_standardization(Standardization::fit(StandardizationKind::None, &data).unwrap())
        .unwrap();
    for x in inputs(&data) {
        assert_eq!(bits(&none.feedforward(&x)), bits(&plain.feedforward(&x)));
    }
    assert!(!model_to_json(&none, "CrossEntropyCost").contains("standardization"));
}

#[test]
fn globally_standardized_inverted_inputs_give_the_outputs_of_the_originals_with_the_first_layer_negated()
 {
    // x' = 1 − x has mean 1 − μ and the same deviation, so (x' − μ')/σ = −(x − μ)/σ: the network
    // fitted on inverted inputs with negated first-layer weights computes the same function.
    let data = small_set();
    let inverted = mapped(&data, |_, x| 1.0 - x);
    let mut network = Network::sigmoid(&[3, 4, 2], Initializer::Default, 8).unwrap();
    let mut negated = network.clone();
    network
        .set_standardization(Standardization::fit(StandardizationKind::Global, &data).unwrap())
        .unwrap();
    negated
        .set_standardization(Standardization::fit(StandardizationKind::Global, &inverted).unwrap())
        .unwrap();
    let first = negated.layers()[0].weights.clone();
    negated.params_mut()[first]
        .iter_mut()
        .for_each(|w| *w = -*w);
    for (x, y) in inputs(&data).iter().zip(inputs(&inverted)) {
        for (a, b) in network.feedforward(x).iter().zip(negated.feedforward(&y)) {
            assert!((a - b).abs() < 1e-6, "{a} vs {b}");
        }
    }
}

#[test]
fn the_standardization_is_saved_and_restored_with_the_model() {
    let data = small_set();
    let mut network = Network::sigmoid(&[3, 4, 2], Initializer::Default, 5).unwrap();
    network
        .set_standardization(Standardization::fit(StandardizationKind::Pixel, &data).unwrap())
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("model.json");
    save_model(&network, "CrossEntropyCost", &path).unwrap();
    let loaded = load_model(&path).unwrap().network;
    assert_eq!(loaded.standardization(), network.standardization());
    assert_eq!(bits(loaded.params()), bits(network.params()));
    // The parameters never include it.
    assert_eq!(loaded.params().len(), 3 * 4 + 4 + 4 * 2 + 2);
    let x = [1.0, 3.0, 1.5];
    assert_eq!(
        bits(&loaded.feedforward(&x)),
        bits(&network.feedforward(&x))
    );
    // The key network2.py's load ignores, written as documented.
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    assert_eq!(json["standardization"]["kind"], "pixel");
    assert_eq!(json["standardization"]["mean"].as_array().unwrap().len(), 3);
    // Checkpoints store it through serde.
    let text = serde_json::to_string(network.standardization()).unwrap();
    let back: Standardization = serde_json::from_str(&text).unwrap();
    assert_eq!(&back, network.standardization());
}

const MODEL: &str = r#"{"sizes": [2, 1],
 "weights": [[[0.5, -0.5]]],
 "biases": [[[0.1]]],
 "cost": "CrossEntropyCost",
 "standardization": STANDARDIZATION}"#;

#[test]
fn a_file_with_a_standardization_loads_and_a_malformed_one_is_refused() {
    let with = |field: &str| model_from_json(&MODEL.replace("STANDARDIZATION", field));
    let model = with(r#"{"kind": "pixel", "mean": [0.5, 0.25], "std": [0.5, 2.0]}"#).unwrap();
    assert_eq!(model.network.standardization().std(), [0.5, 2.0]);
    let model = with(r#"{"kind": "global", "mean": [0.13], "std": [0.31]}"#).unwrap();
    assert_eq!(
        model.network.standardization().kind(),
        StandardizationKind::Global
    );
    assert!(
        with(r#"{"kind": "none"}"#)
            .unwrap()
            .network
            .standardization()
            .is_none()
    );
    for (field, expected) in [
        (
            r#"{"kind": "pixel", "mean": [0.5, 0.25, 1.0], "std": [0.5, 2.0, 1.0]}"#,
            "statistics for 3 inputs, but the network has 2",
        ),
        (
            r#"{"kind": "pixel", "mean": [0.5, 0.25], "std": [0.5]}"#,
            "as many deviations as means",
        ),
        (
            r#"{"kind": "pixel", "mean": [0.5, 0.25], "std": [1e-40, 1.0]}"#,
            "standard deviation 0 is 0.0000",
        ),
        (
            r#"{"kind": "global", "mean": [0.1, 0.2], "std": [1.0, 1.0]}"#,
            "1 mean and 1 deviation",
        ),
        (
            r#"{"kind": "pixel", "mean": [0.5, 0.25], "std": [0.5, 0.0]}"#,
            "standard deviation 1 is 0",
        ),
        (
            r#"{"kind": "pixel", "mean": [0.5, 0.25], "std": [-1.0, 1.0]}"#,
            "standard deviation 0 is -1",
        ),
        (
            // Depending on serde_json's features the number is refused as it is parsed or
            // read as infinity and refused then.
            r#"{"kind": "global", "mean": [1e39], "std": [1.0]}"#,
            "mean 0 is inf|out of range",
        ),
        (
            r#"{"kind": "global", "mean": [NaN], "std": [1.0]}"#,
            "not a model file",
        ),
        (
            r#"{"kind": "cubic", "mean": [], "std": []}"#,
            "unknown variant",
        ),
        (r#""pixel""#, "not a model file"),
    ] {
        let error = with(field)
            .err()
            .unwrap_or_else(|| panic!("accepted {field}"))
            .to_string();
        assert!(
            expected.split('|').any(|e| error.contains(e)),
            "{field}: {error}"
        );
        assert!(!error.contains('\n'), "{error}");
    }
}

#[test]
fn pixel_statistics_for_another_input_size_are_refused_by_the_network() {
    let standardization = Standardization::fit(StandardizationKind::Pixel, &small_set()).unwrap();
    let mut network = Network::sigmoid(&[4, 2], Initializer::Default, 0).unwrap();
    assert!(matches!(
        network.set_standardization(standardization),
        Err(NetworkError::InvalidStandardization(_))
    ));
    assert!(network.standardization().is_none());
    let global = Standardization::fit(StandardizationKind::Global, &small_set()).unwrap();
    network.set_standardization(global).unwrap();
}

#[test]
fn kinds_parse_from_their_names() {
    for kind in [
        StandardizationKind::None,
        StandardizationKind::Global,
        StandardizationKind::Pixel,
    ] {
        assert_eq!(kind.name().parse::<StandardizationKind>(), Ok(kind));
    }
    assert!("mean".parse::<StandardizationKind>().is_err());
}
