//! The experiments of Chapter 3, as data: each run is the [`RunOptions`] the book's
//! network2.py call corresponds to, with the figures the book quotes.

use nn_train::{
    ActivationName, CostName, EvalSet, InitName, MonitorItem, OptimizerName, RunOptions,
    TransformName,
};

use std::ops::RangeInclusive;

use crate::experiment::{
    Body, Check, Curve, Experiment, FigureSpec, Measure, Metric, RunResult, RunSpec,
};

/// Every experiment, in the chapter's order.
pub const EXPERIMENTS: &[Experiment] = &[
    Experiment {
        name: "slowdown",
        title: "One neuron's learning slowdown: quadratic cost at the book's eta 0.15 against \
                cross-entropy at the book's eta 0.005 (and, ours, at 0.15), from w=0.6 b=0.9 and \
                from the saturated w=2 b=2 (x=1 -> y=0, 300 epochs)",
        book: "output 0.82 -> 0.09 with the quadratic cost from w=0.6 b=0.9; from w=2 b=2 the \
               quadratic cost barely moves for the first ~150 epochs, the cross-entropy (eta \
               0.005) starts steeply and does not slow down",
        body: Body::Slowdown,
    },
    Experiment {
        name: "cross-entropy",
        title: "784,30,10 and 784,100,10 with the cross-entropy, eta 0.5, 30 epochs, large \
                initialization, no regularization; against Chapter 1's quadratic-cost runs \
                (network.py: eta 3.0, mini-batches of 10, 30 epochs)",
        book: "95.49% with 30 hidden neurons, 96.82% with 100; Chapter 1's quadratic cost: \
               95.42% and 96.59%",
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
            checks: cross_entropy_checks,
        },
    },
    Experiment {
        name: "overfitting",
        title: "Overfitting: 784,30,10 on 1,000 training images for 400 epochs, eta 0.5, no \
                regularization",
        book: "test accuracy tops out at 82.27%, just under 82% after 200 epochs and no real \
               improvement after about epoch 280; training accuracy reaches 100%; test cost rises \
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
        book: "peak test accuracy 87.1%; the test accuracy keeps rising for the entire 400 \
               epochs",
        body: Body::Runs {
            runs: regularized,
            figures: OVERFITTING_FIGURES,
            checks: regularized_checks,
        },
    },
    Experiment {
        name: "full-regularized",
        title: "All 50,000 training images, 30 hidden, without regularization and with lambda \
                5.0 (training accuracy monitored); 100 hidden with lambda 5.0, and for 60 epochs \
                at eta 0.1",
        book: "without regularization: training 97.86% against test 95.33%; lambda 5.0: 96.49% \
               (30 hidden, test), the gap to the training accuracy under 1%; 97.92% (100 \
               hidden, validation); 98.04% (60 epochs, eta 0.1, validation)",
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
            checks: full_data_checks,
        },
    },
    Experiment {
        name: "init",
        title: "Default (N(0, 1/n_in)) against large (N(0, 1)) weight initialization, \
                784,30,10 and 784,100,10, eta 0.1, lambda 5.0",
        book: "30 hidden: both end somewhat over 96%; after the first epoch the large \
               initialization is under 87%, the default almost 93%; 100 hidden: the same \
               phenomenon, the curves almost meet after 30 epochs (figure only)",
        body: Body::Runs {
            runs: init,
            figures: &[
                FigureSpec {
                    suffix: "",
                    title: "Weight initialization, 30 hidden: validation accuracy",
                    curve: Curve::EvaluationAccuracy,
                    runs: &["large initialization", "default initialization"],
                    x_label: "",
                    log_x: false,
                },
                FigureSpec {
                    suffix: "-100",
                    title: "Weight initialization, 100 hidden: validation accuracy",
                    curve: Curve::EvaluationAccuracy,
                    runs: &[
                        "100 hidden, large initialization",
                        "100 hidden, default initialization",
                    ],
                    x_label: "",
                    log_x: false,
                },
            ],
            checks: init_checks,
        },
    },
    Experiment {
        name: "broad-strategy",
        title: "The broad strategy: eta 10 and lambda 1000 on 784,30,10 (50,000 images), then \
                784,10 on 1,000 images monitored on 100 validation images with the chapter's \
                sequence of settings",
        book: "784,30,10, eta 10, lambda 1000: chance (1030/10000 after epoch 1); 784,10: eta \
               10 lambda 1000 chance (10/100), lambda 20 a signal (12, 14, 25, 18 in epochs \
               1-4), eta 100 chance (10/100), eta 1 better (62, 42, 43, 61); ours: eta 10 with \
               lambda 1000 on 1,000 images diverges in epoch 1 (weight decay factor -9), so it \
               is not trained here",
        body: Body::Runs {
            runs: broad_strategy,
            figures: &[FigureSpec {
                suffix: "",
                title: "Broad strategy: accuracy on 100 validation images",
                curve: Curve::EvaluationAccuracy,
                runs: &[
                    "784,10, eta 10, lambda 20",
                    "784,10, eta 100, lambda 20",
                    "784,10, eta 1, lambda 20",
                ],
                x_label: "",
                log_x: false,
            }],
            checks: broad_strategy_checks,
        },
    },
    Experiment {
        name: "learning-rate",
        title: "Training cost with eta 0.025, 0.25 and 2.5 (784,30,10, lambda 5.0, 30 epochs)",
        book: "eta 0.025 falls smoothly until the final epoch; 0.25 falls, then after about 20 \
               epochs is near saturation with small oscillations; 2.5 makes large oscillations \
               from the start",
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
        name: "stopping",
        title: "Early stopping by no-improvement-in-10 and the chapter's schedule (halve eta \
                after no improvement in 10 epochs, stop at 1/128 of it), from eta 0.25, against \
                constant eta 0.25 and 0.025 for 30 epochs and the chapter's 0.25 for 20 epochs \
                then 0.025 (784,30,10, lambda 5.0, validation)",
        book: "no-improvement-in-ten stops without giving up accuracy; a variable learning \
               rate can improve performance (start at 0.25, later 0.025); no figures",
        body: Body::Runs {
            runs: stopping,
            figures: &[FigureSpec {
                suffix: "",
                title: "Early stopping and the halving schedule: validation accuracy",
                curve: Curve::EvaluationAccuracy,
                runs: &[],
                x_label: "",
                log_x: false,
            }],
            checks: stopping_checks,
        },
    },
    Experiment {
        name: "mini-batch",
        title: "Mini-batch sizes 1, 10 and 100 with eta scaled with the size (0.05, 0.5, 5.0), \
                validation accuracy against training seconds (784,30,10, lambda 5.0, 10 epochs)",
        book: "choose the mini-batch size that improves the validation accuracy fastest in \
               elapsed time; matrix products make a mini-batch of 100 cost much less than 100 \
               single updates (no figures)",
        body: Body::Runs {
            runs: mini_batch,
            figures: &[FigureSpec {
                suffix: "",
                title: "Mini-batch size: validation accuracy against training time",
                curve: Curve::EvaluationAccuracyAgainstTime,
                runs: &[],
                x_label: "",
                log_x: false,
            }],
            checks: mini_batch_checks,
        },
    },
    Experiment {
        name: "training-size",
        title: "Validation accuracy against the training-set size (log axis), as more_data.py: \
                nine sizes from 100 to 50,000, large initialization, eta 0.5, lambda = size / \
                10,000, 1,500,000 images seen; ours: the same with fresh shifts each epoch",
        book: "accuracy keeps rising with more data; 93.24% with 5,000 images; scikit-learn's \
               SVM with 50,000 images 94.48% (the book's figure, not run here); no expansion \
               curve (the chapter shows a rotated 5 and cites Simard et al.)",
        body: Body::Runs {
            runs: training_size,
            figures: &[FigureSpec {
                suffix: "",
                title: "Validation accuracy against training-set size (book: more_data.py)",
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
        book: "inverted: at most ~60% at eta 3, 94-95% at eta 0.3 (matched assuming the blog's \
               \"most recent attempt\" used the 1/√n initialization with the quadratic cost; with \
               the cross-entropy it says it used from then on, see the last inverted run); few \
               images: 68.93% (100), 56% (50), 51% (10, after 67 epochs)",
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
    Experiment {
        name: "blog-more",
        title: "The reader's later runs: 10 images with random shifts and rotations; 784,100,10 \
                and 784,200,10 with the cross-entropy and eta 0.5, 0.1, 0.02 for 10 epochs each, \
                with and without expansion; two hidden layers",
        book: "10 images: 51% -> about 58% with random transformations; 98.1% (100 hidden, \
               eta 0.5/0.1/0.02 for 10 epochs each), 98.1% (200 hidden), expansion took 98% \
               to 94%, two hidden layers 97.5%",
        body: Body::Runs {
            runs: blog_more,
            figures: &[FigureSpec {
                suffix: "",
                title: "The reader's later runs: test accuracy",
                curve: Curve::EvaluationAccuracy,
                runs: &[],
                x_label: "",
                log_x: false,
            }],
            checks: blog_more_checks,
        },
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
fn net(layers: &[usize], eta: f32, lambda: f32, epochs: usize) -> RunOptions {
    RunOptions {
        layers: layers.to_vec(),
        eta,
        lambda,
        epochs,
        ..RunOptions::default()
    }
}

/// Monitoring `items` on the test data.
fn on_test(args: RunOptions, items: &[MonitorItem]) -> RunOptions {
    RunOptions {
        eval: EvalSet::Test,
        monitor: items.to_vec(),
        ..args
    }
}

/// With the large initialization (the book before its section on weight initialization).
fn large(args: RunOptions) -> RunOptions {
    RunOptions {
        init: InitName::Large,
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
fn spec(label: &'static str, options: RunOptions, measures: Vec<Measure>) -> RunSpec {
    RunSpec {
        label,
        series: "",
        x: None,
        options,
        measures,
        seeds: vec![0],
    }
}

/// A run over three seeds.
fn seeded(label: &'static str, args: RunOptions, measures: Vec<Measure>) -> RunSpec {
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
        seeded(
            QUADRATIC_30,
            chapter_one(30),
            vec![
                book(Metric::PeakEvaluationAccuracy, 95.42),
                ours(Metric::TestAccuracy),
            ],
        ),
        seeded(
            QUADRATIC_100,
            chapter_one(100),
            vec![
                book(Metric::PeakEvaluationAccuracy, 96.59),
                ours(Metric::TestAccuracy),
            ],
        ),
    ]
}

const QUADRATIC_30: &str = "30 hidden, quadratic, eta 3.0 (Chapter 1)";
const QUADRATIC_100: &str = "100 hidden, quadratic, eta 3.0 (Chapter 1)";

/// Chapter 1's network.py run: `SGD(training_data, 30, 10, 3.0, test_data=test_data)` with the
/// quadratic cost, N(0, 1) weights and no regularization.
fn chapter_one(hidden: usize) -> RunOptions {
    RunOptions {
        cost: CostName::Quadratic,
        ..large(on_test(
            net(&[784, hidden, 10], 3.0, 0.0, 30),
            &[MonitorItem::EvaluationAccuracy],
        ))
    }
}

/// Everything monitored, on the test data, as the chapter's overfitting figures.
const ALL: [MonitorItem; 4] = [
    MonitorItem::TrainingCost,
    MonitorItem::TrainingAccuracy,
    MonitorItem::EvaluationCost,
    MonitorItem::EvaluationAccuracy,
];

fn thousand_images(lambda: f32) -> RunOptions {
    RunOptions {
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
            ours(Metric::EvaluationAccuracyAfter(200)),
            ours(Metric::EvaluationAccuracyAfter(280)),
            ours(Metric::EvaluationAccuracyAfter(400)),
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

const UNREGULARIZED: &str = "30 hidden, lambda 0 (test)";
const REGULARIZED: &str = "30 hidden (test)";

fn full_regularized() -> Vec<RunSpec> {
    let accuracy = [MonitorItem::EvaluationAccuracy];
    let both = [
        MonitorItem::TrainingAccuracy,
        MonitorItem::EvaluationAccuracy,
    ];
    let validation = |args: RunOptions| RunOptions {
        eval: EvalSet::Validation,
        monitor: accuracy.to_vec(),
        ..args
    };
    vec![
        seeded(
            UNREGULARIZED,
            large(on_test(net(&[784, 30, 10], 0.5, 0.0, 30), &both)),
            vec![
                book(Metric::PeakEvaluationAccuracy, 95.33),
                book(Metric::PeakTrainingAccuracy, 97.86),
                ours(Metric::TestAccuracy),
            ],
        ),
        seeded(
            REGULARIZED,
            large(on_test(net(&[784, 30, 10], 0.5, 5.0, 30), &both)),
            vec![
                book(Metric::PeakEvaluationAccuracy, 96.49),
                ours(Metric::PeakTrainingAccuracy),
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
    let wide = net(&[784, 100, 10], 0.1, 5.0, 30);
    let figure_only = || {
        vec![
            ours(Metric::EvaluationAccuracyAfter(1)),
            ours(Metric::PeakEvaluationAccuracy),
            ours(Metric::TestAccuracy),
        ]
    };
    vec![
        spec("large initialization", large(base.clone()), measures(87.0)),
        spec("default initialization", base, measures(93.0)),
        spec(
            "100 hidden, large initialization",
            large(wide.clone()),
            figure_only(),
        ),
        spec("100 hidden, default initialization", wide, figure_only()),
    ]
}

fn learning_rate() -> Vec<RunSpec> {
    let run = |label, eta| {
        spec(
            label,
            RunOptions {
                monitor: vec![MonitorItem::TrainingCost],
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

/// The broad strategy's stripped-down run: `layers` on the first 1,000 training images,
/// monitored on the first 100 validation images.
fn stripped(layers: &[usize], eta: f32, lambda: f32) -> RunOptions {
    RunOptions {
        train_size: Some(1_000),
        validation_size: Some(100),
        ..net(layers, eta, lambda, 30)
    }
}

fn broad_strategy() -> Vec<RunSpec> {
    let measures = |first: f64, fourth: Option<f64>| {
        vec![
            book(Metric::EvaluationAccuracyAfter(1), first),
            Measure {
                metric: Metric::EvaluationAccuracyAfter(4),
                book: fourth,
            },
            ours(Metric::PeakEvaluationAccuracy),
        ]
    };
    vec![
        seeded(
            "784,30,10, eta 10, lambda 1000, 50,000 images",
            net(&[784, 30, 10], 10.0, 1000.0, 30),
            vec![
                book(Metric::EvaluationAccuracyAfter(1), 10.30),
                book(Metric::EvaluationAccuracyAfter(30), 9.67),
                ours(Metric::PeakEvaluationAccuracy),
            ],
        ),
        // eta 10 with lambda 1000 on 1,000 images scales the weights by 1 - eta lambda / n = -9
        // before every step (eq. 93): they blow up in the first epoch, where `nn train` stops
        // with an error and network2.py goes on with NaN weights and prints 10/100.
        // tests/reproduce.rs checks that it diverges.
        seeded(
            "784,10, eta 10, lambda 20",
            stripped(&[784, 10], 10.0, 20.0),
            measures(12.0, Some(18.0)),
        ),
        seeded(
            "784,10, eta 100, lambda 20",
            stripped(&[784, 10], 100.0, 20.0),
            measures(10.0, Some(10.0)),
        ),
        seeded(
            "784,10, eta 1, lambda 20",
            stripped(&[784, 10], 1.0, 20.0),
            measures(62.0, Some(61.0)),
        ),
    ]
}

/// The learning-rate section's network monitored on the validation data.
fn validated(eta: f32, epochs: usize) -> RunOptions {
    RunOptions {
        eval: EvalSet::Validation,
        ..net(&[784, 30, 10], eta, 5.0, epochs)
    }
}

const CONSTANT_FAST: &str = "eta 0.25, 30 epochs";
const CONSTANT_SLOW: &str = "eta 0.025, 30 epochs";
const EARLY_STOPPING: &str = "eta 0.25, no-improvement-in-10";
const HALVING: &str = "eta 0.25, halved after no improvement in 10, stop at 1/128";
const STEPPED: &str = "eta 0.25 for 20 epochs, then 0.025";

fn stopping() -> Vec<RunSpec> {
    let measures = || {
        vec![
            ours(Metric::PeakEvaluationAccuracy),
            ours(Metric::EpochsTrained),
            ours(Metric::TestAccuracy),
        ]
    };
    vec![
        seeded(CONSTANT_FAST, validated(0.25, 30), measures()),
        seeded(CONSTANT_SLOW, validated(0.025, 30), measures()),
        seeded(
            EARLY_STOPPING,
            RunOptions {
                early_stopping: Some(10),
                ..validated(0.25, 200)
            },
            measures(),
        ),
        // One seed: the schedule runs up to 400 epochs.
        spec(
            HALVING,
            RunOptions {
                lr_schedule: "halve:10".parse().expect("a valid schedule"),
                ..validated(0.25, 400)
            },
            measures(),
        ),
        // The chapter's variable learning rate: "start at 0.25, train for 20 epochs, then
        // switch to 0.025", within the 30 epochs of the constant runs.
        seeded(
            STEPPED,
            RunOptions {
                lr_schedule: "steps:21=0.025".parse().expect("a valid schedule"),
                ..validated(0.25, 30)
            },
            measures(),
        ),
    ]
}

/// Mini-batch sizes and their learning rates: η grows with the size, as eq. (102) suggests.
const BATCHES: [(usize, f32, &str); 3] = [
    (1, 0.05, "mini-batch 1, eta 0.05"),
    (10, 0.5, "mini-batch 10, eta 0.5"),
    (100, 5.0, "mini-batch 100, eta 5.0"),
];

fn mini_batch() -> Vec<RunSpec> {
    BATCHES
        .iter()
        .map(|&(size, eta, label)| {
            spec(
                label,
                RunOptions {
                    batch_size: size,
                    ..validated(eta, 10)
                },
                vec![
                    ours(Metric::SecondsToEvaluationAccuracy(95)),
                    ours(Metric::PeakEvaluationAccuracy),
                    ours(Metric::SecondsPerEpoch),
                ],
            )
        })
        .collect()
}

/// more_data.py's nine training-set sizes, with their labels.
const SIZES: [(usize, &str); 9] = [
    (100, "100 images"),
    (200, "200 images"),
    (500, "500 images"),
    (1_000, "1,000 images"),
    (2_000, "2,000 images"),
    (5_000, "5,000 images"),
    (10_000, "10,000 images"),
    (20_000, "20,000 images"),
    (50_000, "50,000 images"),
];
/// The sizes also trained with expansion (ours).
const EXPANDED_SIZES: [(usize, &str); 4] = [
    (100, "100 images, shifted (ours)"),
    (1_000, "1,000 images, shifted (ours)"),
    (10_000, "10,000 images, shifted (ours)"),
    (50_000, "50,000 images, shifted (ours)"),
];
/// The book's figure for scikit-learn's SVM trained on 50,000 images (validation accuracy).
const SVM_50000: f64 = 94.48;

fn training_size() -> Vec<RunSpec> {
    // more_data.py: the large initialization, 1,500,000 images seen in all, lambda = size /
    // 10,000, nothing monitored, the final network scored on the validation data.
    let run = |(size, label): (usize, &'static str), expanded: bool| {
        let book_value = (size == 5_000).then_some(93.24);
        RunSpec {
            series: if expanded {
                "ours: expanded (fresh shifts each epoch)"
            } else {
                "more_data.py"
            },
            x: Some(size as f64),
            ..spec(
                label,
                large(RunOptions {
                    train_size: Some(size),
                    monitor: Vec::new(),
                    expand: if expanded {
                        vec![TransformName::Shift]
                    } else {
                        Vec::new()
                    },
                    ..net(&[784, 30, 10], 0.5, size as f32 * 1e-4, 1_500_000 / size)
                }),
                vec![
                    Measure {
                        metric: Metric::ValidationAccuracy,
                        book: book_value,
                    },
                    ours(Metric::TestAccuracy),
                ],
            )
        }
    };
    let mut runs: Vec<RunSpec> = SIZES.into_iter().map(|s| run(s, false)).collect();
    runs.extend(EXPANDED_SIZES.into_iter().map(|s| run(s, true)));
    runs
}

/// The fully-connected network of the expansion and dropout experiments: one hidden layer of
/// 800 ReLU neurons (Simard et al.'s size), softmax and log-likelihood, momentum 0.9, mini-batches
/// of 100, 30 epochs.
fn wide(expand: &[TransformName], dropout: f32) -> RunOptions {
    RunOptions {
        cost: CostName::LogLikelihood,
        activation: ActivationName::Relu,
        optimizer: OptimizerName::Momentum,
        momentum: 0.9,
        batch_size: 100,
        dropout,
        expand: expand.to_vec(),
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
            RunOptions {
                lambda: 0.0,
                l1: 5.0,
                ..base()
            },
            measures(),
        ),
        spec("sigmoid, SGD, eta 0.1", slow(), measures()),
        spec(
            "sigmoid, momentum 0.9, eta 0.1",
            RunOptions {
                optimizer: OptimizerName::Momentum,
                momentum: 0.9,
                ..slow()
            },
            measures(),
        ),
        spec(
            "tanh, SGD, eta 0.1",
            RunOptions {
                activation: ActivationName::Tanh,
                ..slow()
            },
            measures(),
        ),
        spec(
            "ReLU, SGD, eta 0.1",
            RunOptions {
                activation: ActivationName::Relu,
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
    type Make = fn(&'static str, RunOptions, Vec<Measure>) -> RunSpec;
    let inverted = |label, eta, init, reported: Option<f64>, make: Make| {
        let args = RunOptions {
            cost: CostName::Quadratic,
            init,
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
            RunOptions {
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
        // The other reading: the blog says it used the cross-entropy from then on.
        spec(
            INVERTED_CROSS_ENTROPY,
            RunOptions {
                invert: true,
                ..on_test(net(&[784, 30, 10], 0.3, 0.0, 30), &accuracy)
            },
            vec![
                book(Metric::PeakEvaluationAccuracy, 94.5),
                ours(Metric::TestAccuracy),
            ],
        ),
        few("100 images", (Some(100), None), 30, 68.93),
        few("50 images", (Some(50), None), 30, 56.0),
        few("10 images, one per digit", (None, Some(1)), 67, 51.0),
    ]
}

const TEN_IMAGES: &str = "10 images, one per digit";
const TEN_TRANSFORMED: &str = "10 images, one per digit, random shifts and rotations";
const DECAYING_100: &str = "784,100,10, eta 0.5/0.1/0.02";
const DECAYING_200: &str = "784,200,10, eta 0.5/0.1/0.02";
const DECAYING_EXPANDED: &str = "784,100,10, eta 0.5/0.1/0.02, shifts and rotations";
const DECAYING_DEEP: &str = "784,100,100,10, eta 0.5/0.1/0.02";

fn blog_more() -> Vec<RunSpec> {
    let accuracy = [MonitorItem::EvaluationAccuracy];
    let ten = |expand: Vec<TransformName>| RunOptions {
        per_class: Some(1),
        expand,
        ..on_test(net(&[784, 100, 10], 0.5, 0.0, 67), &accuracy)
    };
    let transforms = || vec![TransformName::Shift, TransformName::Rotate];
    // The blog trains 10 epochs at each of eta 0.5, 0.1 and 0.02. It names L2 regularization
    // without its lambda: the book's 5.0.
    let decaying = |layers: &[usize], expand| RunOptions {
        lr_schedule: "steps:11=0.1,21=0.02".parse().expect("a valid schedule"),
        expand,
        ..on_test(net(layers, 0.5, 5.0, 30), &accuracy)
    };
    let test = |value| {
        vec![
            book(Metric::TestAccuracy, value),
            ours(Metric::PeakEvaluationAccuracy),
        ]
    };
    vec![
        seeded(TEN_IMAGES, ten(Vec::new()), test(51.0)),
        seeded(TEN_TRANSFORMED, ten(transforms()), test(58.0)),
        seeded(
            DECAYING_100,
            decaying(&[784, 100, 10], Vec::new()),
            test(98.1),
        ),
        spec(
            DECAYING_200,
            decaying(&[784, 200, 10], Vec::new()),
            test(98.1),
        ),
        spec(
            DECAYING_EXPANDED,
            decaying(&[784, 100, 10], transforms()),
            test(94.0),
        ),
        spec(
            DECAYING_DEEP,
            decaying(&[784, 100, 100, 10], Vec::new()),
            test(97.5),
        ),
    ]
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

/// The mean accuracy (%) on the monitored data over `epochs` of the first seed of `label`, NaN
/// when the run has none of them.
fn mean_accuracy(results: &[RunResult], label: &str, epochs: RangeInclusive<usize>) -> f64 {
    let values: Vec<f64> = find(results, label)
        .history
        .iter()
        .filter(|r| epochs.contains(&r.epoch))
        .filter_map(|r| r.evaluation_accuracy)
        .collect();
    100.0 * values.iter().sum::<f64>() / values.len() as f64
}

/// The training cost of each epoch of the first seed of `label`.
fn training_costs(results: &[RunResult], label: &str) -> Vec<f64> {
    find(results, label)
        .history
        .iter()
        .filter_map(|r| r.training_cost)
        .collect()
}

fn cross_entropy_checks(results: &[RunResult]) -> Vec<Check> {
    let peak = |label| value(results, label, Metric::PeakEvaluationAccuracy);
    let (ce30, q30) = (peak("30 hidden"), peak(QUADRATIC_30));
    let (ce100, q100) = (peak("100 hidden"), peak(QUADRATIC_100));
    vec![
        Check {
            claim: "with 30 hidden neurons the cross-entropy is about as good as Chapter 1's \
                    quadratic cost (the book: 95.49% against 95.42%): within half a point"
                .into(),
            holds: (ce30 - q30).abs() <= 0.5,
            detail: format!("peak test accuracy: cross-entropy {ce30:.2}%, quadratic {q30:.2}%"),
        },
        Check {
            claim: "with 100 hidden neurons the cross-entropy beats the quadratic cost (the \
                    book: 96.82% against 96.59%)"
                .into(),
            holds: ce100 > q100,
            detail: format!("peak test accuracy: cross-entropy {ce100:.2}%, quadratic {q100:.2}%"),
        },
    ]
}

fn overfitting_checks(results: &[RunResult]) -> Vec<Check> {
    let label = "1,000 images, lambda 0";
    let training = value(results, label, Metric::FinalTrainingAccuracy);
    let lowest = value(results, label, Metric::LowestEvaluationCostEpoch);
    let epochs = find(results, label).history.len();
    let (before, plateau, end) = (
        mean_accuracy(results, label, 181..=200),
        mean_accuracy(results, label, 261..=280),
        mean_accuracy(results, label, 381..=400),
    );
    vec![
        Check {
            claim: "the test accuracy still rises up to epoch 280 and stops improving after it: \
                    the mean over epochs 261-280 is above that over 181-200, and the mean over \
                    epochs 381-400 is less than 0.25 points above that over 261-280"
                .into(),
            holds: plateau > before && end - plateau < 0.25,
            detail: format!(
                "mean test accuracy (first seed): epochs 181-200 {before:.2}%, 261-280 \
                 {plateau:.2}%, 381-400 {end:.2}%"
            ),
        },
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
    let quarters: Vec<f64> = [1..=100, 101..=200, 201..=300, 301..=400]
        .into_iter()
        .map(|range| mean_accuracy(results, label, range))
        .collect();
    vec![
        Check {
            claim: "the test accuracy keeps rising for the entire 400 epochs: its mean rises \
                    from each 100 epochs to the next"
                .into(),
            holds: quarters.windows(2).all(|w| w[1] > w[0]),
            detail: format!(
                "mean test accuracy (first seed) over epochs 1-100, 101-200, 201-300, 301-400: \
                 {}",
                quarters
                    .iter()
                    .map(|a| format!("{a:.2}%"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        },
        Check {
            claim: "ours: with regularization the test cost no longer rises early: its minimum \
                    comes in the second half of the run"
                .into(),
            holds: lowest > epochs as f64 / 2.0,
            detail: format!("lowest test cost in epoch {lowest:.0} of {epochs}"),
        },
    ]
}

fn full_data_checks(results: &[RunResult]) -> Vec<Check> {
    let gap = |label| {
        value(results, label, Metric::PeakTrainingAccuracy)
            - value(results, label, Metric::PeakEvaluationAccuracy)
    };
    let (plain, regularized) = (gap(UNREGULARIZED), gap(REGULARIZED));
    vec![
        Check {
            claim: "without regularization the best training accuracy is 1.5-3.5 points above \
                    the best test accuracy (the book: 97.86% against 95.33%, 2.53 points)"
                .into(),
            holds: (1.5..=3.5).contains(&plain),
            detail: format!("peak training minus peak test accuracy: {plain:.2} points"),
        },
        Check {
            claim: "with lambda 5.0 the gap between training and test accuracy is under 1%".into(),
            holds: regularized < 1.0,
            detail: format!("peak training minus peak test accuracy: {regularized:.2} points"),
        },
    ]
}

fn init_checks(results: &[RunResult]) -> Vec<Check> {
    let after = Metric::EvaluationAccuracyAfter(1);
    let (large, default) = (
        value(results, "large initialization", after),
        value(results, "default initialization", after),
    );
    let (large100, default100) = (
        value(results, "100 hidden, large initialization", after),
        value(results, "100 hidden, default initialization", after),
    );
    vec![
        Check {
            claim: "the default initialization is far ahead after the first epoch".into(),
            holds: default > large + 2.0,
            detail: format!("after epoch 1: default {default:.2}%, large {large:.2}%"),
        },
        Check {
            claim: "the same with 100 hidden neurons".into(),
            holds: default100 > large100 + 2.0,
            detail: format!("after epoch 1: default {default100:.2}%, large {large100:.2}%"),
        },
    ]
}

fn learning_rate_checks(results: &[RunResult]) -> Vec<Check> {
    // The size of a curve's oscillations: the mean of its rises from one epoch to the next.
    let mean_rise = |label| {
        let costs = training_costs(results, label);
        let rises: Vec<f64> = costs
            .windows(2)
            .map(|w| w[1] - w[0])
            .filter(|d| *d > 0.0)
            .collect();
        rises.iter().fold(0.0, |sum, r| sum + r) / rises.len().max(1) as f64
    };
    let rises_within = |label, epochs: usize| {
        training_costs(results, label)
            .windows(2)
            .take(epochs - 1)
            .any(|w| w[1] > w[0])
    };
    let costs = |label| training_costs(results, label);
    let (slow, fast) = (costs("eta 0.025"), costs("eta 0.25"));
    let smooth = slow.len() == 30 && slow.windows(2).all(|w| w[1] < w[0]);
    // Near saturation after 20 epochs: the last 10 epochs change the cost by less than a tenth
    // of what the first 20 did.
    let late = (fast.get(19).copied().unwrap_or(f64::NAN)
        - fast.last().copied().unwrap_or(f64::NAN))
    .abs();
    let early =
        fast.first().copied().unwrap_or(f64::NAN) - fast.get(19).copied().unwrap_or(f64::NAN);
    vec![
        Check {
            claim: "eta 2.5 makes large oscillations from the start: its cost rises within the \
                    first 5 epochs while that of eta 0.25 falls in each of them, and its mean \
                    rise is over 5 times that of eta 0.25"
                .into(),
            holds: rises_within("eta 2.5", 5)
                && !rises_within("eta 0.25", 5)
                && mean_rise("eta 2.5") > 5.0 * mean_rise("eta 0.25"),
            detail: format!(
                "mean rise of the training cost: eta 2.5 {:.4}, eta 0.25 {:.4}, eta 0.025 {:.4}",
                mean_rise("eta 2.5"),
                mean_rise("eta 0.25"),
                mean_rise("eta 0.025")
            ),
        },
        Check {
            claim: "eta 0.025 falls smoothly until the final epoch: the cost falls in every one \
                    of the 30 epochs"
                .into(),
            holds: smooth,
            detail: format!(
                "eta 0.025: the cost rose in {} of {} epochs",
                slow.windows(2).filter(|w| w[1] > w[0]).count(),
                slow.len()
            ),
        },
        Check {
            claim: "eta 0.25 is near saturation after about 20 epochs: epochs 21-30 change the \
                    cost by less than a tenth of what epochs 1-20 did"
                .into(),
            holds: late < 0.1 * early,
            detail: format!(
                "eta 0.25: the cost fell by {early:.3} from epoch 1 to 20 and moved by {late:.3} \
                 from epoch 20 to 30"
            ),
        },
    ]
}

fn training_size_checks(results: &[RunResult]) -> Vec<Check> {
    let validation = |label| value(results, label, Metric::ValidationAccuracy);
    let curve: Vec<f64> = SIZES.iter().map(|&(_, label)| validation(label)).collect();
    let rises = curve.windows(2).filter(|w| w[1] > w[0]).count();
    let (five, fifty) = (validation("5,000 images"), validation("50,000 images"));
    let (plain, shifted) = (
        validation("1,000 images"),
        validation("1,000 images, shifted (ours)"),
    );
    vec![
        Check {
            claim: "the accuracy improves as the training set grows: it rises at no fewer than \
                    7 of the 8 steps from 100 to 50,000 images, and 50,000 beats every smaller \
                    size"
                .into(),
            holds: rises >= 7 && curve[..curve.len() - 1].iter().all(|&a| a < fifty),
            detail: format!(
                "validation accuracy: {}",
                SIZES
                    .iter()
                    .zip(&curve)
                    .map(|((size, _), a)| format!("{size}: {a:.2}%"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        },
        Check {
            claim: format!(
                "the network on 5,000 images (the book: 93.24%) is below the book's SVM on \
                 50,000 images ({SVM_50000}%), and the network on 50,000 images above it"
            ),
            holds: five < SVM_50000 && fifty > SVM_50000,
            detail: format!("5,000 images {five:.2}%, 50,000 images {fifty:.2}%"),
        },
        Check {
            claim: "ours: expanding scarce data by fresh shifts helps (1,000 images)".into(),
            holds: shifted > plain,
            detail: format!("1,000 images {plain:.2}%, with shifts {shifted:.2}%"),
        },
    ]
}

fn broad_strategy_checks(results: &[RunResult]) -> Vec<Check> {
    let peak = |label| value(results, label, Metric::PeakEvaluationAccuracy);
    let full = peak("784,30,10, eta 10, lambda 1000, 50,000 images");
    let signal = peak("784,10, eta 10, lambda 20");
    let high = peak("784,10, eta 100, lambda 20");
    let low = peak("784,10, eta 1, lambda 20");
    vec![
        Check {
            claim: "eta 10 with lambda 1000 learns nothing on 50,000 images: the best accuracy \
                    over 30 epochs stays at chance (at most 15%)"
                .into(),
            holds: full <= 15.0,
            detail: format!("peak validation accuracy {full:.2}%"),
        },
        Check {
            claim: "on 1,000 images lambda 20 gives a signal (above 20% of 100 validation \
                    images), eta 100 loses it (at most 20%), and eta 1 does better than eta 10"
                .into(),
            holds: signal > 20.0 && high <= 20.0 && low > signal,
            detail: format!(
                "peak accuracy on 100 validation images: eta 10 {signal:.2}%, eta 100 \
                 {high:.2}%, eta 1 {low:.2}%"
            ),
        },
    ]
}

fn stopping_checks(results: &[RunResult]) -> Vec<Check> {
    let peak = |label| value(results, label, Metric::PeakEvaluationAccuracy);
    let epochs = |label| value(results, label, Metric::EpochsTrained);
    vec![
        Check {
            claim: "no-improvement-in-10 stops before its 200 epochs and keeps a validation \
                    accuracy within 0.1 points of (or above) 30 epochs at constant eta"
                .into(),
            holds: epochs(EARLY_STOPPING) < 200.0
                && peak(EARLY_STOPPING) >= peak(CONSTANT_FAST) - 0.1,
            detail: format!(
                "early stopping: {:.1} epochs, {:.2}%; constant: {:.2}%",
                epochs(EARLY_STOPPING),
                peak(EARLY_STOPPING),
                peak(CONSTANT_FAST)
            ),
        },
        Check {
            claim: "the halving schedule beats both constant learning rates".into(),
            holds: peak(HALVING) > peak(CONSTANT_FAST) && peak(HALVING) > peak(CONSTANT_SLOW),
            detail: format!(
                "peak validation accuracy: halving {:.2}% in {:.1} epochs, eta 0.25 {:.2}%, eta \
                 0.025 {:.2}%",
                peak(HALVING),
                epochs(HALVING),
                peak(CONSTANT_FAST),
                peak(CONSTANT_SLOW)
            ),
        },
    ]
}

fn mini_batch_checks(results: &[RunResult]) -> Vec<Check> {
    let [one, ten, hundred] =
        BATCHES.map(|(_, _, label)| value(results, label, Metric::SecondsPerEpoch));
    vec![Check {
        claim: "an epoch takes less time as the mini-batch grows (matrix products over the \
                mini-batch)"
            .into(),
        holds: one > ten && ten > hundred,
        detail: format!(
            "training seconds per epoch: mini-batch 1 {one:.2}, 10 {ten:.2}, 100 {hundred:.2}"
        ),
    }]
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

const INVERTED_CROSS_ENTROPY: &str = "inverted, eta 0.3, 1/√n init, cross-entropy";

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
    let cross_entropy = peak(INVERTED_CROSS_ENTROPY);
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
        Check {
            claim: "the blog's 94-95% at eta 0.3 is reached by the quadratic cost with the \
                    1/√n init (the assumption our match rests on), not by the cross-entropy the \
                    blog says it used from then on"
                .into(),
            holds: (94.0..=95.5).contains(&slow) && cross_entropy < 94.0,
            detail: format!(
                "peak test accuracy at eta 0.3, 1/√n init: quadratic {slow:.2}%, cross-entropy \
                 {cross_entropy:.2}%"
            ),
        },
    ]
}

fn blog_more_checks(results: &[RunResult]) -> Vec<Check> {
    let test = |label| value(results, label, Metric::TestAccuracy);
    let (ten, transformed) = (test(TEN_IMAGES), test(TEN_TRANSFORMED));
    let (hundred, two_hundred) = (test(DECAYING_100), test(DECAYING_200));
    let (expanded, deep) = (test(DECAYING_EXPANDED), test(DECAYING_DEEP));
    vec![
        Check {
            claim: "random transformations lift the 10-image network (the blog: 51% -> 58%)".into(),
            holds: transformed > ten + 2.0,
            detail: format!("10 images {ten:.2}%, with transformations {transformed:.2}%"),
        },
        Check {
            claim: "100 and 200 hidden neurons both reach 98% (the blog: 98.1% each)".into(),
            holds: hundred >= 98.0 && two_hundred >= 98.0,
            detail: format!("100 hidden {hundred:.2}%, 200 hidden {two_hundred:.2}%"),
        },
        Check {
            claim: "expansion hurts the full training set (the blog: 98% -> 94%)".into(),
            holds: expanded < hundred - 1.0,
            detail: format!("without {hundred:.2}%, with shifts and rotations {expanded:.2}%"),
        },
        Check {
            claim: "a second hidden layer is no improvement (the blog: 97.5% against 98.1%)".into(),
            holds: deep <= hundred,
            detail: format!("784,100,100,10 {deep:.2}%, 784,100,10 {hundred:.2}%"),
        },
    ]
}

#[cfg(test)]
mod tests {
    use nn_core::EpochRecord;

    use super::*;

    /// A run labelled `label` whose per-epoch training costs and evaluation accuracies (as
    /// fractions) are given.
    fn run(label: &str, costs: &[f64], accuracies: &[f64]) -> RunResult {
        let epochs = costs.len().max(accuracies.len());
        RunResult {
            label: label.into(),
            series: String::new(),
            x: None,
            options: None,
            command: String::new(),
            seeds: vec![0],
            measures: Vec::new(),
            test_accuracy: Vec::new(),
            seconds: Vec::new(),
            history: (0..epochs)
                .map(|i| EpochRecord {
                    epoch: i + 1,
                    eta: 0.5,
                    seconds: 1.0,
                    training_cost: costs.get(i).copied(),
                    training_accuracy: None,
                    evaluation_cost: None,
                    evaluation_accuracy: accuracies.get(i).copied(),
                })
                .collect(),
        }
    }

    /// A cost curve falling smoothly from 0.9 towards 0.3.
    fn smooth() -> Vec<f64> {
        (0..30)
            .map(|i| 0.3 + 0.6 * (-(i as f64) / 10.0).exp())
            .collect()
    }

    /// A curve that falls for 20 epochs and then jitters by ±0.005.
    fn saturating() -> Vec<f64> {
        (0..30)
            .map(|i| match i {
                0..20 => 0.5 - 0.008 * i as f64,
                _ => 0.35 + if i % 2 == 0 { 0.005 } else { -0.005 },
            })
            .collect()
    }

    /// A curve that jumps by ±0.1 from the start.
    fn oscillating() -> Vec<f64> {
        (0..30)
            .map(|i| 0.8 + if i % 2 == 0 { -0.05 } else { 0.05 })
            .collect()
    }

    fn verdicts(checks: &[Check]) -> Vec<bool> {
        checks.iter().map(|c| c.holds).collect()
    }

    #[test]
    fn the_learning_rate_claims_hold_for_the_books_curves_and_fail_when_they_are_swapped() {
        let book = [
            run("eta 0.025", &smooth(), &[]),
            run("eta 0.25", &saturating(), &[]),
            run("eta 2.5", &oscillating(), &[]),
        ];
        assert_eq!(verdicts(&learning_rate_checks(&book)), [true; 3]);
        // 0.25's curve in place of 2.5's: the oscillation claim must fail (the old check, "the
        // cost rises in some epoch", passed it).
        let swapped = [
            run("eta 0.025", &smooth(), &[]),
            run("eta 0.25", &saturating(), &[]),
            run("eta 2.5", &saturating(), &[]),
        ];
        assert!(!learning_rate_checks(&swapped)[0].holds);
        // A single rise at 0.025 breaks "falls smoothly".
        let mut bumpy = smooth();
        bumpy[15] = bumpy[13];
        let bumped = [
            run("eta 0.025", &bumpy, &[]),
            run("eta 0.25", &saturating(), &[]),
            run("eta 2.5", &oscillating(), &[]),
        ];
        assert!(!learning_rate_checks(&bumped)[1].holds);
    }

    #[test]
    fn the_regularized_claim_fails_when_the_accuracy_stops_rising() {
        let rising: Vec<f64> = (0..400).map(|i| 0.8 + 0.07 * i as f64 / 400.0).collect();
        // Flat from epoch 200 on.
        let mut peaked = rising.clone();
        let top = peaked[199];
        for a in &mut peaked[200..] {
            *a = top;
        }
        let label = "1,000 images, lambda 0.1";
        assert!(regularized_checks(&[run(label, &[], &rising)])[0].holds);
        assert!(!regularized_checks(&[run(label, &[], &peaked)])[0].holds);
    }

    #[test]
    fn the_plateau_claim_fails_when_the_accuracy_keeps_rising_after_epoch_280() {
        let label = "1,000 images, lambda 0";
        let plateau: Vec<f64> = (0..400)
            .map(|i| {
                if i < 260 {
                    0.7 + 0.12 * i as f64 / 260.0
                } else {
                    0.82
                }
            })
            .collect();
        let climbing: Vec<f64> = (0..400).map(|i| 0.7 + 0.15 * i as f64 / 400.0).collect();
        assert!(overfitting_checks(&[run(label, &[], &plateau)])[0].holds);
        assert!(!overfitting_checks(&[run(label, &[], &climbing)])[0].holds);
    }
}
