//! The MNIST files, any IDX data set laid out like them, and the book's training / validation /
//! test split.

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

/// The three data sets of the book, from MNIST or any IDX set.
///
/// ```
/// use std::path::Path;
/// use nn_data::{IdxArray, ImageSet, default_holdout, split_holdout};
///
/// let images = IdxArray { dims: vec![12, 1, 1], data: (0..12).collect() };
/// let labels = IdxArray { dims: vec![12], data: vec![0, 1].repeat(6) };
/// let full = ImageSet::from_idx(images, labels, ("images", "labels"))?;
/// // The last images of the training file validate, the first train (MNIST: 50,000 + 10,000).
/// assert_eq!(default_holdout(60_000), 10_000);
/// let (training, validation) = split_holdout(&full, default_holdout(12), Path::new("images"))?;
/// assert_eq!((training.len(), validation.len()), (10, 2));
/// assert_eq!(validation.image(0), [10]);
/// assert!(split_holdout(&full, 12, Path::new("images")).is_err());
/// # Ok::<(), nn_data::DataError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MnistSplits {
    /// Images the network learns from (the first of the training file: MNIST's first 50,000).
    pub training: ImageSet,
    /// Images held out to choose hyper-parameters and stop early (the last of the training
    /// file: MNIST's last 10,000).
    pub validation: ImageSet,
    /// The test images (MNIST's 10,000 t10k images), kept apart for the final estimate.
    pub test: ImageSet,
}

/// MNIST as the book splits it.
pub type Mnist = MnistSplits;

/// The four files of an IDX data set: MNIST's, or any other with the same layout (images
/// `N x rows x cols`, labels `N`, classes `0..k`).
///
/// ```
/// use nn_data::{IdxArray, IdxFiles, write_idx};
///
/// let dir = tempfile::tempdir()?;
/// // Without the files, the error names every one that is missing.
/// let missing = IdxFiles::in_dir(dir.path()).unwrap_err().to_string();
/// assert!(missing.contains("t10k-labels-idx1-ubyte"), "{missing}");
/// for name in ["train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz",
///              "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"] {
///     let array = IdxArray { dims: vec![1], data: vec![0] };
///     write_idx(&dir.path().join(name), &array, name.ends_with(".gz"))?;
/// }
/// let files = IdxFiles::in_dir(dir.path())?;
/// assert!(files.train_images.ends_with("train-images-idx3-ubyte.gz"));
/// assert!(files.test_labels.ends_with("t10k-labels-idx1-ubyte"));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdxFiles {
    /// The training images.
    pub train_images: PathBuf,
    /// The training labels.
    pub train_labels: PathBuf,
    /// The test images.
    pub test_images: PathBuf,
    /// The test labels.
    pub test_labels: PathBuf,
}

impl IdxFiles {
    /// The four files in `dir` under MNIST's names, each `.gz` or uncompressed.
    ///
    /// # Errors
    /// [`DataError::IncompleteDir`] naming every missing file.
    pub fn in_dir(dir: &Path) -> Result<Self, DataError> {
        let [train_images, train_labels, test_images, test_labels] =
            MNIST_FILES.map(|f| find_file(dir, &f));
        match (train_images, train_labels, test_images, test_labels) {
            (Some(train_images), Some(train_labels), Some(test_images), Some(test_labels)) => {
                Ok(Self {
                    train_images,
                    train_labels,
                    test_images,
                    test_labels,
                })
            }
            _ => Err(DataError::IncompleteDir {
                dir: dir.to_path_buf(),
                reason: missing_files(dir).unwrap_or_default(),
            }),
        }
    }

    /// Each file with the MNIST file whose place it takes, in [`MNIST_FILES`] order.
    pub fn roles(&self) -> [(MnistFile, &Path); 4] {
        [
            (TRAIN_IMAGES, &self.train_images),
            (TRAIN_LABELS, &self.train_labels),
            (TEST_IMAGES, &self.test_images),
            (TEST_LABELS, &self.test_labels),
        ]
    }
}

/// The path of `file` in `dir`: the `.gz` file when present, else the uncompressed one (the
/// other way round without the crate's `gzip` feature, which reads only uncompressed files);
/// `None` when neither exists.
pub fn find_file(dir: &Path, file: &MnistFile) -> Option<PathBuf> {
    let gz = dir.join(format!("{}.gz", file.name));
    let raw = dir.join(file.name);
    let order = if cfg!(feature = "gzip") {
        [gz, raw]
    } else {
        [raw, gz]
    };
    order.into_iter().find(|p| p.is_file())
}

