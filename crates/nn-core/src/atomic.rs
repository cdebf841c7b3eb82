//! Writing files so that a crash, a full disk or a failed write never leaves a half-written one
//! behind. Every file nn writes for the user (models, checkpoints, metrics, expanded data sets,
//! pictures) goes through [`write_with`]. Every file nn reads from the user is opened with
//! [`open_to_read`], which refuses a named pipe instead of blocking on it.

use std::fs::File;
use std::io::{self, Write};
use std::path::{Component, Path, PathBuf};

/// How many symbolic links [`write_with`] follows before it gives up (as Linux's `ELOOP`).
const MAX_LINKS: usize = 40;

/// Temporary files are `.nn-<pid>-<random>.tmp` in the destination's folder.
const TEMP_PREFIX: &str = ".nn-";
const TEMP_SUFFIX: &str = ".tmp";

/// Writes `path` atomically: either the whole new contents are there or the earlier file is,
/// untouched.
///
/// 1. `write` fills a temporary file created in the destination's folder (so the final rename
///    never crosses file systems); on any error the temporary file is removed and an earlier
///    file at `path` stays as it was.
/// 2. The file is flushed and `fsync`ed, so its data is on disk before its name is.
/// 3. It gets the permissions of the file it replaces, or, for a new file, those a plainly
///    created file gets: read-write for everyone, less the process's umask (0644 under the
///    usual umask 022).
/// 4. It is renamed over `path`, and on Unix the folder is `fsync`ed so the rename itself is
///    durable.
///
/// When `path` is a symbolic link, the file it points to (through any chain of links) is
/// replaced and the link is kept, as editors do; a link to a missing file creates that file.
///
/// A process killed while it writes (SIGKILL, or Ctrl-C in a program that does not catch it)
/// cannot remove its temporary file. Temporary files are named `.nn-<pid>-*.tmp`, so the next
/// write into the same folder removes those whose process no longer runs (on Linux, where
/// `/proc` tells).
pub fn write_with(path: &Path, write: impl FnOnce(&mut File) -> io::Result<()>) -> io::Result<()> {
    let target = resolve_links(path)?;
    let folder = match target.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    let existing = std::fs::metadata(&target).ok().map(|m| m.permissions());
    let mut builder = tempfile::Builder::new();
    remove_abandoned_temporaries(folder);
    let prefix = format!("{TEMP_PREFIX}{}-", std::process::id());
    builder.prefix(&prefix).suffix(TEMP_SUFFIX);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        // Created with mode 0666, so the kernel applies the umask as for any new file.
        builder.permissions(std::fs::Permissions::from_mode(0o666));
    }
    let mut temp = builder.tempfile_in(folder)?;
    if let Some(permissions) = existing {
        temp.as_file().set_permissions(permissions)?;
    }
    write(temp.as_file_mut())?;
    temp.as_file_mut().flush()?;
    temp.as_file().sync_all()?;
    temp.persist(&target).map_err(|e| e.error)?;
    #[cfg(unix)]
    sync_folder(folder)?;
    Ok(())
}

/// Removes the temporary files of [`write_with`] in `folder` left by processes that no longer
/// run. Best effort: a folder that cannot be listed, or a file that cannot be removed, is left
/// as it is. Off Linux, where no `/proc` tells whether a process runs, nothing is removed.
fn remove_abandoned_temporaries(folder: &Path) {
    if !Path::new("/proc/self").exists() {
        return;
    }
    let Ok(entries) = std::fs::read_dir(folder) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(pid) = name
            .to_str()
            .and_then(|n| n.strip_prefix(TEMP_PREFIX))
            .filter(|n| n.ends_with(TEMP_SUFFIX))
            .and_then(|n| n.split_once('-'))
            .and_then(|(pid, _)| pid.parse::<u32>().ok())
        else {
            continue;
        };
        let alive = Path::new("/proc").join(pid.to_string()).exists();
        if !alive && entry.file_type().is_ok_and(|t| t.is_file()) {
            let _ = std::fs::remove_file(entry.path());
        }
    }
}

/// `fsync`s a folder, making a rename in it durable. File systems that cannot sync a folder say
/// so with `EINVAL`; the file is in place, so that is not an error.
#[cfg(unix)]
fn sync_folder(folder: &Path) -> io::Result<()> {
    match File::open(folder)?.sync_all() {
        Err(e) if e.kind() == io::ErrorKind::InvalidInput => Ok(()),
        result => result,
    }
}

