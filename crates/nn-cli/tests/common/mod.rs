//! Helpers shared by the end-to-end tests: finding MNIST and running the `nn` binary.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The MNIST directory, found as `nn` finds it (downloaded once if need be), as an absolute
/// path usable from any working directory. (Not every test binary needs MNIST.)
#[allow(dead_code)]
pub fn data_dir() -> PathBuf {
    let dir = nn_testdata::mnist_dir();
    dir.canonicalize()
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
}

/// `nn` run in `cwd`, without `MNIST_DIR` from the environment.
pub fn nn(cwd: &Path) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_nn"));
    command.current_dir(cwd).env_remove("MNIST_DIR");
    command
}

/// Runs `nn` with `args` in `cwd`.
pub fn run(cwd: &Path, args: &[&str]) -> Output {
    nn(cwd).args(args).output().expect("nn runs")
}

/// What the run printed on standard output.
pub fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// What the run printed on standard error.
pub fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// Asserts success, showing the output otherwise.
pub fn ok(output: Output) -> Output {
    assert!(
        output.status.success(),
        "nn failed: {}\n{}",
        stderr(&output),
        stdout(&output)
    );
    output
}

/// Asserts a user error: non-zero exit, exactly one `error:` line, no panic, and a message
/// holding every one of `expected` (case-insensitive).
#[allow(dead_code)]
#[track_caller]
pub fn assert_refused(output: &Output, expected: &[&str]) {
    let err = stderr(output);
    assert!(!output.status.success(), "expected failure, got: {err}");
    assert!(!err.contains("panicked"), "stderr: {err}");
    assert_eq!(
        err.lines().filter(|l| l.starts_with("error:")).count(),
        1,
        "exactly one error line: {err}"
    );
    let line = err
        .lines()
        .find(|l| l.starts_with("error:"))
        .unwrap_or_default()
        .to_lowercase();
    for e in expected {
        assert!(
            line.contains(&e.to_lowercase()),
            "the error should mention '{e}': {err}"
        );
    }
}
