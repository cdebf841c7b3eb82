//! The chapter's opening toy: one sigmoid neuron learning to map x = 1 to y = 0 for 300 epochs,
//! with the quadratic cost (the book's η = 0.15) and the cross-entropy (the book's η = 0.005,
//! and ours at 0.15 for a comparison at the same rate), from w = 0.6, b = 0.9 (output 0.82) and
//! from the saturated w = 2, b = 2 (output 0.98).

use nn_core::{Cost, DenseExamples, EpochRecord, Monitor, Network, Sgd, TrainConfig, Trainer};
use nn_costs::{CrossEntropyCost, QuadraticCost};

use crate::error::ChapterError;
use crate::experiment::{Check, MeasureResult, Ran, RunResult};
use crate::figure;
use crate::session::Session;

/// Epochs of the book's animations.
const EPOCHS: usize = 300;
/// The book's learning rate for the quadratic cost.
const QUADRATIC_ETA: f32 = 0.15;
/// The book's learning rate for the cross-entropy ("I used η = 0.005").
const CROSS_ENTROPY_ETA: f32 = 0.005;
/// Epoch at which the saturated starts are compared.
const EARLY_EPOCH: usize = 50;
/// Epochs over which the initial slope of a cost curve is measured.
const SLOPE_EPOCHS: usize = 10;

/// One neuron's run.
struct Start {
    label: &'static str,
    cost: &'static dyn Cost,
    eta: f32,
    w: f32,
    b: f32,
    /// The book's output after 300 epochs, when it says.
    book_output: Option<f64>,
}

const QUADRATIC_SATURATED: &str = "quadratic, w=2 b=2, eta 0.15";
const CROSS_ENTROPY_SATURATED: &str = "cross-entropy, w=2 b=2, eta 0.005";
const OURS_SATURATED: &str = "ours: cross-entropy, w=2 b=2, eta 0.15";

const STARTS: [Start; 6] = [
    Start {
        label: "quadratic, w=0.6 b=0.9, eta 0.15",
        cost: &QuadraticCost,
        eta: QUADRATIC_ETA,
        w: 0.6,
        b: 0.9,
        book_output: Some(0.09),
    },
    Start {
        label: "cross-entropy, w=0.6 b=0.9, eta 0.005",
        cost: &CrossEntropyCost,
        eta: CROSS_ENTROPY_ETA,
        w: 0.6,
        b: 0.9,
        book_output: None,
    },
    Start {
        label: QUADRATIC_SATURATED,
        cost: &QuadraticCost,
        eta: QUADRATIC_ETA,
        w: 2.0,
        b: 2.0,
        book_output: None,
    },
    Start {
        label: CROSS_ENTROPY_SATURATED,
        cost: &CrossEntropyCost,
        eta: CROSS_ENTROPY_ETA,
        w: 2.0,
        b: 2.0,
        book_output: None,
    },
    Start {
        label: "ours: cross-entropy, w=0.6 b=0.9, eta 0.15",
        cost: &CrossEntropyCost,
        eta: QUADRATIC_ETA,
        w: 0.6,
        b: 0.9,
        book_output: None,
    },
    Start {
        label: OURS_SATURATED,
        cost: &CrossEntropyCost,
        eta: QUADRATIC_ETA,
        w: 2.0,
        b: 2.0,
        book_output: None,
    },
];

/// The neuron's output σ(w + b) after training, from its final parameters.
fn output(network: &Network) -> f64 {
    f64::from(network.feedforward(&[1.0])[0])
}

/// Trains the four neurons, draws their cost curves and checks the slowdown.
pub(crate) fn run(name: &str, session: &mut Session) -> Result<Ran, ChapterError> {
    let data = DenseExamples::new(vec![vec![1.0]], vec![vec![0.0]]);
    let mut results = Vec::new();
    for start in &STARTS {
        let mut network = Network::sigmoid(&[1, 1], Default::default(), 0)?;
        network.params_mut().copy_from_slice(&[start.w, start.b]);
        let initial_output = output(&network);
        let initial_cost = cost_at_zero_target(start.cost, initial_output);
        let config = TrainConfig {
            epochs: EPOCHS,
            batch_size: 1,
            eta: start.eta,
            monitor: Monitor {
                training_cost: true,
                ..Monitor::default()
            },
            ..TrainConfig::default()
        };
        let trained = Trainer::new(network, start.cost, Box::new(Sgd), Vec::new(), config)
            .and_then(|trainer| trainer.train(&data, None, session.progress.observer()));
        let (network, history) = trained.map_err(|source| ChapterError::Train {
            what: format!("training the single neuron ({})", start.label),
            source,
        })?;
        let costs: Vec<f64> = history
            .epochs
            .iter()
            .filter_map(|r| r.training_cost)
            .collect();
        let halved = costs
            .iter()
            .position(|&c| c <= 0.5 * initial_cost)
            .map(|i| (i + 1) as f64);
        let single = |metric: &str, book: Option<f64>, ours: Option<f64>| MeasureResult {
            metric: metric.to_string(),
            book,
            ours,
            per_seed: vec![ours],
            spread: None,
        };
        results.push(RunResult {
            label: start.label.to_string(),
            series: start.cost.name().to_string(),
            x: None,
            options: None,
            command: String::new(),
            seeds: vec![0],
            measures: vec![
                single("initial output", None, Some(initial_output)),
                single(
                    "output after 300 epochs",
                    start.book_output,
                    Some(output(&network)),
                ),
                single(
                    &format!("cost after {EARLY_EPOCH} epochs / initial cost"),
                    None,
                    Some(costs[EARLY_EPOCH - 1] / initial_cost),
                ),
                single("epochs until the cost halves", None, halved),
                single(
                    &format!("cost fall in the first {SLOPE_EPOCHS} epochs"),
                    None,
                    Some(initial_cost - costs[SLOPE_EPOCHS - 1]),
                ),
            ],
            test_accuracy: Vec::new(),
            seconds: Vec::new(),
            history: with_initial(history.epochs, start.eta, initial_cost),
        });
    }
    let path = session.figure_path(name, "");
    figure::draw_cost_curves(&path, "One neuron learning x=1 -> y=0", &results)?;
    Ok((results.clone(), checks(&results), vec![path]))
}

