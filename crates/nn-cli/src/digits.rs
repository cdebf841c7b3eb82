//! Loading the data set for the subcommands and splitting it as the book does.

use anyhow::{Result, bail};
use nn_data::{IdxFiles, ImageSet, MnistSplits, default_holdout, load_data_set, split_holdout};

use crate::data_source::DataSource;

/// A loaded data set: the training file split into training and held-out images, and the test
/// images.
#[derive(Debug)]
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

/// Loads the data set `source` names and holds out the last `--holdout` training images (by
/// default MNIST's 10,000, or a sixth of any other training file) for validation.
pub fn load(source: &DataSource) -> Result<DataSet> {
    let located = source.locate()?;
    let files = located.files;
    let (full, test) = load_data_set(&files)?;
    let n = full.len();
    let file = files.train_images.display();
    let holdout = match source.holdout {
        Some(0) => bail!("--holdout 0: hold out at least 1 image for validation"),
        Some(h) if h >= n => bail!(
            "--holdout {h}: {file} holds {n} training images; hold out at most {} so that some \
             remain for training",
            n - 1
        ),
        Some(h) => h,
        None if default_holdout(n) == 0 => bail!(
            "{file} holds only {n} training images, too few to hold out a sixth for validation; \
             give --holdout N with 1 <= N < {n}"
        ),
        None => default_holdout(n),
    };
    let (training, validation) = split_holdout(&full, holdout, &files.train_images)?;
    Ok(DataSet {
        origin: located.origin,
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

impl DataSet {
    /// Number of held-out images.
    pub fn holdout(&self) -> usize {
        self.splits.validation.len()
    }

    /// The training images a run uses: the first `--train-size` images left after the
    /// hold-out, then, with `--per-class N`, the first N images of each class among them.
    pub fn training_images(
        &self,
        train_size: Option<usize>,
        per_class: Option<usize>,
    ) -> Result<ImageSet> {
        let available = self.splits.training.len();
        let first = match train_size {
            Some(n) if n > available => bail!(
                "--train-size {n}: {} holds {} training images, of which the last {} are held \
                 out for validation (--holdout), leaving {available}; use at most {available}",
                self.files.train_images.display(),
                self.training_file_len,
                self.holdout()
            ),
            _ => first(&self.splits.training, train_size, "--train-size")?,
        };
        match per_class {
            None => Ok(first),
            Some(0) => bail!("--per-class 0: use at least 1 image of each class"),
            Some(n) => Ok(first.first_per_class(n)),
        }
    }

    /// The images monitored during training: the first `--validation-size` held-out images.
    pub fn validation_images(&self, validation_size: Option<usize>) -> Result<ImageSet> {
        let held = self.holdout();
        match validation_size {
            Some(n) if n > held => bail!(
                "--validation-size {n}: only {held} images are held out for validation \
                 (--holdout {held}); use at most {held}, or hold out more with --holdout"
            ),
            _ => first(
                &self.splits.validation,
                validation_size,
                "--validation-size",
            ),
        }
    }
}

/// The first `n` images of `set`, or an error naming `flag` when it holds fewer.
pub fn first(set: &ImageSet, n: Option<usize>, flag: &str) -> Result<ImageSet> {
    match n {
        None => Ok(set.clone()),
        Some(0) => bail!("{flag} 0: use at least 1 image"),
        Some(n) if n > set.len() => bail!(
            "{flag} {n}: only {} images are available; use at most {}",
            set.len(),
            set.len()
        ),
        Some(n) => Ok(set.subset(..n)),
    }
}
