//! `nn search eta` and `nn search lambda` against the chapter's account of them, on MNIST.

mod common;

use common::{data_dir, ok, run, stdout};
use tempfile::TempDir;

/// The number after `key` in `line`, e.g. the threshold after "up to eta = ".
fn number_after(line: &str, key: &str) -> f64 {
    let start = line
        .find(key)
        .unwrap_or_else(|| panic!("no '{key}' in {line}"))
        + key.len();
    line[start..]
        .split(|c: char| !(c.is_ascii_digit() || c == '.' || c == 'e' || c == '-'))
        .next()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("no number after '{key}' in {line}"))
}

/// The test accuracy (%) `nn train` prints.
fn test_accuracy(out: &str) -> f64 {
    let line = out
        .lines()
        .find(|l| l.contains("Test accuracy"))
        .unwrap_or_else(|| panic!("no test accuracy in:\n{out}"));
    number_after(line, "(")
}

#[test]
fn eta_search_on_the_books_network_lands_within_a_factor_of_two_of_the_books_threshold() {
    // The chapter, on 784,30,10 with lambda 5 and all 50,000 images: threshold 0.5, so 0.25.
    let dir = TempDir::new().unwrap();
    let data = data_dir();
    let data = data.to_str().unwrap();
    let out = stdout(&ok(run(dir.path(), &["search", "eta", "--data", data])));
    let verdict = out
        .lines()
        .find(|l| l.starts_with("Threshold:"))
        .unwrap_or_else(|| panic!("no threshold found:\n{out}"));
    let threshold = number_after(verdict, "up to eta = ");
    let proposed = number_after(verdict, "proposed eta = ");
    assert!(
        (0.25..=1.0).contains(&threshold),
        "threshold {threshold}, the book's 0.5:\n{out}"
    );
    assert_eq!(proposed, threshold / 2.0, "{verdict}");

    // The proposal trains well: five epochs of the printed line on all the images.
    let line = out
        .lines()
        .find(|l| l.starts_with("nn train "))
        .unwrap_or_else(|| panic!("no nn train line in:\n{out}"));
    let mut args: Vec<&str> = line.split_whitespace().skip(1).collect();
    args.extend(["--epochs", "5", "--data", data]);
    let trained = stdout(&ok(run(dir.path(), &args)));
    let accuracy = test_accuracy(&trained);
    assert!(
        accuracy >= 94.0,
        "eta {proposed} for 5 epochs: {accuracy}%\n{trained}"
    );
}

#[test]
fn lambda_search_starts_at_one_and_moves_by_factors_of_ten_then_two() {
    let dir = TempDir::new().unwrap();
    let data = data_dir();
    let data = data.to_str().unwrap();
    let output = ok(run(
        dir.path(),
        &[
            "search", "lambda", "--quick", "--eta", "0.5", "--data", data,
        ],
    ));
    let err = String::from_utf8_lossy(&output.stderr);
    let tried: Vec<f64> = err
        .lines()
        .filter(|l| l.starts_with("lambda "))
        .map(|l| number_after(l, "lambda "))
        .collect();
    assert_eq!(tried.first(), Some(&1.0), "the chapter starts at 1: {err}");
    assert_eq!(tried.get(1), Some(&10.0), "then a factor of ten up: {err}");
    let of_tens_and_twos = |l: f64| {
        (-4..=4).any(|a| (-3..=3).any(|b| (l - 10f64.powi(a) * 2f64.powi(b)).abs() < 1e-6 * l))
    };
    assert!(
        tried.iter().all(|&l| of_tens_and_twos(l)),
        "factors of ten, then of two: {tried:?}"
    );
    let out = stdout(&output);
    let best = number_after(
        out.lines().find(|l| l.starts_with("Best:")).unwrap(),
        "lambda = ",
    );
    assert!(tried.contains(&best), "{best} among {tried:?}");
}
