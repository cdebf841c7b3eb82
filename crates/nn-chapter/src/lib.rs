//! The experiments of Chapter 3 of Nielsen's "Neural Networks and Deep Learning" as a library,
//! so that every front end (the `nn` command, Python, a web page) runs the same catalogue.
//!
//! - [`experiments`] is the catalogue: each [`Experiment`] has a name, the book's figures in
//!   words, and a [`Body`]: runs given as nn-train [`RunOptions`] ([`RunSpec`]) with the
//!   figures to report beside the book's ([`Metric`]), the figures to draw and the claims to
//!   check ([`Check`]); or a procedure whose runs depend on one another (the exercises); or a
//!   network trained directly (the single neuron of the learning slowdown, the Hessian
//!   technique).
//! - [`run`] runs one in a [`Session`] (data, output directory, smoke test or not), reporting
//!   to the front end's [`Progress`] (an nn-core `Observer` for every training run, which may
//!   stop it, and an [`Event`] per step), and gives a [`Summary`], written as `NAME.json` and
//!   `NAME.md` ([`Summary::write`]); `docs/records/*.json` are such summaries.
//! - A front end may keep a log of every training run, named as the run ([`RunId`],
//!   [`Progress::run_log`], [`RunLog`]): [`TensorBoardRuns`] keeps a TensorBoard run per
//!   training run, each in its own subfolder.
//! - [`network2`] sets our figures beside the book's network2.py run here over seeds.
//! - [`search`] holds the chapter's hyper-parameter heuristics (η threshold, λ, random search).
//! - [`finished`] holds the metrics file a run leaves and the runs of a batch trained
//!   elsewhere.
//!
//! Every run trains as nn-train's `Run` of its options, so an experiment trains exactly as
//! `nn train` does with the same options.
//!
//! ```
//! let quick: Vec<&str> = nn_chapter::experiments()
//!     .filter(|e| e.runs_in_batches())
//!     .map(|e| e.name)
//!     .collect();
//! assert!(quick.contains(&"cross-entropy"));
//! ```

mod catalog;
pub mod error;
mod exercises;
pub mod experiment;
mod figure;
pub mod finished;
mod hessian;
pub mod network2;
pub mod plot;
mod run_log;
mod runner;
pub mod search;
mod session;
mod slowdown;
mod summary;
mod trial;

pub use error::ChapterError;
pub use experiment::{
    Body, Check, Curve, Experiment, FigureSpec, Measure, MeasureResult, Metric, Ran, RunResult,
    RunSpec,
};
pub use figure::write_png;
pub use finished::{
    FinishedRun, MetricsFile, PlannedRun, TestResult, file_name as metrics_file_name,
};
pub use network2::{BookPosition, Comparison, Spread, permutation_p, record as network2_record};
pub use nn_train::RunOptions;
pub use run_log::{RunId, RunLog, TensorBoardRuns};
pub use runner::{experiments, find, quicken, run};
pub use session::{Event, Progress, Session, Silent};
pub use summary::Summary;
