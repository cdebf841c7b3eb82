//! Helpers shared by the end-to-end tests: finding MNIST and running the `nn` binary.

use std::ffi::OsStr;
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
pub fn run<S: AsRef<OsStr>>(cwd: &Path, args: &[S]) -> Output {
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

/// The flags of `nn train` on the first `train_size` MNIST training images, monitoring 500
/// validation images, with `extra` appended.
#[allow(dead_code)]
pub fn mnist_train_args(train_size: usize, extra: &[&str]) -> Vec<String> {
    let data = data_dir();
    let fixed = [
        "train",
        "--data",
        data.to_str().unwrap(),
        "--train-size",
        &train_size.to_string(),
        "--validation-size",
        "500",
    ]
    .map(str::to_string);
    fixed
        .into_iter()
        .chain(extra.iter().map(|s| s.to_string()))
        .collect()
}

/// Draws each of the first ten MNIST test digits dark on light at 100x100 pixels, asks
/// `nn predict MODEL` (run in `cwd`) for its class, hands each output to `check`, and returns
/// how many digits were recognised.
#[allow(dead_code)]
pub fn recognised_test_digits(cwd: &Path, model: &str, check: impl Fn(&str)) -> usize {
    let test = nn_data::load_splits(&data_dir(), Some(10_000))
        .unwrap()
        .test;
    let digit_line = regex::Regex::new(r"(?m)^Digit: (\d)$").unwrap();
    (0..10)
        .filter(|&i| {
            let pixels = test.image(i);
            let picture = image::RgbImage::from_fn(100, 100, |x, y| {
                let (px, py) = ((x * 28 / 100) as usize, (y * 28 / 100) as usize);
                let v = 255 - pixels[py * 28 + px];
                image::Rgb([v, v, v])
            });
            let path = cwd.join(format!("digit{i}.png"));
            picture.save(&path).unwrap();
            let out = ok(run(cwd, &["predict", model, path.to_str().unwrap()]));
            let text = stdout(&out);
            check(&text);
            let predicted: u8 = digit_line
                .captures(&text)
                .unwrap_or_else(|| panic!("no digit in {text}"))[1]
                .parse()
                .unwrap();
            predicted == test.label(i)
        })
        .count()
}
