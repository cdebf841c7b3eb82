//! The experiments of Chapter 3, as data: each run is the `nn train` flags the book's
//! network2.py call corresponds to, with the figures the book quotes.

use crate::options::{
    ActivationName, CostName, EvalSet, InitName, MonitorItem, OptimizerName, TrainArgs,
    TransformName,
};

use super::{Body, Check, Curve, Experiment, FigureSpec, Measure, Metric, RunResult, RunSpec};

/// Every experiment, in the chapter's order.
pub const EXPERIMENTS: &[Experiment] = &[
    Experiment {
        name: "slowdown",
        title: "One neuron's learning slowdown: quadratic against cross-entropy cost, from \
                w=0.6 b=0.9 and from the saturated w=2 b=2 (x=1 -> y=0, eta 0.15, 300 epochs)",
        book: "output 0.82 -> 0.09 with the quadratic cost from w=0.6 b=0.9; from w=2 b=2 the \
               quadratic cost barely moves for the first ~150 epochs, the cross-entropy does not \
               slow down",
        body: Body::Slowdown,
    },
    Experiment {
        name: "cross-entropy",
        title: "784,30,10 and 784,100,10 with the cross-entropy, eta 0.5, 30 epochs, large \
                initialization, no regularization",
        book: "95.49% with 30 hidden neurons, 96.82% with 100",
        body: Body::Runs {
            runs: cross_entropy,
            figures: &[FigureSpec {
                suffix: "",
                title: "Cross-entropy, eta 0.5: test accuracy",
                curve: Curve::EvaluationAccuracy,
                runs: &[],
                x_label: "",
                log_x: false,
            }],
            checks: no_checks,
        },
    },
    Experiment {
        name: "overfitting",
        title: "Overfitting: 784,30,10 on 1,000 training images for 400 epochs, eta 0.5, no \
                regularization",
        book: "test accuracy tops out at 82.27%, training accuracy reaches 100%, test cost rises \
               after about epoch 15",
        body: Body::Runs {
            runs: overfitting,
            figures: OVERFITTING_FIGURES,
            checks: overfitting_checks,
        },
    },
    Experiment {
        name: "regularized",
        title: "The overfitting run with L2 regularization, lambda 0.1",
        book: "peak test accuracy 87.1%; the test cost keeps falling",
        body: Body::Runs {
            runs: regularized,
            figures: OVERFITTING_FIGURES,
            checks: regularized_checks,
        },
    },
    Experiment {
        name: "full-regularized",
        title: "All 50,000 training images with lambda 5.0: 30 and 100 hidden neurons, and 100 \
                hidden for 60 epochs at eta 0.1",
        book: "96.49% (30 hidden, test); 97.92% (100 hidden, validation); 98.04% (60 epochs, \
               eta 0.1, validation)",
        body: Body::Runs {
            runs: full_regularized,
            figures: &[FigureSpec {
                suffix: "",
                title: "L2, lambda 5.0, 50,000 images: evaluation accuracy",
                curve: Curve::EvaluationAccuracy,
                runs: &[],
                x_label: "",
                log_x: false,
            }],
            checks: no_checks,
        },
    },
    Experiment {
        name: "init",
        title: "Default (N(0, 1/n_in)) against large (N(0, 1)) weight initialization, \
                784,30,10, eta 0.1, lambda 5.0",
        book: "both end somewhat over 96%; after the first epoch the large initialization is \
               under 87%, the default almost 93%",
        body: Body::Runs {
            runs: init,
            figures: &[FigureSpec {
                suffix: "",
                title: "Weight initialization: validation accuracy",
                curve: Curve::EvaluationAccuracy,
                runs: &[],
                x_label: "",
                log_x: false,
            }],
            checks: init_checks,
        },
    },
    Experiment {
        name: "learning-rate",
        title: "Training cost with eta 0.025, 0.25 and 2.5 (784,30,10, lambda 5.0, 30 epochs)",
        book: "eta 0.025 falls slowly, 0.25 falls fastest, 2.5 oscillates from the start",
        body: Body::Runs {
            runs: learning_rate,
            figures: &[FigureSpec {
                suffix: "",
                title: "Training cost for three learning rates",
                curve: Curve::TrainingCost,
                runs: &[],
                x_label: "",
                log_x: false,
            }],
            checks: learning_rate_checks,
        },
    },
    Experiment {
        name: "training-size",
        title: "Test accuracy against the training-set size (log axis), with and without \
                expansion by distortions",
        book: "accuracy keeps rising with more data; expanded data helps most when data is \
               scarce (figure only)",
        body: Body::Runs {
            runs: training_size,
            figures: &[FigureSpec {
                suffix: "",
                title: "Test accuracy against training-set size",
                curve: Curve::MeasureAgainstX,
                runs: &[],
                x_label: "training images",
                log_x: true,
            }],
            checks: training_size_checks,
        },
    },
    Experiment {
        name: "expansion",
        title: "Artificially expanded data: shifts, rotations, elastic and affine + elastic \
                distortions drawn fresh each epoch (784,800,10 ReLU, softmax, momentum 0.9, 30 epochs)",
        book: "Simard et al., 800 hidden neurons: 98.4% -> 98.9% (affine distortions) -> 99.3% \
               (elastic)",
        body: Body::Runs {
            runs: expansion,
            figures: &[FigureSpec {
                suffix: "",
                title: "Expanded training data: validation accuracy",
                curve: Curve::EvaluationAccuracy,
                runs: &[],
                x_label: "",
                log_x: false,
            }],
            checks: expansion_checks,
        },
    },
    Experiment {
        name: "dropout",
        title: "Dropout on a fully-connected network (784,800,10 ReLU, softmax, momentum 0.9, \
                30 epochs)",
        book: "Hinton et al.: 98.4% -> 98.7% with dropout",
        body: Body::Runs {
            runs: dropout,
            figures: &[FigureSpec {
                suffix: "",
                title: "Dropout: validation accuracy",
                curve: Curve::EvaluationAccuracy,
                runs: &[],
                x_label: "",
                log_x: false,
            }],
            checks: dropout_checks,
        },
    },
    Experiment {
        name: "variations",
        title: "L1 against L2, momentum against plain SGD, tanh and ReLU against sigmoid \
                (784,30,10, 30 epochs)",
        book: "the chapter's problems and discussion give no figures: L1 keeps a few large \
               weights, momentum speeds learning, tanh/ReLU are alternatives to the sigmoid",
        body: Body::Runs {
            runs: variations,
            figures: &[FigureSpec {
                suffix: "",
                title: "Variations: validation accuracy",
                curve: Curve::EvaluationAccuracy,
                runs: &[],
                x_label: "",
                log_x: false,
            }],
            checks: variations_checks,
        },
    },
    Experiment {
        name: "blog",
        title: "A reader's runs: inverted pixels at eta 3 and 0.3 (784,30,10, quadratic, large \
                and 1/√n initialization); 100, 50 and 10 training images on 784,100,10",
        book: "inverted: at most ~60% at eta 3, 94-95% at eta 0.3; few images: 68.93% (100), \
               56% (50), 51% (10, after 67 epochs)",
        body: Body::Runs {
            runs: blog,
            figures: &[FigureSpec {
                suffix: "",
                title: "Inverted pixels and few images: test accuracy",
                curve: Curve::EvaluationAccuracy,
                runs: &[],
                x_label: "",
                log_x: false,
            }],
            checks: blog_checks,
        },
    },
    Experiment {
        name: "hessian",
        title: "The Hessian technique (eq. 106, damped) against gradient descent: 49,10,10 on \
                1,000 digits pooled to 7x7, mini-batches of 250",
        book: "Hessian methods converge on a minimum in fewer steps than gradient descent, but \
               each step needs the Hessian (a P x P matrix) and its inverse",
        body: Body::Hessian,
    },
];

