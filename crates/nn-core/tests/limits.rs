//! Sizes that come from outside (layer sizes, mini-batch sizes, model files) are checked against
//! documented limits before anything is allocated.

use std::sync::Arc;

use nn_core::{
    Activation, Adam, DenseExamples, Examples, Initializer, MAX_LAYERS, MAX_PARAMETERS,
    MAX_WORKSPACE_BYTES, Momentum, Network, NetworkError, Optimizer, Sgd, Sigmoid, TrainConfig,
    TrainError, Trainer, predicted_class,
};
use nn_costs::CrossEntropyCost;

#[test]
fn a_hidden_layer_of_three_quadrillion_is_refused_with_the_count_and_the_limit() {
    let error =
        Network::sigmoid(&[784, 3_000_000_000_000_000, 10], Initializer::Default, 0).unwrap_err();
    let NetworkError::TooManyParameters {
        count: Some(count),
        limit,
        ..
    } = &error
    else {
        panic!("{error:?}");
    };
    assert_eq!(
        *count,
        784 * 3_000_000_000_000_000 + 3_000_000_000_000_000 * 11 + 10
    );
    assert_eq!(*limit, MAX_PARAMETERS);
    let message = error.to_string();
    assert!(
        message.contains("2385000000000000010") && message.contains("268435456"),
        "{message}"
    );
}

#[test]
fn sizes_whose_parameter_count_overflows_are_refused_not_wrapped() {
    for sizes in [
        vec![784, 1 << 63, 1 << 63],
        vec![usize::MAX, usize::MAX],
        vec![2, usize::MAX],
        vec![1 << 32, 1 << 32, 10],
    ] {
        match Network::sigmoid(&sizes, Initializer::Default, 0) {
            Err(NetworkError::TooManyParameters { count: None, .. }) => {}
            other => panic!("{sizes:?}: {other:?}"),
        }
    }
}

#[test]
fn a_network_of_exactly_max_parameters_is_accepted_and_one_input_more_is_not() {
    // 16383 × 16384 weights and 16384 biases: 2^28 parameters (zeros, which the allocator
    // maps lazily, so the test stays cheap).
    let sigmoid = || vec![Arc::new(Sigmoid) as Arc<dyn Activation>];
    let network = Network::zeros(&[16_383, 16_384], sigmoid());
    assert_eq!(network.unwrap().params().len(), MAX_PARAMETERS);
    assert!(matches!(
        Network::zeros(&[16_384, 16_384], sigmoid()),
        Err(NetworkError::TooManyParameters { count: Some(c), .. }) if c == MAX_PARAMETERS + 16_384
    ));
}

#[test]
fn workspace_bytes_count_every_buffer_of_a_mini_batch() {
    // [2, 3, 1]: inputs 2, targets 1, z and a of the weighted layers 2 × 4, masks and masked
    // inputs of the input and hidden layers 2 × 5, two error columns of the widest layer 2 × 3.
    assert_eq!(Network::workspace_bytes(&[2, 3, 1], 1), Some(27 * 4));
    assert_eq!(Network::workspace_bytes(&[2, 3, 1], 10), Some(270 * 4));
    assert_eq!(Network::workspace_bytes(&[2, 3, 1], usize::MAX), None);
    assert_eq!(Network::workspace_bytes(&[usize::MAX, 1], 1), None);
    let network = Network::sigmoid(&[784, 30, 10], Initializer::Default, 0).unwrap();
    let per_example = Network::workspace_bytes(&[784, 30, 10], 1).unwrap();
    assert_eq!(network.max_batch(), MAX_WORKSPACE_BYTES / per_example);
}

#[test]
fn layers_too_wide_for_even_one_example_are_refused() {
    // Within MAX_PARAMETERS (2^27 + 1) but 2^27 wide: one example's buffers take 2.5 GiB.
    let error = Network::sigmoid(&[1 << 27, 1], Initializer::Default, 0).unwrap_err();
    assert!(
        matches!(
            error,
            NetworkError::WorkspaceTooLarge {
                batch: 1,
                max_batch: 0,
                ..
            }
        ),
        "{error:?}"
    );
    assert!(error.to_string().contains("use smaller layers"), "{error}");
}

fn trainer_with_batch(batch_size: usize) -> Result<Trainer<'static>, TrainError> {
    let network = Network::sigmoid(&[784, 30, 10], Initializer::Default, 0).unwrap();
    let config = TrainConfig {
        batch_size,
        ..TrainConfig::default()
    };
    Trainer::new(
        network,
        &CrossEntropyCost,
        Box::new(Sgd),
        Vec::new(),
        config,
    )
}

