//! `nn` on IDX data sets other than MNIST: a small synthetic set of 8x8 images in 4 classes,
//! written by the tests, trained on, evaluated, predicted with, inspected, verified, previewed
//! and expanded; the `--holdout` / `--validation-size` / `--train-size` split and its errors;
//! files named one by one; and `nn data expand` refusing to write over its own input.

mod common;

use common::{assert_refused, data_dir, nn, ok, run, stderr, stdout};

use std::path::{Path, PathBuf};
use std::process::Output;

use nn_data::{IdxArray, write_idx};
use regex::Regex;
use tempfile::TempDir;

const SIDE: usize = 8;
const CLASSES: usize = 4;

/// `n` images of class `i % 4`: class c is a bright bar across rows 2c and 2c+1, over noise.
fn images_and_labels(n: usize, seed: u64) -> (IdxArray, IdxArray) {
    let mut state = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
    let mut noise = move || {
        state = state
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (state >> 33) as u32
    };
    let mut pixels = Vec::with_capacity(n * SIDE * SIDE);
    let mut labels = Vec::with_capacity(n);
    for i in 0..n {
        let class = i % CLASSES;
        for row in 0..SIDE {
            for _ in 0..SIDE {
                let bar = row / 2 == class;
                let base = if bar { 170 } else { 0 };
                pixels.push((base + noise() % 86) as u8);
            }
        }
        labels.push(class as u8);
    }
    (
        IdxArray {
            dims: vec![n, SIDE, SIDE],
            data: pixels,
        },
        IdxArray {
            dims: vec![n],
            data: labels,
        },
    )
}

/// Writes the four files of the set into `dir` under the given names.
fn write_set(dir: &Path, names: [&str; 4]) -> [PathBuf; 4] {
    std::fs::create_dir_all(dir).unwrap();
    let (train_images, train_labels) = images_and_labels(1_500, 1);
    let (test_images, test_labels) = images_and_labels(300, 2);
    let paths = names.map(|n| dir.join(n));
    for (path, array) in paths
        .iter()
        .zip([train_images, train_labels, test_images, test_labels])
    {
        write_idx(path, &array, path.extension().is_some_and(|e| e == "gz")).unwrap();
    }
    paths
}

/// The set under MNIST's names in `dir`.
fn mnist_named_set(dir: &Path) -> [PathBuf; 4] {
    write_set(
        dir,
        [
            "train-images-idx3-ubyte.gz",
            "train-labels-idx1-ubyte.gz",
            "t10k-images-idx3-ubyte.gz",
            "t10k-labels-idx1-ubyte",
        ],
    )
}

fn train(dir: &Path, extra: &[&str]) -> Output {
    let mut args = vec![
        "train", "--data", "set", "--layers", "64,20,4", "--seed", "1",
    ];
    args.extend_from_slice(extra);
    run(dir, &args)
}

#[test]
fn a_small_idx_set_trains_well_above_chance() {
    let tmp = TempDir::new().unwrap();
    mnist_named_set(&tmp.path().join("set"));
    let out = ok(train(tmp.path(), &["--epochs", "3"]));
    let text = stdout(&out);
    assert!(
        text.contains("on 1250 images") && text.contains("monitoring 250 validation images"),
        "a sixth of 1,500 is held out: {text}"
    );
    let accuracy: f64 = Regex::new(r"Test accuracy: \d+ / 300 \(([0-9.]+)%\)")
        .unwrap()
        .captures(&text)
        .unwrap_or_else(|| panic!("no test accuracy in {text}"))[1]
        .parse()
        .unwrap();
    assert!(accuracy > 90.0, "{accuracy}% on 4 classes (chance: 25%)");

    // A model of another shape is refused before training.
    let out = train(tmp.path(), &["--layers", "784,30,10", "--epochs", "1"]);
    assert!(!out.status.success());
    assert!(stderr(&out).contains("64"), "{}", stderr(&out));
}

