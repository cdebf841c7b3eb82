//! End-to-end tests of the `nn` binary on small subsets of the real MNIST data.

mod common;

use common::{
    assert_refused, data_dir, mnist_train_args, nn, ok, recognised_test_digits, run, stderr, stdout,
};

use std::path::Path;
use std::time::{Duration, Instant};

use regex::Regex;
use serde_json::Value;
use tempfile::TempDir;

/// A short training run's flags on 1,000 images for 2 epochs, with `extra` appended.
fn small_train(extra: &[&str]) -> Vec<String> {
    mnist_train_args(1000, &[&["--epochs", "2"], extra].concat())
}

#[test]
fn train_save_eval_predict_round_trip() {
    let tmp = TempDir::new().unwrap();
    let data = data_dir();
    let args = small_train(&[
        "--train-size",
        "5000",
        "--epochs",
        "3",
        "--save",
        "model.json",
    ]);
    let out = ok(run(tmp.path(), &args));
    assert!(stdout(&out).contains("Test accuracy:"));
    let model = tmp.path().join("model.json");
    assert!(model.is_file());

    let out = ok(run(
        tmp.path(),
        &[
            "eval",
            "model.json",
            "--data",
            data.to_str().unwrap(),
            "--confusion",
            "--gallery",
            "mistakes.png",
        ],
    ));
    let text = stdout(&out);
    let accuracy = Regex::new(r"Accuracy on the test set: (\d+) / 10000")
        .unwrap()
        .captures(&text)
        .unwrap_or_else(|| panic!("no accuracy line in {text}"))[1]
        .parse::<usize>()
        .unwrap();
    assert!(accuracy > 8000, "accuracy {accuracy} too low");
    assert!(text.contains("Confusion matrix"));
    assert_eq!(
        text.lines()
            .filter(|l| Regex::new(r"^\s+\d(\s+\d+){10} \|").unwrap().is_match(l))
            .count(),
        10,
        "ten rows in the confusion matrix: {text}"
    );
    image::open(tmp.path().join("mistakes.png")).expect("a readable gallery");

    // Test digits drawn black on white at 100x100 must be prepared back into MNIST's form.
    let probability_line = Regex::new(r"(?m)^\s+\d: ([0-9.]+)").unwrap();
    let right = recognised_test_digits(tmp.path(), "model.json", |text| {
        let probabilities: f64 = probability_line
            .captures_iter(text)
            .map(|c| c[1].parse::<f64>().unwrap())
            .sum();
        assert!((probabilities - 1.0).abs() < 1e-2, "{text}");
        assert!(text.contains("normalised"), "sigmoid outputs: {text}");
    });
    assert!(right >= 7, "only {right} of 10 prepared digits recognised");
}

#[test]
fn metrics_file_schema() {
    let tmp = TempDir::new().unwrap();
    let all = "training-cost,training-accuracy,evaluation-cost,evaluation-accuracy";
    ok(run(
        tmp.path(),
        &small_train(&["--monitor", all, "--metrics", "all.json"]),
    ));
    let json: Value =
        serde_json::from_str(&std::fs::read_to_string(tmp.path().join("all.json")).unwrap())
            .unwrap();
    let history = json["history"].as_array().expect("a history array");
    assert_eq!(history.len(), 2);
    for (i, record) in history.iter().enumerate() {
        assert_eq!(record["epoch"].as_u64(), Some(i as u64 + 1));
        assert!((record["eta"].as_f64().unwrap() - 0.5).abs() < 1e-9);
        assert!(record["seconds"].as_f64().unwrap() >= 0.0);
        for key in ["training_cost", "evaluation_cost"] {
            let cost = record[key].as_f64().unwrap_or_else(|| panic!("{key}"));
            assert!(cost.is_finite() && cost > 0.0, "{key} = {cost}");
        }
        for key in ["training_accuracy", "evaluation_accuracy"] {
            let accuracy = record[key].as_f64().unwrap_or_else(|| panic!("{key}"));
            assert!((0.0..=1.0).contains(&accuracy), "{key} = {accuracy}");
        }
    }
    let test = json["test_accuracy"].as_f64().expect("test_accuracy");
    assert!(test > 0.5 && test <= 1.0, "test accuracy {test}");

    ok(run(
        tmp.path(),
        &small_train(&["--metrics", "default.json"]),
    ));
    let json: Value =
        serde_json::from_str(&std::fs::read_to_string(tmp.path().join("default.json")).unwrap())
            .unwrap();
    let record = json["history"][0].as_object().unwrap();
    let mut keys: Vec<&str> = record.keys().map(String::as_str).collect();
    keys.sort_unstable();
    assert_eq!(keys, ["epoch", "eta", "evaluation_accuracy", "seconds"]);
}

