//! The trainer on real MNIST subsets and on small problems: accuracy, determinism, resuming,
//! early stopping, the learning-rate schedule and the divergence guard.

use std::ops::ControlFlow;

use nn_core::{
    Adam, DenseExamples, EarlyStopping, EpochRecord, Examples, History, Initializer, Momentum,
    Monitor, Network, Newton, Observer, Optimizer, OptimizerState, Schedule, Sgd, Silent,
    StopReason, TrainConfig, TrainError, Trainer, TrainingState,
};
use nn_costs::{CrossEntropyCost, QuadraticCost};
use nn_data::{ImageSet, MnistSplits, load_splits};

fn mnist() -> MnistSplits {
    load_splits(nn_testdata::mnist_dir(), None).expect("MNIST loads")
}

/// The first `training` training images and the first `validation` validation images.
fn mnist_subsets(training: usize, validation: usize) -> (ImageSet, ImageSet) {
    let data = mnist();
    (
        data.training.subset(..training),
        data.validation.subset(..validation),
    )
}

/// A cross-entropy trainer without regularization.
fn cross_entropy_trainer(
    network: Network,
    optimizer: Box<dyn Optimizer>,
    config: TrainConfig,
) -> Trainer<'static> {
    Trainer::new(network, &CrossEntropyCost, optimizer, Vec::new(), config).unwrap()
}

fn train(
    network: Network,
    optimizer: Box<dyn Optimizer>,
    config: TrainConfig,
    training: &ImageSet,
    evaluation: &ImageSet,
) -> (Network, nn_core::History) {
    cross_entropy_trainer(network, optimizer, config)
        .train(training, Some(evaluation), &mut Silent)
        .unwrap()
}

#[test]
fn cross_entropy_network_learns_mnist_from_ten_thousand_images() {
    let data = mnist();
    let training = data.training.subset(..10_000);
    let network = Network::sigmoid(&[784, 30, 10], Initializer::Default, 1).unwrap();
    let config = TrainConfig {
        epochs: 3,
        monitor: Monitor {
            evaluation_accuracy: true,
            ..Monitor::default()
        },
        ..TrainConfig::default()
    };
    let (network, history) = train(network, Box::new(Sgd), config, &training, &data.validation);
    let test = network.evaluate(&data.test, &CrossEntropyCost).accuracy();
    assert!(test > 0.90, "test accuracy {test}");
    let accuracies: Vec<f64> = history
        .epochs
        .iter()
        .map(|e| e.evaluation_accuracy.unwrap())
        .collect();
    assert!(accuracies[0] > 0.8 && accuracies[2] > 0.9, "{accuracies:?}");
}

fn without_times(history: &[EpochRecord]) -> Vec<EpochRecord> {
    history
        .iter()
        .map(|e| EpochRecord {
            seconds: 0.0,
            ..e.clone()
        })
        .collect()
}

fn bits(network: &Network) -> Vec<u32> {
    network.params().iter().map(|p| p.to_bits()).collect()
}

/// Layer sizes and mini-batch sizes on both sides of the thresholds of the work cut between
/// two cores: 784-30-10 at batch 10 has its first layer's products (235,200 multiply-adds) cut
/// at a column of the weights (nn-core's kernel cuts from 2¹⁶), but not its element-wise passes
/// (300 numbers); 784-800-10 at batch 100 cuts both (6.3·10⁷ multiply-adds per product of the
/// first layer, 80,000 numbers per pass over the hidden layer, above `pair`'s 2¹⁵).
#[cfg(feature = "parallel")]
const SERIAL_AND_PARALLEL: [(&[usize], usize); 2] = [(&[784, 30, 10], 10), (&[784, 800, 10], 100)];

