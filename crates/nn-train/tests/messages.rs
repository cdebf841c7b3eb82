//! The library crates speak of settings by their field names, never by a front end's flags:
//! no string in their sources names a command-line flag (`--eta`), so a Python user never sees
//! one, and each front end spells the fields its own way (`nn_train::Field::rewrite`).

use std::path::Path;

/// Every line of code (not comment) in the `.rs` files under `dir` that holds a string with a
/// command-line flag, as `file:line: text`.
fn flag_strings(dir: &Path, found: &mut Vec<String>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            flag_strings(&path, found);
            continue;
        }
        if path.extension().is_none_or(|e| e != "rs") {
            continue;
        }
        let text = std::fs::read_to_string(&path).unwrap();
        let mut continued = false;
        for (number, line) in text.lines().enumerate() {
            let code = line.trim_start();
            if code.starts_with("//") {
                continue;
            }
            // A line after one ending in `\` continues a string literal.
            let inside = std::mem::replace(&mut continued, code.ends_with('\\'));
            let flag = code.match_indices("--").any(|(at, _)| {
                let quotes = code[..at].matches('"').count();
                let quoted = (quotes % 2 == 1) != inside;
                let letter = code[at + 2..].starts_with(|c: char| c.is_ascii_lowercase());
                quoted && letter
            });
            if flag {
                found.push(format!("{}:{}: {}", path.display(), number + 1, code));
            }
        }
    }
}

#[test]
fn no_library_string_names_a_command_line_flag() {
    let crates = nn_testdata::workspace_root().join("crates");
    let mut found = Vec::new();
    for library in [
        "nn-core",
        "nn-costs",
        "nn-regularize",
        "nn-data",
        "nn-train",
        "nn-chapter",
        "nn-tensorboard",
        "nn-export",
    ] {
        flag_strings(&crates.join(library).join("src"), &mut found);
    }
    assert!(
        found.is_empty(),
        "flags in library strings:\n{}",
        found.join("\n")
    );

    // The scan sees a flag in a continued string line and in a quoted one.
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("bad.rs"),
        "let a = \"use --eta 0.5\";\nlet b = \"a long line \\\n         --lambda 5, continued\";\n\
         // --eta in a comment\nlet c = x -- y;\n",
    )
    .unwrap();
    let mut control = Vec::new();
    flag_strings(dir.path(), &mut control);
    assert_eq!(control.len(), 2, "{control:?}");
}
