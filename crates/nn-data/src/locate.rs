//! Finding the MNIST files on disk (downloading them as a last resort, with the crate's
//! `download` feature) and verifying the files of a data set against MNIST's published
//! checksums.

use std::path::{Path, PathBuf};

use rayon::prelude::*;

use crate::DataError;
use crate::digest::sha256_of_content;
#[cfg(feature = "download")]
use crate::download::{download_mnist, mirrors};
use crate::idx::read_idx;
use crate::mnist::{IdxFiles, missing_files};

/// Environment variable naming a directory that holds the MNIST files.
pub const DIR_ENV: &str = "MNIST_DIR";

/// Where the MNIST directory was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// The directory given explicitly (`--data DIR`).
    Explicit,
    /// The directory named by `MNIST_DIR`.
    Env,
    /// `./data/mnist`.
    Local,
    /// A shared copy beside the project (`../shared/data/mnist`).
    Shared,
    /// The per-user cache directory.
    Cache,
    /// Downloaded into the cache directory just now.
    Downloaded,
}

/// A directory holding all four MNIST files, and how it was found.
///
/// ```
/// use nn_data::{DataError, IdxArray, Source, locate_mnist_from, mnist::MNIST_FILES, write_idx};
///
/// let base = tempfile::tempdir()?;
/// // A directory given explicitly must hold the four files: nothing else is searched then.
/// let dir = base.path().join("digits");
/// std::fs::create_dir(&dir)?;
/// let refused = locate_mnist_from(base.path(), Some("digits".as_ref()));
/// assert!(matches!(refused, Err(DataError::IncompleteDir { .. })));
/// for file in MNIST_FILES {
///     write_idx(&dir.join(file.name), &IdxArray { dims: vec![1], data: vec![0] }, false)?;
/// }
/// let found = locate_mnist_from(base.path(), Some("digits".as_ref()))?;
/// assert_eq!((found.dir, found.source), (dir, Source::Explicit));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DataLocation {
    /// The directory.
    pub dir: PathBuf,
    /// How it was found.
    pub source: Source,
}

/// What [`verify_files`] found for one file.
#[derive(Debug)]
pub enum FileStatus {
    /// The file's content is MNIST's, byte for byte.
    Mnist,
    /// A readable IDX file, but not MNIST's.
    Other {
        /// Its dimensions, outermost first.
        dims: Vec<usize>,
    },
    /// The file cannot be used: unreadable, corrupt, or its header does not fit its data.
    Broken(DataError),
}

/// The verification of one file of a data set.
///
/// ```
/// use nn_data::{FileStatus, IdxArray, verify_dir, mnist::MNIST_FILES, write_idx};
///
/// let dir = tempfile::tempdir()?;
/// for file in &MNIST_FILES[..3] {
///     let path = dir.path().join(format!("{}.gz", file.name));
///     write_idx(&path, &IdxArray { dims: vec![2], data: vec![1, 2] }, true)?;
/// }
/// std::fs::write(dir.path().join(MNIST_FILES[3].name), b"not an IDX file")?;
/// let reports = verify_dir(dir.path())?;
/// // Valid IDX files, but not MNIST's content: their SHA-256 differs from the published one.
/// assert!(reports[..3].iter().all(|r| !r.is_mnist() && r.sha256.as_deref() != Some(r.expected)));
/// assert!(matches!(&reports[0].status, FileStatus::Other { dims } if dims == &[2]));
/// assert!(matches!(reports[3].status, FileStatus::Broken(_)));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug)]
pub struct FileReport {
    /// The MNIST file whose place it takes, e.g. `train-images-idx3-ubyte`.
    pub name: &'static str,
    /// The file checked (compressed or not).
    pub path: PathBuf,
    /// SHA-256 of its decompressed content, when it could be read.
    pub sha256: Option<String>,
    /// MNIST's published SHA-256 of that file.
    pub expected: &'static str,
    /// What the file is.
    pub status: FileStatus,
}

impl FileReport {
    /// True when the file is MNIST's.
    pub fn is_mnist(&self) -> bool {
        matches!(self.status, FileStatus::Mnist)
    }
}

