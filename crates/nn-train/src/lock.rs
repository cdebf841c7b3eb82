//! Advisory locks that keep two live processes off one checkpoint folder or one output file.
//!
//! A [`Lock`] is a small file holding its owner's process id, locked with the operating
//! system's advisory file lock ([`std::fs::File::try_lock`]: `flock` on Unix, `LockFileEx` on
//! Windows): `.nn-lock` inside a folder, `.<name>.nn-lock` beside a file. The operating system
//! drops the lock when its process ends in any way (an exit, a crash, `kill -9`, a power loss),
//! so a run that was killed never leaves a folder locked: the next run takes its stale lock file
//! over. A lock released normally removes its file.
//!
//! ```
//! use nn_train::lock::{Lock, LockError};
//!
//! let dir = tempfile::tempdir()?;
//! let held = Lock::dir(dir.path())?;
//! // A second claim, even from the same process, is refused while the first is held ...
//! let error = Lock::dir(dir.path()).unwrap_err();
//! assert!(matches!(error, LockError::Held { pid: Some(pid), .. } if pid == std::process::id()));
//! // ... and granted once it is released.
//! drop(held);
//! Lock::dir(dir.path())?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::fs::{File, OpenOptions, TryLockError};
use std::io::{Read, Seek, Write};
use std::path::{Path, PathBuf};

/// How many times [`Lock`] opens its file again when the file it locked was removed (by its
/// previous owner releasing it) between the open and the lock.
const ATTEMPTS: usize = 16;

/// A folder's or a file's lock, held until dropped.
#[derive(Debug)]
pub struct Lock {
    file: File,
    path: PathBuf,
}

/// A lock that cannot be taken.
#[derive(Debug, thiserror::Error)]
pub enum LockError {
    /// Another live process holds the lock.
    #[error(
        "{} is in use by another running process{}, which holds its lock file {}; wait for \
         that process to end, or choose another",
        guarded.display(),
        pid.map_or_else(String::new, |p| format!(", pid {p}")),
        lock.display()
    )]
    Held {
        /// The folder or file the lock guards.
        guarded: PathBuf,
        /// The lock file.
        lock: PathBuf,
        /// The process holding it, as its lock file says (unknown while it is being written).
        pid: Option<u32>,
    },
    /// The lock file cannot be created or locked.
    #[error("cannot lock {}", lock.display())]
    Io {
        /// The lock file.
        lock: PathBuf,
        /// The operating-system error.
        source: std::io::Error,
    },
}

impl Lock {
    /// Locks the folder `dir` (which must exist) with the file `.nn-lock` inside it.
    pub fn dir(dir: &Path) -> Result<Self, LockError> {
        Self::acquire(dir.join(".nn-lock"), dir)
    }

    /// Locks the file `path` (which need not exist yet) with `.<name>.nn-lock` beside it: the
    /// file itself is replaced by atomic renames, which an advisory lock on it would not
    /// survive.
    pub fn file(path: &Path) -> Result<Self, LockError> {
        let name = path
            .file_name()
            .unwrap_or(path.as_os_str())
            .to_string_lossy();
        Self::acquire(path.with_file_name(format!(".{name}.nn-lock")), path)
    }

    /// The lock file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn acquire(lock: PathBuf, guarded: &Path) -> Result<Self, LockError> {
        let io = |source| LockError::Io {
            lock: lock.clone(),
            source,
        };
        for _ in 0..ATTEMPTS {
            let mut file = OpenOptions::new()
                .read(true)
                .write(true)
                .create(true)
                .truncate(false)
                .open(&lock)
                .map_err(io)?;
            match file.try_lock() {
                Ok(()) => {}
                Err(TryLockError::WouldBlock) => {
                    return Err(LockError::Held {
                        guarded: guarded.to_path_buf(),
                        pid: holder(&mut file),
                        lock,
                    });
                }
                Err(TryLockError::Error(source)) => return Err(io(source)),
            }
            // The previous owner may have removed the file between our open and our lock: then
            // the lock is on a file nobody else will open, and must be taken again.
            if !same_file(&file, &lock) {
                continue;
            }
            file.set_len(0).map_err(io)?;
            writeln!(file, "{}", std::process::id()).map_err(io)?;
            return Ok(Self { file, path: lock });
        }
        Err(io(std::io::Error::other(
            "its lock file kept being replaced while it was taken",
        )))
    }
}

impl Drop for Lock {
    fn drop(&mut self) {
        // Removed while still locked, so no other process can have locked this file meanwhile;
        // one that opened it and waits for it finds it gone and opens the path again.
        let _ = std::fs::remove_file(&self.path);
        let _ = self.file.unlock();
    }
}

/// The process id a held lock file names, if it can be read yet.
fn holder(file: &mut File) -> Option<u32> {
    let mut text = String::new();
    file.rewind().ok()?;
    file.take(32).read_to_string(&mut text).ok()?;
    text.trim().parse().ok()
}

/// Whether the open `file` is the file at `path` now.
fn same_file(file: &File, path: &Path) -> bool {
    let (Ok(open), Ok(named)) = (file.metadata(), std::fs::metadata(path)) else {
        return false;
    };
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        (open.dev(), open.ino()) == (named.dev(), named.ino())
    }
    #[cfg(not(unix))]
    {
        // Windows refuses to delete an open file, so the file cannot have been replaced.
        let _ = (open, named);
        true
    }
}
