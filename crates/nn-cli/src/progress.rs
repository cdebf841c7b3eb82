//! The training observer: a progress bar per epoch on a terminal, one plain line per epoch
//! otherwise, or silence; warnings always go to stderr.

use std::io::{IsTerminal, Write};
use std::ops::ControlFlow;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressStyle};
use nn_core::{EpochRecord, Observer};

/// How progress is shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// An indicatif bar per epoch, followed by the epoch's line.
    Bar,
    /// One line per epoch on stdout.
    Plain,
    /// Nothing but warnings.
    Quiet,
}

impl Mode {
    /// The bar on a terminal (stderr), plain lines otherwise, nothing when `quiet`.
    pub fn detect(quiet: bool) -> Self {
        if quiet {
            Self::Quiet
        } else if std::io::stderr().is_terminal() {
            Self::Bar
        } else {
            Self::Plain
        }
    }
}

/// Sizes of the data sets, to turn accuracies back into counts.
#[derive(Debug, Clone)]
pub struct Sizes {
    /// Images trained on.
    pub training: usize,
    /// Images of the evaluation set.
    pub evaluation: usize,
    /// Name of the evaluation set ("validation" or "test").
    pub evaluation_name: &'static str,
}

/// Reports training progress as [`Mode`] says.
#[derive(Debug)]
pub struct Reporter {
    mode: Mode,
    sizes: Sizes,
    bar: Option<ProgressBar>,
    total_epochs: usize,
    /// The last epoch's figures, shown beside the bar of the next.
    last_figures: String,
}

impl Reporter {
    /// A reporter for a run of `total_epochs` epochs.
    pub fn new(mode: Mode, sizes: Sizes, total_epochs: usize) -> Self {
        Self {
            mode,
            sizes,
            bar: None,
            total_epochs,
            last_figures: String::new(),
        }
    }

    /// Prints a line (above the bar, when one is drawn), unless quiet.
    pub fn line(&self, text: &str) {
        match (&self.bar, self.mode) {
            (_, Mode::Quiet) => {}
            (Some(bar), _) => bar.println(text),
            (None, _) => say!("{text}"),
        }
    }

    /// The one-line summary of an epoch, e.g.
    /// `Epoch 3: validation accuracy 9566 / 10000, cost 0.892 (12.3 s)`.
    pub fn epoch_line(&self, record: &EpochRecord) -> String {
        let count = |fraction: f64, n: usize| (fraction * n as f64).round() as usize;
        let mut parts = Vec::new();
        if let Some(c) = record.training_cost {
            parts.push(format!("training cost {c:.4}"));
        }
        if let Some(a) = record.training_accuracy {
            let n = self.sizes.training;
            parts.push(format!("training accuracy {} / {n}", count(a, n)));
        }
        let name = self.sizes.evaluation_name;
        match (record.evaluation_accuracy, record.evaluation_cost) {
            (Some(a), cost) => {
                let n = self.sizes.evaluation;
                parts.push(format!("{name} accuracy {} / {n}", count(a, n)));
                if let Some(c) = cost {
                    parts.push(format!("cost {c:.4}"));
                }
            }
            (None, Some(c)) => parts.push(format!("{name} cost {c:.4}")),
            (None, None) => {}
        }
        if parts.is_empty() {
            parts.push("trained".to_string());
        }
        format!(
            "Epoch {}: {} ({:.2} s)",
            record.epoch,
            parts.join(", "),
            record.seconds
        )
    }

    fn new_bar(&self, epoch: usize, total: usize) -> ProgressBar {
        let bar = ProgressBar::new(total as u64);
        let style = ProgressStyle::with_template(
            "{prefix} [{bar:30.cyan/blue}] {percent:>3}% {pos}/{len} batches, ETA {eta} {msg}",
        )
        .expect("a valid progress template")
        .progress_chars("=> ");
        bar.set_style(style);
        bar.set_prefix(format!("Epoch {epoch}/{}", self.total_epochs));
        bar.set_message(self.last_figures.clone());
        bar.enable_steady_tick(Duration::from_millis(200));
        bar
    }
}

impl Observer for Reporter {
    fn batch_done(&mut self, epoch: usize, done: usize, total: usize) -> ControlFlow<()> {
        if crate::interrupt::received().is_some() {
            if let Some(bar) = self.bar.take() {
                bar.finish_and_clear();
            }
            return ControlFlow::Break(());
        }
        if self.mode != Mode::Bar {
            return ControlFlow::Continue(());
        }
        if self.bar.is_none() {
            self.bar = Some(self.new_bar(epoch, total));
        }
        if let Some(bar) = &self.bar {
            if done == total || done.is_multiple_of(64) {
                bar.set_position(done as u64);
            }
            if done == total {
                bar.set_message("monitoring...");
            }
        }
        ControlFlow::Continue(())
    }

    fn epoch_done(&mut self, record: &EpochRecord) {
        if let Some(bar) = self.bar.take() {
            bar.finish_and_clear();
        }
        let line = self.epoch_line(record);
        if self.mode != Mode::Quiet {
            say!("{line}");
        }
        self.last_figures = format!("(last: {})", line.split_once(": ").map_or("", |s| s.1));
    }

    fn warning(&mut self, message: &str) {
        match &self.bar {
            Some(bar) => bar.suspend(|| tell!("warning: {message}")),
            None => tell!("warning: {message}"),
        }
    }
}

impl Drop for Reporter {
    fn drop(&mut self) {
        if let Some(bar) = self.bar.take() {
            bar.finish_and_clear();
        }
    }
}

/// Writes `text` and a newline to stdout, ignoring a closed stdout.
pub fn say(text: &str) {
    let _ = writeln!(std::io::stdout().lock(), "{text}");
}

/// Writes `text` and a newline to stderr, ignoring an unwritable stderr.
pub fn tell(text: &str) {
    let _ = writeln!(std::io::stderr().lock(), "{text}");
}
