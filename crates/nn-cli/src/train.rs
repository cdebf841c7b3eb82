//! One whole training run from parsed options: `nn train`, and the building block of any
//! subcommand that trains (reproductions of the chapter's figures, hyper-parameter searches).

use std::path::PathBuf;
use std::time::Instant;

use anyhow::{Context, Result, bail};
use nn_core::{
    Cost, EpochTransform, Evaluation, Examples, History, Network, Optimizer, Regularizer, Trainer,
    save_model,
};

use crate::checkpoint::{self, Restored};
use crate::options::{EvalSet, RunOptions, TrainArgs, check_resume_flags};
use crate::progress::{Mode, Reporter, Sizes};
use crate::{compose, digits, metrics, plot};

/// The result of a finished run.
#[derive(Debug)]
pub struct RunOutcome {
    /// The options the run used.
    pub options: RunOptions,
    /// Every epoch's figures, the best epoch and why the run stopped.
    pub history: History,
    /// The final model on the 10,000 test images.
    pub test: Evaluation,
    /// The trained network.
    pub network: Network,
    /// The cost it was trained with.
    pub cost: &'static dyn Cost,
    /// Wall-clock seconds of the training loop in this process.
    pub seconds: f64,
}

/// Trains one network as `args` says, prints progress (unless `args.quiet`) and the test
/// accuracy, writes the requested model, checkpoints, metrics and plot, and returns the outcome.
pub fn run(args: &TrainArgs) -> Result<RunOutcome> {
    let (options, restored, checkpoint_dir) = resolve(args)?;
    set_threads(args.threads)?;
    let cost = compose::cost(options.cost);
    let config = compose::config(&options)?;
    let optimizer = compose::optimizer(&options)?;
    let regularizers = compose::regularizers(&options)?;
    if let Some(path) = &args.plot {
        plot::check_path(path)?;
    }
    let (network, resume) = match restored {
        Some(r) => (r.network, Some((r.state, r.optimizer_state))),
        None => (compose::network(&options)?, None),
    };

    let data = digits::load(&args.data)?;
    let training = data
        .training_images(options.train_size, options.per_class)?
        .inverted(options.invert);
    let evaluation = match options.eval {
        EvalSet::Validation => data.validation_images(options.validation_size)?,
        EvalSet::Test => data.splits.test.clone(),
    }
    .inverted(options.invert);
    let test = data.splits.test.inverted(options.invert);
    if network.input_size() != training.input_len() || network.output_size() != training.classes {
        bail!(
            "--layers {}: MNIST images have {} pixels and {} classes, so the first layer must be \
             {} and the last {} (e.g. --layers {},30,{})",
            compose::join(network.sizes()),
            training.input_len(),
            training.classes,
            training.input_len(),
            training.classes,
            training.input_len(),
            training.classes
        );
    }

    let transform = compose::expansion(&options, &training)?;
    let mut rules = describe_rules(&*optimizer, &regularizers, transform.as_deref());
    if let Some(beta) = options.average_weights {
        rules.push_str(&format!(", weights averaged (beta={beta})"));
    }
    let mut trainer = Trainer::new(network, cost, optimizer, regularizers, config)?;
    if let Some(transform) = transform {
        trainer = trainer.with_transform(transform);
    }
    let mut reporter = Reporter::new(
        Mode::detect(args.quiet),
        Sizes {
            training: training.len(),
            evaluation: evaluation.len(),
            evaluation_name: options.eval.name(),
        },
        options.epochs,
    );
    if let (Some((state, optimizer_state)), Some(dir)) = (resume, &args.resume) {
        let done = state.history.len();
        trainer
            .resume(state, optimizer_state)
            .with_context(|| format!("cannot resume from {}", dir.display()))?;
        reporter.line(&format!(
            "Resuming after epoch {done} of {}",
            options.epochs
        ));
    }
    reporter.line(&format!(
        "Training {} ({}, {}) on {} images from {}, monitoring {} {} images",
        compose::join(&options.layers),
        options.cost.flag(),
        rules,
        training.len(),
        data.origin,
        evaluation.len(),
        options.eval.name(),
    ));

    let started = Instant::now();
    while !trainer.is_finished() {
        trainer.run_epoch(&training, Some(&evaluation), &mut reporter)?;
        if let Some(dir) = &checkpoint_dir {
            checkpoint::save(dir, &options, &trainer, cost.name())?;
        }
    }
    let (network, history) = trainer.finish();
    let seconds = started.elapsed().as_secs_f64();
    let test_result = network.evaluate(&test, cost);

    if let Some(stopped) = &history.stopped {
        reporter.line(&format!(
            "Stopped after {} epochs ({stopped:?}); best {} accuracy in epoch {}",
            history.epochs.len(),
            options.eval.name(),
            history
                .best_epoch
                .map_or_else(|| "-".to_string(), |e| e.to_string())
        ));
    }
    reporter.line(&format!(
        "Test accuracy: {} / {} ({:.2}%) after {} epochs in {seconds:.1} s",
        test_result.correct,
        test_result.count,
        100.0 * test_result.accuracy(),
        history.epochs.len(),
    ));
    drop(reporter);

    let outcome = RunOutcome {
        options,
        history,
        test: test_result,
        network,
        cost,
        seconds,
    };
    write_outputs(args, &outcome)?;
    Ok(outcome)
}

