//! nn-train: whole training runs of Chapter 3's networks, as `nn train` runs them.
//!
//! A run is described by [`RunOptions`]: serializable, complete (layers, cost and output layer,
//! activation, initialization, η, mini-batch, epochs, L2/L1 λ, dropout and max-norm, update
//! rule, data expansion, data selection, monitoring, early stopping, learning-rate schedule,
//! weight averaging, input standardization, seed), the book's main run by default, and checked
//! once into [`CheckedRunOptions`] ([`nn_core::ParamGuard`]). [`compose`] turns it into the
//! trait objects of nn-core's [`nn_core::Trainer`], pairing the cost with its output layer
//! (softmax for the log-likelihood, eq. 78-80). [`DataSet`] loads the IDX files and holds out
//! the book's validation images (MNIST's last 10,000). [`Run`] trains, epoch by epoch, telling
//! an [`nn_core::Observer`], writing a [`Checkpointer`]'s checkpoint after each epoch; a run
//! resumed from it ends with the same weights, bit for bit, as one never interrupted.
//!
//! # Example
//!
//! A run on a small data set of four classes, checkpointed, interrupted after two epochs and
//! resumed to the same weights as an uninterrupted run:
//!
//! ```
//! use nn_core::{ParamGuard, Silent};
//! use nn_data::IdxFiles;
//! use nn_train::{Checkpointer, CostName, DataIdentity, DataSet, Run, RunOptions};
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let dir = tempfile::tempdir()?;
//! nn_train::write_example_data(dir.path())?; // 720 labelled 4x4 images as IDX files
//! let data = DataSet::load(IdxFiles::in_dir(dir.path())?, "the example".into(), None)?;
//!
//! let options = RunOptions {
//!     layers: vec![16, 12, 4],
//!     cost: CostName::LogLikelihood, // with a softmax output layer
//!     eta: 0.5,
//!     lambda: 0.1,
//!     epochs: 4,
//!     ..RunOptions::default()
//! }
//! .check()?;
//! let uninterrupted = Run::new(options.clone(), &data)?.train(&mut Silent)?;
//!
//! let ckpt = dir.path().join("ckpt");
//! let checkpointer = Checkpointer::at(&ckpt).claim(DataIdentity::of(&data)?)?;
//! let mut run = Run::new(options, &data)?.with_checkpointer(checkpointer);
//! run.epoch(&mut Silent)?;
//! run.epoch(&mut Silent)?;
//! drop(run); // interrupted
//!
//! // The saved options, the data checked against the checkpoint's, `ckpt` claimed again.
//! let resumed = Run::resume_from(&ckpt, &data)?;
//! assert_eq!(resumed.resumed_after(), Some(2));
//! let resumed = resumed.train(&mut Silent)?;
//! assert_eq!(resumed.network.params(), uninterrupted.network.params());
//! assert!(resumed.test.accuracy() > 0.9, "{}", resumed.test.accuracy());
//! # Ok(())
//! # }
//! ```

pub mod checkpoint;
pub mod compose;
pub mod data;
pub mod destination;
pub mod error;
pub mod field;
pub mod lock;
pub mod options;
pub mod run;

pub use checkpoint::{Checkpointer, CheckpointerBuilder, DataFile, DataIdentity, Restored};
pub use compose::{CheckedRunOptions, Overrides};
pub use data::{DataSet, Selection};
pub use error::{CheckpointError, OptionDifference, RunError};
pub use field::Field;
pub use options::{
    ActivationName, CostName, EvalSet, InitName, LrSchedule, MAX_EPOCHS, MonitorItem,
    OptimizerName, Recipe, RunOptions, TransformName,
};
pub use run::{Run, RunOutcome};

/// Writes a small labelled image set as MNIST's four IDX files into `dir`, for the examples of
/// this crate's documentation: 600 training and 120 test images of 4x4 pixels in four classes,
/// class c lighting the pixels of quadrant c.
#[doc(hidden)]
pub fn write_example_data(dir: &std::path::Path) -> Result<(), nn_data::DataError> {
    use nn_data::{IdxArray, write_idx};
    let images = |n: usize, offset: usize| {
        let mut pixels = Vec::with_capacity(n * 16);
        let mut labels = Vec::with_capacity(n);
        for i in 0..n {
            let class = (i + offset) % 4;
            let (qr, qc) = (class / 2, class % 2);
            for p in 0..16 {
                let (r, c) = (p / 4, p % 4);
                let lit = r / 2 == qr && c / 2 == qc;
                let noise = ((i * 31 + p * 17 + offset) % 60) as u8;
                pixels.push(if lit { 195 + noise } else { noise });
            }
            labels.push(class as u8);
        }
        (
            IdxArray {
                dims: vec![n, 4, 4],
                data: pixels,
            },
            IdxArray {
                dims: vec![n],
                data: labels,
            },
        )
    };
    let (train_images, train_labels) = images(600, 0);
    let (test_images, test_labels) = images(120, 1);
    write_idx(&dir.join("train-images-idx3-ubyte"), &train_images, false)?;
    write_idx(&dir.join("train-labels-idx1-ubyte"), &train_labels, false)?;
    write_idx(&dir.join("t10k-images-idx3-ubyte"), &test_images, false)?;
    write_idx(&dir.join("t10k-labels-idx1-ubyte"), &test_labels, false)?;
    Ok(())
}
