//! The pictures a list of paths names: files as they are, folders searched for PNG files.

use std::path::{Path, PathBuf};

/// A place that yields no picture: a folder that cannot be read or holds no `.png` file.
#[derive(Debug, thiserror::Error)]
#[error("{}: {problem}", path.display())]
pub struct NoPicture {
    /// The folder.
    pub path: PathBuf,
    /// Why it gives no picture.
    pub problem: String,
}

/// The pictures `paths` name, in order: each file as it is (whatever its name), each folder's
/// `.png` files (any case of the extension; in subfolders too, not through symbolic links to
/// folders, so that no link can make a loop) sorted by name. A folder that cannot be read or
/// holds no picture is an `Err` in its place, so that the others can still be used.
///
/// ```
/// let dir = tempfile::tempdir()?;
/// std::fs::create_dir(dir.path().join("more"))?;
/// for name in ["b.png", "a.PNG", "notes.txt", "more/c.png"] {
///     std::fs::write(dir.path().join(name), b"")?;
/// }
/// let found = nn_data::picture::find_pictures(&[dir.path().to_path_buf()]);
/// let names: Vec<_> = found
///     .iter()
///     .map(|p| p.as_ref().unwrap().strip_prefix(dir.path()).unwrap().to_path_buf())
///     .collect();
/// assert_eq!(names, ["a.PNG", "b.png", "more/c.png"].map(std::path::PathBuf::from));
/// # Ok::<(), std::io::Error>(())
/// ```
pub fn find_pictures(paths: &[PathBuf]) -> Vec<Result<PathBuf, NoPicture>> {
    let mut out = Vec::new();
    for path in paths {
        if !path.is_dir() {
            out.push(Ok(path.clone()));
            continue;
        }
        let before = out.len();
        walk(path, &mut out);
        if out.len() == before {
            out.push(Err(NoPicture {
                path: path.clone(),
                problem: "no .png picture in this folder or its subfolders".to_string(),
            }));
        }
    }
    out
}

/// Appends the `.png` files under `dir` to `out` (see [`find_pictures`]).
fn walk(dir: &Path, out: &mut Vec<Result<PathBuf, NoPicture>>) {
    let entries = std::fs::read_dir(dir).and_then(|entries| {
        let mut paths = entries
            .map(|e| e.map(|e| e.path()))
            .collect::<std::io::Result<Vec<_>>>()?;
        paths.sort();
        Ok(paths)
    });
    let entries = match entries {
        Ok(entries) => entries,
        Err(e) => {
            out.push(Err(NoPicture {
                path: dir.to_path_buf(),
                problem: format!("cannot read this folder: {e}"),
            }));
            return;
        }
    };
    for path in entries {
        let linked_dir = path.is_symlink() && path.is_dir();
        if path.is_dir() && !linked_dir {
            walk(&path, out);
        } else if path.is_file() && is_png(&path) {
            out.push(Ok(path));
        }
    }
}

/// Whether `path` is named as a PNG picture.
fn is_png(path: &Path) -> bool {
    path.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| e.eq_ignore_ascii_case("png"))
}
