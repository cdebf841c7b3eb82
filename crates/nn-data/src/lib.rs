//! Data for the networks: IDX/MNIST reading and validation (any IDX set of labelled images,
//! within [`MAX_PAYLOAD_BYTES`] per file), the book's training / validation / test split,
//! locating, verifying and downloading the files, image augmentation (shifts, rotations, skews,
//! scalings and elastic distortions) and the chapter's artificial expansion of the training
//! data made of it ([`DataExpansion`], an [`nn_core::EpochTransform`]: offline or fresh every
//! epoch), and pictures of digits prepared as MNIST's were, for any square input size
//! ([`picture`]).
//!
//! # Features
//!
//! The crate's heavy dependencies are behind cargo features, so that a crate using it for
//! IDX files and augmentation does not build an HTTP client, TLS or image codecs:
//!
//! | feature | default | adds | brings |
//! |---|---|---|---|
//! | `gzip` | on | reading and writing gzip-compressed IDX files (MNIST is distributed so), checksums of their decompressed content | flate2 |
//! | `download` | off | the `download` module (`download_mnist`, `download_files`, `mirrors`), and `locate_mnist` downloading into the cache when no copy is found; implies `gzip` | ureq with rustls |
//! | `png` | off | PNG pictures prepared as digits (`picture::prepare_png`, `prepare_file`, `frame_side`, `PictureError` and the decoder's limits) and PNG grids (the `preview` module: `image_grid`, `preview_grid`) | image, png |
//!
//! Without `gzip`, a gzip-compressed file (recognised by its magic number, whatever its name)
//! is refused with [`DataError::GzipUnsupported`] when read, verified or asked to be written,
//! and `mnist::find_file` prefers an uncompressed copy. Without `download`, locating only
//! searches and [`DataError::NotFound`] says that downloading is not built in. Everything else
//! is there with no feature: IDX reading and validation, splits, locating, SHA-256
//! verification, augmentation, [`DataExpansion`] and [`picture::measure_framing`]. Everything
//! the `nn` command does takes `features = ["download", "png"]`.
//!
//! # Example
//!
//! Writing a small labelled image set as IDX files, reading it back, and distorting it:
//!
//! ```
//! use nn_data::{IdxArray, ImageTransform, RandomShift, augment_set, load_image_set, write_idx};
//!
//! let dir = tempfile::tempdir()?;
//! let (images, labels) = (dir.path().join("images.gz"), dir.path().join("labels"));
//! let pixels = (0..3 * 4 * 4).map(|v| (v * 5) as u8).collect();
//! write_idx(&images, &IdxArray { dims: vec![3, 4, 4], data: pixels }, true)?;
//! write_idx(&labels, &IdxArray { dims: vec![3], data: vec![0, 1, 2] }, false)?;
//!
//! let set = load_image_set(&images, &labels)?;
//! assert_eq!((set.len(), set.rows, set.cols), (3, 4, 4));
//! let shifts: Vec<Box<dyn ImageTransform>> = vec![Box::new(RandomShift::default())];
//! let mut shifted = set.empty_like();
//! augment_set(&set, &shifts, 0.0, 7, &mut shifted);
//! assert_eq!(shifted.labels, set.labels);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

pub mod augment;
mod digest;
#[cfg(feature = "download")]
pub mod download;
mod error;
pub mod idx;
mod image_set;
pub mod locate;
pub mod mnist;
pub mod picture;
#[cfg(feature = "png")]
pub mod preview;

pub use augment::{
    AffineElastic, DataExpansion, Elastic, ImageTransform, RandomRotation, RandomScale,
    RandomShift, RandomSkew, augment_set, expand_by_copies, expand_by_shifts, expand_to_idx,
};
#[cfg(feature = "download")]
pub use download::{download_files, download_mnist};
pub use error::DataError;
pub use idx::{IdxArray, MAX_PAYLOAD_BYTES, parse_idx, read_idx, write_idx};
pub use image_set::ImageSet;
pub use locate::{
    DataLocation, FileReport, FileStatus, Source, locate_mnist, locate_mnist_from, verify_dir,
    verify_files,
};
pub use mnist::{
    IdxFiles, Mnist, MnistSplits, default_holdout, load_data_set, load_image_set, load_splits,
    split_holdout,
};
#[cfg(feature = "png")]
pub use preview::{image_grid, preview_grid};
