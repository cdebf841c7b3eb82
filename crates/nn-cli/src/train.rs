//! One whole training run from parsed options: `nn train`, and the building block of any
//! subcommand that trains (reproductions of the chapter's figures, hyper-parameter searches).

use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{Context, Result, anyhow, bail};
use nn_core::{
    Cost, EarlyStopping, EpochTransform, Evaluation, Examples, History, Network, Optimizer,
    ParamGuard, Regularizer, Standardization, StandardizationKind, TrainConfig, Trainer,
    save_model,
};

use nn_data::IdxFiles;

use crate::checkpoint::{self, Restored};
use crate::destination::{self, Destination};
use crate::options::{EvalSet, RunOptions, TrainArgs, check_resume_flags, join};
use crate::progress::{Mode, Reporter, Sizes};
use crate::{compose, digits, metrics, plot};

/// The result of a finished run.
#[derive(Debug)]
pub struct RunOutcome {
    /// The options the run used.
    pub options: RunOptions,
    /// Every epoch's figures, the best epoch and why the run stopped.
    pub history: History,
    /// The final model on the test images.
    pub test: Evaluation,
    /// The trained network.
    pub network: Network,
    /// The cost it was trained with.
    pub cost: &'static dyn Cost,
    /// Wall-clock seconds of the training loop in this process.
    pub seconds: f64,
}

/// What a caller puts in place of the options' own choices: rules `nn train`'s flags do not
/// offer, used by the experiments on the chapter's exercises.
#[derive(Default)]
pub struct Overrides {
    /// The update rule, instead of `--optimizer`'s.
    pub optimizer: Option<Box<dyn Optimizer>>,
    /// The early-stopping rule, instead of `--early-stopping`'s.
    pub early_stopping: Option<EarlyStopping>,
}

/// Trains one network as `args` says, prints progress (unless `args.quiet`) and the test
/// accuracy, writes the requested model, checkpoints, metrics and plot, and returns the outcome.
pub fn run(args: &TrainArgs) -> Result<RunOutcome> {
    run_with(args, Overrides::default())
}

