//! The flags of `nn train`, declared once each.
//!
//! [`TrainArgs`] is what the command line says: every training option is optional, so a resumed
//! run can tell the flags given now from those its checkpoint fixed. The complete, serializable
//! description of a run is nn-train's [`RunOptions`] (the book's main run filling the gaps),
//! and its presets are nn-train's [`Recipe`]s. Each training flag is one line of the
//! `train_flags!` invocation below, which derives from it the clap field, the mapping onto
//! [`RunOptions`] ([`from_args`]), the comparison with a checkpoint's options
//! ([`check_resume_flags`]) and the command line that reproduces a run ([`options_command`]). A
//! new hyper-parameter is a field of [`RunOptions`] used by nn-train's composition, plus one line
//! here.

use std::path::PathBuf;

use anyhow::{Result, bail};
use clap::ValueEnum;
use nn_core::StandardizationKind;

use crate::data_source::DataSource;

pub use nn_train::options::join;
pub use nn_train::{
    ActivationName, CostName, EvalSet, InitName, LrSchedule, MonitorItem, OptimizerName, Recipe,
    RunOptions, TransformName,
};

/// Examples shown by `nn train --help`.
pub const TRAIN_EXAMPLES: &str = "\
Examples:
  nn train
      the book's main run: 784,30,10 sigmoid network, cross-entropy, eta 0.5, mini-batch 10,
      30 epochs, L2 with lambda 5.0, validation accuracy monitored
  nn train --layers 784,100,10 --epochs 60 --save model.json --plot run.svg
  nn train --cost quadratic --lambda 0 --monitor training-cost,evaluation-accuracy
  nn train --cost log-likelihood --dropout 0.5 --expand shift,rotate,elastic --lr-schedule halve:10
  nn train --epochs 30 --checkpoint ckpt --metrics run.json
  nn train --tensorboard runs/book        then `tensorboard --logdir runs`
  nn train --recipe best --epochs 20       the preset aiming at 99.4% (see --help), shortened
  nn train --resume ckpt                   continue a checkpointed run where it stopped";

/// A run option's value as written on the command line: `0.5`, `cross-entropy`, `784,30,10`,
/// `halve:10`; `none` for an option that is off.
trait FlagText {
    fn text(&self) -> String;
}

/// Numbers and schedules as they print.
macro_rules! display_text {
    ($($t:ty),*) => {
        $(impl FlagText for $t {
            fn text(&self) -> String {
                self.to_string()
            }
        })*
    };
}
display_text!(usize, u64, f32, bool, LrSchedule);

/// Value enums by their possible value.
macro_rules! value_enum_text {
    ($($t:ty),*) => {
        $(impl FlagText for $t {
            fn text(&self) -> String {
                value_name(self)
            }
        })*
    };
}
value_enum_text!(
    CostName,
    ActivationName,
    InitName,
    OptimizerName,
    TransformName,
    EvalSet,
    MonitorItem
);

impl FlagText for StandardizationKind {
    fn text(&self) -> String {
        self.name().to_string()
    }
}

impl<T: FlagText> FlagText for Vec<T> {
    fn text(&self) -> String {
        self.iter().map(T::text).collect::<Vec<_>>().join(",")
    }
}

impl<T: FlagText> FlagText for Option<T> {
    fn text(&self) -> String {
        self.as_ref().map_or_else(|| "none".to_string(), T::text)
    }
}

/// The command-line spelling of a value enum.
fn value_name<T: ValueEnum>(value: &T) -> String {
    value
        .to_possible_value()
        .map(|v| v.get_name().to_string())
        .unwrap_or_default()
}

/// The flag of a run option: `batch_size` is `--batch-size`.
fn flag(field: &str) -> String {
    format!("--{}", field.replace('_', "-"))
}

/// `message` with the library's mentions of its settings (`` `batch_size` ``) spelled as
/// `nn`'s flags (`--batch-size`): every setting of nn-train is the flag of its name.
pub fn spell_flags(message: &str) -> String {
    nn_train::Field::rewrite(message, |field| flag(field.name()))
}

