//! Runs on many machines: instead of training its runs one after another, `nn reproduce` or
//! `nn search random` writes them as `nn train` command lines (`--write-commands FILE`), one a
//! line, each writing a metrics file (`--metrics`) into FILE's directory; any runner takes it
//! from there (GNU parallel, a Slurm job array running line `$SLURM_ARRAY_TASK_ID`, ...).
//! Afterwards `--collect DIR` reads the metrics files back and gives the summary the runs would
//! have given in one process (nn-chapter's [`nn_chapter::finished`]).

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use nn_chapter::PlannedRun;
use nn_core::atomic::write_bytes;

use crate::data_source::DataSource;
use crate::options::options_command;

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
        let mut line = options_command(&run.options);
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