/// Writes `contents` to `path` atomically (see [`write_with`]).
pub fn write_bytes(path: &Path, contents: &[u8]) -> io::Result<()> {
    write_with(path, |file| file.write_all(contents))
}

/// Opens `path` to read it, refusing a named pipe (FIFO) or a socket with
/// [`io::ErrorKind::InvalidInput`]: opening a pipe waits until something writes into it, so
/// reading one given as a data file, a model or a picture would hang. Devices such as
/// `/dev/zero` do open; every reader bounds what it reads.
pub fn open_to_read(path: &Path) -> io::Result<File> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        let kind = std::fs::metadata(path)?.file_type();
        if kind.is_fifo() || kind.is_socket() {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "a named pipe or socket, not a file",
            ));
        }
    }
    File::open(path)
}

/// Whether two paths name the same file or directory (through links or `..`).
pub fn same_place(a: &Path, b: &Path) -> bool {
    match (Identity::of(a), Identity::of(b)) {
        (Some(a), Some(b)) => a.same(&b),
        _ => false,
    }
}

/// What a path refers to: its canonical form (absolute, links resolved, `.` and `..` applied)
/// and, for an existing file, its device and inode, which also catch hard links.
#[derive(Debug)]
pub struct Identity {
    canonical: PathBuf,
    #[cfg(unix)]
    inode: Option<(u64, u64)>,
}

impl Identity {
    /// The identity of `path`, or `None` when it cannot be made absolute.
    pub fn of(path: &Path) -> Option<Self> {
        let canonical = resolve(path)?;
        #[cfg(unix)]
        let inode = {
            use std::os::unix::fs::MetadataExt;
            std::fs::metadata(path).ok().map(|m| (m.dev(), m.ino()))
        };
        Some(Self {
            canonical,
            #[cfg(unix)]
            inode,
        })
    }

    /// Whether the two are one file or directory: the same device and inode when both exist
    /// (on Unix), else the same canonical path.
    pub fn same(&self, other: &Self) -> bool {
        #[cfg(unix)]
        if let (Some(a), Some(b)) = (self.inode, other.inode) {
            return a == b;
        }
        self.canonical == other.canonical
    }
}

/// `path` made absolute, with every symbolic link of its existing part resolved and `.` and
/// `..` applied to the rest, so that two spellings of one place compare equal.
fn resolve(path: &Path) -> Option<PathBuf> {
    let absolute = std::path::absolute(path).ok()?;
    let mut existing = absolute.as_path();
    let mut rest = Vec::new();
    loop {
        if let Ok(real) = existing.canonicalize() {
            let mut resolved = real;
            for component in rest.into_iter().rev() {
                match component {
                    Component::ParentDir => {
                        resolved.pop();
                    }
                    Component::CurDir => {}
                    other => resolved.push(other),
                }
            }
            return Some(resolved);
        }
        match (existing.parent(), existing.components().next_back()) {
            (Some(parent), Some(last)) => {
                rest.push(last);
                existing = parent;
            }
            _ => return Some(absolute.clone()),
        }
    }
}

