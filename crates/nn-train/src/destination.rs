//! Checking, before any work, every file a program will write, so that a typo does not cost a
//! whole run and no output ever replaces one of the run's inputs.
//!
//! ```
//! use nn_train::destination::{Destination, DestinationError, check};
//!
//! let dir = tempfile::tempdir()?;
//! let model = dir.path().join("model.json");
//! std::fs::write(&model, "{}")?;
//! // Saving over the model that is read is refused, naming the setting.
//! let error = check(&[Destination::file("`save`", &model, &["json"])], &[&model]).unwrap_err();
//! assert!(matches!(error, DestinationError::Input { .. }));
//! check(&[Destination::file("`save`", &dir.path().join("new.json"), &["json"])], &[&model])?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::path::{Path, PathBuf};

use nn_core::atomic::Identity;
pub use nn_core::atomic::same_place;
use nn_data::IdxFiles;

use crate::lock::{Lock, LockError};

/// A destination refused by [`check`] or [`lock`]; `name` is what names it (a setting, a flag).
#[derive(Debug, thiserror::Error)]
pub enum DestinationError {
    /// A directory was asked for and a file is there.
    #[error("{name} {}: this is a file; give a directory", path.display())]
    FileForDirectory {
        /// What names the destination.
        name: &'static str,
        /// The destination.
        path: PathBuf,
    },
    /// A file name without one of the extensions written.
    #[error("{name} {}: use a file name ending in .{}", path.display(), extensions.join(" or ."))]
    Extension {
        /// What names the destination.
        name: &'static str,
        /// The destination.
        path: PathBuf,
        /// The extensions written.
        extensions: &'static [&'static str],
    },
    /// A file was asked for and a directory is there.
    #[error("{name} {}: this is a directory; give a file name", path.display())]
    DirectoryForFile {
        /// What names the destination.
        name: &'static str,
        /// The destination.
        path: PathBuf,
    },
    /// The folder it would go into does not exist.
    #[error("{name} {}: the directory {} does not exist", path.display(), folder.display())]
    NoFolder {
        /// What names the destination.
        name: &'static str,
        /// The destination.
        path: PathBuf,
        /// Its folder.
        folder: PathBuf,
    },
    /// No new file can be made in its folder.
    #[error("{name} {}: cannot write into the directory {}: {source}", path.display(), folder.display())]
    NotWritable {
        /// What names the destination.
        name: &'static str,
        /// The destination.
        path: PathBuf,
        /// Its folder.
        folder: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// It is one of the inputs.
    #[error("{name} {}: this is one of the run's inputs; writing it would destroy it", path.display())]
    Input {
        /// What names the destination.
        name: &'static str,
        /// The destination.
        path: PathBuf,
    },
    /// Another destination is the same place.
    #[error("{name} {}: {other} writes to the same place; give another name", path.display())]
    Same {
        /// What names the destination.
        name: &'static str,
        /// The destination.
        path: PathBuf,
        /// What names the other one.
        other: &'static str,
    },
    /// A live process holds it.
    #[error("{name} {}: {source}", path.display())]
    Locked {
        /// What names the destination.
        name: &'static str,
        /// The destination.
        path: PathBuf,
        /// The lock's refusal, naming the process.
        source: LockError,
    },
}

/// One file (or, with no extensions, directory) a command will write.
#[derive(Debug, Clone, Copy)]
pub struct Destination<'a> {
    /// What names it in messages: a setting (`` `save` ``) or a flag.
    pub name: &'static str,
    /// Where it goes.
    pub path: &'a Path,
    /// The extensions written (lower case, without the dot); empty for a directory.
    pub extensions: &'static [&'static str],
}

impl<'a> Destination<'a> {
    /// A file named by `name`, with one of `extensions`.
    pub fn file(name: &'static str, path: &'a Path, extensions: &'static [&'static str]) -> Self {
        Self {
            name,
            path,
            extensions,
        }
    }

    /// A directory named by `name`.
    pub fn dir(name: &'static str, path: &'a Path) -> Self {
        Self {
            name,
            path,
            extensions: &[],
        }
    }

    /// True for a directory destination.
    pub fn is_dir(&self) -> bool {
        self.extensions.is_empty()
    }
}