/// The figures of the 1,000-image runs, like the chapter's four.
const OVERFITTING_FIGURES: &[FigureSpec] = &[
    FigureSpec {
        suffix: "-training-cost",
        title: "Cost on the training data",
        curve: Curve::TrainingCost,
        runs: &[],
        x_label: "",
        log_x: false,
    },
    FigureSpec {
        suffix: "-test-accuracy",
        title: "Accuracy on the test data",
        curve: Curve::EvaluationAccuracy,
        runs: &[],
        x_label: "",
        log_x: false,
    },
    FigureSpec {
        suffix: "-test-cost",
        title: "Cost on the test data",
        curve: Curve::EvaluationCost,
        runs: &[],
        x_label: "",
        log_x: false,
    },
    FigureSpec {
        suffix: "-training-accuracy",
        title: "Accuracy on the training data",
        curve: Curve::TrainingAccuracy,
        runs: &[],
        x_label: "",
        log_x: false,
    },
];

/// Seeds of the experiments whose spread matters.
const THREE_SEEDS: [u64; 3] = [0, 1, 2];

/// A run of `layers` as network2.py's `SGD(..., epochs, 10, eta, lmbda=lambda)`.
fn net(layers: &[usize], eta: f32, lambda: f32, epochs: usize) -> TrainArgs {
    TrainArgs {
        layers: Some(layers.to_vec()),
        eta: Some(eta),
        lambda: Some(lambda),
        epochs: Some(epochs),
        ..TrainArgs::default()
    }
}

