//! Data for the networks: IDX/MNIST reading and validation, the book's training / validation /
//! test split, locating, verifying and downloading the files, and image augmentation (shifts,
//! rotations, skews, scalings and elastic distortions) for artificially expanding the training
//! data.

pub mod augment;
mod digest;
pub mod download;
mod error;
pub mod idx;
mod image_set;
pub mod locate;
pub mod mnist;
pub mod picture;
pub mod preview;

pub use augment::{
    AffineElastic, Elastic, ImageTransform, RandomRotation, RandomScale, RandomShift, RandomSkew,
    augment_set, expand_by_shifts, expand_to_idx,
};
pub use download::{download_files, download_mnist};
pub use error::DataError;
pub use idx::{IdxArray, parse_idx, read_idx, write_idx};
pub use image_set::{DIGIT_CLASSES, ImageSet};
pub use locate::{DataLocation, FileReport, Source, locate_mnist, verify_dir};
pub use mnist::{Mnist, MnistSplits, load_image_set, load_splits};
pub use preview::{image_grid, preview_grid};
