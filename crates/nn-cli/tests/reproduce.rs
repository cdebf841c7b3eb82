//! End-to-end tests of `nn reproduce`, `nn search` and `nn train --recipe`, on quick runs.

mod common;

use common::{data_dir, ok, run, stderr, stdout};

use serde_json::Value;
use tempfile::TempDir;

/// The names of the twelve experiments, in the chapter's order.
const EXPERIMENTS: [&str; 13] = [
    "slowdown",
    "cross-entropy",
    "overfitting",
    "regularized",
    "full-regularized",
    "init",
    "learning-rate",
    "training-size",
    "expansion",
    "dropout",
    "variations",
    "blog",
    "hessian",
];

#[test]
fn list_names_all_twelve_experiments_with_the_books_figures() {
    let dir = TempDir::new().unwrap();
    let out = stdout(&ok(run(dir.path(), &["reproduce", "--list"])));
    let names: Vec<&str> = out
        .lines()
        .filter(|l| !l.starts_with(' '))
        .filter_map(|l| l.split_whitespace().next())
        .collect();
    assert_eq!(names[..EXPERIMENTS.len()], EXPERIMENTS, "{out}");
    for figure in [
        "95.49", "82.27", "87.1", "97.92", "98.04", "99.3", "98.7", "68.93",
    ] {
        assert!(
            out.contains(figure),
            "--list lacks the book's {figure}:\n{out}"
        );
    }
}

/// The measure named `metric` of the run labelled `label` in a summary.
fn measure<'a>(summary: &'a Value, label: &str, metric: &str) -> &'a Value {
    let run = summary["runs"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["label"] == label)
        .unwrap_or_else(|| panic!("no run {label}"));
    run["measures"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["metric"] == metric)
        .unwrap_or_else(|| panic!("no measure {metric} for {label}"))
}

#[test]
fn slowdown_writes_summaries_and_figure_and_shows_the_saturated_quadratic_learning_slowly() {
    let dir = TempDir::new().unwrap();
    ok(run(
        dir.path(),
        &["reproduce", "slowdown", "--quick", "--out", "tmp"],
    ));
    let out = dir.path().join("tmp");
    for file in ["slowdown.json", "slowdown.md", "slowdown.png"] {
        let meta = std::fs::metadata(out.join(file)).unwrap_or_else(|e| panic!("{file}: {e}"));
        assert!(meta.len() > 100, "{file} is nearly empty");
    }
    let png = image::open(out.join("slowdown.png")).expect("a readable PNG");
    assert!(png.width() >= 600);

    let summary: Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("slowdown.json")).unwrap()).unwrap();
    // Both the book's number and ours.
    let output = measure(
        &summary,
        "quadratic, w=0.6 b=0.9",
        "output after 300 epochs",
    );
    assert_eq!(output["book"].as_f64(), Some(0.09));
    let ours = output["ours"].as_f64().unwrap();
    assert!((ours - 0.09).abs() < 0.02, "output {ours}");
    // The slowdown itself: from w=2, b=2 the quadratic cost keeps far more of its initial cost.
    let kept = |label| {
        measure(&summary, label, "cost after 50 epochs / initial cost")["ours"]
            .as_f64()
            .unwrap()
    };
    let (quadratic, cross_entropy) = (kept("quadratic, w=2 b=2"), kept("cross-entropy, w=2 b=2"));
    assert!(quadratic > 0.9, "quadratic kept {quadratic}");
    assert!(cross_entropy < 0.2, "cross-entropy kept {cross_entropy}");
    let checks = summary["checks"].as_array().unwrap();
    assert!(!checks.is_empty());
    assert!(checks.iter().all(|c| c["holds"] == true), "{checks:?}");

    let markdown = std::fs::read_to_string(out.join("slowdown.md")).unwrap();
    assert!(markdown.contains("| quadratic, w=2 b=2 |"), "{markdown}");
    assert!(markdown.contains("0.09"), "{markdown}");
}

#[test]
fn an_mnist_experiment_runs_quickly_through_nn_train_and_reports_the_books_numbers() {
    let dir = TempDir::new().unwrap();
    let data = data_dir();
    let output = ok(run(
        dir.path(),
        &[
            "reproduce",
            "init",
            "--quick",
            "--out",
            "out",
            "--data",
            data.to_str().unwrap(),
        ],
    ));
    assert!(stdout(&output).contains("**Quick run**"));
    let summary: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("out/init.json")).unwrap())
            .unwrap();
    assert_eq!(summary["quick"], true);
    let after = measure(
        &summary,
        "default initialization",
        "evaluation accuracy after epoch 1 (%)",
    );
    assert_eq!(after["book"].as_f64(), Some(93.0));
    let ours = after["ours"].as_f64().unwrap();
    assert!((10.0..=100.0).contains(&ours), "{ours}");
    let runs = summary["runs"].as_array().unwrap();
    assert_eq!(runs.len(), 2);
    for r in runs {
        assert_eq!(
            r["history"].as_array().unwrap().len(),
            3,
            "quick runs train 3 epochs"
        );
        assert!(
            r["command"]
                .as_str()
                .unwrap()
                .starts_with("nn train --layers 784,30,10")
        );
    }
    assert!(dir.path().join("out/init.png").is_file());
    assert!(dir.path().join("out/init.md").is_file());
}

#[test]
fn an_unknown_experiment_is_a_one_line_error() {
    let dir = TempDir::new().unwrap();
    let output = run(dir.path(), &["reproduce", "no-such-experiment"]);
    assert!(!output.status.success());
    let err = stderr(&output);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.starts_with("error: "), "{err}");
    assert!(
        err.contains("no-such-experiment") && err.contains("slowdown"),
        "{err}"
    );
    assert!(!dir.path().join("runs").exists(), "nothing is written");
}