#[cfg(feature = "parallel")]
#[test]
fn same_seed_gives_the_same_model_whatever_the_thread_count() {
    let (training, validation) = mnist_subsets(2_000, 1_000);
    for (sizes, batch_size) in SERIAL_AND_PARALLEL {
        let run = |threads: usize, seed: u64| {
            let pool = rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .unwrap();
            pool.install(|| {
                let network = Network::sigmoid(sizes, Initializer::Default, seed).unwrap();
                let config = TrainConfig {
                    epochs: 2,
                    batch_size,
                    seed,
                    monitor: Monitor::all(),
                    ..TrainConfig::default()
                };
                train(
                    network,
                    Box::new(Momentum::new(0.5).unwrap()),
                    config,
                    &training,
                    &validation,
                )
            })
        };
        let (one, one_history) = run(1, 7);
        let (two, two_history) = run(2, 7);
        assert_eq!(bits(&one), bits(&two), "{sizes:?} at batch {batch_size}");
        assert_eq!(
            without_times(&one_history.epochs),
            without_times(&two_history.epochs),
            "{sizes:?} at batch {batch_size}"
        );
        // The comparison can fail: another seed, on the same two threads, differs.
        let (other, _) = run(2, 8);
        assert_ne!(
            bits(&one),
            bits(&other),
            "a different seed must give a different model"
        );
        // And it is not vacuous: the runs learned (40 updates of 100 images reach about 60%,
        // 400 of 10 about 90%; chance is 10%).
        let accuracy = one_history.epochs[1].evaluation_accuracy.unwrap();
        assert!(accuracy > 0.5, "{sizes:?}: validation accuracy {accuracy}");
    }
}

