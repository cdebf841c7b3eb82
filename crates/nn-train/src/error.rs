//! The errors of a run: every message is one line that says what is wrong and what to do,
//! naming an option by its `nn train` flag (`--eta`, `--batch-size`, ...).

use std::path::PathBuf;

use nn_core::{NetworkError, TrainError};
use nn_data::DataError;

/// Any error a source may carry.
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// Why a run could not be described, assembled, trained or checkpointed.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    /// An option has a value the run cannot take, or values that do not go together.
    #[error("{option}: {hint}")]
    Option {
        /// The option as written on the command line, with its value when that helps, e.g.
        /// `--epochs 200000`.
        option: String,
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
    /// An option error without a source.
    pub(crate) fn option(option: impl Into<String>, hint: impl Into<String>) -> Self {
        Self::Option {
            option: option.into(),
            hint: hint.into(),
            source: None,
        }
    }

    /// An option error explained by `source`.
    pub(crate) fn option_from(
        option: impl Into<String>,
        hint: impl Into<String>,
        source: impl Into<BoxError>,
    ) -> Self {
        Self::Option {
            option: option.into(),
            hint: hint.into(),
            source: Some(source.into()),
        }
    }
}

/// Why a checkpoint directory could not be used.
#[derive(Debug, thiserror::Error)]
pub enum CheckpointError {
    /// The directory could not be created.
    #[error("--checkpoint {}: cannot create the directory", dir.display())]
    Create {
        /// The directory.
        dir: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The directory holds another run's checkpoint.
    #[error(
        "--checkpoint {}: the directory holds the checkpoint of another run; continue it with \
         --resume {}, choose another directory, or give --overwrite-checkpoint",
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
    #[error("{} is not a file; --resume needs a directory written by --checkpoint", path.display())]
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
        "cannot read checkpoint {}; --resume needs a directory written by --checkpoint",
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
    #[error("{} is not a valid checkpoint; start the run again with --checkpoint", path.display())]
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
