//! The errors of a run: every message is one line that says what is wrong and what to do,
//! naming a setting by its [`Field`] (`` `eta` ``, `` `batch_size` ``, ...), which front ends
//! spell as their own flags or keywords ([`Field::rewrite`]).

use std::path::PathBuf;

use nn_core::{NetworkError, TrainError};
use nn_data::DataError;

use crate::Field;

/// Any error a source may carry.
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// Why a run could not be described, assembled, trained or checkpointed.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    /// An option has a value the run cannot take, or values that do not go together.
    #[error("{field}{}: {hint}", value.as_ref().map_or_else(String::new, |v| format!(" {v}")))]
    Option {
        /// The setting that is wrong.
        field: Field,
        /// Its value, when that helps, e.g. `200000` for `epochs`.
        value: Option<String>,
        /// What is wrong and what to give instead.
        hint: String,
        /// The library's own error behind it, if any.
        #[source]
        source: Option<BoxError>,
    },
    /// Images that do not fit the network's input and output layers.
    #[error(
        "{what} have {pixels} pixels ({rows}x{cols}) and {classes} classes, the model expects \
         {inputs} inputs and {outputs} outputs"
    )]
    DataShape {
        /// The images, e.g. "the test images of DIR".
        what: String,
        /// Pixels per image.
        pixels: usize,
        /// Rows per image.
        rows: usize,
        /// Columns per image.
        cols: usize,
        /// Classes of the labels.
        classes: usize,
        /// The network's inputs.
        inputs: usize,
        /// The network's outputs.
        outputs: usize,
    },
    /// The trainer refused the run or failed during it.
    #[error(transparent)]
    Train(#[from] TrainError),
    /// A checkpointed run could not continue with these options.
    #[error("cannot resume the checkpointed run")]
    Resume(#[source] TrainError),
    /// A checkpointed run was given options other than the ones it saved (only `epochs` may
    /// change): it would not end as the run never interrupted.
    #[error(
        "a resumed run continues with the options saved in its checkpoint, but {} differ{}; \
         keep the saved values or start a new run",
        list(differing),
        if differing.len() == 1 { "s" } else { "" }
    )]
    ResumeOptions {
        /// Each option that differs.
        differing: Vec<OptionDifference>,
    },
    /// A network could not be built or saved.
    #[error(transparent)]
    Network(#[from] NetworkError),
    /// The data could not be read.
    #[error(transparent)]
    Data(#[from] DataError),
    /// A checkpoint could not be claimed, written or read back.
    #[error(transparent)]
    Checkpoint(#[from] CheckpointError),
}

impl RunError {
    /// An error about `field` without a source.
    pub(crate) fn option(field: Field, hint: impl Into<String>) -> Self {
        Self::Option {
            field,
            value: None,
            hint: hint.into(),
            source: None,
        }
    }

    /// An error about `field` explained by `source`.
    pub(crate) fn option_from(
        field: Field,
        hint: impl Into<String>,
        source: impl Into<BoxError>,
    ) -> Self {
        Self::Option {
            field,
            value: None,
            hint: hint.into(),
            source: Some(source.into()),
        }
    }

    /// This error with the value of its field shown (for [`RunError::Option`]).
    pub(crate) fn valued(mut self, shown: impl std::fmt::Display) -> Self {
        if let Self::Option { value, .. } = &mut self {
            *value = Some(shown.to_string());
        }
        self
    }

    /// The setting this error is about, if it is about one.
    pub fn field(&self) -> Option<Field> {
        match self {
            Self::Option { field, .. } => Some(*field),
            Self::Checkpoint(e) => e.field(),
            _ => None,
        }
    }
}

/// Why a checkpoint directory could not be used.
#[derive(Debug, thiserror::Error)]
pub enum CheckpointError {
    /// The directory could not be created.
    #[error("`checkpoint` {}: cannot create the directory", dir.display())]
    Create {
        /// The directory.
        dir: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The directory holds another run's checkpoint.
    #[error(
        "`checkpoint` {}: the directory holds the checkpoint of another run; continue it with \
         `resume` {}, choose another directory, or allow `overwrite_checkpoint`",
        dir.display(), dir.display()
    )]
    Claimed {
        /// The directory.
        dir: PathBuf,
    },
    /// The directory is in use by another live process.
    #[error(transparent)]
    InUse(#[from] crate::lock::LockError),
    /// A checkpoint file could not be written.
    #[error("cannot write {}", path.display())]
    Write {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: BoxError,
    },
    /// The state file is not a regular file.
    #[error(
        "{} is not a file; `resume` needs a directory written by `checkpoint`",
        path.display()
    )]
    NotAFile {
        /// The state file.
        path: PathBuf,
    },
    /// The state file is larger than any checkpoint.
    #[error(
        "{}: {}more than any checkpoint ({limit} bytes at most); it is not a checkpoint",
        path.display(),
        bytes.map_or_else(String::new, |b| format!("{b} bytes, "))
    )]
    TooLarge {
        /// The state file.
        path: PathBuf,
        /// Its size, when known before reading.
        bytes: Option<u64>,
        /// The limit.
        limit: u64,
    },
    /// The state file could not be read.
    #[error(
        "cannot read checkpoint {}; `resume` needs a directory written by `checkpoint`",
        path.display()
    )]
    Read {
        /// The state file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The state file is not a checkpoint's JSON.
    #[error(
        "{} is not a valid checkpoint; start the run again with `checkpoint`",
        path.display()
    )]
    Invalid {
        /// The state file.
        path: PathBuf,
        /// Why.
        #[source]
        source: serde_json::Error,
    },
    /// The state file has another format version.
    #[error(
        "{}: checkpoint format {found} is not supported (expected {expected})",
        path.display()
    )]
    Format {
        /// The state file.
        path: PathBuf,
        /// Its version.
        found: u32,
        /// The version read.
        expected: u32,
    },
    /// A value read back is impossible.
    #[error("{}: {problem}; the checkpoint is corrupt", path.display())]
    Corrupt {
        /// The state file.
        path: PathBuf,
        /// The field and what is wrong with it.
        problem: String,
    },
    /// The data of a resumed run is not the checkpoint's.
    #[error(
        "the checkpoint was trained on other data: {}; resume with the data flags it was \
         trained with",
        differing.join(", ")
    )]
    OtherData {
        /// Each difference, e.g. a file with another hash.
        differing: Vec<String>,
    },
    /// A data file could not be hashed.
    #[error("cannot hash {}", path.display())]
    Hash {
        /// The file.
        path: PathBuf,
        /// Why, when known.
        #[source]
        source: Option<DataError>,
    },
}