/// `None` when `dir` holds all four MNIST-named files, else why it does not.
pub(crate) fn missing_files(dir: &Path) -> Option<String> {
    if !dir.is_dir() {
        return Some("no such directory".to_string());
    }
    let missing: Vec<&str> = MNIST_FILES
        .iter()
        .filter(|f| find_file(dir, f).is_none())
        .map(|f| f.name)
        .collect();
    (!missing.is_empty()).then(|| format!("missing {}", missing.join(", ")))
}

/// Loads a set from an IDX image file and an IDX label file (gzip or raw); the classes are
/// `0..k` with `k` one more than the largest label.
pub fn load_image_set(images: &Path, labels: &Path) -> Result<ImageSet, DataError> {
    let (images_idx, labels_idx) = rayon::join(|| read_idx(images), || read_idx(labels));
    ImageSet::from_idx(
        images_idx?,
        labels_idx?,
        (&images.display().to_string(), &labels.display().to_string()),
    )
}

/// Loads the whole training file and the test file of a data set. The classes are those of the
/// training labels (`0..k`, `k` one more than the largest); the test set shares them.
///
/// # Errors
/// Any read or validation error; [`DataError::ImageSizeMismatch`] when the test images differ
/// in size from the training images, [`DataError::UnknownTestClass`] when a test label is not a
/// training class.
pub fn load_data_set(files: &IdxFiles) -> Result<(ImageSet, ImageSet), DataError> {
    let (training, test) = rayon::join(
        || load_image_set(&files.train_images, &files.train_labels),
        || load_image_set(&files.test_images, &files.test_labels),
    );
    let (training, mut test) = (training?, test?);
    if (test.rows, test.cols) != (training.rows, training.cols) {
        return Err(DataError::ImageSizeMismatch {
            train_file: files.train_images.display().to_string(),
            train_size: (training.rows, training.cols),
            test_file: files.test_images.display().to_string(),
            test_size: (test.rows, test.cols),
        });
    }
    if let Some((index, &label)) = test
        .labels
        .iter()
        .enumerate()
        .find(|&(_, &l)| usize::from(l) >= training.classes)
    {
        return Err(DataError::UnknownTestClass {
            test_file: files.test_labels.display().to_string(),
            index,
            label,
            train_file: files.train_labels.display().to_string(),
            classes: training.classes,
        });
    }
    test.classes = training.classes;
    Ok((training, test))
}

/// Loads the training images of `dir` unsplit.
pub fn load_training(dir: &Path) -> Result<ImageSet, DataError> {
    let files = IdxFiles::in_dir(dir)?;
    load_image_set(&files.train_images, &files.train_labels)
}

/// Loads the test images of `dir`.
pub fn load_test(dir: &Path) -> Result<ImageSet, DataError> {
    let files = IdxFiles::in_dir(dir)?;
    load_image_set(&files.test_images, &files.test_labels)
}

/// The number of training images held out for validation when none is asked for: the book's
/// 10,000 for MNIST's 60,000, a sixth of any other training file.
pub fn default_holdout(training_images: usize) -> usize {
    if training_images == 60_000 {
        BOOK_VALIDATION_SIZE
    } else {
        training_images / 6
    }
}

/// Splits a whole training file as the book does: its last `holdout` images validate, the
/// others train; `file` names it in errors.
///
/// # Errors
/// [`DataError::BadSplit`] unless `1 <= holdout < full.len()`.
pub fn split_holdout(
    full: &ImageSet,
    holdout: usize,
    file: &Path,
) -> Result<(ImageSet, ImageSet), DataError> {
    let n = full.len();
    if holdout == 0 || holdout >= n {
        return Err(DataError::BadSplit {
            file: file.display().to_string(),
            holdout,
            available: n,
        });
    }
    Ok(full.split_at(n - holdout))
}

/// Loads the data set in `dir` (MNIST's file names) and splits it as the book does: the last
/// `holdout` training images validate, the others train, and the t10k images test.
/// `holdout` defaults to [`default_holdout`].
///
/// # Errors
/// Any read or validation error, or [`DataError::BadSplit`] when the held-out images would be
/// none or all of the training images.
pub fn load_splits(dir: &Path, holdout: Option<usize>) -> Result<MnistSplits, DataError> {
    let files = IdxFiles::in_dir(dir)?;
    let (full, test) = load_data_set(&files)?;
    let holdout = holdout.unwrap_or_else(|| default_holdout(full.len()));
    let (training, validation) = split_holdout(&full, holdout, &files.train_images)?;
    Ok(MnistSplits {
        training,
        validation,
        test,
    })
}