#[test]
fn a_model_of_another_image_size_and_class_count_evaluates_and_predicts() {
    let tmp = TempDir::new().unwrap();
    mnist_named_set(&tmp.path().join("set"));
    let out = ok(train(
        tmp.path(),
        &["--epochs", "3", "--save", "model.json"],
    ));
    let trained = Regex::new(r"Test accuracy: (\d+) / 300")
        .unwrap()
        .captures(&stdout(&out))
        .unwrap_or_else(|| panic!("no test accuracy in {}", stdout(&out)))[1]
        .to_string();

    let out = ok(run(
        tmp.path(),
        &["eval", "model.json", "--data", "set", "--confusion"],
    ));
    let text = stdout(&out);
    assert!(
        text.contains(&format!("Accuracy on the test set: {trained} / 300")),
        "eval gives training's figure {trained}: {text}"
    );
    let rows = Regex::new(r"(?m)^\s+\d(\s+\d+){4} \|").unwrap();
    assert_eq!(
        rows.find_iter(&text).count(),
        CLASSES,
        "a 4x4 matrix: {text}"
    );

    // A picture is prepared at the model's 8x8 input side and classified into one of 4 classes.
    let picture = image::GrayImage::from_fn(40, 40, |_, y| {
        image::Luma([if (16..24).contains(&y) { 0 } else { 255 }])
    });
    picture.save(tmp.path().join("bar.png")).unwrap();
    let out = ok(run(tmp.path(), &["predict", "model.json", "bar.png"]));
    let text = stdout(&out);
    let class: usize = Regex::new(r"(?m)^Digit: (\d+)$")
        .unwrap()
        .captures(&text)
        .unwrap_or_else(|| panic!("no class in {text}"))[1]
        .parse()
        .unwrap();
    assert!(class < CLASSES, "{text}");

    // The same model against MNIST's 28x28 images is refused, naming both shapes.
    let out = run(
        tmp.path(),
        &["eval", "model.json", "--data", data_dir().to_str().unwrap()],
    );
    assert_refused(&out, &["784", "64"]);
}

#[test]
fn holdout_validation_size_and_train_size_combine() {
    let tmp = TempDir::new().unwrap();
    mnist_named_set(&tmp.path().join("set"));
    let out = ok(train(
        tmp.path(),
        &[
            "--holdout",
            "300",
            "--validation-size",
            "100",
            "--train-size",
            "1000",
            "--epochs",
            "1",
        ],
    ));
    let text = stdout(&out);
    assert!(
        text.contains("on 1000 images") && text.contains("monitoring 100 validation images"),
        "{text}"
    );
    let out = ok(train(
        tmp.path(),
        &["--holdout", "1499", "--batch-size", "1", "--epochs", "1"],
    ));
    assert!(stdout(&out).contains("on 1 images"), "{}", stdout(&out));

    for (flags, expected) in [
        (vec!["--holdout", "0"], vec!["--holdout 0", "at least 1"]),
        (
            vec!["--holdout", "1500"],
            vec!["--holdout 1500", "1500 training images", "at most 1499"],
        ),
        (
            vec!["--validation-size", "300"],
            vec!["--validation-size 300", "only 250", "--holdout"],
        ),
        (
            vec!["--holdout", "200", "--validation-size", "250"],
            vec!["--validation-size 250", "only 200", "at most 200"],
        ),
        (
            vec!["--train-size", "1300"],
            vec!["--train-size 1300", "1500 training images", "leaving 1250"],
        ),
        (vec!["--validation-size", "0"], vec!["--validation-size 0"]),
    ] {
        let mut args = flags.clone();
        args.extend_from_slice(&["--epochs", "1"]);
        assert_refused(&train(tmp.path(), &args), &expected);
    }
}

