//! `nn reproduce`: the experiments of Chapter 3 (and a reader's follow-ups), nn-chapter's
//! catalogue, run again and set beside the book's numbers and network2.py's spread. This maps
//! the flags onto an [`nn_chapter::Session`] and prints its progress and summary.

use std::path::PathBuf;

use anyhow::{Context, Result, anyhow, bail};
use nn_chapter::{
    ChapterError, Event, Progress, RunId, RunLog, RunOptions, Session, TensorBoardRuns,
};
use nn_core::Observer;

use crate::batch_runs::{self, BatchFlags};
use crate::data_source::DataSource;
use crate::options::options_command;
use crate::{digits, interrupt, train};
use nn_train::destination::{self, Destination};

/// Examples shown by `nn reproduce --help`.
pub const EXAMPLES: &str = "\
Examples:
  nn reproduce --list                        the experiments and the book's figures
  nn reproduce slowdown                      one neuron: quadratic against cross-entropy
  nn reproduce overfitting --out results     1,000 training images for 400 epochs
  nn reproduce regularized --quick           a smoke test of a few seconds
  nn reproduce init --tensorboard runs/tb    a TensorBoard run per training run";

/// The flags of `nn reproduce`.
#[derive(Debug, clap::Args)]
pub struct ReproduceArgs {
    /// The experiment to run (see --list)
    #[arg(required_unless_present = "list", value_name = "NAME")]
    pub name: Option<String>,
    /// List the experiments with the book's figures and exit
    #[arg(long, conflicts_with = "name")]
    pub list: bool,
    /// Directory for the summaries (NAME.json, NAME.md) and figures (NAME*.png)
    #[arg(long, value_name = "DIR", default_value = "runs/reproduce")]
    pub out: PathBuf,
    /// A smoke test: a few epochs on 1,000 images and a single seed
    #[arg(long)]
    pub quick: bool,
    /// Write a TensorBoard run per training run into DIR, each in a subfolder named as the run
    /// (a run trained again restarts its series there; one read back is left as it is)
    #[arg(long, value_name = "DIR", conflicts_with_all = ["write_commands", "collect"])]
    pub tensorboard: Option<PathBuf>,
    /// The data set.
    #[command(flatten)]
    pub data: DataSource,
    /// Number of worker threads [default: one per core]
    #[arg(long, value_name = "T")]
    pub threads: Option<usize>,
    /// Running the experiment's runs on other machines.
    #[command(flatten)]
    pub batch: BatchFlags,
}

/// The progress of `nn reproduce` and `nn search`: a line per step on stderr, runs written as
/// `nn train` command lines, training broken off by Ctrl-C or SIGTERM, and a TensorBoard run
/// per training run under `--tensorboard DIR`.
#[derive(Debug, Default)]
pub struct Lines(interrupt::Quiet, Option<TensorBoardRuns>);

impl Lines {
    /// The lines, with the TensorBoard runs in `tensorboard` if given.
    pub fn logging(tensorboard: &Option<PathBuf>) -> Self {
        Self(
            interrupt::Quiet,
            tensorboard.clone().map(TensorBoardRuns::new),
        )
    }
}

impl Progress for Lines {
    fn observer(&mut self) -> &mut dyn Observer {
        &mut self.0
    }

    fn event(&mut self, event: &Event<'_>) {
        tell!("{event}");
    }

    fn command(&self, options: &RunOptions) -> String {
        options_command(options)
    }

    fn run_log(&mut self, run: &RunId<'_>) -> Result<Option<Box<dyn RunLog>>, ChapterError> {
        self.1.as_ref().map(|runs| runs.open(run)).transpose()
    }
}

/// An error of nn-chapter for `nn`: an interrupted experiment is a stop on a signal.
pub fn chapter_error(error: ChapterError) -> anyhow::Error {
    match error {
        ChapterError::Interrupted { .. } => interrupt::Stopped::new(error.to_string()).into(),
        e => e.into(),
    }
}

/// Runs `nn reproduce`.
pub fn run(args: &ReproduceArgs) -> Result<()> {
    if args.list {
        for e in nn_chapter::experiments() {
            say!("{:<14} {}", e.name, e.title);
            say!("{:<14}   book: {}", "", e.book);
        }
        return Ok(());
    }
    let name = args.name.as_deref().unwrap_or_default();
    let experiment = nn_chapter::find(name).map_err(|e| anyhow!("{e} (nn reproduce --list)"))?;
    for (flag, given) in [
        ("--write-commands", args.batch.write_commands.is_some()),
        ("--collect", args.batch.collect.is_some()),
    ] {
        if given && !experiment.runs_in_batches() {
            bail!("{flag}: {name} trains in this process only; run it without the flag");
        }
    }
    if let Some(file) = &args.batch.write_commands {
        let planned = experiment.plan(args.quick)?;
        return batch_runs::write_commands(file, &planned, &args.data);
    }
    std::fs::create_dir_all(&args.out)
        .with_context(|| format!("--out {}: cannot create the directory", args.out.display()))?;
    let out = [Destination::dir("--out", &args.out)];
    destination::check(&out, &[])?;
    let _lock = destination::lock(&out)?;
    train::set_threads(args.threads)?;
    let data = match experiment.needs_data() && args.batch.collect.is_none() {
        true => Some(digits::load(&args.data)?),
        false => None,
    };
    let session = match &data {
        Some(data) => Session::new(data, &args.out),
        None => Session::without_data(&args.out),
    };
    let mut session = session
        .quick(args.quick)
        .collect(args.batch.collect.clone())
        .progress(Lines::logging(&args.tensorboard));
    let mut summary = experiment.run(&mut session).map_err(chapter_error)?;
    summary.command = format!(
        "nn reproduce {name}{}",
        if args.quick { " --quick" } else { "" }
    );
    let (json, md, markdown) = summary.write(&args.out)?;
    say!("{}", markdown.strip_suffix('\n').unwrap_or(&markdown));
    say!(
        "Wrote {} and {} in {:.1} s",
        json.display(),
        md.display(),
        summary.total_seconds
    );
    Ok(())
}
