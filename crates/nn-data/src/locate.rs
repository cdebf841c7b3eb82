//! Finding the MNIST files on disk (downloading them as a last resort) and verifying them.

use std::path::{Path, PathBuf};

use rayon::prelude::*;

use crate::DataError;
use crate::digest::sha256_of_content;
use crate::download::{download_mnist, mirrors};
use crate::mnist::{MNIST_FILES, find_file};

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
    /// A shared copy beside the project (`../shared/data/mnist` or `../../shared/data/mnist`).
    Shared,
    /// The per-user cache directory.
    Cache,
    /// Downloaded into the cache directory just now.
    Downloaded,
}

/// A directory holding all four MNIST files, and how it was found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DataLocation {
    /// The directory.
    pub dir: PathBuf,
    /// How it was found.
    pub source: Source,
}

/// The verification of one file by [`verify_dir`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileReport {
    /// Standard name without `.gz`.
    pub name: String,
    /// The file checked (compressed or not).
    pub path: PathBuf,
    /// SHA-256 of its decompressed content.
    pub sha256: String,
    /// The published SHA-256.
    pub expected: String,
    /// Whether the two agree.
    pub ok: bool,
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

/// The directories searched by [`locate_mnist`] before the cache, in order.
pub fn candidate_dirs(explicit: Option<&Path>) -> Vec<(PathBuf, Source)> {
    let mut dirs = Vec::new();
    if let Some(dir) = explicit {
        dirs.push((dir.to_path_buf(), Source::Explicit));
    }
    if let Some(dir) = std::env::var_os(DIR_ENV).filter(|v| !v.is_empty()) {
        dirs.push((PathBuf::from(dir), Source::Env));
    }
    dirs.push((PathBuf::from("data/mnist"), Source::Local));
    dirs.push((PathBuf::from("../shared/data/mnist"), Source::Shared));
    dirs.push((PathBuf::from("../../shared/data/mnist"), Source::Shared));
    dirs
}

/// Finds a directory holding the four MNIST files (each `.gz` or uncompressed). An explicit
/// directory must hold them ([`DataError::IncompleteDir`] otherwise); without one, searches `$MNIST_DIR`, `./data/mnist`, `../shared/data/mnist`,
/// `../../shared/data/mnist` and the cache directory; when none qualifies, downloads the files
/// into the cache directory from the mirrors (see [`crate::download::mirrors`]).
///
/// # Errors
/// [`DataError::NotFound`], listing every place looked and the download failure.
pub fn locate_mnist(explicit: Option<&Path>) -> Result<DataLocation, DataError> {
    let mirrors = mirrors();
    let mirrors: Vec<&str> = mirrors.iter().map(String::as_str).collect();
    locate_in(&candidate_dirs(explicit), cache_dir().as_deref(), &mirrors)
}

/// [`locate_mnist`] over given candidates, cache directory and mirrors.
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
    match download_mnist(cache, mirrors) {
        Ok(()) => Ok(DataLocation {
            dir: cache.to_path_buf(),
            source: Source::Downloaded,
        }),
        Err(e) => Err(DataError::NotFound {
            looked,
            download: format!("downloading into {} failed: {e}", cache.display()),
        }),
    }
}

/// `None` when `dir` holds all four files, else why it does not.
fn missing_files(dir: &Path) -> Option<String> {
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

/// Checks the SHA-256 of the decompressed content of each MNIST file in `dir` against the
/// published values.
///
/// # Errors
/// When a file is missing or unreadable; a mismatch is reported in its [`FileReport`], not as an
/// error.
pub fn verify_dir(dir: &Path) -> Result<Vec<FileReport>, DataError> {
    MNIST_FILES
        .par_iter()
        .map(|f| {
            let path = find_file(dir, f).ok_or_else(|| {
                DataError::io(
                    &dir.join(format!("{}.gz", f.name)),
                    std::io::Error::new(std::io::ErrorKind::NotFound, "no such file"),
                )
            })?;
            let sha256 = sha256_of_content(&path)?;
            Ok(FileReport {
                name: f.name.to_string(),
                ok: sha256 == f.sha256,
                path,
                sha256,
                expected: f.sha256.to_string(),
            })
        })
        .collect()
}

/// Like [`verify_dir`], but a mismatch is an error: [`DataError::ChecksumMismatch`] for the
/// first file that fails.
pub fn require_verified(dir: &Path) -> Result<Vec<FileReport>, DataError> {
    let reports = verify_dir(dir)?;
    if let Some(bad) = reports.iter().find(|r| !r.ok) {
        return Err(DataError::ChecksumMismatch {
            file: bad.path.display().to_string(),
            expected: bad.expected.clone(),
            actual: bad.sha256.clone(),
        });
    }
    Ok(reports)
}
