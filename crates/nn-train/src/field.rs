//! The settings of a run, as errors name them: every field of [`crate::RunOptions`], the data
//! set's hold-out and the checkpointer's settings.
//!
//! A library message names a setting by its field name in backticks (`` `batch_size` ``), and
//! each front end spells it its own way with [`Field::rewrite`]: `nn` as its flag
//! (`--batch-size`), Python as its keyword (`mini_batch_size`).
//!
//! ```
//! use nn_train::Field;
//!
//! let message = "`keep_original` 0.7: needs `expand`";
//! let cli = Field::rewrite(message, |f| format!("--{}", f.name().replace('_', "-")));
//! assert_eq!(cli, "--keep-original 0.7: needs --expand");
//! assert_eq!(Field::from_name("batch_size"), Some(Field::BatchSize));
//! ```

macro_rules! fields {
    ($( $(#[$doc:meta])* $variant:ident = $name:literal, )*) => {
        /// A setting of a run that an error can be about.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum Field {
            $( $(#[$doc])* $variant, )*
        }

        impl Field {
            /// Every field.
            pub const ALL: &'static [Field] = &[$(Field::$variant),*];

            /// The field's name, as [`crate::RunOptions`] spells it (`batch_size`).
            pub fn name(self) -> &'static str {
                match self {
                    $( Field::$variant => $name, )*
                }
            }
        }
    };
}

fields! {
    /// [`crate::RunOptions::layers`].
    Layers = "layers",
    /// [`crate::RunOptions::cost`].
    Cost = "cost",
    /// [`crate::RunOptions::activation`].
    Activation = "activation",
    /// [`crate::RunOptions::init`].
    Init = "init",
    /// [`crate::RunOptions::eta`].
    Eta = "eta",
    /// [`crate::RunOptions::batch_size`].
    BatchSize = "batch_size",
    /// [`crate::RunOptions::epochs`].
    Epochs = "epochs",
    /// [`crate::RunOptions::lambda`].
    Lambda = "lambda",
    /// [`crate::RunOptions::l1`].
    L1 = "l1",
    /// [`crate::RunOptions::dropout`].
    Dropout = "dropout",
    /// [`crate::RunOptions::input_dropout`].
    InputDropout = "input_dropout",
    /// [`crate::RunOptions::max_norm`].
    MaxNorm = "max_norm",
    /// [`crate::RunOptions::optimizer`].
    Optimizer = "optimizer",
    /// [`crate::RunOptions::momentum`].
    Momentum = "momentum",
    /// [`crate::RunOptions::expand`].
    Expand = "expand",
    /// [`crate::RunOptions::expand_copies`].
    ExpandCopies = "expand_copies",
    /// [`crate::RunOptions::keep_original`].
    KeepOriginal = "keep_original",
    /// [`crate::RunOptions::train_size`].
    TrainSize = "train_size",
    /// [`crate::RunOptions::per_class`].
    PerClass = "per_class",
    /// [`crate::RunOptions::validation_size`].
    ValidationSize = "validation_size",
    /// [`crate::RunOptions::eval`].
    Eval = "eval",
    /// [`crate::RunOptions::monitor`].
    Monitor = "monitor",
    /// [`crate::RunOptions::early_stopping`].
    EarlyStopping = "early_stopping",
    /// [`crate::RunOptions::lr_schedule`].
    LrSchedule = "lr_schedule",
    /// [`crate::RunOptions::average_weights`].
    AverageWeights = "average_weights",
    /// [`crate::RunOptions::invert`].
    Invert = "invert",
    /// [`crate::RunOptions::normalize`].
    Normalize = "normalize",
    /// [`crate::RunOptions::seed`].
    Seed = "seed",
    /// The folder of the data set's four files.
    Data = "data",
    /// The validation images held out of the training file ([`crate::DataSet::load`]).
    Holdout = "holdout",
    /// The checkpoint folder ([`crate::Checkpointer`]).
    Checkpoint = "checkpoint",
    /// The checkpoint folder a run continues from.
    Resume = "resume",
    /// Whether a folder holding another run's checkpoint may be taken over.
    OverwriteCheckpoint = "overwrite_checkpoint",
}

impl Field {
    /// The field with this name, e.g. `"batch_size"`.
    pub fn from_name(name: &str) -> Option<Field> {
        Self::ALL.iter().copied().find(|f| f.name() == name)
    }

    /// The field as a message names it: its name in backticks.
    pub fn mention(self) -> String {
        format!("`{}`", self.name())
    }

    /// `message` with every mention of a field (its name in backticks) replaced by
    /// `spell(field)`; other text, backticks included, is left as it is.
    pub fn rewrite(message: &str, spell: impl Fn(Field) -> String) -> String {
        let mut out = String::with_capacity(message.len());
        let mut rest = message;
        while let Some(start) = rest.find('`') {
            out.push_str(&rest[..start]);
            let after = &rest[start + 1..];
            match after
                .find('`')
                .and_then(|end| Some((end, Self::from_name(&after[..end])?)))
            {
                Some((end, field)) => {
                    out.push_str(&spell(field));
                    rest = &after[end + 1..];
                }
                None => {
                    out.push('`');
                    rest = after;
                }
            }
        }
        out.push_str(rest);
        out
    }
}

impl std::fmt::Display for Field {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.mention())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_run_option_is_a_field_and_rewriting_touches_only_mentions() {
        let options = serde_json::to_value(crate::RunOptions::default()).unwrap();
        for name in options.as_object().unwrap().keys() {
            assert!(Field::from_name(name).is_some(), "{name} has no Field");
        }
        let message = "`eta` 0: use `a` value; `lambda` and `` `batch_size`";
        let spelled = Field::rewrite(message, |f| f.name().to_uppercase());
        assert_eq!(spelled, "ETA 0: use `a` value; LAMBDA and `` BATCH_SIZE");
        assert_eq!(
            Field::rewrite("no mention `", |_| unreachable!()),
            "no mention `"
        );
    }
}