/// [`run`], with `overrides` in place of the options' optimizer or early-stopping rule.
pub fn run_with(args: &TrainArgs, overrides: Overrides) -> Result<RunOutcome> {
    let (options, restored, checkpoint_dir) = resolve(args)?;
    set_threads(args.threads)?;
    let cost = compose::cost(options.cost);
    let mut config = compose::config(&options)?;
    if let Some(rule) = overrides.early_stopping {
        config = TrainConfig {
            early_stopping: Some(rule),
            ..config.into_inner()
        }
        .check()?;
    }
    let optimizer = match overrides.optimizer {
        Some(optimizer) => optimizer,
        None => compose::optimizer(&options)?,
    };
    let regularizers = compose::regularizers(&options)?;
    let (mut network, resume) = match restored {
        Some(r) => (r.network, Some((r.state, r.optimizer_state, r.data))),
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
    check_destinations(args, checkpoint_dir.as_deref(), &data.files)?;
    let identity = match &checkpoint_dir {
        Some(_) => Some(checkpoint::data_identity(&data)?),
        None => None,
    };
    let test = data.splits.test.inverted(options.invert);
    if let (Some((_, _, saved_data)), Some(dir), Some(identity)) =
        (&resume, &args.resume, &identity)
        && let Some(warning) = checkpoint::check_data(saved_data.as_ref(), identity)
            .with_context(|| format!("--resume {}", dir.display()))?
    {
        tell!("warning: {warning}");
    }
    for (set, name) in [
        (&training, "training"),
        (&evaluation, options.eval.name()),
        (&test, "test"),
    ] {
        let what = format!("the {name} images of {}", data.origin);
        compose::check_data(&network, set, &what).map_err(|e| {
            let mut suggested = network.sizes().to_vec();
            (suggested[0], *suggested.last_mut().expect("two layers")) =
                (set.input_len(), set.classes);
            anyhow!(
                "--layers {}: {e}; make the first and last layers fit the data (e.g. --layers {})",
                join(network.sizes()),
                join(&suggested)
            )
        })?;
    }
    if resume.is_none() && options.normalize != StandardizationKind::None {
        network.set_standardization(Standardization::fit(options.normalize, &training)?)?;
    }
    if options.batch_size > training.len() {
        bail!(
            "--batch-size {}: larger than the {} training images; use at most {}",
            options.batch_size,
            training.len(),
            training.len()
        );
    }

    let transform = compose::expansion(&options)?;
    let mut rules = describe_rules(&*optimizer, &regularizers, transform.as_deref());
    if let Some(beta) = options.average_weights {
        rules.push_str(&format!(", weights averaged (beta={beta})"));
    }
    if options.normalize != StandardizationKind::None {
        rules.push_str(&format!(
            ", inputs standardized ({})",
            options.normalize.name()
        ));
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
    if let (Some((state, optimizer_state, _)), Some(dir)) = (resume, &args.resume) {
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
        join(&options.layers),
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
            checkpoint::save(
                dir,
                &options,
                identity.as_ref().expect("hashed when checkpointing"),
                &trainer,
                cost.name(),
            )?;
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
            let restored = checkpoint::load(dir)?;
            check_resume_flags(args, &restored.options)?;
            let mut options = restored.options.clone();
            if let Some(epochs) = args.epochs {
                options.epochs = epochs;
            }
            let checkpoint_dir = args.checkpoint.clone().unwrap_or_else(|| dir.clone());
            Ok((options, Some(restored), Some(checkpoint_dir)))
        }
    }
}

/// Most worker threads `--threads` starts: more only cost memory and switching.
const MAX_THREADS: usize = 256;

/// Builds the global thread pool with `threads` workers, once per process.
fn set_threads(threads: Option<usize>) -> Result<()> {
    let Some(threads) = threads else {
        return Ok(());
    };
    if threads == 0 || threads > MAX_THREADS {
        bail!("--threads {threads}: use 1 to {MAX_THREADS} threads (one per core is best)");
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

/// Checks, before any work, every file the run will write (see [`destination::check`]): the
/// model, metrics, plot and checkpoint destinations must be writable and must not be one of the
/// data files, the checkpoint resumed from (unless the run continues in it) or one another. Claims
/// the checkpoint directory (see [`checkpoint::claim`]).
fn check_destinations(
    args: &TrainArgs,
    checkpoint_dir: Option<&Path>,
    data: &IdxFiles,
) -> Result<()> {
    let mut outputs = Vec::new();
    if let Some(path) = &args.save {
        outputs.push(Destination::file("--save", path, &["json"]));
    }
    if let Some(path) = &args.metrics {
        outputs.push(Destination::file("--metrics", path, &["json"]));
    }
    if let Some(path) = &args.plot {
        outputs.push(Destination::file("--plot", path, &["png", "svg"]));
    }
    let checkpoint_files = checkpoint_dir.map(checkpoint::files);
    let created = checkpoint_dir.filter(|d| !d.exists());
    if let (Some(dir), Some(files)) = (checkpoint_dir, &checkpoint_files) {
        checkpoint::claim(dir, args.resume.as_deref(), args.overwrite_checkpoint)?;
        outputs.push(Destination::dir("--checkpoint", dir));
        outputs.extend(
            files
                .iter()
                .map(|f| Destination::file("--checkpoint", f, &["json"])),
        );
    }
    let mut inputs = destination::data_files(data);
    if let Some(resumed) = &args.resume
        && !checkpoint_dir.is_some_and(|c| destination::same_place(c, resumed))
    {
        inputs.extend(checkpoint::files(resumed));
    }
    let inputs: Vec<&Path> = inputs.iter().map(PathBuf::as_path).collect();
    let checked = destination::check(&outputs, &inputs);
    if checked.is_err()
        && let Some(dir) = created
    {
        // Leave no empty checkpoint directory behind a refused run.
        let _ = std::fs::remove_dir(dir);
    }
    checked
}

/// The model, metrics and plot files the flags ask for. A model that cannot be saved where
/// asked is saved in a fallback place (see [`destination::fallback`]) which the error names.
fn write_outputs(args: &TrainArgs, outcome: &RunOutcome) -> Result<()> {
    if let Some(path) = &args.save
        && let Err(e) = save_model(&outcome.network, outcome.cost.name(), path)
    {
        let kept = destination::fallback("nn-model-", "json").and_then(|fallback| {
            save_model(&outcome.network, outcome.cost.name(), &fallback)?;
            Ok(fallback)
        });
        return Err(match kept {
            Ok(fallback) => anyhow!(
                "cannot save the model to {}: {e}; it was saved to {} instead",
                path.display(),
                fallback.display()
            ),
            Err(second) => anyhow!(
                "cannot save the model to {}: {e}; nor anywhere else: {second:#}",
                path.display()
            ),
        });
    }
    if let Some(path) = &args.metrics {
        metrics::write(
            path,
            &outcome.options,
            &outcome.history,
            &outcome.test,
            outcome.seconds,
        )?;
    }
    if let Some(path) = &args.plot {
        plot::history(path, &outcome.history, outcome.options.eval.name())?;
    }
    Ok(())
}