/// The `nn train` line printed by a search, split into arguments after `nn`.
fn train_line(out: &str) -> Vec<String> {
    let line = out
        .lines()
        .find(|l| l.starts_with("nn train "))
        .unwrap_or_else(|| panic!("no nn train line in:\n{out}"));
    line.split_whitespace().skip(1).map(String::from).collect()
}

#[test]
fn eta_search_prints_a_table_and_a_train_line_that_runs() {
    let dir = TempDir::new().unwrap();
    let data = data_dir();
    let data = data.to_str().unwrap();
    let output = ok(run(
        dir.path(),
        &["search", "eta", "--quick", "--data", data],
    ));
    let out = stdout(&output);
    let header = out
        .lines()
        .find(|l| l.trim_start().starts_with("rank"))
        .unwrap_or_else(|| panic!("no table in:\n{out}"));
    assert!(
        header.contains("eta") && header.contains("validation%"),
        "{header}"
    );
    let rows = out
        .lines()
        .filter(|l| l.contains("cost falls") || l.contains("cost does not fall"))
        .count();
    assert!(rows >= 3, "one row per eta tried:\n{out}");
    assert!(out.contains("proposed eta"), "{out}");
    assert!(
        out.contains("cost does not fall"),
        "some eta is too large:\n{out}"
    );

    let mut args = train_line(&out);
    let eta: f32 = args[args.iter().position(|a| a == "--eta").unwrap() + 1]
        .parse()
        .unwrap();
    assert!(eta > 0.0 && eta < 100.0, "proposed {eta}");
    args.extend(
        [
            "--epochs",
            "1",
            "--train-size",
            "1000",
            "--validation-size",
            "500",
        ]
        .map(String::from),
    );
    args.extend(["--data".to_string(), data.to_string()]);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let trained = stdout(&ok(run(dir.path(), &args)));
    assert!(trained.contains("Test accuracy"), "{trained}");
}

#[test]
fn lambda_and_random_searches_sort_their_tables_by_validation_accuracy() {
    let dir = TempDir::new().unwrap();
    let data = data_dir();
    let data = data.to_str().unwrap();
    for args in [
        vec!["search", "lambda", "--quick", "--data", data],
        vec![
            "search", "random", "--quick", "--trials", "3", "--eta", "0.1:1", "--hidden", "10:40",
            "--data", data,
        ],
    ] {
        let out = stdout(&ok(run(dir.path(), &args)));
        let accuracies: Vec<f64> = out
            .lines()
            .skip_while(|l| !l.trim_start().starts_with("rank"))
            .skip(1)
            .take_while(|l| l.trim_start().starts_with(|c: char| c.is_ascii_digit()))
            .map(|l| l.split_whitespace().nth(6).unwrap().parse().unwrap())
            .collect();
        assert!(accuracies.len() >= 3, "{out}");
        assert!(
            accuracies.windows(2).all(|w| w[0] >= w[1]),
            "not sorted: {accuracies:?}\n{out}"
        );
        assert!(train_line(&out).contains(&"--lambda".to_string()));
    }
}

#[test]
fn random_search_rejects_a_bad_range_in_one_line() {
    let dir = TempDir::new().unwrap();
    let output = run(dir.path(), &["search", "random", "--eta", "10:0.1"]);
    assert!(!output.status.success());
    assert!(stderr(&output).contains("LOW:HIGH"), "{}", stderr(&output));
}

#[test]
fn the_best_recipe_is_documented_and_explicit_flags_override_it() {
    let dir = TempDir::new().unwrap();
    let help = stdout(&ok(run(dir.path(), &["train", "--help"])));
    assert!(help.contains("--recipe"), "{help}");
    assert!(help.contains("784,800,800,10"), "{help}");

    // A tiny run with the preset: its options are the recipe's except what the flags change.
    let data = data_dir();
    ok(run(
        dir.path(),
        &[
            "train",
            "--recipe",
            "best",
            "--layers",
            "784,20,20,10",
            "--epochs",
            "1",
            "--train-size",
            "300",
            "--validation-size",
            "100",
            "--metrics",
            "m.json",
            "--checkpoint",
            "ckpt",
            "--quiet",
            "--data",
            data.to_str().unwrap(),
        ],
    ));
    let metrics: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("m.json")).unwrap()).unwrap();
    let options = &metrics["options"];
    assert_eq!(options["layers"], serde_json::json!([784, 20, 20, 10]));
    assert_eq!(options["epochs"], 1);
    assert_eq!(options["activation"], "relu");
    assert_eq!(options["cost"], "log-likelihood");
    assert_eq!(options["dropout"].as_f64(), Some(0.2));
    assert_eq!(options["lambda"].as_f64(), Some(5.0));
    assert_eq!(options["optimizer"], "momentum");
    assert_eq!(options["batch_size"], 100);
    assert_eq!(options["expand"], serde_json::json!(["affine-elastic"]));
    assert_eq!(options["keep_original"].as_f64(), Some(0.2));
    assert_eq!(
        options["lr_schedule"],
        serde_json::json!({"exponential": 0.985})
    );
    assert_eq!(options["early_stopping"], 100);
    assert_eq!(options["average_weights"].as_f64(), Some(0.9));

    // With --resume, the recipe must give the checkpoint's options; here --layers and the
    // sizes of the data differ.
    let output = run(
        dir.path(),
        &[
            "train",
            "--resume",
            "ckpt",
            "--recipe",
            "best",
            "--data",
            data.to_str().unwrap(),
        ],
    );
    assert!(!output.status.success());
    let err = stderr(&output);
    assert!(
        err.contains("--recipe best") && err.contains("--layers (saved 784,20,20,10"),
        "{err}"
    );
}
