//! `nn train --normalize`: the input standardization is fitted on the training images, saved
//! with the model and in checkpoints, and applied wherever the model is used again.

mod common;

use common::{data_dir, mnist_train_args, ok, recognised_test_digits, run, stderr, stdout};

use std::path::Path;

use regex::Regex;
use serde_json::Value;
use tempfile::TempDir;

/// `nn train` on 3,000 MNIST images with `extra` appended.
fn train(cwd: &Path, extra: &[&str]) -> std::process::Output {
    run(cwd, &mnist_train_args(3000, extra))
}

/// The number of correct test images in a line matching `pattern` (one capture group).
fn correct(text: &str, pattern: &str) -> usize {
    Regex::new(pattern)
        .unwrap()
        .captures(text)
        .unwrap_or_else(|| panic!("no '{pattern}' in {text}"))[1]
        .parse()
        .unwrap()
}

fn eval_correct(cwd: &Path, model: &str) -> usize {
    let data = data_dir();
    let out = ok(run(cwd, &["eval", model, "--data", data.to_str().unwrap()]));
    correct(&stdout(&out), r"Accuracy on the test set: (\d+) / 10000")
}

#[test]
fn eval_and_predict_apply_the_standardization_saved_with_the_model() {
    let tmp = TempDir::new().unwrap();
    let out = ok(train(
        tmp.path(),
        &[
            "--epochs",
            "2",
            "--normalize",
            "pixel",
            "--save",
            "model.json",
        ],
    ));
    let trained = correct(&stdout(&out), r"Test accuracy: (\d+) / 10000");
    assert!(stdout(&out).contains("inputs standardized (pixel)"));

    let path = tmp.path().join("model.json");
    let mut model: Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    let saved = &model["standardization"];
    assert_eq!(saved["kind"], "pixel", "{saved}");
    assert_eq!(saved["mean"].as_array().map(Vec::len), Some(784));

    // The same figure as at the end of training: eval standardizes as training did.
    assert_eq!(eval_correct(tmp.path(), "model.json"), trained);

    // Without the field the same weights see raw pixels and do much worse: the field is used.
    model.as_object_mut().unwrap().remove("standardization");
    std::fs::write(
        tmp.path().join("raw.json"),
        serde_json::to_vec(&model).unwrap(),
    )
    .unwrap();
    let raw = eval_correct(tmp.path(), "raw.json");
    assert!(
        raw + 1000 < trained,
        "raw pixels {raw} against standardized {trained}"
    );

    // predict prepares a picture and standardizes it too.
    let right = recognised_test_digits(tmp.path(), "model.json", |_| {});
    assert!(right >= 7, "only {right} of 10 pictures recognised");
}

#[test]
fn a_resumed_standardized_run_ends_with_the_same_model() {
    let tmp = TempDir::new().unwrap();
    let flags = ["--normalize", "global", "--seed", "3"];
    ok(train(
        tmp.path(),
        &[&flags[..], &["--epochs", "3", "--save", "straight.json"]].concat(),
    ));
    ok(train(
        tmp.path(),
        &[&flags[..], &["--epochs", "1", "--checkpoint", "ckpt"]].concat(),
    ));
    let state = std::fs::read_to_string(tmp.path().join("ckpt/checkpoint.json")).unwrap();
    assert!(state.contains("\"standardization\""), "{state}");

    let data = data_dir();
    let resume = |extra: &[&str]| {
        let mut args = vec![
            "train",
            "--resume",
            "ckpt",
            "--data",
            data.to_str().unwrap(),
        ];
        args.extend_from_slice(extra);
        run(tmp.path(), &args)
    };
    let refused = resume(&["--normalize", "none"]);
    assert!(!refused.status.success());
    assert!(
        stderr(&refused).contains("--normalize (saved global, given none)"),
        "{}",
        stderr(&refused)
    );
    ok(resume(&[
        "--normalize",
        "global",
        "--epochs",
        "3",
        "--save",
        "resumed.json",
    ]));
    assert!(
        std::fs::read(tmp.path().join("straight.json")).unwrap()
            == std::fs::read(tmp.path().join("resumed.json")).unwrap(),
        "the resumed run's model differs from the uninterrupted run's"
    );
}

#[test]
fn without_normalize_the_model_file_has_no_standardization() {
    let tmp = TempDir::new().unwrap();
    ok(train(
        tmp.path(),
        &["--epochs", "1", "--save", "model.json"],
    ));
    let model: Value =
        serde_json::from_slice(&std::fs::read(tmp.path().join("model.json")).unwrap()).unwrap();
    assert!(model.get("standardization").is_none(), "{model}");
    let out = run(tmp.path(), &["train", "--normalize", "mean"]);
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains("none, global or pixel"),
        "{}",
        stderr(&out)
    );
}