#[test]
fn plain_output_lines() {
    let tmp = TempDir::new().unwrap();
    let out = ok(run(tmp.path(), &small_train(&[])));
    let text = stdout(&out);
    let epoch =
        Regex::new(r"^Epoch (\d+): validation accuracy (\d+) / 500 \(\d+\.\d+ s\)$").unwrap();
    let epochs: Vec<&str> = text.lines().filter(|l| l.starts_with("Epoch")).collect();
    assert_eq!(epochs.len(), 2, "{text}");
    for (i, line) in epochs.iter().enumerate() {
        let c = epoch
            .captures(line)
            .unwrap_or_else(|| panic!("bad line: {line}"));
        assert_eq!(c[1].parse::<usize>().unwrap(), i + 1);
    }
    let summary =
        Regex::new(r"(?m)^Test accuracy: \d+ / 10000 \(\d+\.\d\d%\) after 2 epochs in \d+\.\d s$")
            .unwrap();
    assert!(summary.is_match(&text), "{text}");

    let out = ok(run(
        tmp.path(),
        &small_train(&[
            "--monitor",
            "training-cost,evaluation-cost,evaluation-accuracy",
        ]),
    ));
    let full = Regex::new(
        r"(?m)^Epoch 1: training cost \d+\.\d+, validation accuracy \d+ / 500, cost \d+\.\d+ \(\d+\.\d+ s\)$",
    )
    .unwrap();
    assert!(full.is_match(&stdout(&out)), "{}", stdout(&out));

    let out = ok(run(tmp.path(), &small_train(&["--quiet"])));
    assert!(stdout(&out).is_empty(), "quiet: {}", stdout(&out));
}

