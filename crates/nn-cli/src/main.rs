//! `nn`: train, evaluate and use the networks of Chapter 3 of "Neural Networks and Deep
//! Learning" on MNIST.
//!
//! Layout of the crate, one module per job:
//! - [`train`]: one whole training run from parsed flags ([`train::run`]), reusable by other
//!   subcommands; the run itself (options, composition, checkpoints, data split) is the
//!   library crate nn-train's;
//! - [`options`]: the `nn train` flags, each declared once, mapped onto nn-train's
//!   `RunOptions`, and the `nn train` command line that reproduces a run;
//! - [`progress`]: the training observer (progress bar, plain lines or silence);
//! - `nn_train::destination`: checking every output path before any work;
//! - [`metrics`]: the per-epoch metrics file;
//! - [`plot`]: cost and accuracy figures;
//! - [`eval`], [`predict`], [`data_cmd`]: the other subcommands;
//! - [`reproduce`]: the chapter's experiments against the book's numbers;
//! - [`search`]: hyper-parameter searches;
//! - [`batch_runs`]: the runs of `reproduce` and `search` as command lines for other machines,
//!   and their metrics files collected back;
//! - [`serve`]: `nn serve`, the page and the API over HTTP (the library crate nn-serve);
//! - [`data_source`]: the flags naming the data set, shared by the subcommands;
//! - [`interrupt`]: Ctrl-C and SIGTERM, which stop the work at its next safe point;
//! - [`digits`]: loading the data set, and drawing image grids.

/// Prints a line to stdout like `println!`, but a closed stdout (e.g. piped into `head`) is
/// not an error: the line is dropped instead of panicking.
macro_rules! say {
    ($($arg:tt)*) => {
        $crate::progress::say(&format!($($arg)*))
    };
}

/// Prints a line to stderr like `eprintln!`, but an unwritable stderr (closed, a full disk, a
/// pipe whose reader is gone) is not an error: the line is dropped instead of panicking.
macro_rules! tell {
    ($($arg:tt)*) => {
        $crate::progress::tell(&format!($($arg)*))
    };
}

mod batch_runs;
mod data_cmd;
mod data_source;
mod digits;
mod eval;
mod export;
mod interrupt;
mod metrics;
mod options;
mod plot;
mod predict;
mod progress;
mod reproduce;
mod search;
mod serve;
mod train;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Neural networks on MNIST, after Chapter 3 of Nielsen's "Neural Networks and Deep Learning".
#[derive(Debug, Parser)]
#[command(name = "nn", version, about, after_help = MAIN_EXAMPLES)]
struct Cli {
    /// What to do.
    #[command(subcommand)]
    command: Command,
}

const MAIN_EXAMPLES: &str = "\
Examples:
  nn train                                  the book's main run (784,30,10, cross-entropy, L2)
  nn train --epochs 2 --save model.json     a short run, keeping the model
  nn eval model.json --confusion            accuracy and confusion matrix on the test set
  nn predict model.json digit.png           classify a picture of a digit
  nn predict model.json scans/ --json       every .png picture in scans/, as JSON lines
  nn data info                              where the MNIST files are";

/// The subcommands.
#[derive(Debug, Subcommand)]
enum Command {
    /// Train a network on MNIST (or another IDX data set) and report its test accuracy.
    #[command(after_help = options::TRAIN_EXAMPLES, args_override_self = true)]
    Train(Box<options::TrainArgs>),
    /// Measure a saved model's accuracy, confusion matrix and mistakes.
    #[command(after_help = eval::EXAMPLES)]
    Eval(eval::EvalArgs),
    /// Classify PNG pictures of handwritten digits: files, and folders of them.
    #[command(after_help = predict::EXAMPLES)]
    Predict(predict::PredictArgs),
    /// Inspect, preview, expand and verify the data set (MNIST or another IDX set).
    #[command(after_help = data_cmd::EXAMPLES)]
    Data(data_cmd::DataArgs),
    /// Run an experiment of the chapter again and set our figures beside the book's.
    #[command(after_help = reproduce::EXAMPLES)]
    Reproduce(reproduce::ReproduceArgs),
    /// Search hyper-parameters: the threshold eta, lambda, or random search.
    #[command(after_help = search::EXAMPLES)]
    Search(search::SearchArgs),
    /// Serve the page (draw a digit, train in the browser), MNIST and a prediction API.
    #[command(after_help = serve::EXAMPLES)]
    Serve(serve::ServeArgs),
    /// Write a model as ONNX, safetensors or JSON (the format from OUT's extension).
    #[command(after_help = export::EXAMPLES)]
    Export(export::ExportArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    if let Err(e) = interrupt::install() {
        tell!("warning: Ctrl-C will not stop nn cleanly: {e}");
    }
    let result = match cli.command {
        Command::Train(args) => train::run(&args).map(|_| ()),
        Command::Eval(args) => eval::run(&args),
        Command::Predict(args) => predict::run(&args),
        Command::Data(args) => data_cmd::run(&args),
        Command::Reproduce(args) => reproduce::run(&args),
        Command::Search(args) => search::run(&args),
        Command::Serve(args) => serve::run(&args),
        Command::Export(args) => export::run(&args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        // Each picture that failed has had its own error line.
        Err(e) if e.is::<predict::Reported>() => ExitCode::FAILURE,
        Err(e) => {
            let stopped = e
                .chain()
                .find_map(|c| c.downcast_ref::<interrupt::Stopped>());
            let stopped = match stopped {
                Some(stopped) => stopped.clone(),
                None => match interrupt::interrupted_epoch(&e) {
                    Some((epoch, _)) => interrupt::Stopped::new(format!(
                        "interrupted in epoch {epoch} of a training run; this command wrote nothing"
                    )),
                    None => {
                        let message = nn_core::error::message_chain(e.as_ref());
                        tell!("error: {}", options::spell_flags(&message));
                        return ExitCode::FAILURE;
                    }
                },
            };
            tell!("{}", stopped.line());
            ExitCode::from(stopped.signal.exit_status())
        }
    }
}