/// Locks every destination (checked first with [`check`], so that their folders exist) against
/// other live processes for as long as the locks live ([`Lock`]); the error names the
/// destination and the process that holds it.
pub fn lock(destinations: &[Destination<'_>]) -> Result<Vec<Lock>, DestinationError> {
    destinations
        .iter()
        .map(|d| {
            let lock = if d.is_dir() {
                Lock::dir(d.path)
            } else {
                Lock::file(d.path)
            };
            lock.map_err(|source| DestinationError::Locked {
                name: d.name,
                path: d.path.to_path_buf(),
                source,
            })
        })
        .collect()
}

/// Checks every destination: a known extension, not a directory (or, for a directory
/// destination, not a file), a parent directory that exists and takes a new file (a probe file
/// is created there and removed), and no destination that is (through links or `..`) one of the
/// `inputs` or another destination.
pub fn check(destinations: &[Destination<'_>], inputs: &[&Path]) -> Result<(), DestinationError> {
    let inputs: Vec<Identity> = inputs.iter().filter_map(|p| Identity::of(p)).collect();
    let mut seen: Vec<(Identity, &'static str)> = Vec::new();
    for d in destinations {
        let (name, path) = (d.name, d.path.to_path_buf());
        if d.is_dir() {
            if d.path.is_file() {
                return Err(DestinationError::FileForDirectory { name, path });
            }
        } else {
            let ext = d
                .path
                .extension()
                .and_then(|e| e.to_str())
                .map(str::to_ascii_lowercase);
            if !ext.is_some_and(|e| d.extensions.contains(&e.as_str())) {
                return Err(DestinationError::Extension {
                    name,
                    path,
                    extensions: d.extensions,
                });
            }
            if d.path.is_dir() {
                return Err(DestinationError::DirectoryForFile { name, path });
            }
        }
        let folder = if d.extensions.is_empty() && d.path.is_dir() {
            d.path
        } else {
            match d.path.parent() {
                Some(p) if !p.as_os_str().is_empty() => p,
                _ => Path::new("."),
            }
        };
        if !folder.is_dir() {
            let folder = folder.to_path_buf();
            return Err(DestinationError::NoFolder { name, path, folder });
        }
        if let Err(source) = tempfile::NamedTempFile::new_in(folder) {
            let folder = folder.to_path_buf();
            return Err(DestinationError::NotWritable {
                name,
                path,
                folder,
                source,
            });
        }
        let Some(identity) = Identity::of(d.path) else {
            continue;
        };
        if inputs.iter().any(|i| i.same(&identity)) {
            return Err(DestinationError::Input { name, path });
        }
        if let Some((_, other)) = seen.iter().find(|(i, _)| i.same(&identity)) {
            let other = *other;
            return Err(DestinationError::Same { name, path, other });
        }
        seen.push((identity, name));
    }
    Ok(())
}

/// The four files of a data set: inputs that no output may replace.
pub fn data_files(files: &IdxFiles) -> Vec<PathBuf> {
    files
        .roles()
        .into_iter()
        .map(|(_, path)| path.to_path_buf())
        .collect()
}

/// Where a model that could not be saved at its destination goes instead: a new file of a
/// unique name in the system's temporary directory, else in the current directory.
pub fn fallback(prefix: &str, extension: &str) -> std::io::Result<PathBuf> {
    let suffix = format!(".{extension}");
    let dirs = [std::env::temp_dir(), PathBuf::from(".")];
    let mut last = None;
    for dir in dirs {
        match tempfile::Builder::new()
            .prefix(prefix)
            .suffix(&suffix)
            .tempfile_in(&dir)
            .and_then(|f| f.keep().map_err(|e| e.error))
        {
            Ok((_, path)) => return Ok(path),
            Err(e) => last = Some(e),
        }
    }
    Err(last.expect("two directories tried"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_destination_through_a_link_or_dotdot_to_an_input_is_refused() {
        let tmp = tempfile::tempdir().unwrap();
        let input = tmp.path().join("model.json");
        std::fs::write(&input, "{}").unwrap();
        let sub = tmp.path().join("sub");
        std::fs::create_dir(&sub).unwrap();
        let dotdot = sub.join("../model.json");
        let error = check(
            &[Destination::file("`save`", &dotdot, &["json"])],
            &[&input],
        )
        .unwrap_err()
        .to_string();
        assert!(error.contains("inputs"), "{error}");
        #[cfg(unix)]
        {
            let link = tmp.path().join("link.json");
            std::os::unix::fs::symlink(&input, &link).unwrap();
            assert!(check(&[Destination::file("`save`", &link, &["json"])], &[&input]).is_err());
            let hard = tmp.path().join("hard.json");
            std::fs::hard_link(&input, &hard).unwrap();
            assert!(check(&[Destination::file("`save`", &hard, &["json"])], &[&input]).is_err());
        }
        let fresh = tmp.path().join("new.json");
        check(&[Destination::file("`save`", &fresh, &["json"])], &[&input]).unwrap();
        assert_eq!(
            std::fs::read_dir(tmp.path()).unwrap().count(),
            2 + 2 * usize::from(cfg!(unix))
        );
    }

    #[test]
    fn two_destinations_of_one_file_are_refused() {
        let tmp = tempfile::tempdir().unwrap();
        let a = tmp.path().join("out.json");
        let b = tmp.path().join("./out.json");
        let error = check(
            &[
                Destination::file("`save`", &a, &["json"]),
                Destination::file("`metrics`", &b, &["json"]),
            ],
            &[],
        )
        .unwrap_err()
        .to_string();
        assert!(
            error.contains("`metrics`") && error.contains("`save`"),
            "{error}"
        );
    }

    #[test]
    fn a_missing_folder_a_directory_or_a_wrong_extension_is_refused() {
        let tmp = tempfile::tempdir().unwrap();
        let missing = tmp.path().join("no/such/model.json");
        assert!(check(&[Destination::file("`save`", &missing, &["json"])], &[]).is_err());
        assert!(check(&[Destination::file("`save`", tmp.path(), &["json"])], &[]).is_err());
        let text = tmp.path().join("model.txt");
        assert!(check(&[Destination::file("`save`", &text, &["json"])], &[]).is_err());
    }
}