/// The cost of output `a` for the target y = 0: ½a² or −ln(1 − a).
fn cost_at_zero_target(cost: &dyn Cost, a: f64) -> f64 {
    if cost.name() == QuadraticCost.name() {
        0.5 * a * a
    } else {
        -(1.0 - a).ln()
    }
}

/// The history with the untrained neuron's cost as epoch 0, as the book's curves start.
fn with_initial(mut epochs: Vec<EpochRecord>, eta: f32, initial_cost: f64) -> Vec<EpochRecord> {
    epochs.insert(
        0,
        EpochRecord {
            epoch: 0,
            eta,
            seconds: 0.0,
            training_cost: Some(initial_cost),
            training_accuracy: None,
            evaluation_cost: None,
            evaluation_accuracy: None,
        },
    );
    epochs
}

/// Our value of the measure `index` (as [`run`] lists them) of the run `label`.
fn measure(results: &[RunResult], label: &str, index: usize) -> f64 {
    results
        .iter()
        .find(|r| r.label == label)
        .and_then(|r| r.measures[index].ours)
        .unwrap_or(f64::NAN)
}

/// The book's claims about the curves, and ours about the same rate for both costs.
fn checks(results: &[RunResult]) -> Vec<Check> {
    let (output, kept, halved, fall) = (1, 2, 3, 4);
    let (flat, steep) = (
        measure(results, QUADRATIC_SATURATED, fall),
        measure(results, CROSS_ENTROPY_SATURATED, fall),
    );
    let quadratic = measure(results, QUADRATIC_SATURATED, kept);
    let cross_entropy = measure(results, CROSS_ENTROPY_SATURATED, kept);
    let slow_halving = measure(results, QUADRATIC_SATURATED, halved);
    let ours_halving = measure(results, OURS_SATURATED, halved);
    let first = measure(results, STARTS[0].label, output);
    vec![
        Check {
            claim: format!(
                "from the saturated start (w=2, b=2) the cross-entropy's curve (eta 0.005) is \
                 much steeper initially than the quadratic's flat start (eta 0.15): its cost \
                 falls over ten times as much in the first {SLOPE_EPOCHS} epochs"
            ),
            holds: steep > 10.0 * flat,
            detail: format!("cost fall: cross-entropy {steep:.4}, quadratic {flat:.4}"),
        },
        Check {
            claim: format!(
                "from the saturated start (w=2, b=2) the quadratic cost (eta 0.15) learns more \
                 slowly than the cross-entropy at the book's eta 0.005: after {EARLY_EPOCH} \
                 epochs it keeps a larger fraction of its initial cost"
            ),
            holds: quadratic > cross_entropy,
            detail: format!(
                "quadratic keeps {:.1}%, cross-entropy {:.1}%",
                100.0 * quadratic,
                100.0 * cross_entropy
            ),
        },
        Check {
            claim: "from w=2, b=2 the quadratic cost barely moves for the first ~150 epochs: it \
                    takes more than 150 epochs to halve"
                .into(),
            holds: slow_halving > 150.0,
            detail: format!("the quadratic cost halves after {slow_halving} epochs"),
        },
        Check {
            claim: "from w=0.6, b=0.9 the quadratic cost brings the output to about 0.09".into(),
            holds: (first - 0.09).abs() < 0.02,
            detail: format!("output {first:.3}"),
        },
        Check {
            claim: "ours: at the same eta 0.15 the cross-entropy halves the saturated neuron's \
                    cost more than ten times sooner than the quadratic"
                .into(),
            holds: ours_halving * 10.0 < slow_halving,
            detail: format!(
                "epochs to halve the cost: cross-entropy {ours_halving}, quadratic {slow_halving}"
            ),
        },
    ]
}