#[test]
fn the_trainer_refuses_a_mini_batch_whose_buffers_exceed_the_limit() {
    let max_batch = Network::sigmoid(&[784, 30, 10], Initializer::Default, 0)
        .unwrap()
        .max_batch();
    for batch in [max_batch + 1, 10_000_000_000_000_000, usize::MAX] {
        match trainer_with_batch(batch) {
            Err(TrainError::Network(NetworkError::WorkspaceTooLarge {
                batch: b,
                max_batch: m,
                ..
            })) => assert_eq!((b, m), (batch, max_batch)),
            other => panic!("batch {batch}: {other:?}"),
        }
    }
    let message = trainer_with_batch(usize::MAX).unwrap_err().to_string();
    assert!(
        message.contains(&format!("use a mini-batch of at most {max_batch}")),
        "{message}"
    );
    assert!(trainer_with_batch(10).is_ok());
}

#[test]
fn optimizers_refuse_state_for_more_than_max_parameters() {
    let optimizers: [Box<dyn Optimizer>; 2] = [
        Box::new(Momentum::new(0.9).unwrap()),
        Box::new(Adam::default()),
    ];
    for mut optimizer in optimizers {
        assert!(optimizer.prepare(usize::MAX).is_err());
        assert!(optimizer.prepare(MAX_PARAMETERS + 1).is_err());
        assert!(optimizer.prepare(10).is_ok());
    }
}

#[test]
fn non_finite_outputs_count_as_wrong_and_are_reported() {
    let mut network = Network::sigmoid(&[2, 3, 2], Initializer::Default, 0).unwrap();
    let data = DenseExamples::classification(
        vec![vec![0.0, 1.0], vec![1.0, 0.0], vec![0.5, 0.5]],
        vec![0, 1, 0],
        2,
    );
    let healthy = network.evaluate(&data, &CrossEntropyCost);
    assert_eq!(healthy.non_finite, 0);
    assert!(network.classify(&[0.0, 1.0]).is_some());
    // NaN weights make every output NaN; argmax would have answered class 0 for each.
    network.params_mut().fill(f32::NAN);
    let broken = network.evaluate(&data, &CrossEntropyCost);
    assert_eq!((broken.correct, broken.non_finite, broken.count), (0, 3, 3));
    assert_eq!(broken.accuracy(), 0.0);
    assert_eq!(network.classify(&[0.0, 1.0]), None);
    assert_eq!(data.len(), 3);
}

#[test]
fn predicted_class_answers_only_for_finite_outputs() {
    assert_eq!(predicted_class(&[0.1, 0.7, 0.2]), Some(1));
    assert_eq!(predicted_class(&[0.5, 0.5]), Some(0));
    assert_eq!(predicted_class(&[f32::NAN, 0.2]), None);
    assert_eq!(predicted_class(&[0.3, f32::INFINITY]), None);
    assert_eq!(predicted_class(&[f32::NEG_INFINITY, 0.3]), None);
}

#[test]
fn the_documented_largest_mini_batches_are_the_ones_allowed() {
    let max_batch = |sizes: &[usize]| {
        Network::sigmoid(sizes, Initializer::Default, 0)
            .unwrap()
            .max_batch()
    };
    assert_eq!(max_batch(&[784, 30, 10]), 131_909);
    assert_eq!(max_batch(&[784, 800, 800, 10]), 51_711);
}

#[test]
fn a_network_of_max_layers_is_accepted_and_one_layer_more_is_not() {
    assert!(Network::check_sizes(&vec![2; MAX_LAYERS + 1]).is_ok());
    let error = Network::check_sizes(&vec![2; MAX_LAYERS + 2]).unwrap_err();
    assert!(
        matches!(error, NetworkError::TooManyLayers { layers, limit: MAX_LAYERS } if layers == MAX_LAYERS + 1),
        "{error}"
    );
}

#[test]
fn a_model_file_of_a_million_layers_is_refused_from_its_sizes_before_its_weights_are_read() {
    // The weights are not even valid: only the sizes are read before the refusal.
    let layers = 1_000_000;
    let text = format!(
        r#"{{"sizes": [{}], "weights": "not read", "biases": null, "cost": "CrossEntropyCost"}}"#,
        vec!["1"; layers + 1].join(",")
    );
    let error = nn_core::model_from_json(&text).unwrap_err().to_string();
    assert!(error.contains("1000000 weighted layers"), "{error}");
    assert!(error.contains(&format!("limit of {MAX_LAYERS}")), "{error}");
}