/// The per-user cache directory for MNIST: `$XDG_CACHE_HOME/nn/mnist`, else
/// `$HOME/.cache/nn/mnist`.
pub fn cache_dir() -> Option<PathBuf> {
    let non_empty = |var: &str| std::env::var_os(var).filter(|v| !v.is_empty());
    non_empty("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .or_else(|| non_empty("HOME").map(|h| PathBuf::from(h).join(".cache")))
        .map(|c| c.join("nn").join("mnist"))
}

/// The directories searched by [`locate_mnist_from`] before the cache, in order: `explicit`,
/// `$MNIST_DIR`, `data/mnist` and `../shared/data/mnist`, relative ones resolved against `base`.
pub fn candidate_dirs(base: &Path, explicit: Option<&Path>) -> Vec<(PathBuf, Source)> {
    let mut dirs = Vec::new();
    if let Some(dir) = explicit {
        dirs.push((base.join(dir), Source::Explicit));
    }
    if let Some(dir) = std::env::var_os(DIR_ENV).filter(|v| !v.is_empty()) {
        dirs.push((base.join(dir), Source::Env));
    }
    dirs.push((base.join("data/mnist"), Source::Local));
    dirs.push((base.join("../shared/data/mnist"), Source::Shared));
    dirs
}

/// [`locate_mnist_from`] the current directory: how `nn` finds MNIST.
pub fn locate_mnist(explicit: Option<&Path>) -> Result<DataLocation, DataError> {
    locate_mnist_from(Path::new(""), explicit)
}

/// Finds a directory holding the four MNIST files (each `.gz` or uncompressed), resolving
/// relative paths against `base` (the current directory for `nn`, the workspace root for the
/// tests). An explicit directory must hold them ([`DataError::IncompleteDir`] otherwise);
/// without one, searches `$MNIST_DIR`, `data/mnist`, `../shared/data/mnist` and the cache
/// directory ([`cache_dir`]); when none qualifies, downloads the files into the cache directory
/// from the mirrors (see `download::mirrors`), verifying each, when the crate is built with its
/// `download` feature.
///
/// # Errors
/// [`DataError::NotFound`], listing every place looked, the download failure (or that
/// downloading is not built in) and how to provide the files.
pub fn locate_mnist_from(base: &Path, explicit: Option<&Path>) -> Result<DataLocation, DataError> {
    #[cfg(feature = "download")]
    let mirrors = mirrors();
    #[cfg(not(feature = "download"))]
    let mirrors: Vec<String> = Vec::new();
    let mirrors: Vec<&str> = mirrors.iter().map(String::as_str).collect();
    locate_in(
        &candidate_dirs(base, explicit),
        cache_dir().as_deref(),
        &mirrors,
    )
}

/// [`locate_mnist_from`] over given candidates, cache directory and mirrors (not used without
/// the `download` feature: the files are then only searched for).
pub fn locate_in(
    candidates: &[(PathBuf, Source)],
    cache: Option<&Path>,
    mirrors: &[&str],
) -> Result<DataLocation, DataError> {
    let mut looked = Vec::new();
    let mut search = |dir: &Path, source: Source| match missing_files(dir) {
        None => Some(DataLocation {
            dir: dir.to_path_buf(),
            source,
        }),
        Some(reason) => {
            looked.push(format!("{} ({source:?}: {reason})", dir.display()));
            None
        }
    };
    for (dir, source) in candidates {
        if let Some(found) = search(dir, *source) {
            return Ok(found);
        }
        if *source == Source::Explicit {
            // A directory the user named is what they meant: never quietly use other data.
            return Err(DataError::IncompleteDir {
                dir: dir.clone(),
                reason: missing_files(dir).unwrap_or_default(),
            });
        }
    }
    let Some(cache) = cache else {
        looked.push("the cache directory (neither XDG_CACHE_HOME nor HOME is set)".to_string());
        return Err(DataError::NotFound {
            looked,
            download: "no cache directory to download into".to_string(),
        });
    };
    if let Some(found) = search(cache, Source::Cache) {
        return Ok(found);
    }
    #[cfg(feature = "download")]
    let download = match download_mnist(cache, mirrors) {
        Ok(()) => {
            return Ok(DataLocation {
                dir: cache.to_path_buf(),
                source: Source::Downloaded,
            });
        }
        Err(e) => format!("downloading into {} failed: {e}", cache.display()),
    };
    #[cfg(not(feature = "download"))]
    let download = {
        let _ = mirrors;
        "downloading is not built in (nn-data without its `download` feature)".to_string()
    };
    Err(DataError::NotFound { looked, download })
}

/// Checks every file of a data set: whether its decompressed content is MNIST's (published
/// SHA-256), and otherwise whether it is a readable IDX file. Every file gets its report; a
/// broken file never hides the others'.
pub fn verify_files(files: &IdxFiles) -> Vec<FileReport> {
    files
        .roles()
        .into_par_iter()
        .map(|(mnist, path)| {
            let (sha256, status) = match sha256_of_content(path) {
                Err(e) => (None, FileStatus::Broken(e)),
                Ok(sha) if sha == mnist.sha256 => (Some(sha), FileStatus::Mnist),
                Ok(sha) => match read_idx(path) {
                    Ok(array) => (Some(sha), FileStatus::Other { dims: array.dims }),
                    Err(e) => (Some(sha), FileStatus::Broken(e)),
                },
            };
            FileReport {
                name: mnist.name,
                path: path.to_path_buf(),
                sha256,
                expected: mnist.sha256,
                status,
            }
        })
        .collect()
}

/// [`verify_files`] on the four MNIST-named files of `dir`.
///
/// # Errors
/// [`DataError::IncompleteDir`] when a file is missing.
pub fn verify_dir(dir: &Path) -> Result<Vec<FileReport>, DataError> {
    Ok(verify_files(&IdxFiles::in_dir(dir)?))
}

#[cfg(all(test, not(feature = "download")))]
mod tests {
    use super::*;

    #[test]
    fn without_the_download_feature_locating_only_searches() {
        let (empty, cache) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
        let candidates = [(empty.path().to_path_buf(), Source::Local)];
        let err = locate_in(&candidates, Some(cache.path()), &["http://127.0.0.1:9/"]).unwrap_err();
        let message = err.to_string();
        assert!(matches!(err, DataError::NotFound { .. }), "{message}");
        assert!(message.contains("`download` feature"), "{message}");
        assert!(!message.contains("NN_MNIST_MIRROR"), "{message}");
        assert_eq!(std::fs::read_dir(cache.path()).unwrap().count(), 0);
    }
}