/// Monitoring `items` on the test data.
fn on_test(args: TrainArgs, items: &[MonitorItem]) -> TrainArgs {
    TrainArgs {
        eval: Some(EvalSet::Test),
        monitor: Some(items.to_vec()),
        ..args
    }
}

/// With the large initialization (the book before its section on weight initialization).
fn large(args: TrainArgs) -> TrainArgs {
    TrainArgs {
        init: Some(InitName::Large),
        ..args
    }
}

/// A measure with the book's value.
fn book(metric: Metric, value: f64) -> Measure {
    Measure {
        metric,
        book: Some(value),
    }
}

/// A measure the book gives no value for.
fn ours(metric: Metric) -> Measure {
    Measure { metric, book: None }
}

/// A run with one seed.
fn spec(label: &'static str, args: TrainArgs, measures: Vec<Measure>) -> RunSpec {
    RunSpec {
        label,
        series: "",
        x: None,
        args,
        measures,
        seeds: vec![0],
    }
}

/// A run over three seeds.
fn seeded(label: &'static str, args: TrainArgs, measures: Vec<Measure>) -> RunSpec {
    RunSpec {
        seeds: THREE_SEEDS.to_vec(),
        ..spec(label, args, measures)
    }
}

fn cross_entropy() -> Vec<RunSpec> {
    let accuracy = [MonitorItem::EvaluationAccuracy];
    vec![
        seeded(
            "30 hidden",
            large(on_test(net(&[784, 30, 10], 0.5, 0.0, 30), &accuracy)),
            vec![
                book(Metric::PeakEvaluationAccuracy, 95.49),
                ours(Metric::TestAccuracy),
            ],
        ),
        seeded(
            "100 hidden",
            large(on_test(net(&[784, 100, 10], 0.5, 0.0, 30), &accuracy)),
            vec![
                book(Metric::PeakEvaluationAccuracy, 96.82),
                ours(Metric::TestAccuracy),
            ],
        ),
    ]
}

/// Everything monitored, on the test data, as the chapter's overfitting figures.
const ALL: [MonitorItem; 4] = [
    MonitorItem::TrainingCost,
    MonitorItem::TrainingAccuracy,
    MonitorItem::EvaluationCost,
    MonitorItem::EvaluationAccuracy,
];

fn thousand_images(lambda: f32) -> TrainArgs {
    TrainArgs {
        train_size: Some(1_000),
        ..large(on_test(net(&[784, 30, 10], 0.5, lambda, 400), &ALL))
    }
}

fn overfitting() -> Vec<RunSpec> {
    vec![seeded(
        "1,000 images, lambda 0",
        thousand_images(0.0),
        vec![
            book(Metric::PeakEvaluationAccuracy, 82.27),
            book(Metric::FinalTrainingAccuracy, 100.0),
            book(Metric::LowestEvaluationCostEpoch, 15.0),
            ours(Metric::TestAccuracy),
        ],
    )]
}