/// The file a chain of symbolic links starting at `path` ends at (`path` itself when it is not
/// a link); relative links are taken from the folder holding the link.
fn resolve_links(path: &Path) -> io::Result<PathBuf> {
    let mut current = path.to_path_buf();
    for _ in 0..MAX_LINKS {
        match std::fs::symlink_metadata(&current) {
            Ok(meta) if meta.file_type().is_symlink() => {
                let link = std::fs::read_link(&current)?;
                current = match current.parent() {
                    Some(folder) => folder.join(link),
                    None => link,
                };
            }
            _ => return Ok(current),
        }
    }
    Err(io::Error::other(format!(
        "{}: more than {MAX_LINKS} symbolic links in a row",
        path.display()
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The process's umask as the kernel reports it (Linux), if it does.
    #[cfg(unix)]
    fn umask() -> Option<u32> {
        let status = std::fs::read_to_string("/proc/self/status").ok()?;
        let line = status.lines().find(|l| l.starts_with("Umask:"))?;
        u32::from_str_radix(line["Umask:".len()..].trim(), 8).ok()
    }

    #[cfg(unix)]
    fn mode(path: &Path) -> u32 {
        use std::os::unix::fs::PermissionsExt;
        std::fs::metadata(path).unwrap().permissions().mode() & 0o777
    }

    #[test]
    fn replaces_the_file_whole_and_leaves_nothing_else() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("out.txt");
        write_bytes(&path, b"first").unwrap();
        write_bytes(&path, b"second").unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"second");
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    }

    #[cfg(unix)]
    #[test]
    fn a_new_file_gets_the_permissions_the_umask_allows() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("new.json");
        write_bytes(&path, b"{}").unwrap();
        // A file created the ordinary way in the same process, for comparison.
        let plain = dir.path().join("plain.json");
        std::fs::write(&plain, b"{}").unwrap();
        assert_eq!(mode(&path), mode(&plain));
        if let Some(umask) = umask() {
            assert_eq!(mode(&path), 0o666 & !umask);
        }
    }

    #[cfg(unix)]
    #[test]
    fn a_replaced_file_keeps_its_permissions() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("model.json");
        std::fs::write(&path, b"old").unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o640)).unwrap();
        write_bytes(&path, b"new").unwrap();
        assert_eq!(mode(&path), 0o640);
        assert_eq!(std::fs::read(&path).unwrap(), b"new");
    }

    #[test]
    fn a_failed_write_keeps_the_old_file_and_leaves_nothing_behind() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("model.json");
        write_bytes(&path, b"good").unwrap();
        let failed = write_with(&path, |file| {
            file.write_all(b"half")?;
            Err(io::Error::other("disk full"))
        });
        assert!(failed.is_err());
        assert_eq!(std::fs::read(&path).unwrap(), b"good");
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    }

    #[test]
    fn a_failed_first_write_creates_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("model.json");
        assert!(write_with(&path, |_| Err(io::Error::other("no data"))).is_err());
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
    }

    #[cfg(unix)]
    #[test]
    fn a_symbolic_link_is_kept_and_its_target_replaced() {
        let dir = tempfile::tempdir().unwrap();
        let real = dir.path().join("real.json");
        let link = dir.path().join("link.json");
        std::fs::write(&real, b"old").unwrap();
        std::os::unix::fs::symlink("real.json", &link).unwrap();
        write_bytes(&link, b"new").unwrap();
        assert!(
            std::fs::symlink_metadata(&link)
                .unwrap()
                .file_type()
                .is_symlink()
        );
        assert_eq!(std::fs::read(&real).unwrap(), b"new");
        // A link to a file not there yet creates the file.
        let dangling = dir.path().join("dangling.json");
        std::os::unix::fs::symlink("created.json", &dangling).unwrap();
        write_bytes(&dangling, b"made").unwrap();
        assert_eq!(
            std::fs::read(dir.path().join("created.json")).unwrap(),
            b"made"
        );
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 4);
    }

    #[test]
    fn a_temporary_file_of_a_killed_writer_is_removed_by_the_next_write() {
        let dir = tempfile::tempdir().unwrap();
        // A process that has exited: its pid no longer runs.
        let mut child = std::process::Command::new("true").spawn().unwrap();
        let dead = child.id();
        child.wait().unwrap();
        let abandoned = dir.path().join(format!(".nn-{dead}-a1b2c3.tmp"));
        let running = dir
            .path()
            .join(format!(".nn-{}-d4e5f6.tmp", std::process::id()));
        let unrelated = dir.path().join(".nn-notes.tmp");
        for file in [&abandoned, &running, &unrelated] {
            std::fs::write(file, b"half").unwrap();
        }
        write_bytes(&dir.path().join("model.json"), b"{}").unwrap();
        if Path::new("/proc/self").exists() {
            assert!(
                !abandoned.exists(),
                "the dead writer's temporary file is still there"
            );
        }
        assert!(
            running.exists(),
            "a running writer's temporary file was removed"
        );
        assert!(
            unrelated.exists(),
            "a file not named by write_with was removed"
        );
    }

    #[cfg(unix)]
    #[test]
    fn a_loop_of_links_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let (a, b) = (dir.path().join("a"), dir.path().join("b"));
        std::os::unix::fs::symlink("b", &a).unwrap();
        std::os::unix::fs::symlink("a", &b).unwrap();
        let error = write_bytes(&a, b"x").unwrap_err().to_string();
        assert!(error.contains("symbolic links"), "{error}");
    }
}
