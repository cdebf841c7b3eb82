//! The MNIST files and the book's training / validation / test split.

use std::path::{Path, PathBuf};

use crate::idx::read_idx;
use crate::{DataError, ImageSet};

/// One of the four MNIST files: its standard name (without `.gz`) and the published SHA-256 of
/// its decompressed content.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MnistFile {
    /// Standard file name without the `.gz` suffix, e.g. `train-images-idx3-ubyte`.
    pub name: &'static str,
    /// SHA-256 of the decompressed file, lower-case hex.
    pub sha256: &'static str,
}

/// The 60,000 training images.
pub const TRAIN_IMAGES: MnistFile = MnistFile {
    name: "train-images-idx3-ubyte",
    sha256: "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db",
};

/// The 60,000 training labels.
pub const TRAIN_LABELS: MnistFile = MnistFile {
    name: "train-labels-idx1-ubyte",
    sha256: "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5",
};

/// The 10,000 test images.
pub const TEST_IMAGES: MnistFile = MnistFile {
    name: "t10k-images-idx3-ubyte",
    sha256: "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7",
};

/// The 10,000 test labels.
pub const TEST_LABELS: MnistFile = MnistFile {
    name: "t10k-labels-idx1-ubyte",
    sha256: "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2",
};

/// All four MNIST files.
pub const MNIST_FILES: [MnistFile; 4] = [TRAIN_IMAGES, TRAIN_LABELS, TEST_IMAGES, TEST_LABELS];

/// Size of the book's validation set, carved from the end of the 60,000 training images.
pub const BOOK_VALIDATION_SIZE: usize = 10_000;

/// The three data sets of the book.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MnistSplits {
    /// Images the network learns from (the first 50,000 of the training file).
    pub training: ImageSet,
    /// Images used to choose hyper-parameters and stop early (the last 10,000).
    pub validation: ImageSet,
    /// The 10,000 t10k images, kept apart for the final estimate.
    pub test: ImageSet,
}

/// MNIST as the book splits it.
pub type Mnist = MnistSplits;

/// The path of `file` in `dir`: the `.gz` file when present, else the uncompressed one;
/// `None` when neither exists.
pub fn find_file(dir: &Path, file: &MnistFile) -> Option<PathBuf> {
    let gz = dir.join(format!("{}.gz", file.name));
    let raw = dir.join(file.name);
    [gz, raw].into_iter().find(|p| p.is_file())
}

/// The path of `file` in `dir`, or an I/O "not found" error naming the expected `.gz` path.
fn require_file(dir: &Path, file: &MnistFile) -> Result<PathBuf, DataError> {
    find_file(dir, file).ok_or_else(|| {
        DataError::io(
            &dir.join(format!("{}.gz", file.name)),
            std::io::Error::new(
                std::io::ErrorKind::NotFound,
                "no such file (nor its uncompressed form)",
            ),
        )
    })
}

/// Loads a digit set from an IDX image file and an IDX label file (gzip or raw).
pub fn load_image_set(images: &Path, labels: &Path) -> Result<ImageSet, DataError> {
    let (images_idx, labels_idx) = rayon::join(|| read_idx(images), || read_idx(labels));
    ImageSet::from_idx(
        images_idx?,
        labels_idx?,
        (&images.display().to_string(), &labels.display().to_string()),
    )
}

/// Loads the 60,000 training images of `dir` unsplit.
pub fn load_training(dir: &Path) -> Result<ImageSet, DataError> {
    load_image_set(
        &require_file(dir, &TRAIN_IMAGES)?,
        &require_file(dir, &TRAIN_LABELS)?,
    )
}

/// Loads the 10,000 test images of `dir`.
pub fn load_test(dir: &Path) -> Result<ImageSet, DataError> {
    load_image_set(
        &require_file(dir, &TEST_IMAGES)?,
        &require_file(dir, &TEST_LABELS)?,
    )
}

/// Loads MNIST from `dir` and splits it as the book does: the last `validation_size` training
/// images validate, the others train, and the t10k images test.
///
/// `validation_size` defaults to 10,000 when the training file holds 60,000 images, else to a
/// sixth of the training images.
///
/// # Errors
/// Any read or validation error, or [`DataError::BadSplit`] when the validation set would take
/// every training image.
pub fn load_splits(dir: &Path, validation_size: Option<usize>) -> Result<MnistSplits, DataError> {
    let (full, test) = rayon::join(|| load_training(dir), || load_test(dir));
    let (full, test) = (full?, test?);
    let n = full.len();
    let validation = validation_size.unwrap_or(if n == 60_000 {
        BOOK_VALIDATION_SIZE
    } else {
        n / 6
    });
    if validation >= n {
        return Err(DataError::BadSplit {
            file: require_file(dir, &TRAIN_IMAGES)?.display().to_string(),
            validation,
            available: n,
        });
    }
    let (training, validation) = full.split_at(n - validation);
    Ok(MnistSplits {
        training,
        validation,
        test,
    })
}
