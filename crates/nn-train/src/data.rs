//! The data of a run: the four IDX files, the last images of the training file held out for
//! validation (the book's 50,000 / 10,000 split of MNIST), and the selection a run makes within
//! them (`--train-size`, `--per-class`, `--validation-size`, `--eval`, `--invert`).

use nn_data::{IdxFiles, ImageSet, MnistSplits, default_holdout, load_data_set, split_holdout};

use crate::Field;
use crate::error::RunError;
use crate::options::{EvalSet, RunOptions};

/// A loaded data set: the training file split into training and held-out images, and the test
/// images.
///
/// ```
/// use nn_train::{DataSet, RunOptions};
///
/// # let dir = tempfile::tempdir()?;
/// # nn_train::write_example_data(dir.path())?; // 600 training and 120 test images
/// let files = nn_data::IdxFiles::in_dir(dir.path())?;
/// let data = DataSet::load(files, "the example".into(), None)?;
/// // A sixth of a training file that is not MNIST's is held out (MNIST: its last 10,000).
/// assert_eq!((data.splits.training.len(), data.holdout), (500, 100));
/// let options = RunOptions { train_size: Some(200), validation_size: Some(50), ..RunOptions::default() };
/// let selection = data.select(&options)?;
/// assert_eq!((selection.training.len(), selection.evaluation.len()), (200, 50));
/// assert!(data.training_images(Some(501), None).is_err());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone)]
pub struct DataSet {
    /// Where the files came from, for messages.
    pub origin: String,
    /// The four files.
    pub files: IdxFiles,
    /// Images of the whole training file.
    pub training_file_len: usize,
    /// Images held out from the end of the training file for validation.
    pub holdout: usize,
    /// The training images (the first of the training file), the held-out images (its last
    /// `holdout`, for validation) and the test images.
    pub splits: MnistSplits,
}

/// The images a run trains on, monitors and tests.
#[derive(Debug, Clone)]
pub struct Selection {
    /// The training images.
    pub training: ImageSet,
    /// The images monitored after each epoch (validation or test, `--eval`).
    pub evaluation: ImageSet,
    /// The test images.
    pub test: ImageSet,
}

impl DataSet {
    /// MNIST, found as `nn` finds it (the `MNIST_DIR` environment variable, `./data/mnist`,
    /// `../shared/data/mnist`, the cache, else downloaded into the cache with checksum
    /// verification: [`nn_data::locate_mnist`]), with the book's 10,000 validation images held
    /// out: the first step of every program on MNIST.
    ///
    /// ```no_run
    /// let mnist = nn_train::DataSet::mnist()?;
    /// assert_eq!(mnist.splits.training.len(), 50_000);
    /// # Ok::<(), nn_train::RunError>(())
    /// ```
    pub fn mnist() -> Result<Self, RunError> {
        let location = nn_data::locate_mnist(None)?;
        let origin = format!("{} ({:?})", location.dir.display(), location.source);
        Self::load(IdxFiles::in_dir(&location.dir)?, origin, None)
    }

    /// Loads the four `files` (`origin` says where they were found, for messages) and holds out
    /// the last `holdout` training images (by default MNIST's 10,000, or a sixth of any other
    /// training file) for validation.
    pub fn load(files: IdxFiles, origin: String, holdout: Option<usize>) -> Result<Self, RunError> {
        let (full, test) = load_data_set(&files)?;
        let n = full.len();
        let file = files.train_images.display();
        let holdout = match holdout {
            Some(0) => {
                return Err(RunError::option(
                    Field::Holdout,
                    "hold out at least 1 image for validation",
                )
                .valued(0));
            }
            Some(h) if h >= n => {
                return Err(RunError::option(
                    Field::Holdout,
                    format!(
                        "{file} holds {n} training images; hold out at most {} so that some \
                         remain for training",
                        n - 1
                    ),
                )
                .valued(h));
            }
            Some(h) => h,
            None if default_holdout(n) == 0 => {
                return Err(RunError::option(
                    Field::Holdout,
                    format!(
                        "{file} holds only {n} training images, too few to hold out a sixth for \
                         validation; give `holdout` N with 1 <= N < {n}"
                    ),
                ));
            }
            None => default_holdout(n),
        };
        let (training, validation) = split_holdout(&full, holdout, &files.train_images)?;
        Ok(Self {
            origin,
            files,
            training_file_len: n,
            holdout,
            splits: MnistSplits {
                training,
                validation,
                test,
            },
        })
    }

    /// The training images a run uses: the first `--train-size` images left after the
    /// hold-out, then, with `--per-class N`, the first N images of each class among them.
    pub fn training_images(
        &self,
        train_size: Option<usize>,
        per_class: Option<usize>,
    ) -> Result<ImageSet, RunError> {
        let available = self.splits.training.len();
        let first = match train_size {
            Some(n) if n > available => {
                return Err(RunError::option(
                    Field::TrainSize,
                    format!(
                        "{} holds {} training images, of which the last {} are held out for \
                         validation (`holdout`), leaving {available}; use at most {available}",
                        self.files.train_images.display(),
                        self.training_file_len,
                        self.holdout
                    ),
                )
                .valued(n));
            }
            _ => first(&self.splits.training, train_size, Field::TrainSize)?,
        };
        match per_class {
            None => Ok(first),
            Some(0) => Err(
                RunError::option(Field::PerClass, "use at least 1 image of each class").valued(0),
            ),
            Some(n) => Ok(first.first_per_class(n)),
        }
    }

    /// The images monitored during training: the first `--validation-size` held-out images.
    pub fn validation_images(&self, validation_size: Option<usize>) -> Result<ImageSet, RunError> {
        let held = self.splits.validation.len();
        match validation_size {
            Some(n) if n > held => Err(RunError::option(
                Field::ValidationSize,
                format!(
                    "only {held} images are held out for validation (`holdout` {held}); use at \
                     most {held}, or hold out more with `holdout`"
                ),
            )
            .valued(n)),
            _ => first(
                &self.splits.validation,
                validation_size,
                Field::ValidationSize,
            ),
        }
    }

    /// The training, evaluation and test images of a run with `options`, inverted when they
    /// say so.
    pub fn select(&self, options: &RunOptions) -> Result<Selection, RunError> {
        let training = self
            .training_images(options.train_size, options.per_class)?
            .inverted(options.invert);
        let evaluation = match options.eval {
            EvalSet::Validation => self.validation_images(options.validation_size)?,
            EvalSet::Test => self.splits.test.clone(),
        }
        .inverted(options.invert);
        let test = self.splits.test.clone().inverted(options.invert);
        Ok(Selection {
            training,
            evaluation,
            test,
        })
    }
}

/// The first `n` images of `set`, or an error about `field` when it holds fewer.
fn first(set: &ImageSet, n: Option<usize>, field: Field) -> Result<ImageSet, RunError> {
    match n {
        None => Ok(set.clone()),
        Some(0) => Err(RunError::option(field, "use at least 1 image").valued(0)),
        Some(n) if n > set.len() => Err(RunError::option(
            field,
            format!(
                "only {} images are available; use at most {}",
                set.len(),
                set.len()
            ),
        )
        .valued(n)),
        Some(n) => Ok(set.subset(..n)),
    }
}