/// Reads a file that must exist.
fn bytes(path: &Path) -> Vec<u8> {
    std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

#[test]
fn resumed_run_ends_with_the_same_model() {
    let tmp = TempDir::new().unwrap();
    let common = [
        "--train-size",
        "2000",
        "--optimizer",
        "momentum",
        "--dropout",
        "0.2",
        "--input-dropout",
        "0.1",
        "--max-norm",
        "4",
        "--expand",
        "affine-elastic",
        "--keep-original",
        "0.3",
        "--seed",
        "7",
        "--lr-schedule",
        "halve:1",
        "--monitor",
        "evaluation-accuracy,training-cost",
        "--average-weights",
        "0.6",
    ];
    let with = |extra: &[&str]| {
        let mut args = common.to_vec();
        args.extend_from_slice(extra);
        small_train(&args)
    };
    ok(run(
        tmp.path(),
        &with(&["--epochs", "4", "--save", "straight.json"]),
    ));
    ok(run(
        tmp.path(),
        &with(&["--epochs", "2", "--checkpoint", "ckpt"]),
    ));
    assert!(tmp.path().join("ckpt/model.json").is_file());
    let data = data_dir();
    let out = ok(run(
        tmp.path(),
        &[
            "train",
            "--resume",
            "ckpt",
            "--epochs",
            "4",
            "--data",
            data.to_str().unwrap(),
            "--save",
            "resumed.json",
        ],
    ));
    assert!(stdout(&out).contains("Resuming after epoch 2 of 4"));
    assert!(!stdout(&out).contains("Epoch 2:"), "{}", stdout(&out));
    assert!(
        bytes(&tmp.path().join("straight.json")) == bytes(&tmp.path().join("resumed.json")),
        "the resumed run's model differs from the uninterrupted run's"
    );

    // Resuming needs no other flag, and refuses options that would change the run.
    let out = run(tmp.path(), &["train", "--resume", "ckpt", "--eta", "0.1"]);
    assert_refused(&out, &["--eta"]);
}

#[test]
fn killed_run_resumes_to_the_same_model() {
    let tmp = TempDir::new().unwrap();
    let data = data_dir();
    let args = |extra: &[&str]| {
        let mut a = vec![
            "train",
            "--data",
            data.to_str().unwrap(),
            "--train-size",
            "5000",
            "--validation-size",
            "200",
            "--epochs",
            "12",
            "--seed",
            "3",
            "--quiet",
        ];
        a.extend_from_slice(extra);
        a.into_iter().map(String::from).collect::<Vec<_>>()
    };
    ok(run(tmp.path(), &args(&["--save", "straight.json"])));

    let mut child = nn(tmp.path())
        .args(args(&["--checkpoint", "ckpt"]))
        .spawn()
        .unwrap();
    let state = tmp.path().join("ckpt/checkpoint.json");
    let started = Instant::now();
    while !state.exists() && started.elapsed() < Duration::from_secs(60) {
        std::thread::sleep(Duration::from_millis(5));
    }
    child.kill().unwrap();
    child.wait().unwrap();
    assert!(state.exists(), "no checkpoint written");
    ok(run(
        tmp.path(),
        &[
            "train".to_string(),
            "--resume".to_string(),
            "ckpt".to_string(),
            "--data".to_string(),
            data.to_str().unwrap().to_string(),
            "--save".to_string(),
            "resumed.json".to_string(),
        ],
    ));
    assert!(
        bytes(&tmp.path().join("straight.json")) == bytes(&tmp.path().join("resumed.json")),
        "the killed and resumed run's model differs from the uninterrupted run's"
    );
}

#[test]
fn plot_files() {
    let tmp = TempDir::new().unwrap();
    ok(run(
        tmp.path(),
        &small_train(&[
            "--monitor",
            "training-cost,training-accuracy,evaluation-cost,evaluation-accuracy",
            "--plot",
            "run.svg",
        ]),
    ));
    let svg = std::fs::read_to_string(tmp.path().join("run.svg")).unwrap();
    assert!(svg.contains("<svg"));
    ok(run(tmp.path(), &small_train(&["--plot", "run.png"])));
    image::open(tmp.path().join("run.png")).expect("a readable PNG");
    let out = run(tmp.path(), &small_train(&["--plot", "run.jpg"]));
    assert_refused(&out, &[".png or .svg"]);
}

#[test]
fn user_errors_are_one_line() {
    let tmp = TempDir::new().unwrap();
    let dir = tmp.path();
    let cases: &[(&[&str], &str)] = &[
        (&["--eta", "0"], "eta"),
        (&["--eta", "-1"], "eta = -1"),
        (&["--lambda", "-5"], "--lambda"),
        (&["--keep-original", "-0.1"], "--keep-original -0.1"),
        (&["--keep-original", "0.3"], "needs --expand"),
        (&["--batch-size", "0"], "mini-batch"),
        (&["--dropout", "1.0"], "dropout"),
        (&["--layers", "784,30,9"], "--layers 784,30,9"),
        (&["--cost", "entropy"], "invalid value"),
        (&["--optimizer", "rmsprop"], "invalid value"),
        (&["--lr-schedule", "halve:0"], "halve:N"),
        (&["--lr-schedule", "exp:1.5"], "exp:F"),
        (&["--input-dropout", "1"], "--input-dropout"),
        (&["--max-norm", "0"], "--max-norm"),
        (&["--keep-original", "2"], "--keep-original"),
        (&["--train-size", "70000"], "--train-size"),
        (&["--momentum", "1.5"], "momentum"),
        (&["--average-weights", "1.5"], "weight-averaging factor 1.5"),
        (&["--average-weights", "0"], "weight-averaging factor 0"),
    ];
    for (extra, expected) in cases {
        let out = run(dir, &small_train(extra));
        assert_refused(&out, &[expected]);
        if !expected.starts_with("invalid value")
            && !expected.ends_with(":N")
            && !expected.ends_with(":F")
        {
            assert_eq!(stderr(&out).lines().count(), 1, "{}", stderr(&out));
        }
    }

    let out = run(dir, &["train", "--data", "/no/such/mnist"]);
    assert_refused(&out, &["no such directory"]);
    let out = run(dir, &["data", "verify", "--data", dir.to_str().unwrap()]);
    assert_refused(&out, &["must hold the four MNIST files"]);

    std::fs::write(dir.join("corrupt.json"), "{\"sizes\": [784, 30").unwrap();
    let out = run(dir, &["eval", "corrupt.json"]);
    assert_refused(&out, &["not a model file"]);

    let wrong_shape = r#"{"sizes": [784, 2, 10], "cost": "CrossEntropyCost",
        "weights": [[[0.0]], [[0.0]]], "biases": [[[0.0]], [[0.0]]]}"#;
    std::fs::write(dir.join("shape.json"), wrong_shape).unwrap();
    let out = run(dir, &["eval", "shape.json"]);
    assert_refused(&out, &["expected"]);

    // network2.py's format (no activations) for a 2-input network: loads, but does not fit MNIST.
    let small = r#"{"sizes": [2, 10], "cost": "QuadraticCost",
        "weights": [[[0.1, 0.2],[0,0],[0,0],[0,0],[0,0],[0,0],[0,0],[0,0],[0,0],[0,0]]],
        "biases": [[[0],[0],[0],[0],[0],[0],[0],[0],[0],[1e999]]]}"#;
    std::fs::write(dir.join("huge.json"), small).unwrap();
    let out = run(dir, &["eval", "huge.json"]);
    assert_refused(&out, &["huge.json"]);
    std::fs::write(dir.join("small.json"), small.replace("1e999", "0")).unwrap();
    let data = data_dir();
    let out = run(
        dir,
        &["eval", "small.json", "--data", data.to_str().unwrap()],
    );
    assert_refused(&out, &["784"]);

    std::fs::write(dir.join("missing.png"), b"not a picture").unwrap();
    let model = dir.join("model.json");
    ok(run(
        dir,
        &small_train(&["--epochs", "1", "--save", model.to_str().unwrap()]),
    ));
    let out = run(dir, &["predict", "model.json", "missing.png"]);
    assert_refused(&out, &["cannot read missing.png"]);
    let out = run(dir, &["predict", "model.json", "absent.png"]);
    assert_refused(&out, &["absent.png"]);
    let out = run(dir, &["eval", "absent.json"]);
    assert_refused(&out, &["absent.json"]);
    let out = run(dir, &["train", "--resume", "nowhere"]);
    assert_refused(&out, &["--checkpoint"]);
}

