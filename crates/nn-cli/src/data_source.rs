//! The flags naming the data set, declared once and flattened into every subcommand that reads
//! it (`nn train`, `nn eval`, `nn data ...`, `nn reproduce`, `nn search`): `--data DIR`, the
//! four IDX files one by one for sets named differently from MNIST (EMNIST, ...), and
//! `--holdout N`, the training images kept apart for validation.

use std::path::PathBuf;

use anyhow::{Context, Result, bail};
use nn_data::IdxFiles;
use nn_data::mnist::{MNIST_FILES, find_file};

/// The flag naming each file, in [`MNIST_FILES`] order.
const FILE_FLAGS: [&str; 4] = [
    "--train-images",
    "--train-labels",
    "--test-images",
    "--test-labels",
];

/// Where the data set is and how much of its training file is held out.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct DataSource {
    /// Directory holding the four IDX files under MNIST's names (train-images-idx3-ubyte,
    /// train-labels-idx1-ubyte, t10k-images-idx3-ubyte, t10k-labels-idx1-ubyte, each gzipped or
    /// not) [default: MNIST from $MNIST_DIR, ./data/mnist, ../shared/data/mnist or the cache,
    /// else downloaded]
    #[arg(long, value_name = "DIR")]
    pub data: Option<PathBuf>,
    /// The training images (IDX, N x rows x cols), for a set named differently from MNIST; a
    /// relative path is taken from the current directory [default: in --data DIR]
    #[arg(long, value_name = "FILE")]
    pub train_images: Option<PathBuf>,
    /// The training labels (IDX, N labels 0..k-1) [default: in --data DIR]
    #[arg(long, value_name = "FILE")]
    pub train_labels: Option<PathBuf>,
    /// The test images [default: in --data DIR]
    #[arg(long, value_name = "FILE")]
    pub test_images: Option<PathBuf>,
    /// The test labels [default: in --data DIR]
    #[arg(long, value_name = "FILE")]
    pub test_labels: Option<PathBuf>,
    /// Hold out the last N training images for validation; --validation-size monitors the first
    /// of them, --train-size takes the first of the rest [default: MNIST's 10,000, or a sixth
    /// of any other training file]
    #[arg(long, value_name = "N")]
    pub holdout: Option<usize>,
}

/// The four files of the data set, and where they were found, for messages.
#[derive(Debug, Clone)]
pub struct Located {
    /// The files.
    pub files: IdxFiles,
    /// Where they came from, e.g. `../shared/data/mnist (Shared)`.
    pub origin: String,
}

impl DataSource {
    /// The four files the flags name: without file flags, those of `--data DIR` or of the MNIST
    /// directory found (or downloaded) as nn-data searches; with some, the others from
    /// `--data DIR`.
    pub fn locate(&self) -> Result<Located> {
        let named = [
            &self.train_images,
            &self.train_labels,
            &self.test_images,
            &self.test_labels,
        ];
        if named.iter().all(|n| n.is_none()) {
            let location = nn_data::locate_mnist(self.data.as_deref())?;
            return Ok(Located {
                files: IdxFiles::in_dir(&location.dir)?,
                origin: format!("{} ({:?})", location.dir.display(), location.source),
            });
        }
        let pick = |i: usize| -> Result<PathBuf> {
            let (mnist, flag) = (MNIST_FILES[i], FILE_FLAGS[i]);
            match (named[i], &self.data) {
                (Some(path), _) => Ok(path.clone()),
                (None, Some(dir)) => find_file(dir, &mnist).with_context(|| {
                    format!(
                        "{}: no {} (nor {}.gz) to go with the files named; name the file with \
                         {flag}",
                        dir.display(),
                        mnist.name,
                        mnist.name
                    )
                }),
                (None, None) => bail!(
                    "{flag} is missing: name all four files (--train-images, --train-labels, \
                     --test-images, --test-labels), or give --data DIR holding the ones not named"
                ),
            }
        };
        let files = IdxFiles {
            train_images: pick(0)?,
            train_labels: pick(1)?,
            test_images: pick(2)?,
            test_labels: pick(3)?,
        };
        let origin = match &self.data {
            Some(dir) => format!("{} and the files named", dir.display()),
            None => "the files named".to_string(),
        };
        Ok(Located { files, origin })
    }
}