/// The options of the run, the restored checkpoint when resuming, and where to checkpoint.
fn resolve(args: &TrainArgs) -> Result<(RunOptions, Option<Restored>, Option<PathBuf>)> {
    match &args.resume {
        None => Ok((
            RunOptions::from_args(
                args,
                args.recipe
                    .map_or_else(RunOptions::default, |r| r.options()),
            ),
            None,
            args.checkpoint.clone(),
        )),
        Some(dir) => {
            check_resume_flags(args)?;
            let restored = checkpoint::load(dir)?;
            let mut options = restored.options.clone();
            if let Some(epochs) = args.epochs {
                options.epochs = epochs;
            }
            let checkpoint_dir = args.checkpoint.clone().unwrap_or_else(|| dir.clone());
            Ok((options, Some(restored), Some(checkpoint_dir)))
        }
    }
}

/// Builds the global thread pool with `threads` workers, once per process.
fn set_threads(threads: Option<usize>) -> Result<()> {
    let Some(threads) = threads else {
        return Ok(());
    };
    if threads == 0 {
        bail!("--threads 0: use at least 1 thread");
    }
    if rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build_global()
        .is_err()
        && rayon::current_num_threads() != threads
    {
        bail!(
            "--threads {threads}: the thread pool was already started with {} threads",
            rayon::current_num_threads()
        );
    }
    Ok(())
}

/// The optimizer, regularizers and data expansion, e.g. `sgd, L2(lambda=5)`.
fn describe_rules(
    optimizer: &dyn Optimizer,
    regularizers: &[Box<dyn Regularizer>],
    transform: Option<&dyn EpochTransform>,
) -> String {
    let mut parts = vec![optimizer.describe()];
    parts.extend(regularizers.iter().map(|r| r.describe()));
    parts.extend(transform.map(|t| t.describe()));
    parts.join(", ")
}

/// The model, metrics and plot files the flags ask for.
fn write_outputs(args: &TrainArgs, outcome: &RunOutcome) -> Result<()> {
    if let Some(path) = &args.save {
        save_model(&outcome.network, outcome.cost.name(), path)
            .with_context(|| format!("cannot save the model to {}", path.display()))?;
    }
    if let Some(path) = &args.metrics {
        metrics::write(path, outcome)?;
    }
    if let Some(path) = &args.plot {
        plot::history(path, &outcome.history, outcome.options.eval.name())?;
    }
    Ok(())
}