#[test]
fn data_info_verify_and_preview_handle_any_idx_set() {
    let tmp = TempDir::new().unwrap();
    mnist_named_set(&tmp.path().join("set"));
    let out = ok(run(tmp.path(), &["data", "info", "--data", "set"]));
    let text = stdout(&out);
    assert_eq!(text.matches("not MNIST").count(), 4, "{text}");
    assert!(text.contains("1500 x 8 x 8"), "{text}");
    assert!(
        text.contains("1500 training images of 8x8 pixels (the last 250 held out"),
        "{text}"
    );
    assert!(text.contains("300 test images, 4 classes"), "{text}");

    let out = ok(run(tmp.path(), &["data", "verify", "--data", "set"]));
    let text = stdout(&out);
    assert!(!text.contains("MISMATCH"), "{text}");
    assert!(text.contains("These are not the MNIST files"), "{text}");
    let sha = Regex::new(r"(?m)^not MNIST  [0-9a-f]{64}  ").unwrap();
    assert_eq!(sha.find_iter(&text).count(), 4, "{text}");

    let out = ok(run(
        tmp.path(),
        &[
            "data",
            "preview",
            "--data",
            "set",
            "--out",
            "preview.png",
            "--transforms",
            "shift,rotate",
            "--count",
            "5",
        ],
    ));
    assert!(
        stdout(&out).contains("5 images of 8x8 pixels"),
        "{}",
        stdout(&out)
    );
    let png = image::open(tmp.path().join("preview.png")).unwrap();
    // Three columns (original, shift, rotate) and five rows of 8x8 tiles, scaled 3x, with
    // 2-pixel gutters.
    assert_eq!(
        (png.width(), png.height()),
        (3 * (8 * 3 + 2) + 2, 5 * (8 * 3 + 2) + 2)
    );
}

#[test]
fn verify_reports_every_broken_file() {
    let tmp = TempDir::new().unwrap();
    let [train_images, _, test_images, _] = mnist_named_set(&tmp.path().join("set"));
    let bytes = std::fs::read(&train_images).unwrap();
    std::fs::write(&train_images, &bytes[..bytes.len() / 2]).unwrap();
    std::fs::write(&test_images, b"garbage").unwrap();
    let out = run(tmp.path(), &["data", "verify", "--data", "set"]);
    let text = stdout(&out);
    assert_eq!(text.matches("broken").count(), 2, "{text}");
    assert_eq!(text.matches("not MNIST").count(), 2, "{text}");
    assert_refused(&out, &["2 of the 4 files cannot be used"]);
}

#[test]
fn files_named_one_by_one() {
    let tmp = TempDir::new().unwrap();
    let paths = write_set(
        &tmp.path().join("emnist"),
        [
            "letters-train-images.gz",
            "letters-train-labels.gz",
            "letters-test-images.gz",
            "letters-test-labels.gz",
        ],
    );
    let [ti, tl, si, sl] = paths.map(|p| p.to_str().unwrap().to_string());
    let all = [
        "--train-images",
        &ti,
        "--train-labels",
        &tl,
        "--test-images",
        &si,
        "--test-labels",
        &sl,
    ];
    let mut args = vec!["data", "verify"];
    args.extend_from_slice(&all);
    let out = ok(run(tmp.path(), &args));
    assert!(
        stdout(&out).contains("These are not the MNIST files"),
        "{}",
        stdout(&out)
    );
    let mut args = vec!["train", "--layers", "64,10,4", "--epochs", "1"];
    args.extend_from_slice(&all);
    ok(run(tmp.path(), &args));

    // Some named, the others from --data DIR (here MNIST's names in another directory).
    mnist_named_set(&tmp.path().join("set"));
    let out = ok(run(
        tmp.path(),
        &["data", "info", "--data", "set", "--train-images", &ti],
    ));
    assert!(stdout(&out).contains(&ti), "{}", stdout(&out));
    // Some named and no directory for the rest.
    let out = run(tmp.path(), &["data", "info", "--train-images", &ti]);
    assert_refused(&out, &["--train-labels is missing", "--data DIR"]);

    // Test labels outside the training classes: both files named.
    let (images, labels) = images_and_labels(30, 3);
    let (mut test_images, mut test_labels) = (images, labels);
    test_labels.data[7] = 9;
    test_images.data[0] = 1;
    let bad_images = tmp.path().join("bad-test-images");
    let bad_labels = tmp.path().join("bad-test-labels");
    write_idx(&bad_images, &test_images, false).unwrap();
    write_idx(&bad_labels, &test_labels, false).unwrap();
    let out = run(
        tmp.path(),
        &[
            "data",
            "info",
            "--train-images",
            &ti,
            "--train-labels",
            &tl,
            "--test-images",
            bad_images.to_str().unwrap(),
            "--test-labels",
            bad_labels.to_str().unwrap(),
        ],
    );
    assert_refused(
        &out,
        &[
            "bad-test-labels",
            "label 9",
            "letters-train-labels.gz",
            "0..4",
        ],
    );
}

