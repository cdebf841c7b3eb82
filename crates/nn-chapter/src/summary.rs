//! What a run of an experiment gives ([`Summary`]): its results beside the book's, network2.py's
//! spread, the claims checked and the figures, written as `NAME.json` and `NAME.md`.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use nn_core::atomic::write_bytes;
use serde::Serialize;

use crate::error::ChapterError;
use crate::experiment::{Check, RunResult};
use crate::network2::Comparison;

/// What a run of an experiment gives: its results, checked claims and figures, written as
/// `NAME.json` and `NAME.md` ([`Summary::write`]).
#[derive(Debug, Clone, Serialize)]
pub struct Summary {
    /// The experiment's name.
    pub name: &'static str,
    /// What it shows.
    pub title: &'static str,
    /// The book's result, in words.
    pub book: &'static str,
    /// Whether it was a smoke test ([`crate::Session::quick`]).
    pub quick: bool,
    /// The command that reproduces it, as the front end writes it (empty unless set).
    pub command: String,
    /// Seconds the experiment took.
    pub total_seconds: f64,
    /// The results of its runs.
    pub runs: Vec<RunResult>,
    /// The claims checked.
    pub checks: Vec<Check>,
    /// The figures written, by file name.
    pub figures: Vec<String>,
    /// Our figures set beside network2.py's runs on the same data for the runs network2.py
    /// was run for.
    pub network2: Vec<Comparison>,
}

impl Summary {
    /// Writes the summary as `NAME.json` and `NAME.md` into `dir`, atomically, and returns
    /// their paths and the markdown.
    ///
    /// ```no_run
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let data = nn_train::DataSet::mnist()?;
    /// let mut session = nn_chapter::Session::new(&data, "runs/reproduce");
    /// let summary = nn_chapter::run("slowdown", &mut session)?;
    /// let (json, _, _) = summary.write("runs/reproduce".as_ref())?;
    /// assert!(json.ends_with("slowdown.json"));
    /// # Ok(())
    /// # }
    /// ```
    pub fn write(&self, dir: &Path) -> Result<(PathBuf, PathBuf, String), ChapterError> {
        let json_path = dir.join(format!("{}.json", self.name));
        let json = serde_json::to_string_pretty(self).expect("a summary serializes");
        write_bytes(&json_path, json.as_bytes())
            .map_err(|e| ChapterError::io("write", &json_path, e))?;
        let md_path = dir.join(format!("{}.md", self.name));
        let text = markdown(self);
        write_bytes(&md_path, text.as_bytes())
            .map_err(|e| ChapterError::io("write", &md_path, e))?;
        Ok((json_path, md_path, text))
    }

    /// The summary in Markdown: the book's figures beside ours, network2.py's spread, the
    /// claims and the commands.
    pub fn markdown(&self) -> String {
        markdown(self)
    }
}

/// A number for a table: 2 decimals, or "-" when missing.
fn cell(v: Option<f64>) -> String {
    v.map_or_else(
        || "-".to_string(),
        |v| {
            if v.abs() < 1.0 {
                format!("{v:.3}")
            } else {
                format!("{v:.2}")
            }
        },
    )
}

/// The markdown summary.
pub(crate) fn markdown(s: &Summary) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "# {}: {}\n", s.name, s.title);
    let _ = writeln!(out, "Book: {}\n", s.book);
    if s.quick {
        let _ = writeln!(
            out,
            "**Quick run** (a smoke test: few epochs, 1,000 images): the figures are not \
             comparable with the book's.\n"
        );
    }
    let _ = writeln!(
        out,
        "| run | figure | book | ours (mean) | per seed | spread |\n|---|---|---|---|---|---|"
    );
    for r in &s.runs {
        for m in &r.measures {
            let per_seed: Vec<String> = m.per_seed.iter().map(|v| cell(*v)).collect();
            let _ = writeln!(
                out,
                "| {} | {} | {} | {} | {} | {} |",
                r.label,
                m.metric,
                cell(m.book),
                cell(m.ours),
                per_seed.join(", "),
                cell(m.spread)
            );
        }
    }
    crate::network2::markdown(&mut out, &s.network2, s.quick);
    if !s.checks.is_empty() {
        let _ = writeln!(out, "\nClaims:\n");
        for c in &s.checks {
            let verdict = if c.holds { "holds" } else { "DOES NOT HOLD" };
            let _ = writeln!(out, "- {} — {verdict} ({})", c.claim, c.detail);
        }
    }
    let commands: Vec<&RunResult> = s.runs.iter().filter(|r| !r.command.is_empty()).collect();
    if !commands.is_empty() {
        let _ = writeln!(out, "\nCommands (first seed):\n");
        for r in commands {
            let _ = writeln!(out, "- {}: `{}`", r.label, r.command);
        }
    }
    if !s.figures.is_empty() {
        let _ = writeln!(out, "\nFigures: {}", s.figures.join(", "));
    }
    let _ = writeln!(
        out,
        "\nReproduce with `{}` ({:.0} s).",
        s.command, s.total_seconds
    );
    out
}