fn regularized() -> Vec<RunSpec> {
    vec![seeded(
        "1,000 images, lambda 0.1",
        thousand_images(0.1),
        vec![
            book(Metric::PeakEvaluationAccuracy, 87.1),
            ours(Metric::FinalTrainingAccuracy),
            ours(Metric::LowestEvaluationCostEpoch),
            ours(Metric::TestAccuracy),
        ],
    )]
}

fn full_regularized() -> Vec<RunSpec> {
    let accuracy = [MonitorItem::EvaluationAccuracy];
    let validation = |args: TrainArgs| TrainArgs {
        eval: Some(EvalSet::Validation),
        monitor: Some(accuracy.to_vec()),
        ..args
    };
    vec![
        spec(
            "30 hidden (test)",
            large(on_test(net(&[784, 30, 10], 0.5, 5.0, 30), &accuracy)),
            vec![
                book(Metric::PeakEvaluationAccuracy, 96.49),
                ours(Metric::TestAccuracy),
            ],
        ),
        spec(
            "100 hidden (validation)",
            large(validation(net(&[784, 100, 10], 0.5, 5.0, 30))),
            vec![
                book(Metric::PeakEvaluationAccuracy, 97.92),
                ours(Metric::TestAccuracy),
            ],
        ),
        spec(
            "100 hidden, 60 epochs, eta 0.1 (validation)",
            large(validation(net(&[784, 100, 10], 0.1, 5.0, 60))),
            vec![
                book(Metric::PeakEvaluationAccuracy, 98.04),
                ours(Metric::TestAccuracy),
            ],
        ),
    ]
}

fn init() -> Vec<RunSpec> {
    let base = net(&[784, 30, 10], 0.1, 5.0, 30);
    let measures = |first_epoch: f64| {
        vec![
            book(Metric::EvaluationAccuracyAfter(1), first_epoch),
            ours(Metric::PeakEvaluationAccuracy),
            ours(Metric::TestAccuracy),
        ]
    };
    vec![
        spec("large initialization", large(base.clone()), measures(87.0)),
        spec("default initialization", base, measures(93.0)),
    ]
}

fn learning_rate() -> Vec<RunSpec> {
    let run = |label, eta| {
        spec(
            label,
            TrainArgs {
                monitor: Some(vec![MonitorItem::TrainingCost]),
                ..net(&[784, 30, 10], eta, 5.0, 30)
            },
            vec![ours(Metric::FinalTrainingCost), ours(Metric::TestAccuracy)],
        )
    };
    vec![
        run("eta 0.025", 0.025),
        run("eta 0.25", 0.25),
        run("eta 2.5", 2.5),
    ]
}

/// Training-set sizes of the data figure.
const SIZES: [usize; 4] = [100, 1_000, 10_000, 50_000];

fn training_size() -> Vec<RunSpec> {
    // more_data.py: 1,500,000 images seen in all, lambda = size / 10,000; nothing is monitored.
    let run = |label, series, size: usize, expand: Option<Vec<TransformName>>| RunSpec {
        series,
        x: Some(size as f64),
        ..spec(
            label,
            TrainArgs {
                train_size: Some(size),
                monitor: Some(Vec::new()),
                expand,
                ..net(&[784, 30, 10], 0.5, size as f32 * 1e-4, 1_500_000 / size)
            },
            vec![ours(Metric::TestAccuracy)],
        )
    };
    let labels = [
        ("100 images", "100 images, shifted"),
        ("1,000 images", "1,000 images, shifted"),
        ("10,000 images", "10,000 images, shifted"),
        ("50,000 images", "50,000 images, shifted"),
    ];
    let mut runs = Vec::new();
    for (size, (plain, shifted)) in SIZES.into_iter().zip(labels) {
        runs.push(run(plain, "original data", size, None));
        runs.push(run(
            shifted,
            "expanded (fresh shifts each epoch)",
            size,
            Some(vec![TransformName::Shift]),
        ));
    }
    runs
}

