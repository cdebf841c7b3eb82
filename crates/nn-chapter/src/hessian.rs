//! The Hessian technique (eq. 106) against gradient descent, on a problem it suits: MNIST
//! digits averaged down to 7x7 pixels, a 49,10,10 network (610 parameters) and mini-batches of
//! 250 of 1,000 training images, so that a mini-batch's Hessian has far more constraints
//! (250 examples x 10 outputs) than parameters.
//!
//! The chapter's claim: the Hessian technique converges in fewer steps than gradient descent,
//! but each step costs much more. The target is the training cost the Hessian technique reaches
//! in its budget of steps; gradient descent, given ten times as many, is represented by the
//! learning rate of a range that reaches the target soonest. Both train on the same mini-batches
//! in the same order, from the same weights.

use std::time::Instant;

use nn_core::{
    DenseExamples, Examples, Initializer, Monitor, Network, Newton, Optimizer, Sgd, TrainConfig,
    Trainer,
};
use nn_costs::CrossEntropyCost;

use crate::error::ChapterError;
use crate::experiment::{Check, MeasureResult, Ran, RunResult};
use crate::figure;
use crate::session::{Event, Session};

/// Training images, their side after pooling, and the pooling window.
const TRAIN_SIZE: usize = 1_000;
const SIDE: usize = 7;
const POOL: usize = 4;
/// The network: 7x7 inputs, 10 hidden sigmoid neurons, 10 outputs.
const LAYERS: [usize; 3] = [SIDE * SIDE, 10, 10];
/// Mini-batch size of both methods: 4 steps per epoch.
const BATCH: usize = 250;
/// Epochs of gradient descent, and of the Hessian technique.
const GD_EPOCHS: usize = 200;
const NEWTON_EPOCHS: usize = 10;
/// Gradient descent's learning rates; the best is compared.
const GD_ETAS: [f32; 5] = [0.5, 1.0, 2.0, 4.0, 8.0];
/// The Hessian technique's learning rate: the full Newton step.
const NEWTON_ETA: f32 = 1.0;
/// Seed of the weights and of the mini-batch order.
const SEED: u64 = 1;

/// The first [`TRAIN_SIZE`] training images, each averaged over 4x4 blocks into 7x7 pixels.
fn pooled_digits(session: &Session, train_size: usize) -> Result<DenseExamples, ChapterError> {
    let images = session.data()?.training_images(Some(train_size), None)?;
    let side = SIDE * POOL;
    let mut full = vec![0.0f32; images.input_len()];
    let mut inputs = Vec::with_capacity(images.len());
    let mut classes = Vec::with_capacity(images.len());
    for i in 0..images.len() {
        images.write_input(i, &mut full);
        let pooled = (0..SIDE * SIDE)
            .map(|p| {
                let (row, column) = (p / SIDE * POOL, p % SIDE * POOL);
                (0..POOL * POOL)
                    .map(|q| full[(row + q / POOL) * side + column + q % POOL])
                    .sum::<f32>()
                    / (POOL * POOL) as f32
            })
            .collect();
        inputs.push(pooled);
        classes.push(
            images
                .class(i)
                .expect("a data set's training images are labelled"),
        );
    }
    Ok(DenseExamples::classification(inputs, classes, 10))
}

/// One training run: its training cost per epoch and its seconds per step.
struct Run {
    label: String,
    costs: Vec<f64>,
    history: Vec<nn_core::EpochRecord>,
    seconds_per_step: f64,
}

fn train(
    label: String,
    data: &DenseExamples,
    (optimizer, eta, epochs): (Box<dyn Optimizer>, f32, usize),
    observer: &mut dyn nn_core::Observer,
) -> Result<Run, ChapterError> {
    let network = Network::sigmoid(&LAYERS, Initializer::Default, SEED)?;
    let config = TrainConfig {
        epochs,
        batch_size: BATCH,
        eta,
        seed: SEED,
        monitor: Monitor {
            training_cost: true,
            ..Monitor::default()
        },
        ..TrainConfig::default()
    };
    let failed = |source| ChapterError::Train {
        what: format!("training with {label}"),
        source,
    };
    let trainer =
        Trainer::new(network, &CrossEntropyCost, optimizer, Vec::new(), config).map_err(failed)?;
    let started = Instant::now();
    let (_, history) = trainer.train(data, None, observer).map_err(failed)?;
    let steps = epochs * data.len().div_ceil(BATCH);
    Ok(Run {
        label,
        costs: history
            .epochs
            .iter()
            .filter_map(|r| r.training_cost)
            .collect(),
        history: history.epochs,
        seconds_per_step: started.elapsed().as_secs_f64() / steps as f64,
    })
}

/// The first step count (a whole number of epochs) at which `costs` reaches `target`.
fn steps_to(costs: &[f64], target: f64, steps_per_epoch: usize) -> Option<f64> {
    costs
        .iter()
        .position(|&c| c <= target)
        .map(|i| ((i + 1) * steps_per_epoch) as f64)
}