/// `items` joined by ", ".
fn list(items: &[impl std::fmt::Display]) -> String {
    items
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

impl CheckpointError {
    /// The setting this error is about: the checkpoint folder being claimed, or the one being
    /// resumed.
    pub fn field(&self) -> Option<Field> {
        match self {
            Self::Create { .. } | Self::Claimed { .. } | Self::InUse(_) => Some(Field::Checkpoint),
            Self::NotAFile { .. } | Self::Read { .. } | Self::Invalid { .. } => Some(Field::Resume),
            _ => None,
        }
    }
}

/// One option a resumed run was given otherwise than its checkpoint saved it
/// ([`crate::RunOptions::differences`]).
#[derive(Debug, Clone, PartialEq)]
pub struct OptionDifference {
    /// The option.
    pub field: Field,
    /// Its value in the checkpoint, as [`crate::RunOptions`] serializes it.
    pub saved: serde_json::Value,
    /// Its value now.
    pub given: serde_json::Value,
}

impl std::fmt::Display for OptionDifference {
    /// `` `eta` (saved 0.5, given 0.1) ``, values written plainly: lists joined by commas,
    /// nothing as `none`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} (saved {}, given {})",
            self.field,
            plain(&self.saved),
            plain(&self.given)
        )
    }
}

/// A serialized option written as a command line would: `784,30,10`, `cross-entropy`,
/// `none`, `halve:5`.
fn plain(value: &serde_json::Value) -> String {
    use serde_json::Value;
    match value {
        Value::Null => "none".to_string(),
        Value::String(s) => s.clone(),
        Value::Array(items) => items.iter().map(plain).collect::<Vec<_>>().join(","),
        Value::Object(entries) => entries
            .iter()
            .map(|(k, v)| format!("{k}:{}", plain(v)))
            .collect::<Vec<_>>()
            .join(","),
        Value::Number(n) => match n.as_f64() {
            // An f32 option, written as the f32 it is (0.1, not 0.10000000149011612).
            Some(f) if !n.is_u64() && !n.is_i64() && f64::from(f as f32) == f => {
                (f as f32).to_string()
            }
            _ => n.to_string(),
        },
        Value::Bool(b) => b.to_string(),
    }
}
