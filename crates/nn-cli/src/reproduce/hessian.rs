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

use std::path::PathBuf;
use std::time::Instant;

use anyhow::{Context, Result};
use nn_core::{
    DenseExamples, Examples, Initializer, Monitor, Network, Newton, Optimizer, Sgd, TrainConfig,
    Trainer,
};
use nn_costs::CrossEntropyCost;

use super::{Check, MeasureResult, ReproduceArgs, RunResult, figure};
use crate::digits;

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
fn pooled_digits(args: &ReproduceArgs, train_size: usize) -> Result<DenseExamples> {
    let images = digits::load(&args.data)?.training_images(Some(train_size), None)?;
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
        classes.push(images.class(i).context("an MNIST image without a label")?);
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
    optimizer: Box<dyn Optimizer>,
    eta: f32,
    epochs: usize,
) -> Result<Run> {
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
    let trainer = Trainer::new(network, &CrossEntropyCost, optimizer, Vec::new(), config)?;
    let started = Instant::now();
    let (_, history) = trainer
        .train(data, None, &mut crate::interrupt::Quiet)
        .with_context(|| format!("training with {label}"))?;
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
pub fn run(name: &str, args: &ReproduceArgs) -> Result<(Vec<RunResult>, Vec<Check>, Vec<PathBuf>)> {
    let (gd_epochs, newton_epochs) = if args.quick {
        (GD_EPOCHS / 10, NEWTON_EPOCHS / 2)
    } else {
        (GD_EPOCHS, NEWTON_EPOCHS)
    };
    let data = pooled_digits(args, TRAIN_SIZE)?;
    let steps_per_epoch = data.len().div_ceil(BATCH);
    let mut gd = Vec::new();
    for eta in GD_ETAS {
        let run = train(
            format!("gradient descent, eta {eta}"),
            &data,
            Box::new(Sgd),
            eta,
            gd_epochs,
        )?;
        tell!(
            "{name}: {} -> cost {:.4} after {} steps",
            run.label,
            run.costs.last().copied().unwrap_or(f64::NAN),
            gd_epochs * steps_per_epoch
        );
        gd.push(run);
    }
    let newton = train(
        format!("Hessian technique, eta {NEWTON_ETA}"),
        &data,
        Box::new(Newton::new(Newton::DEFAULT_DAMPING)?),
        NEWTON_ETA,
        newton_epochs,
    )?;
    let newton_budget = newton_epochs * steps_per_epoch;
    tell!(
        "{name}: {} -> cost {:.4} after {newton_budget} steps",
        newton.label,
        newton.costs.last().copied().unwrap_or(f64::NAN),
    );
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
        .context("no gradient-descent run")?;
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
    let path = args.out.join(format!("{name}.png"));
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data_source::DataSource;

    #[test]
    fn the_quick_run_bears_out_both_claims() {
        let args = ReproduceArgs {
            name: Some("hessian".into()),
            list: false,
            out: tempfile::tempdir().unwrap().keep(),
            quick: true,
            data: DataSource {
                data: Some(nn_testdata::mnist_dir().to_path_buf()),
                ..DataSource::default()
            },
            threads: None,
            batch: Default::default(),
        };
        let (results, checks, figures) = run("hessian", &args).unwrap();
        assert_eq!(results.len(), 2);
        assert!(checks.iter().all(|c| c.holds), "{checks:?}");
        assert!(figures[0].is_file());
        std::fs::remove_dir_all(&args.out).unwrap();
    }

    #[test]
    fn an_mnist_network_too_large_for_the_hessian_is_refused_with_the_reason() {
        // 784,2,10 (1,600 parameters) used to take 39 s an epoch and end at chance.
        let args = crate::options::TrainArgs {
            layers: Some(vec![784, 2, 10]),
            optimizer: Some(crate::options::OptimizerName::Newton),
            train_size: Some(1_000),
            epochs: Some(2),
            quiet: true,
            data: DataSource {
                data: Some(nn_testdata::mnist_dir().to_path_buf()),
                ..DataSource::default()
            },
            ..Default::default()
        };
        let started = std::time::Instant::now();
        let Err(error) = crate::train::run(&args) else {
            panic!("784,2,10 was trained with the Hessian technique");
        };
        let message = nn_core::error::message_chain(error.as_ref());
        for reason in [
            "1600 x 1600 Hessian",
            "backward passes",
            "at most 1000 parameters",
        ] {
            assert!(message.contains(reason), "{message}");
        }
        assert!(
            started.elapsed().as_secs_f64() < 5.0,
            "refused before training"
        );
    }
}
