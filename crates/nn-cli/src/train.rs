//! One whole training run from parsed options: `nn train`, and the building block of any
//! subcommand that trains (reproductions of the chapter's figures, hyper-parameter searches).

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, anyhow, bail};
use nn_core::{ParamGuard, save_model};
use nn_data::IdxFiles;
use nn_tensorboard::{Ending, TensorBoard};
use nn_train::lock::Lock;
use nn_train::{CheckedRunOptions, Checkpointer, DataIdentity, Restored, Run};

use crate::options::{TrainArgs, check_resume_flags, from_args, join};
use crate::progress::{Mode, Reporter, Sizes};
use crate::{digits, metrics, plot};
use nn_train::destination::{self, Destination};

pub use nn_train::{Overrides, RunOutcome};

/// Trains one network as `args` says, prints progress (unless `args.quiet`) and the test
/// accuracy, writes the requested model, checkpoints, metrics and plot, and returns the outcome.
/// The run itself is nn-train's [`Run`]; this maps the flags onto it.
pub fn run(args: &TrainArgs) -> Result<RunOutcome> {
    run_with(args, Overrides::default())
}

/// A run's error for the callers of [`run`]: the trainer's own [`nn_core::TrainError`] stays
/// itself, so that callers can tell a diverged run (`TrainError::Diverged`) by downcasting.
fn trainer_error(error: nn_train::RunError) -> anyhow::Error {
    match error {
        nn_train::RunError::Train(e) => e.into(),
        e => e.into(),
    }
}

/// [`run`], with `overrides` in place of the options' optimizer or early-stopping rule (a fresh
/// run; a resumed one continues with its checkpoint's).
pub fn run_with(args: &TrainArgs, overrides: Overrides) -> Result<RunOutcome> {
    let (options, restored, checkpoint_dir) = resolve(args)?;
    set_threads(args.threads)?;

    let data = digits::load(&args.data)?;
    let saved_data = restored.as_ref().map(|r| r.data.clone());
    let run = match restored {
        Some(restored) => Run::resume(options, &data, restored),
        None => Run::new_with(options, &data, overrides),
    }
    .map_err(|e| match (&args.resume, e) {
        (Some(dir), nn_train::RunError::Resume(e)) => {
            anyhow!(e).context(format!("cannot resume from {}", dir.display()))
        }
        (_, e) => trainer_error(e),
    })?;
    let identity = match &checkpoint_dir {
        Some(_) => Some(DataIdentity::of(&data)?),
        None => None,
    };
    if let (Some(identity), Some(saved), Some(resumed)) = (&identity, &saved_data, &args.resume)
        && let Some(warning) = identity
            .check_resumed(saved.as_ref())
            .with_context(|| format!("--resume {}", resumed.display()))?
    {
        tell!("warning: {warning}");
    }
    let (checkpointer, _locks, board) =
        check_destinations(args, checkpoint_dir.as_deref(), &data.files, identity, &run)?;
    let run = match checkpointer {
        Some(checkpointer) => run.with_checkpointer(checkpointer),
        None => run,
    };

    let options = run.options().clone();
    let selection = run.selection();
    let mut reporter = Reporter::new(
        Mode::detect(args.quiet),
        Sizes {
            training: selection.training.len(),
            evaluation: selection.evaluation.len(),
            evaluation_name: options.eval.name(),
        },
        options.epochs,
    );
    if let Some(done) = run.resumed_after() {
        reporter.line(&format!(
            "Resuming after epoch {done} of {}",
            options.epochs
        ));
    }
    reporter.line(&format!(
        "Training {} ({}, {}) on {} images from {}, monitoring {} {} images",
        join(&options.layers),
        options.cost.flag(),
        run.describe(),
        selection.training.len(),
        data.origin,
        selection.evaluation.len(),
        options.eval.name(),
    ));
    if let Some(board) = &board {
        reporter.line(&format!(
            "TensorBoard events in {}",
            board.path().parent().unwrap_or(board.path()).display()
        ));
    }
    let (trained, board) = match board {
        Some(mut board) => (run.train(&mut board.beside(&mut reporter)), Some(board)),
        None => (run.train(&mut reporter), None),
    };
    // How the run ended goes into its event file; the run's own error comes first.
    let logged = board.map(|board| board.finish(Ending::of(trained.as_ref())));
    let outcome = trained.map_err(|e| match e {
        nn_train::RunError::Train(nn_core::TrainError::Interrupted { epoch, completed }) => {
            interrupted(args, checkpoint_dir.as_deref(), epoch, completed)
        }
        e => trainer_error(e),
    })?;

    let history = &outcome.history;
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
        "Test accuracy: {} / {} ({:.2}%) after {} epochs in {:.1} s",
        outcome.test.correct,
        outcome.test.count,
        100.0 * outcome.test.accuracy(),
        history.epochs.len(),
        outcome.seconds,
    ));
    drop(reporter);
    write_outputs(args, &outcome)?;
    if let Some(logged) = logged {
        logged.context("the run ended, but its TensorBoard events are incomplete")?;
    }
    crate::interrupt::check(|| {
        "the signal came once the run had ended; its outputs are complete".to_string()
    })?;
    Ok(outcome)
}