#[test]
fn data_is_found_by_itself_and_through_mnist_dir() {
    let tmp = TempDir::new().unwrap();
    let out = ok(nn(tmp.path())
        .args(["data", "info"])
        .env("MNIST_DIR", data_dir())
        .output()
        .unwrap());
    let text = stdout(&out);
    assert!(text.contains("(Env)"), "{text}");
    assert_eq!(
        text.lines()
            .filter(|l| l.trim_start().starts_with("ok "))
            .count(),
        4,
        "{text}"
    );
    assert!(
        text.contains("60000 training images of 28x28 pixels"),
        "{text}"
    );

    // From a project beside shared/, the shared copy is found without any flag.
    let project = tmp.path().join("project");
    std::fs::create_dir_all(&project).unwrap();
    std::fs::create_dir_all(tmp.path().join("shared/data")).unwrap();
    std::os::unix::fs::symlink(data_dir(), tmp.path().join("shared/data/mnist")).unwrap();
    let out = ok(run(&project, &["data", "verify"]));
    assert!(stdout(&out).contains("All 4 files match"));
    let out = ok(run(&project, &["data", "info"]));
    assert!(
        stdout(&out).contains("../shared/data/mnist (Shared)"),
        "{}",
        stdout(&out)
    );

    let out = ok(run(
        tmp.path(),
        &[
            "data",
            "preview",
            "--data",
            data_dir().to_str().unwrap(),
            "--out",
            "preview.png",
            "--transforms",
            "rotate,elastic",
            "--count",
            "3",
        ],
    ));
    assert!(stdout(&out).contains("rotate"));
    image::open(tmp.path().join("preview.png")).expect("a readable preview");
}

#[test]
fn every_subcommand_has_help_with_examples() {
    let tmp = TempDir::new().unwrap();
    for args in [
        vec!["--help"],
        vec!["train", "--help"],
        vec!["eval", "--help"],
        vec!["predict", "--help"],
        vec!["data", "--help"],
    ] {
        let out = ok(run(tmp.path(), &args));
        assert!(stdout(&out).contains("Examples:"), "{args:?}");
    }
}

#[test]
fn expansion_draws_fresh_distortions() {
    // The flag reaches the trainer: the same seed trains the same model bit for bit, the
    // distortions change what is learnt, and the run says it draws them afresh (nn-data's
    // tests check that each epoch's are new).
    let tmp = TempDir::new().unwrap();
    let train = |expand: &[&str], model: &str| {
        let out = ok(run(
            tmp.path(),
            &small_train(&[expand, &["--seed", "5", "--save", model]].concat()),
        ));
        let saved = std::fs::read(tmp.path().join(model)).unwrap();
        (stdout(&out), saved)
    };
    let distortions = ["--expand", "shift,rotate,skew,elastic"];
    let (text, first) = train(&distortions, "a.json");
    let (_, again) = train(&distortions, "b.json");
    let (_, plain) = train(&[], "c.json");
    assert!(
        text.contains("fresh shift(±2px), rotate(±15°), skew(±0.3), elastic(alpha=34"),
        "{text}"
    );
    assert!(first == again, "the same seed trained two different models");
    assert!(first != plain, "--expand changed nothing");
}

#[test]
fn per_class_trains_on_the_first_images_of_each_digit() {
    let dir = tempfile::tempdir().unwrap();
    let out = ok(run(dir.path(), &small_train(&["--per-class", "1"])));
    assert!(stdout(&out).contains(" on 10 images "), "{}", stdout(&out));
    let out = run(dir.path(), &small_train(&["--per-class", "0"]));
    assert_refused(&out, &["--per-class 0"]);
}