/// The fully-connected network of the expansion and dropout experiments: one hidden layer of
/// 800 ReLU neurons (Simard et al.'s size), softmax and log-likelihood, momentum 0.9, mini-batches
/// of 100, 30 epochs.
fn wide(expand: &[TransformName], dropout: f32) -> TrainArgs {
    TrainArgs {
        cost: Some(CostName::LogLikelihood),
        activation: Some(ActivationName::Relu),
        optimizer: Some(OptimizerName::Momentum),
        momentum: Some(0.9),
        batch_size: Some(100),
        dropout: (dropout > 0.0).then_some(dropout),
        expand: (!expand.is_empty()).then(|| expand.to_vec()),
        ..net(&[784, 800, 10], 0.05, 0.0, 30)
    }
}

fn expansion() -> Vec<RunSpec> {
    let run = |label, expand: &[TransformName], simard: Option<f64>| {
        seeded(
            label,
            wide(expand, 0.0),
            vec![
                Measure {
                    metric: Metric::TestAccuracy,
                    book: simard,
                },
                ours(Metric::PeakEvaluationAccuracy),
            ],
        )
    };
    vec![
        run("no expansion", &[], Some(98.4)),
        run("shifts", &[TransformName::Shift], None),
        run("rotations", &[TransformName::Rotate], Some(98.9)),
        run("elastic", &[TransformName::Elastic], Some(99.3)),
        run("affine + elastic", &[TransformName::AffineElastic], None),
    ]
}

fn dropout() -> Vec<RunSpec> {
    let run = |label, p: f32, hinton| {
        seeded(
            label,
            wide(&[], p),
            vec![
                book(Metric::TestAccuracy, hinton),
                ours(Metric::PeakEvaluationAccuracy),
            ],
        )
    };
    vec![run("no dropout", 0.0, 98.4), run("dropout 0.5", 0.5, 98.7)]
}

fn variations() -> Vec<RunSpec> {
    let measures = || {
        vec![
            ours(Metric::PeakEvaluationAccuracy),
            ours(Metric::TestAccuracy),
        ]
    };
    let base = || net(&[784, 30, 10], 0.5, 5.0, 30);
    let slow = || net(&[784, 30, 10], 0.1, 5.0, 30);
    vec![
        spec("L2, lambda 5, eta 0.5", base(), measures()),
        spec(
            "L1, lambda 5, eta 0.5",
            TrainArgs {
                lambda: Some(0.0),
                l1: Some(5.0),
                ..base()
            },
            measures(),
        ),
        spec("sigmoid, SGD, eta 0.1", slow(), measures()),
        spec(
            "sigmoid, momentum 0.9, eta 0.1",
            TrainArgs {
                optimizer: Some(OptimizerName::Momentum),
                momentum: Some(0.9),
                ..slow()
            },
            measures(),
        ),
        spec(
            "tanh, SGD, eta 0.1",
            TrainArgs {
                activation: Some(ActivationName::Tanh),
                ..slow()
            },
            measures(),
        ),
        spec(
            "ReLU, SGD, eta 0.1",
            TrainArgs {
                activation: Some(ActivationName::Relu),
                ..slow()
            },
            measures(),
        ),
    ]
}

