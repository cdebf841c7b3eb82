//! Runs on many machines: instead of training its runs one after another, `nn reproduce` or
//! `nn search random` writes them as `nn train` command lines (`--write-commands FILE`), one a
//! line, each writing a metrics file (`--metrics`) into FILE's directory; any runner takes it
//! from there (GNU parallel, a Slurm job array running line `$SLURM_ARRAY_TASK_ID`, ...).
//! Afterwards `--collect DIR` reads the metrics files back and gives the summary the runs would
//! have given in one process.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use nn_core::atomic::write_bytes;
use nn_core::{Cost, History, Network};

use crate::data_source::DataSource;
use crate::metrics;
use crate::options::{RunOptions, TrainArgs, options_command};
use crate::train::RunOutcome;

/// The flags shared by the commands that can hand their runs to other machines.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct BatchFlags {
    /// Write the runs as `nn train` command lines to FILE (one a line, each writing its
    /// metrics file into FILE's directory) instead of training them; run them anywhere, e.g.
    /// `parallel < FILE`, then --collect
    #[arg(long, value_name = "FILE", conflicts_with = "collect")]
    pub write_commands: Option<PathBuf>,
    /// Train nothing: read the metrics files the --write-commands lines wrote into DIR and
    /// summarise them
    #[arg(long, value_name = "DIR")]
    pub collect: Option<PathBuf>,
}

/// One run of a batch: its flags and the name of its metrics file.
#[derive(Clone)]
pub struct PlannedRun {
    /// The `nn train` flags, seed included.
    pub args: TrainArgs,
    /// The metrics file's name, unique in the batch.
    pub file: String,
}

/// The test figures of a finished run.
#[derive(Debug, Clone, Copy)]
pub struct TestResult {
    /// Test images classified correctly.
    pub correct: usize,
    /// Test images.
    pub count: usize,
}

impl TestResult {
    /// Correct classifications as a fraction in [0, 1].
    pub fn accuracy(&self) -> f64 {
        if self.count == 0 {
            0.0
        } else {
            self.correct as f64 / self.count as f64
        }
    }
}

/// What a finished run leaves for a summary, whether trained here or read from its metrics file.
pub struct FinishedRun {
    /// The options the run used.
    pub options: RunOptions,
    /// Every epoch's figures, the best epoch and why the run stopped.
    pub history: History,
    /// The final model on the test images.
    pub test: TestResult,
    /// Wall-clock seconds of the training loop.
    pub seconds: f64,
    /// The trained network and its cost, when the run was trained in this process (a metrics
    /// file does not hold the network).
    pub model: Option<(Network, &'static dyn Cost)>,
}

impl From<&RunOutcome> for FinishedRun {
    fn from(outcome: &RunOutcome) -> Self {
        Self {
            options: outcome.options.clone(),
            history: outcome.history.clone(),
            test: TestResult {
                correct: outcome.test.correct,
                count: outcome.test.count,
            },
            seconds: outcome.seconds,
            model: Some((outcome.network.clone(), outcome.cost)),
        }
    }
}

/// `word` quoted for a POSIX shell when it holds anything but plain characters.
fn shell_word(word: &str) -> String {
    let plain = |c: char| c.is_ascii_alphanumeric() || "-_./:,=+@%".contains(c);
    if !word.is_empty() && word.chars().all(plain) {
        word.to_string()
    } else {
        format!("'{}'", word.replace('\'', r"'\''"))
    }
}

/// `path` made absolute (from the current directory), so the lines run from anywhere.
fn absolute(path: &Path) -> Result<PathBuf> {
    std::path::absolute(path).with_context(|| format!("{}: cannot resolve", path.display()))
}

/// The data flags of `source`, with absolute paths.
pub fn data_flags(source: &DataSource) -> Result<Vec<String>> {
    let mut flags = Vec::new();
    let files: [(&str, &Option<PathBuf>); 5] = [
        ("--data", &source.data),
        ("--train-images", &source.train_images),
        ("--train-labels", &source.train_labels),
        ("--test-images", &source.test_images),
        ("--test-labels", &source.test_labels),
    ];
    for (flag, path) in files {
        if let Some(path) = path {
            flags.push(flag.to_string());
            flags.push(path_word(&absolute(path)?)?);
        }
    }
    if let Some(n) = source.holdout {
        flags.extend(["--holdout".to_string(), n.to_string()]);
    }
    Ok(flags)
}

/// A path as a shell word, refusing one that is not UTF-8.
fn path_word(path: &Path) -> Result<String> {
    path.to_str()
        .map(shell_word)
        .with_context(|| format!("{}: not a UTF-8 path", path.display()))
}

/// Writes one `nn train` line per run to `path`, each writing its metrics file into `path`'s
/// directory.
pub fn write_commands(path: &Path, runs: &[PlannedRun], data: &DataSource) -> Result<()> {
    let path = absolute(path)?;
    let dir = path.parent().unwrap_or(Path::new("/")).to_path_buf();
    std::fs::create_dir_all(&dir)
        .with_context(|| format!("--write-commands: cannot create {}", dir.display()))?;
    let data = data_flags(data)?;
    let mut text = String::new();
    for run in runs {
        let options = crate::options::from_args(&run.args, RunOptions::default());
        let mut line = options_command(&options);
        for flag in &data {
            line.push(' ');
            line.push_str(flag);
        }
        line.push_str(" --quiet --metrics ");
        line.push_str(&path_word(&dir.join(&run.file))?);
        text.push_str(&line);
        text.push('\n');
    }
    write_bytes(&path, text.as_bytes())
        .with_context(|| format!("cannot write {}", path.display()))?;
    say!(
        "Wrote {} nn train commands to {}: run them on any machines that see this directory \
         (e.g. `parallel < {}`, or a Slurm job array running line $SLURM_ARRAY_TASK_ID), then \
         give the same nn command --collect {} in place of --write-commands",
        runs.len(),
        path.display(),
        path.display(),
        dir.display()
    );
    Ok(())
}

/// Reads the metrics file of every run from `dir`, checking each was written by that run.
pub fn collect(dir: &Path, runs: &[PlannedRun]) -> Result<Vec<FinishedRun>> {
    let missing: Vec<&str> = runs
        .iter()
        .map(|r| r.file.as_str())
        .filter(|f| !dir.join(f).is_file())
        .collect();
    if let Some(first) = missing.first() {
        bail!(
            "--collect {}: {} of {} runs have no metrics file there (the first: {first}); run \
             their lines of the --write-commands file first",
            dir.display(),
            missing.len(),
            runs.len()
        );
    }
    runs.iter()
        .map(|run| read_run(&dir.join(&run.file), run))
        .collect()
}

/// The finished run `run` from its metrics file `path`, checking the file was written by it.
pub fn read_run(path: &Path, run: &PlannedRun) -> Result<FinishedRun> {
    let file = metrics::read(path)?;
    let expected = crate::options::from_args(&run.args, RunOptions::default());
    if file.options != expected {
        bail!(
            "{} was written by another run than this batch's (its options differ: {})",
            path.display(),
            options_command(&file.options)
        );
    }
    Ok(FinishedRun {
        options: file.options,
        history: History {
            epochs: file.history,
            best_epoch: file.best_epoch,
            stopped: file.stopped,
        },
        test: TestResult {
            correct: file.test_correct,
            count: file.test_count,
        },
        seconds: file.total_seconds,
        model: None,
    })
}

/// A metrics file name from a batch's name and a run's position and seed.
pub fn file_name(batch: &str, index: usize, seed: u64) -> String {
    let name: String = batch
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect();
    format!("{name}-{:03}-seed{seed}.json", index + 1)
}