fn single(metric: &str, ours: Option<f64>) -> MeasureResult {
    MeasureResult {
        metric: metric.to_string(),
        book: None,
        ours,
        per_seed: vec![ours],
        spread: None,
    }
}

/// Trains gradient descent at each learning rate and the Hessian technique, draws their costs
/// and checks the chapter's claim.
pub(crate) fn run(name: &str, session: &mut Session) -> Result<Ran, ChapterError> {
    let (gd_epochs, newton_epochs) = if session.quick {
        (GD_EPOCHS / 10, NEWTON_EPOCHS / 2)
    } else {
        (GD_EPOCHS, NEWTON_EPOCHS)
    };
    let data = pooled_digits(session, TRAIN_SIZE)?;
    let steps_per_epoch = data.len().div_ceil(BATCH);
    let mut gd = Vec::new();
    for eta in GD_ETAS {
        let run = train(
            format!("gradient descent, eta {eta}"),
            &data,
            (Box::new(Sgd), eta, gd_epochs),
            session.progress.observer(),
        )?;
        session.progress.event(&Event::Note(format!(
            "{name}: {} -> cost {:.4} after {} steps",
            run.label,
            run.costs.last().copied().unwrap_or(f64::NAN),
            gd_epochs * steps_per_epoch
        )));
        gd.push(run);
    }
    let newton = train(
        format!("Hessian technique, eta {NEWTON_ETA}"),
        &data,
        (
            Box::new(Newton::new(Newton::DEFAULT_DAMPING).expect("the default damping is valid")),
            NEWTON_ETA,
            newton_epochs,
        ),
        session.progress.observer(),
    )?;
    let newton_budget = newton_epochs * steps_per_epoch;
    session.progress.event(&Event::Note(format!(
        "{name}: {} -> cost {:.4} after {newton_budget} steps",
        newton.label,
        newton.costs.last().copied().unwrap_or(f64::NAN),
    )));
    // The target: the cost the Hessian technique reaches with its whole budget; gradient descent
    // is represented by its learning rate that reaches it in the fewest steps.
    let target = newton.costs.last().copied().unwrap_or(f64::NAN);
    let newton_steps = steps_to(&newton.costs, target, steps_per_epoch);
    let best_gd = gd
        .iter()
        .min_by(|a, b| {
            let steps = |r: &Run| steps_to(&r.costs, target, steps_per_epoch).unwrap_or(f64::MAX);
            let last = |r: &Run| r.costs.last().copied().unwrap_or(f64::INFINITY);
            steps(a)
                .total_cmp(&steps(b))
                .then(last(a).total_cmp(&last(b)))
        })
        .expect("a gradient-descent run per learning rate");
    let gd_steps = steps_to(&best_gd.costs, target, steps_per_epoch);
    let results: Vec<RunResult> = [best_gd, &newton]
        .into_iter()
        .map(|run| RunResult {
            label: run.label.clone(),
            series: String::new(),
            x: None,
            options: None,
            command: String::new(),
            seeds: vec![SEED],
            measures: vec![
                single(
                    &format!("training cost after {newton_budget} steps"),
                    run.costs.get(newton_epochs - 1).copied(),
                ),
                single("final training cost", run.costs.last().copied()),
                single(
                    &format!("steps to a training cost of {target:.4}"),
                    steps_to(&run.costs, target, steps_per_epoch),
                ),
                single("milliseconds per step", Some(1e3 * run.seconds_per_step)),
            ],
            test_accuracy: Vec::new(),
            seconds: vec![run.seconds_per_step * (run.history.len() * steps_per_epoch) as f64],
            history: run.history.clone(),
        })
        .collect();
    let path = session.figure_path(name, "");
    figure::draw_cost_curves(
        &path,
        &format!(
            "49,10,10 on 1,000 pooled digits, mini-batches of {BATCH} ({steps_per_epoch} steps \
             an epoch)"
        ),
        &results,
    )?;
    let per_step = newton.seconds_per_step / best_gd.seconds_per_step;
    let checks = vec![
        Check {
            claim: format!(
                "gradient descent (with the best eta of {GD_ETAS:?}) needs more steps than the \
                 Hessian technique to reach the cost the latter reaches in {newton_budget} steps"
            ),
            holds: match (newton_steps, gd_steps) {
                (Some(n), Some(g)) => n < g,
                (Some(_), None) => true,
                (None, _) => false,
            },
            detail: format!(
                "target cost {target:.4}: {} steps against {} ({})",
                newton_steps.map_or("never".into(), |s| s.to_string()),
                gd_steps.map_or_else(
                    || format!("more than {}", gd_epochs * steps_per_epoch),
                    |s| s.to_string()
                ),
                best_gd.label
            ),
        },
        Check {
            claim: "each step of the Hessian technique costs much more than one of gradient \
                    descent (at least 10 times)"
                .into(),
            holds: per_step >= 10.0,
            detail: format!(
                "{:.2} ms against {:.3} ms per step: {per_step:.0} times",
                1e3 * newton.seconds_per_step,
                1e3 * best_gd.seconds_per_step
            ),
        },
    ];
    Ok((results, checks, vec![path]))
}