fn blog() -> Vec<RunSpec> {
    let accuracy = [MonitorItem::EvaluationAccuracy];
    // The blog's first runs used chapter 1's network (large initialization); its "most recent
    // attempt", after reading chapter 3, the weights divided by √n that it goes on to describe.
    type Make = fn(&'static str, TrainArgs, Vec<Measure>) -> RunSpec;
    let inverted = |label, eta, init, reported: Option<f64>, make: Make| {
        let args = TrainArgs {
            cost: Some(CostName::Quadratic),
            init: Some(init),
            invert: true,
            ..on_test(net(&[784, 30, 10], eta, 0.0, 30), &accuracy)
        };
        let measures = vec![
            Measure {
                metric: Metric::PeakEvaluationAccuracy,
                book: reported,
            },
            ours(Metric::TestAccuracy),
        ];
        make(label, args, measures)
    };
    // The blog's 100 and 50 images are the first of the training file; its 10 are the first
    // image of each digit.
    let few = |label, (train_size, per_class), epochs, reported| {
        spec(
            label,
            TrainArgs {
                train_size,
                per_class,
                ..on_test(net(&[784, 100, 10], 0.5, 0.0, epochs), &accuracy)
            },
            vec![
                book(Metric::TestAccuracy, reported),
                ours(Metric::PeakEvaluationAccuracy),
            ],
        )
    };
    vec![
        inverted(
            "inverted, eta 3, large init",
            3.0,
            InitName::Large,
            Some(60.0),
            spec,
        ),
        inverted(
            "inverted, eta 0.3, large init",
            0.3,
            InitName::Large,
            None,
            spec,
        ),
        inverted(
            "inverted, eta 3, 1/√n init",
            3.0,
            InitName::Default,
            Some(60.0),
            spec,
        ),
        inverted(
            "inverted, eta 0.3, 1/√n init",
            0.3,
            InitName::Default,
            Some(94.5),
            seeded,
        ),
        few("100 images", (Some(100), None), 30, 68.93),
        few("50 images", (Some(50), None), 30, 56.0),
        few("10 images, one per digit", (None, Some(1)), 67, 51.0),
    ]
}

fn no_checks(_: &[RunResult]) -> Vec<Check> {
    Vec::new()
}

/// The run labelled `label`.
fn find<'a>(results: &'a [RunResult], label: &str) -> &'a RunResult {
    results
        .iter()
        .find(|r| r.label == label)
        .expect("every check names a run of its experiment")
}

/// Our mean value of `metric` for the run `label`, NaN when not reached.
fn value(results: &[RunResult], label: &str, metric: Metric) -> f64 {
    find(results, label).ours(metric).unwrap_or(f64::NAN)
}

fn overfitting_checks(results: &[RunResult]) -> Vec<Check> {
    let label = "1,000 images, lambda 0";
    let training = value(results, label, Metric::FinalTrainingAccuracy);
    let lowest = value(results, label, Metric::LowestEvaluationCostEpoch);
    let epochs = find(results, label).history.len();
    vec![
        Check {
            claim: "the network classifies every training image correctly at the end".into(),
            holds: training >= 99.95,
            detail: format!("final training accuracy {training:.2}%"),
        },
        Check {
            claim: "the test cost starts rising early (the book: after about epoch 15 of 400), \
                    long before the run ends"
                .into(),
            holds: lowest <= epochs as f64 / 8.0,
            detail: format!("lowest test cost in epoch {lowest:.0} of {epochs}"),
        },
    ]
}

fn regularized_checks(results: &[RunResult]) -> Vec<Check> {
    let label = "1,000 images, lambda 0.1";
    let lowest = value(results, label, Metric::LowestEvaluationCostEpoch);
    let epochs = find(results, label).history.len();
    vec![Check {
        claim: "with regularization the test cost no longer rises early: its minimum comes in \
                the second half of the run"
            .into(),
        holds: lowest > epochs as f64 / 2.0,
        detail: format!("lowest test cost in epoch {lowest:.0} of {epochs}"),
    }]
}

fn init_checks(results: &[RunResult]) -> Vec<Check> {
    let after = Metric::EvaluationAccuracyAfter(1);
    let (large, default) = (
        value(results, "large initialization", after),
        value(results, "default initialization", after),
    );
    vec![Check {
        claim: "the default initialization is far ahead after the first epoch".into(),
        holds: default > large + 2.0,
        detail: format!("after epoch 1: default {default:.2}%, large {large:.2}%"),
    }]
}