/// What an interrupted run says it kept: the checkpoint of its last completed epoch and the
/// command that continues it, or that nothing was kept and how to keep progress next time.
fn interrupted(
    args: &TrainArgs,
    checkpoint_dir: Option<&Path>,
    epoch: usize,
    completed: usize,
) -> anyhow::Error {
    let dir = checkpoint_dir.filter(|_| completed > 0);
    let kept = match dir {
        Some(dir) => {
            let mut command = format!("nn train --resume {}", dir.display());
            if let Ok(flags) = crate::batch_runs::data_flags(&args.data) {
                for flag in flags {
                    command.push(' ');
                    command.push_str(&flag);
                }
            }
            format!(
                "the checkpoint of epoch {completed} is in {}: continue with `{command}`",
                dir.display()
            )
        }
        None if checkpoint_dir.is_some() => {
            "no epoch had ended, so no checkpoint was written".to_string()
        }
        None => "nothing was saved (the model is written when the run ends); give                  --checkpoint DIR to keep every epoch and continue later with --resume DIR"
            .to_string(),
    };
    crate::interrupt::Stopped::new(format!("interrupted in epoch {epoch}; {kept}")).into()
}

/// The checked options of the run, the restored checkpoint when resuming, and where to
/// checkpoint. Bad values are reported here, before any data is read.
fn resolve(args: &TrainArgs) -> Result<(CheckedRunOptions, Option<Restored>, Option<PathBuf>)> {
    match &args.resume {
        None => {
            let base = args
                .recipe
                .map_or_else(nn_train::RunOptions::default, |r| r.options());
            Ok((
                from_args(args, base).check()?,
                None,
                args.checkpoint.clone(),
            ))
        }
        Some(dir) => {
            let restored = Checkpointer::load(dir)?;
            check_resume_flags(args, &restored.options)?;
            let mut options = restored.options.clone();
            if let Some(epochs) = args.epochs {
                options.epochs = epochs;
            }
            let checkpoint_dir = args.checkpoint.clone().unwrap_or_else(|| dir.clone());
            Ok((options.check()?, Some(restored), Some(checkpoint_dir)))
        }
    }
}

/// Most worker threads `--threads` starts: more only cost memory and switching.
const MAX_THREADS: usize = 256;

/// Builds the global thread pool with `threads` workers, once per process.
pub fn set_threads(threads: Option<usize>) -> Result<()> {
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

/// Checks, before any work, every file the run will write (see [`destination::check`]): the
/// model, metrics, plot and checkpoint destinations must be writable and must not be one of the
/// data files, the checkpoint resumed from (unless the run continues in it) or one another. Claims
/// the checkpoint directory (see [`Checkpointer::at`]) for the data `identity`, and locks the
/// model, metrics and plot files for as long as the returned locks live, so that no other live
/// run writes them meanwhile. Last, opens `run`'s TensorBoard event file in `--tensorboard DIR`
/// (a new one, or one continuing a resumed run's series).
fn check_destinations(
    args: &TrainArgs,
    checkpoint_dir: Option<&Path>,
    data: &IdxFiles,
    identity: Option<DataIdentity>,
    run: &Run,
) -> Result<(Option<Checkpointer>, Vec<Lock>, Option<TensorBoard>)> {
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
    let named_files = outputs.len();
    let checkpoint_files = checkpoint_dir.map(Checkpointer::files);
    let created = checkpoint_dir.filter(|d| !d.exists());
    let mut checkpointer = None;
    if let (Some(dir), Some(files), Some(identity)) = (checkpoint_dir, &checkpoint_files, identity)
    {
        checkpointer = Some(
            {
                let claim = Checkpointer::at(dir).overwrite(args.overwrite_checkpoint);
                match &args.resume {
                    Some(from) => claim.resuming(from),
                    None => claim,
                }
                .claim(identity)
            }
            .map_err(|e| match e {
                nn_train::CheckpointError::InUse(e) => {
                    anyhow!(e).context(format!("--checkpoint {}", dir.display()))
                }
                e => e.into(),
            })?,
        );
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
        inputs.extend(Checkpointer::files(resumed));
    }
    let inputs: Vec<&Path> = inputs.iter().map(PathBuf::as_path).collect();
    // The checkpoint's own files are guarded by the checkpointer's lock on their directory.
    let opened = destination::check(&outputs, &inputs)
        .and_then(|()| destination::lock(&outputs[..named_files]))
        .map_err(anyhow::Error::from)
        .and_then(|locks| Ok((locks, open_tensorboard(args, run)?)));
    match opened {
        Ok((locks, board)) => Ok((checkpointer, locks, board)),
        Err(e) => {
            // Leave no empty checkpoint directory behind a refused run (its lock file goes with
            // the checkpointer).
            drop(checkpointer);
            if let Some(dir) = created {
                let _ = std::fs::remove_dir(dir);
            }
            Err(e)
        }
    }
}

/// The event file of `--tensorboard DIR` for `run`, if asked for: a resumed run continues its
/// series after the epoch it resumes from.
fn open_tensorboard(args: &TrainArgs, run: &Run) -> Result<Option<TensorBoard>> {
    let Some(dir) = &args.tensorboard else {
        return Ok(None);
    };
    let board = match run.resumed_after() {
        Some(done) => TensorBoard::resume_in(dir, run.options(), done),
        None => TensorBoard::create_in(dir, run.options()),
    };
    Ok(Some(board.context("--tensorboard")?))
}

/// The model, metrics and plot files the flags ask for. A model that cannot be saved where
/// asked is saved in a fallback place (see [`destination::fallback`]) which the error names.
fn write_outputs(args: &TrainArgs, outcome: &RunOutcome) -> Result<()> {
    if let Some(path) = &args.save
        && let Err(e) = save_model(&outcome.network, outcome.cost.name(), path)
    {
        let kept = destination::fallback("nn-model-", "json")
            .map_err(anyhow::Error::from)
            .and_then(|fallback| {
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