/// Appends ` --flag value` (` --flag` for a switch) to `line`; an empty list is left out, as
/// it cannot be written (the default applies).
fn push_flag(line: &mut String, field: &str, value: Option<String>) {
    match value {
        Some(v) if v.is_empty() => {}
        Some(v) => line.push_str(&format!(" {} {v}", flag(field))),
        None => line.push_str(&format!(" {}", flag(field))),
    }
}

/// How a flag given on the command line sets its run option: `switch` (a `bool` flag that turns
/// the option on), `optional` (`Option<T>` for an option that is itself `Option<T>`), or any
/// other kind (`Option<T>` for an option of type `T`).
macro_rules! apply_flag {
    (switch, $option:expr, $given:expr) => {
        $option |= $given
    };
    (optional, $option:expr, $given:expr) => {
        if $given.is_some() {
            $option = $given.clone();
        }
    };
    ($kind:ident, $option:expr, $given:expr) => {
        if let Some(value) = &$given {
            $option = value.clone();
        }
    };
}

/// How a run option is written back on the command line: `shown` always, `value` when it
/// differs from the book's main run, `optional` when it is on, `switch` when it is true.
macro_rules! write_flag {
    (shown, $line:expr, $field:expr, $value:expr, $default:expr) => {
        push_flag($line, $field, Some($value.text()))
    };
    (value, $line:expr, $field:expr, $value:expr, $default:expr) => {
        if $value != $default {
            push_flag($line, $field, Some($value.text()))
        }
    };
    (optional, $line:expr, $field:expr, $value:expr, $default:expr) => {
        if let Some(value) = &$value {
            push_flag($line, $field, Some(value.text()))
        }
    };
    (switch, $line:expr, $field:expr, $value:expr, $default:expr) => {
        if $value {
            push_flag($line, $field, None)
        }
    };
}