fn learning_rate_checks(results: &[RunResult]) -> Vec<Check> {
    let rises = |label| {
        let costs: Vec<f64> = find(results, label)
            .history
            .iter()
            .filter_map(|r| r.training_cost)
            .collect();
        costs.windows(2).filter(|w| w[1] > w[0]).count()
    };
    let cost = |label| value(results, label, Metric::FinalTrainingCost);
    vec![
        Check {
            claim: "with eta 2.5 the training cost oscillates (rises in some epochs)".into(),
            holds: rises("eta 2.5") > 0,
            detail: format!(
                "the cost rose in {} epochs at eta 2.5, {} at 0.25, {} at 0.025",
                rises("eta 2.5"),
                rises("eta 0.25"),
                rises("eta 0.025")
            ),
        },
        Check {
            claim: "eta 0.25 ends lower than eta 0.025 and eta 2.5".into(),
            holds: cost("eta 0.25") < cost("eta 0.025") && cost("eta 0.25") < cost("eta 2.5"),
            detail: format!(
                "final training cost: 0.025 -> {:.3}, 0.25 -> {:.3}, 2.5 -> {:.3}",
                cost("eta 0.025"),
                cost("eta 0.25"),
                cost("eta 2.5")
            ),
        },
    ]
}

fn training_size_checks(results: &[RunResult]) -> Vec<Check> {
    let test = |label| value(results, label, Metric::TestAccuracy);
    let (small, big) = (test("100 images"), test("50,000 images"));
    let (plain, shifted) = (test("1,000 images"), test("1,000 images, shifted"));
    vec![
        Check {
            claim: "more training data gives a better network".into(),
            holds: big > small,
            detail: format!("100 images {small:.2}%, 50,000 images {big:.2}%"),
        },
        Check {
            claim: "expanding scarce data by distortions helps".into(),
            holds: shifted > plain,
            detail: format!("1,000 images {plain:.2}%, with shifts {shifted:.2}%"),
        },
    ]
}

fn expansion_checks(results: &[RunResult]) -> Vec<Check> {
    let test = |label| value(results, label, Metric::TestAccuracy);
    let none = test("no expansion");
    ["shifts", "rotations", "elastic", "affine + elastic"]
        .into_iter()
        .map(|label| Check {
            claim: format!("{label} improve on no expansion"),
            holds: test(label) > none,
            detail: format!("{label} {:.2}%, none {none:.2}%", test(label)),
        })
        .collect()
}

fn dropout_checks(results: &[RunResult]) -> Vec<Check> {
    let (none, with) = (
        value(results, "no dropout", Metric::TestAccuracy),
        value(results, "dropout 0.5", Metric::TestAccuracy),
    );
    vec![Check {
        claim: "dropout improves the test accuracy".into(),
        holds: with > none,
        detail: format!("no dropout {none:.2}%, dropout {with:.2}%"),
    }]
}

fn variations_checks(results: &[RunResult]) -> Vec<Check> {
    let after = |label| {
        find(results, label)
            .history
            .first()
            .and_then(|r| r.evaluation_accuracy)
            .map_or(f64::NAN, |a| 100.0 * a)
    };
    let (sgd, momentum) = (
        after("sigmoid, SGD, eta 0.1"),
        after("sigmoid, momentum 0.9, eta 0.1"),
    );
    vec![Check {
        claim: "momentum speeds up learning at the same eta".into(),
        holds: momentum > sgd,
        detail: format!("after epoch 1: momentum {momentum:.2}%, plain SGD {sgd:.2}%"),
    }]
}

fn blog_checks(results: &[RunResult]) -> Vec<Check> {
    let peak = |label| value(results, label, Metric::PeakEvaluationAccuracy);
    let (fast, slow) = (
        peak("inverted, eta 3, 1/√n init"),
        peak("inverted, eta 0.3, 1/√n init"),
    );
    let (fast_large, slow_large) = (
        peak("inverted, eta 3, large init"),
        peak("inverted, eta 0.3, large init"),
    );
    vec![
        Check {
            claim: "on inverted images eta 0.3 learns where eta 3 gets stuck".into(),
            holds: slow > fast + 10.0 && slow_large > fast_large + 10.0,
            detail: format!(
                "peak test accuracy, 1/√n init: eta 3 {fast:.2}%, eta 0.3 {slow:.2}%; large \
                 init: eta 3 {fast_large:.2}%, eta 0.3 {slow_large:.2}%"
            ),
        },
        Check {
            claim: "the better initialization alone does not rescue eta 3".into(),
            holds: fast < 70.0,
            detail: format!("peak test accuracy at eta 3 with the 1/√n init: {fast:.2}%"),
        },
    ]
}
