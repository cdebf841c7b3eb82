//! Checking, before any work, every file a command will write, so that a typo does not cost a
//! whole run and no output ever replaces one of the run's inputs.

use std::path::{Component, Path, PathBuf};

use anyhow::{Context, Result, bail};
use nn_data::IdxFiles;
use nn_train::lock::Lock;

/// One file (or, with no extensions, directory) a command will write.
#[derive(Debug, Clone, Copy)]
pub struct Destination<'a> {
    /// The flag that names it, e.g. `--save`.
    pub flag: &'static str,
    /// Where it goes.
    pub path: &'a Path,
    /// The extensions written (lower case, without the dot); empty for a directory.
    pub extensions: &'static [&'static str],
}

impl<'a> Destination<'a> {
    /// A file named by `flag`, with one of `extensions`.
    pub fn file(flag: &'static str, path: &'a Path, extensions: &'static [&'static str]) -> Self {
        Self {
            flag,
            path,
            extensions,
        }
    }

    /// A directory named by `flag`.
    pub fn dir(flag: &'static str, path: &'a Path) -> Self {
        Self {
            flag,
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
/// other live processes for as long as the locks live ([`Lock`]); the error names the flag and
/// the process that holds the destination.
pub fn lock(destinations: &[Destination<'_>]) -> Result<Vec<Lock>> {
    destinations
        .iter()
        .map(|d| {
            let lock = if d.is_dir() {
                Lock::dir(d.path)
            } else {
                Lock::file(d.path)
            };
            lock.with_context(|| format!("{} {}", d.flag, d.path.display()))
        })
        .collect()
}

/// Checks every destination: a known extension, not a directory (or, for a directory
/// destination, not a file), a parent directory that exists and takes a new file (a probe file
/// is created there and removed), and no destination that is (through links or `..`) one of the
/// `inputs` or another destination. The error names the flag.
pub fn check(destinations: &[Destination<'_>], inputs: &[&Path]) -> Result<()> {
    let inputs: Vec<Identity> = inputs.iter().filter_map(|p| Identity::of(p)).collect();
    let mut seen: Vec<(Identity, &'static str)> = Vec::new();
    for d in destinations {
        let shown = d.path.display();
        let flag = d.flag;
        if d.is_dir() {
            if d.path.is_file() {
                bail!("{flag} {shown}: this is a file; give a directory");
            }
        } else {
            let ext = d
                .path
                .extension()
                .and_then(|e| e.to_str())
                .map(str::to_ascii_lowercase);
            if !ext.is_some_and(|e| d.extensions.contains(&e.as_str())) {
                bail!(
                    "{flag} {shown}: use a file name ending in .{}",
                    d.extensions.join(" or .")
                );
            }
            if d.path.is_dir() {
                bail!("{flag} {shown}: this is a directory; give a file name");
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
            bail!(
                "{flag} {shown}: the directory {} does not exist",
                folder.display()
            );
        }
        tempfile::NamedTempFile::new_in(folder).with_context(|| {
            format!(
                "{flag} {shown}: cannot write into the directory {}",
                folder.display()
            )
        })?;
        let Some(identity) = Identity::of(d.path) else {
            continue;
        };
        if inputs.iter().any(|i| i.same(&identity)) {
            bail!("{flag} {shown}: this is one of the run's inputs; writing it would destroy it");
        }
        if let Some((_, other)) = seen.iter().find(|(i, _)| i.same(&identity)) {
            bail!("{flag} {shown}: {other} writes to the same place; give another name");
        }
        seen.push((identity, flag));
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

/// Whether two paths name the same file or directory (through links or `..`).
pub fn same_place(a: &Path, b: &Path) -> bool {
    match (Identity::of(a), Identity::of(b)) {
        (Some(a), Some(b)) => a.same(&b),
        _ => false,
    }
}

/// What a path refers to: its canonical form (see [`resolve`]) and, for an existing file, its device and
/// inode, which also catch hard links.
#[derive(Debug)]
struct Identity {
    canonical: PathBuf,
    #[cfg(unix)]
    inode: Option<(u64, u64)>,
}

impl Identity {
    fn of(path: &Path) -> Option<Self> {
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

    fn same(&self, other: &Self) -> bool {
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

/// Where a model that could not be saved at its destination goes instead: a new file of a
/// unique name in the system's temporary directory, else in the current directory.
pub fn fallback(prefix: &str, extension: &str) -> Result<PathBuf> {
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
    Err(last.expect("two directories tried").into())
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
            &[Destination::file("--save", &dotdot, &["json"])],
            &[&input],
        )
        .unwrap_err()
        .to_string();
        assert!(error.contains("inputs"), "{error}");
        #[cfg(unix)]
        {
            let link = tmp.path().join("link.json");
            std::os::unix::fs::symlink(&input, &link).unwrap();
            assert!(check(&[Destination::file("--save", &link, &["json"])], &[&input]).is_err());
            let hard = tmp.path().join("hard.json");
            std::fs::hard_link(&input, &hard).unwrap();
            assert!(check(&[Destination::file("--save", &hard, &["json"])], &[&input]).is_err());
        }
        let fresh = tmp.path().join("new.json");
        check(&[Destination::file("--save", &fresh, &["json"])], &[&input]).unwrap();
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
                Destination::file("--save", &a, &["json"]),
                Destination::file("--metrics", &b, &["json"]),
            ],
            &[],
        )
        .unwrap_err()
        .to_string();
        assert!(
            error.contains("--metrics") && error.contains("--save"),
            "{error}"
        );
    }

    #[test]
    fn a_missing_folder_a_directory_or_a_wrong_extension_is_refused() {
        let tmp = tempfile::tempdir().unwrap();
        let missing = tmp.path().join("no/such/model.json");
        assert!(check(&[Destination::file("--save", &missing, &["json"])], &[]).is_err());
        assert!(check(&[Destination::file("--save", tmp.path(), &["json"])], &[]).is_err());
        let text = tmp.path().join("model.txt");
        assert!(check(&[Destination::file("--save", &text, &["json"])], &[]).is_err());
    }
}