/// The bytes of every file of `dir`, by name.
fn contents(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut files: Vec<(String, Vec<u8>)> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| {
            let e = e.unwrap();
            (
                e.file_name().to_string_lossy().into_owned(),
                std::fs::read(e.path()).unwrap(),
            )
        })
        .collect();
    files.sort();
    files
}

#[test]
fn expand_never_writes_over_its_input() {
    let tmp = TempDir::new().unwrap();
    let set = tmp.path().join("set");
    mnist_named_set(&set);
    let before = contents(&set);
    std::os::unix::fs::symlink(&set, tmp.path().join("link")).unwrap();
    std::fs::create_dir_all(tmp.path().join("elsewhere")).unwrap();
    for out in [
        "set",
        "./set/",
        "link",
        "set/../set",
        "elsewhere/../link",
        "set/sub/..",
        "set/train-images-idx3-ubyte.gz",
    ] {
        let output = run(
            tmp.path(),
            &["data", "expand", "--data", "set", "--out", out],
        );
        assert_refused(&output, &["--out", "where the data is read from"]);
        assert_eq!(contents(&set), before, "--out {out} changed the data");
    }
    // Through a link to the data, seen from another directory.
    let output = run(
        &tmp.path().join("elsewhere"),
        &["data", "expand", "--data", "../link", "--out", "../set"],
    );
    assert_refused(&output, &["where the data is read from"]);
    // A directory of links to the data is the data's directory too.
    let links = tmp.path().join("links");
    std::fs::create_dir_all(&links).unwrap();
    for entry in std::fs::read_dir(&set).unwrap() {
        let entry = entry.unwrap();
        std::os::unix::fs::symlink(entry.path(), links.join(entry.file_name())).unwrap();
    }
    let output = run(
        tmp.path(),
        &["data", "expand", "--data", "links", "--out", "links"],
    );
    assert_refused(&output, &["where the data is read from"]);
    ok(run(tmp.path(), &["data", "verify", "--data", "links"]));
    ok(run(tmp.path(), &["data", "verify", "--data", "set"]));
    assert_eq!(contents(&set), before);

    // Elsewhere it writes the expanded set, which trains with the same held-out images.
    let out = ok(run(
        tmp.path(),
        &[
            "data", "expand", "--data", "set", "--out", "expanded", "--copies", "1",
        ],
    ));
    let text = stdout(&out);
    assert!(
        text.contains("2500 training images") && text.contains("--holdout 250"),
        "{text}"
    );
    let out = ok(run(
        tmp.path(),
        &[
            "train",
            "--data",
            "expanded",
            "--holdout",
            "250",
            "--layers",
            "64,20,4",
            "--epochs",
            "1",
        ],
    ));
    assert!(stdout(&out).contains("on 2500 images"), "{}", stdout(&out));
    assert_eq!(contents(&set), before);
    // Expanding again into the same place replaces the earlier output whole.
    ok(run(
        tmp.path(),
        &["data", "expand", "--data", "set", "--out", "expanded"],
    ));
    assert_eq!(contents(&tmp.path().join("expanded")).len(), 4);
}

#[test]
fn every_command_reading_data_takes_the_data_flags() {
    let tmp = TempDir::new().unwrap();
    for command in [
        vec!["train"],
        vec!["eval"],
        vec!["data", "info"],
        vec!["data", "verify"],
        vec!["data", "preview"],
        vec!["data", "expand"],
        vec!["reproduce"],
        vec!["search", "eta"],
        vec!["search", "random"],
    ] {
        let mut args = command.clone();
        args.push("--help");
        let out = ok(nn(tmp.path()).args(&args).output().unwrap());
        let text = stdout(&out);
        for flag in [
            "--data <DIR>",
            "--train-images <FILE>",
            "--train-labels <FILE>",
            "--test-images <FILE>",
            "--test-labels <FILE>",
            "--holdout <N>",
        ] {
            assert!(text.contains(flag), "{command:?} lacks {flag}: {text}");
        }
    }
}