/// Declares `nn train`'s flags: the `head` and `tail` fields as they are, and one line per run
/// option in `run` (its kind, see [`apply_flag!`] and [`write_flag!`], then the field of
/// [`TrainArgs`], named as the field of [`RunOptions`] it sets).
macro_rules! train_flags {
    (
        head { $( $(#[$hm:meta])* pub $hf:ident : $ht:ty, )* }
        run { $( $(#[$rm:meta])* $kind:ident $rf:ident : $rt:ty, )* }
        tail { $( $(#[$tm:meta])* pub $tf:ident : $tt:ty, )* }
    ) => {
        /// The flags of `nn train`. Training options left out take the book's main run's values
        /// (or, with `--resume`, the checkpointed run's). Negative numbers are taken as values,
        /// so that `--eta -1` meets the hyper-parameter's own check.
        #[derive(Debug, Clone, Default, clap::Args)]
        #[command(allow_negative_numbers = true)]
        pub struct TrainArgs {
            $( $(#[$hm])* pub $hf: $ht, )*
            $( $(#[$rm])* pub $rf: $rt, )*
            $( $(#[$tm])* pub $tf: $tt, )*
        }

        /// The run options the flags given set on top of `base`.
        fn apply_flags(args: &TrainArgs, options: &mut RunOptions) {
            $( apply_flag!($kind, options.$rf, args.$rf); )*
        }

        /// Each run option that differs between `given` and `saved`, as `--flag (saved A,
        /// given B)`.
        pub fn options_command(o: &RunOptions) -> String {
            let default = RunOptions::default();
            let mut line = String::from("nn train");
            $( write_flag!($kind, &mut line, stringify!($rf), o.$rf, default.$rf); )*
            line
        }
    };
}

train_flags! {
    head {
        /// Start from a preset; explicit flags override its values
        #[arg(long, value_enum)]
        pub recipe: Option<Recipe>,
    }
    run {
        /// Layer sizes, input first; the first must be the pixels of an image (784 for MNIST) and
        /// the last the number of classes (10) [default: 784,30,10]
        #[arg(long, value_delimiter = ',', value_name = "SIZES")]
        shown layers: Option<Vec<usize>>,
        /// Cost function [default: cross-entropy]
        #[arg(long, value_enum)]
        shown cost: Option<CostName>,
        /// Activation of the hidden layers [default: sigmoid]
        #[arg(long, value_enum)]
        shown activation: Option<ActivationName>,
        /// Weight initialization [default: default]
        #[arg(long, value_enum)]
        shown init: Option<InitName>,
        /// Learning rate η > 0 [default: 0.5]
        #[arg(long)]
        shown eta: Option<f32>,
        /// Mini-batch size m >= 1, at most the number of training images [default: 10]
        #[arg(long, value_name = "M")]
        shown batch_size: Option<usize>,
        /// Number of epochs, at most 100000 (an upper bound with early stopping or a schedule)
        /// [default: 30]
        #[arg(long)]
        shown epochs: Option<usize>,
        /// L2 regularization parameter λ; 0 turns it off [default: 5.0]
        #[arg(long)]
        shown lambda: Option<f32>,
        /// L1 regularization parameter λ [default: 0, off]
        #[arg(long, value_name = "LAMBDA")]
        value l1: Option<f32>,
        /// Dropout: probability P in [0, 1) of dropping each hidden neuron [default: 0, off]
        #[arg(long, value_name = "P")]
        value dropout: Option<f32>,
        /// Dropout of the input pixels: probability P in [0, 1) (Hinton et al. use 0.2)
        /// [default: 0, off]
        #[arg(long, value_name = "P")]
        value input_dropout: Option<f32>,
        /// Max-norm constraint: rescale each neuron's incoming weights to norm at most C after every
        /// update (Srivastava et al.) [default: off]
        #[arg(long, value_name = "C")]
        optional max_norm: Option<f32>,
        /// Update rule [default: sgd, or momentum when --momentum is given]
        #[arg(long, value_enum)]
        shown optimizer: Option<OptimizerName>,
        /// Momentum coefficient μ in [0, 1) for momentum and nesterov [default: 0.9]
        #[arg(long, value_name = "MU")]
        value momentum: Option<f32>,
        /// Distortions drawn fresh each epoch to expand the training data, comma-separated
        #[arg(long, value_enum, value_delimiter = ',', value_name = "TRANSFORMS")]
        value expand: Option<Vec<TransformName>>,
        /// With --expand: train on the images followed by N distorted copies made once from
        /// --seed (those `nn data expand --copies N` writes) instead of fresh distortions each
        /// epoch [default: fresh]
        #[arg(long, value_name = "N")]
        optional expand_copies: Option<usize>,
        /// With --expand: fraction F in [0, 1] of the images left undistorted each epoch
        /// [default: 0.5]
        #[arg(long, value_name = "F")]
        value keep_original: Option<f32>,
        /// Train on the first N of the training images left after --holdout (MNIST: 50,000)
        /// [default: all]
        #[arg(long, value_name = "N")]
        optional train_size: Option<usize>,
        /// Train on the first N images of each class (after --train-size): a class-balanced
        /// few-shot set, e.g. 1 for one image per digit of MNIST [default: all]
        #[arg(long, value_name = "N")]
        optional per_class: Option<usize>,
        /// Monitor on the first N of the held-out validation images (MNIST: 10,000) [default: all]
        #[arg(long, value_name = "N")]
        optional validation_size: Option<usize>,
        /// Data monitored after each epoch [default: validation]
        #[arg(long, value_enum)]
        shown eval: Option<EvalSet>,
        /// Figures computed after each epoch, comma-separated [default: evaluation-accuracy]
        #[arg(long, value_enum, value_delimiter = ',', value_name = "FIGURES")]
        shown monitor: Option<Vec<MonitorItem>>,
        /// Stop after N epochs without a better evaluation accuracy and keep the best weights
        #[arg(long, value_name = "N")]
        optional early_stopping: Option<usize>,
        /// Learning-rate schedule: halve:N halves η after N epochs without improvement and stops at
        /// η/128; exp:F multiplies η by F (0.001 <= F < 1) after every epoch; steps:K=X,... sets
        /// η = X from epoch K on (e.g. steps:21=0.025: --eta for epochs 1-20) [default: constant]
        #[arg(long, value_name = "SCHEDULE")]
        value lr_schedule: Option<LrSchedule>,
        /// Polyak averaging: monitor, early-stop and keep the average w̄ of the weights over the
        /// epochs, updated as w̄ ← β w̄ + (1 − β) w after each epoch (a plain mean over the first
        /// 1/(1 − β) epochs); β in (0, 1), e.g. 0.9 [default: off]
        #[arg(long, value_name = "BETA")]
        optional average_weights: Option<f32>,
        /// Train and test on inverted images (dark digits on a light background)
        #[arg(long)]
        switch invert: bool,
        /// Standardize the inputs with statistics of the training images, stored in the model and
        /// applied by eval and predict: none, global (one mean and deviation over all pixels) or
        /// pixel (per pixel, deviations floored at a tenth of the global one) [default: none]
        #[arg(long, value_name = "KIND")]
        value normalize: Option<StandardizationKind>,
        /// Seed of the initial weights, shuffling, dropout and distortions [default: 0]
        #[arg(long)]
        shown seed: Option<u64>,
    }
    tail {
        /// Number of worker threads, 1 to 256 [default: one per core]
        #[arg(long, value_name = "T")]
        pub threads: Option<usize>,
        /// The data set.
        #[command(flatten)]
        pub data: DataSource,
        /// Save the trained model (network2.py-compatible JSON)
        #[arg(long, value_name = "MODEL.json")]
        pub save: Option<PathBuf>,
        /// Write a checkpoint into DIR after every epoch
        #[arg(long, value_name = "DIR")]
        pub checkpoint: Option<PathBuf>,
        /// Let --checkpoint DIR replace the checkpoint of another run held there
        #[arg(long)]
        pub overwrite_checkpoint: bool,
        /// Continue the run checkpointed in DIR (its options apply; --epochs may extend it; other
        /// training flags must repeat the saved values) on the same data
        #[arg(long, value_name = "DIR")]
        pub resume: Option<PathBuf>,
        /// Plot cost and accuracy per epoch (.png or .svg)
        #[arg(long, value_name = "FILE")]
        pub plot: Option<PathBuf>,
        /// Write the per-epoch figures and the test accuracy as JSON
        #[arg(long, value_name = "FILE.json")]
        pub metrics: Option<PathBuf>,
        /// Write TensorBoard event files into DIR (made if missing; a new run needs one without
        /// event files, a resumed run continues its own; nn search writes a subfolder per trial
        /// and seed): each monitored figure, eta and the epoch's seconds after every epoch, and
        /// the run's options as hyper-parameters
        #[arg(long, value_name = "DIR")]
        pub tensorboard: Option<PathBuf>,
        /// Print nothing but warnings and errors
        #[arg(long)]
        pub quiet: bool,
    }
}

/// The options the flags ask for, on top of `base` (the defaults, a preset's or a
/// checkpoint's). `--momentum` alone turns plain SGD into momentum.
pub fn from_args(args: &TrainArgs, base: RunOptions) -> RunOptions {
    let mut options = base;
    apply_flags(args, &mut options);
    if let (Some(momentum), None) = (args.momentum, args.optimizer) {
        options.set_momentum(momentum);
    }
    options
}

/// The training flags given alongside `--resume` whose values differ from the checkpoint's
/// `saved` options: an error names each with the saved and the given value. Flags that repeat
/// the saved values are accepted (the same command with `--resume` added), and `--epochs` may
/// extend the run.
pub fn check_resume_flags(args: &TrainArgs, saved: &RunOptions) -> Result<()> {
    let base = args.recipe.map_or_else(|| saved.clone(), |r| r.options());
    let mut given = from_args(args, base);
    given.epochs = saved.epochs;
    let differing: Vec<String> = given
        .differences(saved)
        .iter()
        .map(|d| spell_flags(&d.to_string()))
        .collect();
    if !differing.is_empty() {
        bail!(
            "--resume continues a run with the options saved in its checkpoint, but {}{} differ{}; \
             drop {} or start a new run",
            args.recipe
                .and_then(|r| r.to_possible_value())
                .map_or_else(String::new, |r| format!("with --recipe {} ", r.get_name())),
            differing.join(", "),
            if differing.len() == 1 { "s" } else { "" },
            if differing.len() == 1 { "it" } else { "them" }
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;

    /// `nn train`'s flags alone.
    #[derive(Parser)]
    struct Train {
        #[command(flatten)]
        args: TrainArgs,
    }

    /// The flags of an `nn train ...` line.
    fn args(line: &str) -> TrainArgs {
        let words = line.strip_prefix("nn train").expect("an nn train line");
        Train::try_parse_from(std::iter::once("train").chain(words.split_whitespace()))
            .unwrap_or_else(|e| panic!("{line}: {e}"))
            .args
    }

    #[test]
    fn the_command_line_of_a_run_gives_back_its_options() {
        let runs = [
            RunOptions::default(),
            Recipe::Best.options(),
            RunOptions {
                // A momentum that plain SGD ignores must not turn momentum on.
                momentum: 0.5,
                max_norm: Some(3.5),
                expand: vec![TransformName::Shift, TransformName::Elastic],
                expand_copies: Some(2),
                per_class: Some(2),
                monitor: vec![MonitorItem::TrainingCost, MonitorItem::EvaluationCost],
                lr_schedule: LrSchedule::Halve(4),
                invert: true,
                normalize: StandardizationKind::Pixel,
                seed: 7,
                ..RunOptions::default()
            },
        ];
        for options in runs {
            let line = options_command(&options);
            assert!(line.starts_with("nn train --layers "), "{line}");
            assert_eq!(
                from_args(&args(&line), RunOptions::default()),
                options,
                "{line}"
            );
        }
    }

    #[test]
    fn momentum_alone_turns_plain_sgd_into_momentum() {
        let options = from_args(&args("nn train --momentum 0.8"), RunOptions::default());
        assert_eq!(
            (options.optimizer, options.momentum),
            (OptimizerName::Momentum, 0.8)
        );
        let options = from_args(
            &args("nn train --momentum 0.8 --optimizer nesterov"),
            RunOptions::default(),
        );
        assert_eq!(options.optimizer, OptimizerName::Nesterov);
    }

    #[test]
    fn resuming_names_each_differing_flag_with_both_values_and_lets_epochs_grow() {
        let saved = RunOptions::default();
        assert!(check_resume_flags(&args("nn train --eta 0.5 --epochs 90"), &saved).is_ok());
        let error = check_resume_flags(&args("nn train --eta 0.1 --invert"), &saved)
            .unwrap_err()
            .to_string();
        assert!(
            error.contains("--eta (saved 0.5, given 0.1), --invert (saved false, given true)"),
            "{error}"
        );
    }

    #[test]
    fn every_library_setting_is_spelled_as_a_flag_of_nn_train() {
        let command = <TrainArgs as clap::Args>::augment_args(clap::Command::new("train"));
        let flags: Vec<String> = command
            .get_arguments()
            .filter_map(|a| a.get_long().map(|l| format!("--{l}")))
            .collect();
        for field in nn_train::Field::ALL {
            let spelled = spell_flags(&field.mention());
            assert!(
                flags.contains(&spelled),
                "{spelled} is not a flag of nn train"
            );
        }
        assert_eq!(
            spell_flags("`keep_original` 0.7: needs `expand`"),
            "--keep-original 0.7: needs --expand"
        );
    }
}
