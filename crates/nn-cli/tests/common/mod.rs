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
    let drawing = Drawing {
        page: 100,
        margin: 0,
        scale: 100.0 / 28.0,
    };
    recognised_drawings(cwd, &[model], 0..10, drawing, check)
}

/// How an MNIST test digit is drawn on a page, dark ink on white.
#[allow(dead_code)]
#[derive(Debug, Clone, Copy)]
pub struct Drawing {
    /// The page's side in pixels.
    pub page: u32,
    /// White pixels left and above the digit.
    pub margin: u32,
    /// Page pixels per MNIST pixel.
    pub scale: f32,
}

/// Draws each MNIST test digit of `digits` as `drawing` says, runs `nn predict` with
/// `args` (the model and any flags) and the picture in `cwd`, hands each output to `check`,
/// and returns how many digits were recognised.
#[allow(dead_code)]
pub fn recognised_drawings(
    cwd: &Path,
    args: &[&str],
    digits: std::ops::Range<usize>,
    drawing: Drawing,
    check: impl Fn(&str),
) -> usize {
    let test = nn_data::load_splits(&data_dir(), Some(10_000))
        .unwrap()
        .test;
    let digit_line = regex::Regex::new(r"(?m)^Digit: (\d)$").unwrap();
    digits
        .filter(|&i| {
            let pixels = test.image(i);
            let picture = image::RgbImage::from_fn(drawing.page, drawing.page, |x, y| {
                let at = |v: u32| ((v as f32 - drawing.margin as f32) / drawing.scale).floor();
                let (px, py) = (at(x), at(y));
                let inside = (0.0..28.0).contains(&px) && (0.0..28.0).contains(&py);
                let ink = if inside {
                    pixels[py as usize * 28 + px as usize]
                } else {
                    0
                };
                image::Rgb([255 - ink; 3])
            });
            let path = cwd.join(format!("digit{i}.png"));
            picture.save(&path).unwrap();
            let mut command = vec!["predict"];
            command.extend_from_slice(args);
            command.push(path.to_str().unwrap());
            let text = stdout(&ok(run(cwd, &command)));
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