/// A name and a maker of a new optimizer.
type NamedOptimizer = (&'static str, fn() -> Box<dyn Optimizer>);

/// An optimizer of every kind that carries state from step to step, and plain SGD.
fn optimizers_with_state() -> Vec<NamedOptimizer> {
    vec![
        ("sgd", || Box::new(Sgd)),
        ("momentum", || Box::new(Momentum::new(0.9).unwrap())),
        ("nesterov", || Box::new(Momentum::nesterov(0.9).unwrap())),
        ("adam", || Box::new(Adam::default())),
    ]
}

#[test]
fn a_resumed_run_ends_exactly_where_an_uninterrupted_one_does() {
    let (training, validation) = mnist_subsets(1_000, 500);
    let fresh = || Network::sigmoid(&[784, 20, 10], Initializer::Default, 3).unwrap();
    for (name, optimizer) in optimizers_with_state() {
        let config = TrainConfig {
            epochs: 4,
            seed: 3,
            eta: if name == "adam" { 0.005 } else { 0.1 },
            monitor: Monitor::all(),
            ..TrainConfig::default()
        };
        let (straight, straight_history) =
            train(fresh(), optimizer(), config.clone(), &training, &validation);

        let mut first = cross_entropy_trainer(fresh(), optimizer(), config.clone());
        for _ in 0..2 {
            first
                .run_epoch(&training, Some(&validation), &mut Silent)
                .unwrap();
        }
        let (state, optimizer_state, network) = (
            first.state().clone(),
            first.optimizer_state(),
            first.network().clone(),
        );
        drop(first);
        let resume = |optimizer_state| {
            let mut second = cross_entropy_trainer(network.clone(), optimizer(), config.clone());
            second.resume(state.clone(), optimizer_state).unwrap();
            second
                .train(&training, Some(&validation), &mut Silent)
                .unwrap()
        };
        let (resumed, resumed_history) = resume(optimizer_state.clone());
        assert_eq!(bits(&resumed), bits(&straight), "{name}");
        assert_eq!(
            without_times(&resumed_history.epochs),
            without_times(&straight_history.epochs),
            "{name}"
        );
        // The check can fail: resuming with the optimizer's state lost (the zero velocity or
        // moments and step count of a new optimizer) ends elsewhere.
        let lost = cross_entropy_trainer(fresh(), optimizer(), config.clone()).optimizer_state();
        if lost == optimizer_state {
            assert_eq!(name, "sgd", "only SGD has no state to lose");
        } else {
            assert_ne!(bits(&resume(lost).0), bits(&straight), "{name}");
        }
    }
}

/// Breaks off the run at mini-batch `at` of epoch `epoch`, once.
struct InterruptAt {
    epoch: usize,
    at: usize,
    fired: bool,
}

impl Observer for InterruptAt {
    fn batch_done(&mut self, epoch: usize, done: usize, _total: usize) -> ControlFlow<()> {
        if !self.fired && (epoch, done) == (self.epoch, self.at) {
            self.fired = true;
            return ControlFlow::Break(());
        }
        ControlFlow::Continue(())
    }
}

#[test]
fn an_interrupted_epoch_leaves_the_network_and_optimizer_as_the_last_epoch_did() {
    let (training, validation) = mnist_subsets(1_000, 500);
    let fresh = || Network::sigmoid(&[784, 20, 10], Initializer::Default, 5).unwrap();
    for (name, optimizer) in optimizers_with_state() {
        let config = TrainConfig {
            epochs: 3,
            seed: 5,
            eta: if name == "adam" { 0.005 } else { 0.1 },
            monitor: Monitor::all(),
            ..TrainConfig::default()
        };
        let (straight, straight_history) =
            train(fresh(), optimizer(), config.clone(), &training, &validation);

        let mut trainer = cross_entropy_trainer(fresh(), optimizer(), config.clone());
        trainer
            .run_epoch(&training, Some(&validation), &mut Silent)
            .unwrap();
        let (after_one, optimizer_after_one) = (bits(trainer.network()), trainer.optimizer_state());
        let mut interrupt = InterruptAt {
            epoch: 2,
            at: 37,
            fired: false,
        };
        let error = trainer
            .run_epoch(&training, Some(&validation), &mut interrupt)
            .unwrap_err();
        assert!(
            matches!(
                error,
                TrainError::Interrupted {
                    epoch: 2,
                    completed: 1
                }
            ),
            "{name}: {error}"
        );
        assert!(interrupt.fired);
        assert_eq!(bits(trainer.network()), after_one, "{name}: the weights");
        assert_eq!(
            trainer.optimizer_state(),
            optimizer_after_one,
            "{name}: the optimizer"
        );
        assert_eq!(trainer.state().history.len(), 1, "{name}: epochs counted");
        // Going on from there is the uninterrupted run, bit for bit.
        let (resumed, resumed_history) = trainer
            .train(&training, Some(&validation), &mut interrupt)
            .unwrap();
        assert_eq!(bits(&resumed), bits(&straight), "{name}");
        assert_eq!(
            without_times(&resumed_history.epochs),
            without_times(&straight_history.epochs),
            "{name}"
        );
    }
}

#[test]
fn early_stopping_ends_the_run_and_restores_the_best_weights() {
    let (training, validation) = mnist_subsets(500, 300);
    // With weight averaging, the best weights are the best averaged weights.
    for weight_averaging in [None, Some(0.7)] {
        let network = Network::sigmoid(&[784, 30, 10], Initializer::Default, 5).unwrap();
        let config = TrainConfig {
            epochs: 200,
            early_stopping: Some(EarlyStopping::NoImprovement(3)),
            seed: 5,
            weight_averaging,
            ..TrainConfig::default()
        };
        let (network, history) = train(network, Box::new(Sgd), config, &training, &validation);
        assert_eq!(
            history.stopped,
            Some(StopReason::EarlyStopping(EarlyStopping::NoImprovement(3)))
        );
        assert!(history.epochs.len() < 200);
        let accuracies: Vec<f64> = history
            .epochs
            .iter()
            .map(|e| e.evaluation_accuracy.unwrap())
            .collect();
        let best = accuracies.iter().copied().fold(0.0, f64::max);
        let best_epoch = history.best_epoch.unwrap();
        assert_eq!(accuracies[best_epoch - 1], best);
        assert_eq!(
            history.epochs.len(),
            best_epoch + 3,
            "stops three epochs after the best"
        );
        assert_eq!(
            network.evaluate(&validation, &CrossEntropyCost).accuracy(),
            best,
            "{weight_averaging:?}"
        );
    }
}

#[test]
fn generalization_loss_stops_at_the_first_epoch_whose_error_exceeds_the_best_by_alpha_percent() {
    let (training, validation) = mnist_subsets(500, 300);
    // A high η makes the validation accuracy fluctuate, so the rule has something to catch.
    let alpha = 2.0;
    let network = Network::sigmoid(&[784, 30, 10], Initializer::Default, 5).unwrap();
    let config = TrainConfig {
        epochs: 200,
        eta: 3.0,
        early_stopping: Some(EarlyStopping::GeneralizationLoss(alpha)),
        seed: 5,
        ..TrainConfig::default()
    };
    let (network, history) = train(network, Box::new(Sgd), config, &training, &validation);
    let rule = EarlyStopping::GeneralizationLoss(alpha);
    assert_eq!(history.stopped, Some(StopReason::EarlyStopping(rule)));
    let accuracies: Vec<f64> = history
        .epochs
        .iter()
        .map(|e| e.evaluation_accuracy.unwrap())
        .collect();
    let losses: Vec<f64> = (0..accuracies.len())
        .map(|t| {
            let best = accuracies[..=t].iter().copied().fold(0.0, f64::max);
            EarlyStopping::generalization_loss(accuracies[t], best)
        })
        .collect();
    let (last, before) = losses.split_last().unwrap();
    assert!(
        *last > alpha && before.iter().all(|&gl| gl <= alpha),
        "{losses:?}"
    );
    let best = accuracies.iter().copied().fold(0.0, f64::max);
    assert_eq!(
        network.evaluate(&validation, &CrossEntropyCost).accuracy(),
        best,
        "the best weights are restored"
    );
}

#[test]
fn weight_averaging_keeps_the_mean_then_the_moving_average_of_the_epochs_weights() {
    let (training, validation) = mnist_subsets(300, 200);
    let config = TrainConfig {
        epochs: 4,
        seed: 2,
        monitor: Monitor {
            evaluation_accuracy: true,
            ..Monitor::default()
        },
        weight_averaging: Some(0.6),
        ..TrainConfig::default()
    };
    let network = Network::sigmoid(&[784, 20, 10], Initializer::Default, 2).unwrap();
    let mut trainer = cross_entropy_trainer(network, Box::new(Sgd), config);
    let mut snapshots = Vec::new();
    while !trainer.is_finished() {
        trainer
            .run_epoch(&training, Some(&validation), &mut Silent)
            .unwrap();
        snapshots.push(trainer.network().params().to_vec());
    }
    // w̄ after epoch t moves by max(1 − 0.6, 1/t): w₁, the mean of w₁ and w₂, then 0.4 steps.
    let mut expected = snapshots[0].clone();
    for (t, w) in snapshots.iter().enumerate().skip(1) {
        let rate = (1.0 - 0.6f32).max(1.0 / (t + 1) as f32);
        for (a, &w) in expected.iter_mut().zip(w) {
            *a += rate * (w - *a);
        }
    }
    let last = snapshots.last().unwrap().clone();
    let (network, history) = trainer.finish();
    assert_eq!(network.params(), expected.as_slice());
    assert_ne!(network.params(), last.as_slice(), "training went on from w");
    // The monitored accuracy is the averaged network's.
    assert_eq!(
        history.epochs[3].evaluation_accuracy.unwrap(),
        network.evaluate(&validation, &CrossEntropyCost).accuracy()
    );
}

/// Four points that a [2, 3, 2] network classifies perfectly within a few epochs, after which
/// the validation accuracy can no longer improve.
fn easy_problem() -> DenseExamples {
    DenseExamples::classification(
        vec![
            vec![0.0, 0.0],
            vec![0.0, 1.0],
            vec![1.0, 0.0],
            vec![1.0, 1.0],
        ],
        vec![0, 0, 1, 1],
        2,
    )
}

/// Trains a [2, 3, 2] network on [`easy_problem`] from η = 1 with `schedule` for at most
/// `epochs`, monitoring the training data itself when `evaluate` is set.
fn train_easy_problem(schedule: Schedule, epochs: usize, evaluate: bool) -> History {
    let data = easy_problem();
    let network = Network::sigmoid(&[2, 3, 2], Initializer::Default, 1).unwrap();
    let config = TrainConfig {
        epochs,
        batch_size: 4,
        eta: 1.0,
        schedule,
        ..TrainConfig::default()
    };
    let trainer = cross_entropy_trainer(network, Box::new(Sgd), config);
    let evaluation = evaluate.then_some(&data as &dyn Examples);
    trainer.train(&data, evaluation, &mut Silent).unwrap().1
}

#[test]
fn the_schedule_halves_eta_on_plateaus_and_stops_at_one_128th() {
    let history = train_easy_problem(Schedule::halving(2), 1000, true);
    assert_eq!(history.stopped, Some(StopReason::LearningRateExhausted));
    let etas: Vec<f32> = history.epochs.iter().map(|e| e.eta).collect();
    assert!(
        etas.windows(2).all(|w| w[1] == w[0] || w[1] == w[0] / 2.0),
        "{etas:?}"
    );
    assert_eq!(
        *etas.last().unwrap(),
        1.0 / 64.0,
        "the last epoch ran at 1/64; then eta fell to 1/128"
    );
    let distinct: std::collections::BTreeSet<u32> = etas.iter().map(|e| e.to_bits()).collect();
    assert_eq!(distinct.len(), 7);
}

#[test]
fn the_exponential_schedule_multiplies_eta_every_epoch_without_evaluation_data() {
    let history = train_easy_problem(Schedule::Exponential { factor: 0.5 }, 5, false);
    let etas: Vec<f32> = history.epochs.iter().map(|e| e.eta).collect();
    assert_eq!(etas, [1.0, 0.5, 0.25, 0.125, 0.0625]);
    assert_eq!(history.stopped, None);
}

#[test]
fn the_step_schedule_switches_eta_at_its_epochs_and_keeps_eta_before_the_first() {
    let history = train_easy_problem(Schedule::Steps(vec![(3, 0.1), (5, 0.01)]), 6, false);
    let etas: Vec<f32> = history.epochs.iter().map(|e| e.eta).collect();
    assert_eq!(etas, [1.0, 1.0, 0.1, 0.1, 0.01, 0.01]);
    assert_eq!(history.stopped, None);
}

#[test]
fn a_run_resumed_across_a_step_ends_exactly_where_an_uninterrupted_one_does() {
    let data = easy_problem();
    let config = TrainConfig {
        epochs: 5,
        batch_size: 2,
        eta: 1.0,
        schedule: Schedule::Steps(vec![(3, 0.2), (4, 0.05)]),
        monitor: Monitor::all(),
        ..TrainConfig::default()
    };
    let fresh = || Network::sigmoid(&[2, 3, 2], Initializer::Default, 1).unwrap();
    let trained = |trainer: Trainer<'static>| trainer.train(&data, Some(&data), &mut Silent);
    let (straight, straight_history) = trained(cross_entropy_trainer(
        fresh(),
        Box::new(Sgd),
        config.clone(),
    ))
    .unwrap();
    let mut first = cross_entropy_trainer(fresh(), Box::new(Sgd), config.clone());
    for _ in 0..2 {
        first.run_epoch(&data, Some(&data), &mut Silent).unwrap();
    }
    let (state, network) = (first.state().clone(), first.network().clone());
    assert_eq!(state.eta, 0.2, "the state carries the next epoch's eta");
    let resume = |state: TrainingState| {
        let mut second = cross_entropy_trainer(network.clone(), Box::new(Sgd), config.clone());
        second.resume(state, OptimizerState::Stateless).unwrap();
        trained(second).unwrap()
    };
    let (resumed, resumed_history) = resume(state.clone());
    assert_eq!(bits(&resumed), bits(&straight));
    assert_eq!(
        without_times(&resumed_history.epochs),
        without_times(&straight_history.epochs)
    );
    // The check can fail: a state that lost the step's eta trains epoch 3 at eta = 1.
    let lost = TrainingState { eta: 1.0, ..state };
    assert_ne!(bits(&resume(lost).0), bits(&straight));
}

#[test]
fn divergence_stops_training_with_a_clear_error() {
    // Linear output neurons with the quadratic cost and far too large a step: each update
    // overshoots further than the last until the numbers overflow.
    let data = DenseExamples::new(
        vec![vec![1.0, 2.0], vec![-1.0, 0.5]],
        vec![vec![3.0], vec![-2.0]],
    );
    let activations: Vec<std::sync::Arc<dyn nn_core::Activation>> = vec![
        std::sync::Arc::new(nn_core::Identity),
        std::sync::Arc::new(nn_core::Identity),
    ];
    let network = Network::new(&[2, 3, 1], activations, Initializer::Default, 1).unwrap();
    let config = TrainConfig {
        eta: 50.0,
        batch_size: 2,
        epochs: 1000,
        ..TrainConfig::default()
    };
    let trainer = Trainer::new(network, &QuadraticCost, Box::new(Sgd), Vec::new(), config).unwrap();
    let error = trainer.train(&data, None, &mut Silent).unwrap_err();
    assert!(
        matches!(error, TrainError::Diverged { eta: 50.0, .. }),
        "{error:?}"
    );
    let message = error.to_string();
    assert!(
        message.contains("training diverged in epoch")
            && message.contains("try a smaller learning rate than eta = 50"),
        "{message}"
    );
}

#[derive(Default)]
struct Warnings(Vec<String>);

impl Observer for Warnings {
    fn warning(&mut self, message: &str) {
        self.0.push(message.to_string());
    }
}

#[test]
fn accuracy_stuck_at_chance_is_reported() {
    let data = mnist();
    let training = data.training.subset(..200);
    let network = Network::sigmoid(&[784, 10, 10], Initializer::Default, 1).unwrap();
    let config = TrainConfig {
        epochs: 4,
        eta: 1e-9,
        monitor: Monitor {
            evaluation_accuracy: true,
            ..Monitor::default()
        },
        ..TrainConfig::default()
    };
    let trainer = cross_entropy_trainer(network, Box::new(Sgd), config);
    let mut warnings = Warnings::default();
    trainer
        .train(&training, Some(&data.validation), &mut warnings)
        .unwrap();
    assert_eq!(warnings.0.len(), 1, "{:?}", warnings.0);
    assert!(warnings.0[0].contains("chance level"));
}

#[test]
fn nonsensical_hyper_parameters_are_refused() {
    let network = || Network::sigmoid(&[2, 3, 2], Initializer::Default, 1).unwrap();
    for (config, expected) in [
        (
            TrainConfig {
                eta: 0.0,
                ..TrainConfig::default()
            },
            "eta",
        ),
        (
            TrainConfig {
                eta: f32::NAN,
                ..TrainConfig::default()
            },
            "eta",
        ),
        (
            TrainConfig {
                batch_size: 0,
                ..TrainConfig::default()
            },
            "mini-batch",
        ),
        (
            TrainConfig {
                epochs: 0,
                ..TrainConfig::default()
            },
            "epochs",
        ),
        (
            TrainConfig {
                early_stopping: Some(EarlyStopping::NoImprovement(0)),
                ..TrainConfig::default()
            },
            "early stopping",
        ),
        (
            TrainConfig {
                early_stopping: Some(EarlyStopping::GeneralizationLoss(0.0)),
                ..TrainConfig::default()
            },
            "generalization-loss",
        ),
        (
            TrainConfig {
                schedule: Schedule::halving(0),
                ..TrainConfig::default()
            },
            "schedule",
        ),
        (
            TrainConfig {
                schedule: Schedule::Exponential { factor: 1.5 },
                ..TrainConfig::default()
            },
            "exponential schedule's factor 1.5",
        ),
        (
            TrainConfig {
                schedule: Schedule::Steps(vec![(1, 0.1)]),
                ..TrainConfig::default()
            },
            "step at epoch 1 must come after epoch 1",
        ),
        (
            TrainConfig {
                schedule: Schedule::Steps(vec![(3, f32::NAN)]),
                ..TrainConfig::default()
            },
            "step at epoch 3 has eta = NaN",
        ),
        (
            TrainConfig {
                weight_averaging: Some(1.0),
                ..TrainConfig::default()
            },
            "weight-averaging factor 1",
        ),
    ] {
        let error =
            Trainer::new(network(), &QuadraticCost, Box::new(Sgd), Vec::new(), config).unwrap_err();
        assert!(error.to_string().contains(expected), "{error}");
    }
    let mismatch = DenseExamples::classification(vec![vec![0.0; 3]], vec![0], 2);
    let mut trainer = Trainer::new(
        network(),
        &QuadraticCost,
        Box::new(Sgd),
        Vec::new(),
        TrainConfig::default(),
    )
    .unwrap();
    let error = trainer.run_epoch(&mismatch, None, &mut Silent).unwrap_err();
    assert!(
        error.to_string().contains("make the first layer 3"),
        "{error}"
    );
}

#[test]
fn the_hessian_technique_refuses_large_networks_and_converges_on_small_ones() {
    let big = Network::sigmoid(&[784, 30, 10], Initializer::Default, 1).unwrap();
    let error = Trainer::new(
        big,
        &CrossEntropyCost,
        Box::new(Newton::new(1e-3).unwrap()),
        Vec::new(),
        TrainConfig::default(),
    )
    .unwrap_err();
    assert!(
        error.to_string().contains("at most 1000 parameters"),
        "{error}"
    );

    let data = easy_problem();
    let final_cost = |optimizer: Box<dyn Optimizer>, eta: f32| {
        let network = Network::sigmoid(&[2, 3, 2], Initializer::Default, 4).unwrap();
        let config = TrainConfig {
            epochs: 10,
            batch_size: 4,
            eta,
            monitor: Monitor {
                training_cost: true,
                ..Monitor::default()
            },
            ..TrainConfig::default()
        };
        let trainer = cross_entropy_trainer(network, optimizer, config);
        let (_, history) = trainer.train(&data, None, &mut Silent).unwrap();
        history.epochs.last().unwrap().training_cost.unwrap()
    };
    let newton = final_cost(Box::new(Newton::new(1e-3).unwrap()), 1.0);
    let sgd = final_cost(Box::new(Sgd), 1.0);
    assert!(
        newton < 0.1 * sgd,
        "Newton {newton} against SGD {sgd} after ten full-batch steps"
    );
}

#[test]
fn examples_of_any_shape_are_checked_against_the_network() {
    let data = mnist();
    assert_eq!(data.training.input_len(), 784);
    let network = Network::sigmoid(&[784, 30, 9], Initializer::Default, 1).unwrap();
    let error = network
        .check_shape(&data.training, "training data")
        .unwrap_err()
        .to_string();
    assert!(error.contains("784") && error.contains("10"), "{error}");
}

#[test]
fn a_cost_paired_with_an_output_it_is_not_defined_for_is_refused_when_the_trainer_is_built() {
    use nn_core::{PairingError, activation_from_spec};
    use nn_costs::LogLikelihoodCost;

    let with_output = |output: &str| {
        let activations = vec![
            activation_from_spec("sigmoid").unwrap(),
            activation_from_spec(output).unwrap(),
        ];
        Network::new(&[4, 3, 2], activations, Initializer::Default, 1).unwrap()
    };
    let build = |cost: &'static dyn nn_core::Cost, output: &str| {
        Trainer::new(
            with_output(output),
            cost,
            Box::new(Sgd),
            Vec::new(),
            TrainConfig::default(),
        )
    };
    let error = build(&LogLikelihoodCost, "sigmoid").unwrap_err();
    assert!(
        matches!(
            &error,
            TrainError::Pairing(PairingError { cost: "LogLikelihoodCost", output, needs: "a softmax" })
                if output == "sigmoid"
        ),
        "{error:?}"
    );
    assert!(
        error
            .to_string()
            .contains("needs a softmax output layer, not sigmoid")
    );
    assert!(matches!(
        build(&CrossEntropyCost, "tanh").unwrap_err(),
        TrainError::Pairing(_)
    ));
    for (cost, output) in [
        (&LogLikelihoodCost as &dyn nn_core::Cost, "softmax:2"),
        (&CrossEntropyCost, "sigmoid"),
        (&CrossEntropyCost, "softmax"),
        (&QuadraticCost, "identity"),
        (&QuadraticCost, "tanh"),
    ] {
        assert!(build(cost, output).is_ok(), "{} on {output}", cost.name());
    }
}
