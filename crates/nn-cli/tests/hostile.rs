//! Hostile input to the `nn` binary: data of another shape than the model, absurd numbers in
//! flags, models whose outputs overflow, destinations that would lose work, and checkpoints
//! that do not belong to the run. Each must end in one `error:` line (or, where stated, a
//! warning), never a panic, and leave the user's files as they were.

mod common;

use common::{assert_refused, data_dir, mnist_train_args, ok, run, stderr, stdout};

use std::path::{Path, PathBuf};
use std::process::Output;

use nn_data::{IdxArray, write_idx};
use serde_json::json;
use tempfile::TempDir;

/// `nn train` on 1,000 MNIST images for one epoch, with `extra` flags.
fn train(cwd: &Path, extra: &[&str]) -> Output {
    run(
        cwd,
        &mnist_train_args(1000, &[&["--epochs", "1", "--quiet"], extra].concat()),
    )
}

/// An MNIST-layout directory of `side x side` images of the ten digits: 11,000 training
/// images (the last 10,000 validate) and 100 test images.
fn idx_dir(root: &Path, side: usize) -> PathBuf {
    let dir = root.join(format!("idx{side}"));
    std::fs::create_dir_all(&dir).unwrap();
    for (prefix, n) in [("train", 11_000usize), ("t10k", 100)] {
        let images = IdxArray {
            dims: vec![n, side, side],
            data: (0..n * side * side).map(|i| (i * 37 % 256) as u8).collect(),
        };
        let labels = IdxArray {
            dims: vec![n],
            data: (0..n).map(|i| (i % 10) as u8).collect(),
        };
        write_idx(
            &dir.join(format!("{prefix}-images-idx3-ubyte")),
            &images,
            false,
        )
        .unwrap();
        write_idx(
            &dir.join(format!("{prefix}-labels-idx1-ubyte")),
            &labels,
            false,
        )
        .unwrap();
    }
    dir
}

/// A model of `sizes` in network2.py's format, every weight `weight` and every bias `bias`,
/// with the given output activation.
fn model_file(path: &Path, sizes: &[usize], weight: f64, bias: f64, output: &str) {
    let layers = sizes.len() - 1;
    let weights: Vec<Vec<Vec<f64>>> = sizes
        .windows(2)
        .map(|w| vec![vec![weight; w[0]]; w[1]])
        .collect();
    let biases: Vec<Vec<Vec<f64>>> = sizes[1..].iter().map(|&n| vec![vec![bias]; n]).collect();
    let mut activations = vec!["sigmoid"; layers - 1];
    activations.push(output);
    let model = json!({
        "sizes": sizes,
        "weights": weights,
        "biases": biases,
        "cost": "CrossEntropyCost",
        "activations": activations,
    });
    std::fs::write(path, model.to_string()).unwrap();
}

/// A 40x40 PNG: a dark bar on white paper.
fn bar_png(path: &Path) {
    let picture = image::GrayImage::from_fn(40, 40, |x, y| {
        image::Luma([if (16..24).contains(&x) && (8..32).contains(&y) {
            0
        } else {
            255
        }])
    });
    picture.save(path).unwrap();
}

#[test]
fn eval_refuses_images_of_another_size_than_the_model() {
    let tmp = TempDir::new().unwrap();
    let model = tmp.path().join("model.json");
    model_file(&model, &[784, 10], 0.0, 0.0, "sigmoid");
    for side in [2, 40] {
        let dir = idx_dir(tmp.path(), side);
        let before = std::fs::read(&model).unwrap();
        let out = run(
            tmp.path(),
            &[
                "eval",
                "model.json",
                "--data",
                dir.to_str().unwrap(),
                "--gallery",
                "g.png",
            ],
        );
        let pixels = format!("{} pixels ({side}x{side})", side * side);
        assert_refused(&out, &[&pixels, "784 inputs", "10 outputs"]);
        assert_eq!(std::fs::read(&model).unwrap(), before);
        assert!(!tmp.path().join("g.png").exists());
    }
}

#[test]
fn train_refuses_data_that_does_not_fit_the_layers_before_training() {
    let tmp = TempDir::new().unwrap();
    let dir = idx_dir(tmp.path(), 8);
    let out = run(
        tmp.path(),
        &[
            "train",
            "--data",
            dir.to_str().unwrap(),
            "--train-size",
            "1000",
            "--epochs",
            "1",
            "--save",
            "model.json",
        ],
    );
    assert_refused(
        &out,
        &[
            "--layers 784,30,10",
            "64 pixels (8x8) and 10 classes",
            "--layers 64,30,10",
        ],
    );
    assert!(
        !stdout(&out).contains("Epoch"),
        "no training: {}",
        stdout(&out)
    );
    assert!(!tmp.path().join("model.json").exists());
}

#[test]
fn absurd_numbers_in_flags_are_one_line_errors() {
    let tmp = TempDir::new().unwrap();
    let cases: &[(&[&str], &[&str])] = &[
        (
            &["--batch-size", "10000000000000000"],
            &["--batch-size", "1000 training images"],
        ),
        (&["--epochs", "9223372036854775808"], &["--epochs"]),
        (&["--threads", "100000"], &["--threads 100000"]),
        (
            &["--validation-size", "100000000000"],
            &["--validation-size"],
        ),
        (&["--train-size", "18446744073709551615"], &["--train-size"]),
        (&["--per-class", "0"], &["--per-class 0"]),
        (&["--momentum", "1e39"], &["--momentum"]),
        (&["--eta", "inf"], &["eta"]),
        (&["--eta", "nan"], &["eta"]),
        (&["--lr-schedule", "exp:1e-45"], &["exp:1e-45"]),
        (&["--early-stopping", "0"], &["early stopping"]),
        (&["--average-weights", "1e39"], &["averaging"]),
        (&["--lambda", "1e39"], &["--lambda"]),
        (&["--dropout", "nan"], &["--dropout"]),
        (&["--max-norm", "-1"], &["--max-norm"]),
    ];
    for (flags, expected) in cases {
        let out = train(tmp.path(), flags);
        assert_refused(&out, expected);
    }
    let out = run(
        tmp.path(),
        &["search", "random", "--hidden", "10:1e300", "--quick"],
    );
    assert!(!out.status.success() && !stderr(&out).contains("panicked"));
    let out = run(
        tmp.path(),
        &["search", "random", "--hidden", "10:1000000", "--quick"],
    );
    assert_refused(&out, &["--hidden"]);
    let out = run(
        tmp.path(),
        &["reproduce", "--threads", "100000", "--quick", "overfitting"],
    );
    assert_refused(&out, &["--threads"]);
}

#[test]
fn huge_layers_are_one_line_errors() {
    let tmp = TempDir::new().unwrap();
    let out = train(tmp.path(), &["--layers", "784,3000000000000000,10"]);
    assert_refused(&out, &["--layers 784,3000000000000000,10"]);
}

#[test]
fn predict_shows_finite_probabilities_for_huge_outputs() {
    let tmp = TempDir::new().unwrap();
    model_file(
        &tmp.path().join("huge.json"),
        &[784, 10],
        0.0,
        1e20,
        "identity",
    );
    bar_png(&tmp.path().join("bar.png"));
    let out = ok(run(tmp.path(), &["predict", "huge.json", "bar.png"]));
    let text = stdout(&out);
    assert!(text.contains("0.1000"), "{text}");
    assert!(
        !text.to_lowercase().contains("nan") && !text.contains("inf"),
        "{text}"
    );
}

#[test]
fn outputs_that_overflow_are_an_error_in_predict_and_wrong_in_eval() {
    let tmp = TempDir::new().unwrap();
    model_file(
        &tmp.path().join("inf.json"),
        &[784, 10],
        3e38,
        0.0,
        "identity",
    );
    bar_png(&tmp.path().join("bar.png"));
    let out = run(tmp.path(), &["predict", "inf.json", "bar.png"]);
    assert_refused(&out, &["inf.json", "inf"]);

    let data = data_dir();
    let out = ok(run(
        tmp.path(),
        &["eval", "inf.json", "--data", data.to_str().unwrap()],
    ));
    let err = stderr(&out);
    assert!(
        err.starts_with("warning:") && err.contains("count as wrong"),
        "{err}"
    );
    assert!(
        !stdout(&out).to_lowercase().contains("nan"),
        "{}",
        stdout(&out)
    );
}

#[test]
fn predict_uses_the_model_input_size_and_refuses_non_square_ones() {
    let tmp = TempDir::new().unwrap();
    bar_png(&tmp.path().join("bar.png"));
    model_file(&tmp.path().join("m64.json"), &[64, 10], 0.0, 0.0, "softmax");
    let out = ok(run(tmp.path(), &["predict", "m64.json", "bar.png"]));
    assert!(stdout(&out).contains("Digit:"));
    model_file(&tmp.path().join("m50.json"), &[50, 10], 0.0, 0.0, "softmax");
    let out = run(tmp.path(), &["predict", "m50.json", "bar.png"]);
    assert_refused(&out, &["50 inputs", "square"]);
}

#[test]
fn predict_refuses_a_huge_or_broken_picture() {
    let tmp = TempDir::new().unwrap();
    model_file(&tmp.path().join("m.json"), &[784, 10], 0.0, 0.0, "sigmoid");
    // A 12,000 x 12,000 grey PNG: 144 megapixels, beyond the limit.
    let path = tmp.path().join("big.png");
    let file = std::io::BufWriter::new(std::fs::File::create(&path).unwrap());
    let mut encoder = png::Encoder::new(file, 12_000, 12_000);
    encoder.set_color(png::ColorType::Grayscale);
    encoder.set_depth(png::BitDepth::One);
    let mut writer = encoder
        .write_header()
        .unwrap()
        .into_stream_writer()
        .unwrap();
    let row = vec![0u8; 1500];
    for _ in 0..12_000 {
        std::io::Write::write_all(&mut writer, &row).unwrap();
    }
    writer.finish().unwrap();
    let out = run(tmp.path(), &["predict", "m.json", "big.png"]);
    assert_refused(&out, &["12000x12000", "limit"]);

    std::fs::write(tmp.path().join("text.png"), "not a picture").unwrap();
    let out = run(tmp.path(), &["predict", "m.json", "text.png"]);
    assert_refused(&out, &["text.png", "png"]);
}

/// The bytes of every file directly in `dir`, by name.
fn snapshot(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut files: Vec<(String, Vec<u8>)> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_file())
        .map(|p| {
            let name = p.file_name().unwrap().to_string_lossy().into_owned();
            (name, std::fs::read(&p).unwrap())
        })
        .collect();
    files.sort();
    files
}

#[test]
fn bad_destinations_are_refused_before_training_and_inputs_stay_intact() {
    let tmp = TempDir::new().unwrap();
    let data = idx_dir(tmp.path(), 28);
    let before = snapshot(&data);
    #[cfg(unix)]
    std::os::unix::fs::symlink(
        data.join("t10k-labels-idx1-ubyte"),
        tmp.path().join("link.json"),
    )
    .unwrap();
    std::fs::create_dir(tmp.path().join("folder.json")).unwrap();
    std::fs::write(tmp.path().join("file"), "x").unwrap();
    let mut cases: Vec<(Vec<&str>, Vec<&str>)> = vec![
        (
            vec!["--save", "no/such/dir/model.json"],
            vec!["--save", "does not exist"],
        ),
        (
            vec!["--save", "model.txt"],
            vec!["--save model.txt", ".json"],
        ),
        (vec!["--plot", "curves.pdf"], vec!["--plot", ".png or .svg"]),
        (
            vec!["--metrics", "folder.json"],
            vec!["--metrics", "directory"],
        ),
        (vec!["--checkpoint", "file"], vec!["--checkpoint", "file"]),
        (
            vec!["--save", "out.json", "--metrics", "./out.json"],
            vec!["--metrics", "--save", "same"],
        ),
        (
            vec!["--checkpoint", "ck", "--save", "ck/model.json"],
            vec!["--checkpoint", "--save", "same"],
        ),
    ];
    if cfg!(unix) {
        cases.push((vec!["--save", "link.json"], vec!["--save", "inputs"]));
        cases.push((
            vec!["--metrics", "sub/../link.json"],
            vec!["--metrics", "inputs"],
        ));
    }
    std::fs::create_dir(tmp.path().join("sub")).unwrap();
    for (flags, expected) in &cases {
        let mut args = vec![
            "train",
            "--data",
            data.to_str().unwrap(),
            "--train-size",
            "1000",
            "--epochs",
            "1",
        ];
        args.extend_from_slice(flags);
        let out = run(tmp.path(), &args);
        assert_refused(&out, expected);
        assert!(
            !stdout(&out).contains("Epoch 1"),
            "trained: {}",
            stdout(&out)
        );
    }
    assert_eq!(snapshot(&data), before, "the data changed");
    assert!(
        !tmp.path().join("ck").exists(),
        "a refused run left its checkpoint folder"
    );

    // nn eval: the gallery may not replace the model.
    let model = tmp.path().join("model.json");
    model_file(&model, &[784, 10], 0.0, 0.0, "sigmoid");
    let model_before = std::fs::read(&model).unwrap();
    #[cfg(unix)]
    {
        std::os::unix::fs::symlink(&model, tmp.path().join("model.png")).unwrap();
        let out = run(
            tmp.path(),
            &[
                "eval",
                "model.json",
                "--data",
                data.to_str().unwrap(),
                "--gallery",
                "model.png",
            ],
        );
        assert_refused(&out, &["--gallery", "inputs"]);
    }
    let out = run(
        tmp.path(),
        &[
            "eval",
            "model.json",
            "--data",
            data.to_str().unwrap(),
            "--gallery",
            "g.json",
        ],
    );
    assert_refused(&out, &["--gallery", ".png"]);
    assert_eq!(std::fs::read(&model).unwrap(), model_before);
    assert_eq!(snapshot(&data), before, "the data changed");
}

/// A change made to a checkpoint's JSON.
type Mutation = Box<dyn Fn(&mut serde_json::Value)>;

/// `nn train` on 1,000 MNIST images checkpointed in `ckpt`, with `extra` flags.
fn checkpointed(cwd: &Path, extra: &[&str]) -> Output {
    let mut args = vec!["--checkpoint", "ckpt", "--seed", "5", "--eta", "0.3"];
    args.extend_from_slice(extra);
    train(cwd, &args)
}

#[test]
fn resume_refuses_other_data_other_options_and_corrupt_checkpoints() {
    let tmp = TempDir::new().unwrap();
    ok(checkpointed(tmp.path(), &[]));
    let ckpt = tmp.path().join("ckpt");
    let before = snapshot(&ckpt);
    let mnist = data_dir();
    let resume = |extra: &[&str]| {
        let mut args = vec!["train", "--resume", "ckpt", "--epochs", "2", "--quiet"];
        args.extend_from_slice(extra);
        run(tmp.path(), &args)
    };

    // Another run may not take over the directory.
    let out = checkpointed(tmp.path(), &[]);
    assert_refused(&out, &["--checkpoint", "--overwrite-checkpoint"]);
    assert_eq!(snapshot(&ckpt), before);

    // Other data.
    let other = idx_dir(tmp.path(), 28);
    let out = resume(&["--data", other.to_str().unwrap()]);
    assert_refused(&out, &["other data", "train-images-idx3-ubyte"]);
    assert_eq!(snapshot(&ckpt), before);

    // Other options are named with both values; the same ones are accepted.
    let out = resume(&[
        "--data",
        mnist.to_str().unwrap(),
        "--eta",
        "0.1",
        "--seed",
        "5",
    ]);
    assert_refused(&out, &["--eta (saved 0.3, given 0.1)"]);
    assert!(!stderr(&out).contains("--seed"), "{}", stderr(&out));
    assert_eq!(snapshot(&ckpt), before);

    // Corrupt checkpoints: every field is checked, none panics.
    let state: serde_json::Value =
        serde_json::from_slice(&std::fs::read(ckpt.join("checkpoint.json")).unwrap()).unwrap();
    let nan = f32::NAN.to_bits();
    let mutations: Vec<(&str, Mutation)> = vec![
        ("parameters", Box::new(move |s| s["params"][3] = json!(nan))),
        (
            "parameters",
            Box::new(|s| s["params"].as_array_mut().unwrap().truncate(10)),
        ),
        (
            "layers",
            Box::new(|s| {
                s["options"]["layers"] = json!([784, usize::MAX, 10]);
                s["sizes"] = json!([784, usize::MAX, 10]);
            }),
        ),
        (
            "parameters",
            Box::new(|s| {
                s["options"]["layers"] = json!([784, 1usize << 62, 10]);
                s["sizes"] = json!([784, 1usize << 62, 10]);
            }),
        ),
        (
            "learning rate",
            Box::new(|s| s["state"]["eta"] = json!(-1.0)),
        ),
        (
            "best accuracy",
            Box::new(|s| s["state"]["best"] = json!([7.5, 1])),
        ),
        (
            "figures of epoch 1",
            Box::new(|s| s["state"]["history"][0]["evaluation_accuracy"] = json!(7.5)),
        ),
        (
            "best weights",
            Box::new(move |s| s["best_params"] = json!(vec![nan; 4])),
        ),
        (
            "averaged weights",
            Box::new(move |s| {
                let n = s["params"].as_array().unwrap().len();
                let mut v = vec![0u32; n];
                v[n - 1] = f32::INFINITY.to_bits();
                s["averaged_params"] = json!(v);
            }),
        ),
    ];
    for (expected, mutate) in &mutations {
        let mut bad = state.clone();
        mutate(&mut bad);
        let corrupt = tmp.path().join("corrupt");
        std::fs::create_dir_all(&corrupt).unwrap();
        std::fs::write(corrupt.join("checkpoint.json"), bad.to_string()).unwrap();
        let out = run(
            tmp.path(),
            &[
                "train",
                "--resume",
                "corrupt",
                "--data",
                mnist.to_str().unwrap(),
                "--quiet",
            ],
        );
        assert_refused(&out, &[expected]);
    }

    // A checkpoint from before the data was recorded resumes with a warning.
    let mut old = state.clone();
    old.as_object_mut().unwrap().remove("data");
    std::fs::write(ckpt.join("checkpoint.json"), old.to_string()).unwrap();
    let out = ok(resume(&["--data", mnist.to_str().unwrap(), "--eta", "0.3"]));
    assert!(stderr(&out).contains("warning:") && stderr(&out).contains("does not record"));

    // The same command with --resume added is accepted, and it continues in its own directory.
    let out = ok(resume(&[
        "--data",
        mnist.to_str().unwrap(),
        "--seed",
        "5",
        "--eta",
        "0.3",
        "--checkpoint",
        "ckpt",
    ]));
    assert!(!stderr(&out).contains("warning"), "{}", stderr(&out));
}

#[test]
fn a_model_that_cannot_be_saved_at_the_end_goes_to_a_fallback_file() {
    let tmp = TempDir::new().unwrap();
    let fallback = tmp.path().join("fallback");
    std::fs::create_dir_all(tmp.path().join("out")).unwrap();
    std::fs::create_dir_all(&fallback).unwrap();
    let data = data_dir();
    let child = common::nn(tmp.path())
        .env("TMPDIR", &fallback)
        .args([
            "train",
            "--data",
            data.to_str().unwrap(),
            "--train-size",
            "1000",
            "--validation-size",
            "100",
            "--epochs",
            "100",
            "--quiet",
            "--checkpoint",
            "ckpt",
            "--save",
            "out/model.json",
        ])
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // Once training runs (the first checkpoint exists), the destination's folder disappears.
    let started = std::time::Instant::now();
    while !tmp.path().join("ckpt/checkpoint.json").exists()
        && started.elapsed() < std::time::Duration::from_secs(60)
    {
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    std::fs::remove_dir_all(tmp.path().join("out")).unwrap();
    let out = child.wait_with_output().unwrap();
    assert_refused(
        &out,
        &["cannot save the model to out/model.json", "saved to"],
    );
    let kept: Vec<PathBuf> = std::fs::read_dir(&fallback)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(kept.len(), 1, "{kept:?}");
    assert!(stderr(&out).contains(&kept[0].display().to_string()));
    let model: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&kept[0]).unwrap()).unwrap();
    assert_eq!(model["sizes"], json!([784, 30, 10]));
}

/// Runs `nn` with `args` in `cwd`, killing it if it has not ended within a minute: a run
/// blocked on its input fails the test instead of hanging it.
fn run_unless_blocked(cwd: &Path, args: &[&str]) -> Output {
    let mut child = common::nn(cwd)
        .args(args)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("nn runs");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while child.try_wait().unwrap().is_none() {
        if std::time::Instant::now() > deadline {
            child.kill().unwrap();
            panic!("nn {args:?} was still blocked after a minute");
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    child.wait_with_output().unwrap()
}

/// Makes a named pipe at `path` (nothing ever writes into it).
#[cfg(unix)]
fn named_pipe(path: &Path) {
    let status = std::process::Command::new("mkfifo")
        .arg(path)
        .status()
        .unwrap();
    assert!(status.success());
}

#[cfg(unix)]
#[test]
fn a_named_pipe_given_as_data_model_picture_or_checkpoint_is_refused_not_waited_on() {
    let tmp = TempDir::new().unwrap();
    let dir = idx_dir(tmp.path(), 28);
    let pipe = tmp.path().join("pipe");
    named_pipe(&pipe);
    let pipe = pipe.to_str().unwrap();
    let file = |name: &str| dir.join(name).to_str().unwrap().to_owned();
    let (labels, test_images, test_labels) = (
        file("train-labels-idx1-ubyte"),
        file("t10k-images-idx3-ubyte"),
        file("t10k-labels-idx1-ubyte"),
    );
    let named = [
        "--train-images",
        pipe,
        "--train-labels",
        &labels,
        "--test-images",
        &test_images,
        "--test-labels",
        &test_labels,
    ];
    for command in [
        &["train", "--epochs", "1", "--quiet"][..],
        &["data", "info"],
        &["data", "verify"],
        &["data", "expand", "--out", "expanded"],
    ] {
        let args = [command, &named[..]].concat();
        assert_refused(&run_unless_blocked(tmp.path(), &args), &["pipe"]);
    }
    let model = tmp.path().join("model.json");
    model_file(&model, &[784, 10], 0.0, 0.0, "sigmoid");
    let picture = tmp.path().join("digit.png");
    bar_png(&picture);
    let (model, picture) = (model.to_str().unwrap(), picture.to_str().unwrap());
    for args in [
        &["predict", pipe, picture][..],
        &["predict", model, pipe],
        &["eval", pipe, "--data", dir.to_str().unwrap()],
    ] {
        assert_refused(&run_unless_blocked(tmp.path(), args), &["pipe"]);
    }
    let ckpt = tmp.path().join("ckpt");
    std::fs::create_dir(&ckpt).unwrap();
    named_pipe(&ckpt.join("checkpoint.json"));
    let out = run_unless_blocked(tmp.path(), &["train", "--resume", "ckpt", "--quiet"]);
    assert_refused(&out, &["checkpoint.json", "not a file"]);
}

#[cfg(unix)]
#[test]
fn a_checkpoint_state_that_is_a_device_is_refused_before_it_is_read() {
    let tmp = TempDir::new().unwrap();
    let ckpt = tmp.path().join("ckpt");
    std::fs::create_dir(&ckpt).unwrap();
    // /dev/zero says it holds 0 bytes and never ends: read whole, it would fill the memory.
    std::os::unix::fs::symlink("/dev/zero", ckpt.join("checkpoint.json")).unwrap();
    let out = run_unless_blocked(tmp.path(), &["train", "--resume", "ckpt", "--quiet"]);
    assert_refused(&out, &["checkpoint.json", "not a file"]);
}

#[test]
fn a_model_file_of_a_hundred_thousand_layers_is_refused_in_a_short_line() {
    let tmp = TempDir::new().unwrap();
    let layers = 100_000;
    let mut sizes = vec![1usize; layers];
    sizes[0] = 784;
    // Far more layers than allowed: refused from the sizes alone, before the weights are read.
    let model = json!({
        "sizes": sizes,
        "weights": vec![json!([[0.5]]); layers],
        "biases": vec![json!([[0.1]]); layers],
        "cost": "CrossEntropyCost",
    });
    std::fs::write(tmp.path().join("model.json"), model.to_string()).unwrap();
    let picture = tmp.path().join("digit.png");
    bar_png(&picture);
    let out = run(
        tmp.path(),
        &["predict", "model.json", picture.to_str().unwrap()],
    );
    assert_refused(
        &out,
        &["model.json", "99999 weighted layers", "limit of 1000"],
    );
    assert!(stderr(&out).len() < 400, "{} bytes", stderr(&out).len());
}

/// `n` with a comma between groups of three digits, as the help writes numbers.
fn with_commas(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

#[test]
fn predict_help_states_the_picture_limits_that_are_enforced() {
    let tmp = TempDir::new().unwrap();
    let help = stdout(&ok(run(tmp.path(), &["predict", "--help"])));
    let side = with_commas(u64::from(nn_data::picture::MAX_SIDE));
    let pixels = with_commas(nn_data::picture::MAX_PIXELS);
    assert!(
        help.contains(&format!("{side} pixels a side")) && help.contains(&pixels),
        "{help}"
    );
}

#[cfg(unix)]
#[test]
fn data_preview_refuses_to_draw_over_the_data_it_previews() {
    let tmp = TempDir::new().unwrap();
    let dir = idx_dir(tmp.path(), 28);
    let before = snapshot(&dir);
    let images = dir.join("train-images-idx3-ubyte");
    for out in [
        images.clone(),
        dir.join("..").join("idx28/train-images-idx3-ubyte"),
    ] {
        let out = run(
            tmp.path(),
            &[
                "data",
                "preview",
                "--data",
                dir.to_str().unwrap(),
                "--out",
                out.to_str().unwrap(),
            ],
        );
        assert_refused(&out, &["--out"]);
    }
    // A link named like a picture that points at the data is refused too.
    std::os::unix::fs::symlink(&images, tmp.path().join("preview.png")).unwrap();
    let out = run(
        tmp.path(),
        &[
            "data",
            "preview",
            "--data",
            dir.to_str().unwrap(),
            "--out",
            "preview.png",
        ],
    );
    assert_refused(&out, &["--out", "input"]);
    assert_eq!(snapshot(&dir), before, "the data set was changed");
}

#[test]
fn data_expand_refuses_more_copies_than_an_idx_file_holds_before_making_any() {
    let tmp = TempDir::new().unwrap();
    let dir = idx_dir(tmp.path(), 28);
    // 9,167 training images of 784 bytes and 1,833 held out (a sixth): the originals, 148
    // copies and the held-out images take 1,072,289,344 bytes, one copy more exceeds 1 GiB.
    for (copies, most) in [("149", "148"), ("18446744073709551615", "148")] {
        let out = run(
            tmp.path(),
            &[
                "data",
                "expand",
                "--data",
                dir.to_str().unwrap(),
                "--out",
                "expanded",
                "--copies",
                copies,
            ],
        );
        assert_refused(
            &out,
            &[
                &format!("--copies {copies}"),
                &format!("at most {most} copies"),
            ],
        );
        assert!(!tmp.path().join("expanded").exists());
    }
}

#[cfg(target_os = "linux")]
#[test]
fn an_unwritable_stdout_or_stderr_is_no_panic() {
    let tmp = TempDir::new().unwrap();
    // Writing to /dev/full fails with "no space left on device".
    let full = || {
        std::fs::OpenOptions::new()
            .write(true)
            .open("/dev/full")
            .unwrap()
    };
    // The summary table of an experiment is lost, the run and its files are not.
    let out = common::nn(tmp.path())
        .args(["reproduce", "slowdown", "--quick", "--out", "runs"])
        .stdout(full())
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(tmp.path().join("runs/slowdown.md").is_file());
    // An error that cannot be shown still ends with the error's exit status, not a panic's.
    let status = common::nn(tmp.path())
        .args(["predict", "missing.json", "missing.png"])
        .stderr(full())
        .status()
        .unwrap();
    assert_eq!(status.code(), Some(1));
}

#[test]
fn a_run_diverging_under_a_huge_lambda_names_the_regularization() {
    let tmp = TempDir::new().unwrap();
    let dir = idx_dir(tmp.path(), 28);
    let out = run(
        tmp.path(),
        &[
            "train",
            "--data",
            dir.to_str().unwrap(),
            "--epochs",
            "1",
            "--lambda",
            "1e30",
            "--quiet",
        ],
    );
    assert_refused(&out, &["diverged", "eta = 0.5", "lambda"]);
}

/// A protobuf message of `fields`: each a field number and an integer (a varint) or bytes
/// (length-delimited), in the order given.
fn protobuf(fields: &[(u32, Field)]) -> Vec<u8> {
    fn varint(mut n: u64, out: &mut Vec<u8>) {
        while n >= 0x80 {
            out.push(n as u8 | 0x80);
            n >>= 7;
        }
        out.push(n as u8);
    }
    let mut out = Vec::new();
    for (number, value) in fields {
        match value {
            Field::Int(n) => {
                varint(u64::from(*number) << 3, &mut out);
                varint(*n, &mut out);
            }
            Field::Bytes(bytes) => {
                varint(u64::from(*number) << 3 | 2, &mut out);
                varint(bytes.len() as u64, &mut out);
                out.extend_from_slice(bytes);
            }
        }
    }
    out
}

/// A field's value in [`protobuf`].
enum Field {
    Int(u64),
    Bytes(Vec<u8>),
}

fn text(s: &str) -> Field {
    Field::Bytes(s.as_bytes().to_vec())
}

/// An ONNX model of operator set `opset`: one `Gemm` of the input and a [10, 784] weight
/// tensor whose data is in the file `weights.bin` beside it.
fn external_onnx(opset: u64) -> Vec<u8> {
    use Field::{Bytes, Int};
    let float = protobuf(&[(1, Bytes(protobuf(&[(1, Int(1))])))]);
    let value = |name: &str| Bytes(protobuf(&[(1, text(name)), (2, Bytes(float.clone()))]));
    let location = protobuf(&[(1, text("location")), (2, text("weights.bin"))]);
    let tensor = protobuf(&[
        (1, Int(10)),
        (1, Int(784)),
        (2, Int(1)),
        (8, text("w")),
        (13, Bytes(location)),
        (14, Int(1)),
    ]);
    let trans_b = protobuf(&[(1, text("transB")), (20, Int(2)), (3, Int(1))]);
    let node = protobuf(&[
        (1, text("input")),
        (1, text("w")),
        (2, text("output")),
        (4, text("Gemm")),
        (5, Bytes(trans_b)),
    ]);
    let graph = protobuf(&[
        (1, Bytes(node)),
        (5, Bytes(tensor)),
        (11, value("input")),
        (12, value("output")),
    ]);
    protobuf(&[(8, Bytes(protobuf(&[(2, Int(opset))]))), (7, Bytes(graph))])
}

/// `nn eval FILE` in `dir`, timed.
fn eval_timed(dir: &Path, file: &str) -> (Output, std::time::Duration) {
    let start = std::time::Instant::now();
    let out = run_unless_blocked(dir, &["eval", file]);
    (out, start.elapsed())
}

#[cfg(unix)]
#[test]
fn eval_refuses_hostile_onnx_files_in_one_error_line_naming_them() {
    let tmp = TempDir::new().unwrap();
    let network = nn_core::Network::sigmoid(&[784, 10], nn_core::Initializer::Default, 1).unwrap();
    let good = nn_export::to_onnx(&network, "CrossEntropyCost").unwrap();
    // Opening this named pipe to read the weights it is said to hold would block nn.
    named_pipe(&tmp.path().join("weights.bin"));
    let mut state = 0x9e37_79b9_7f4a_7c15u64;
    let noise: Vec<u8> = (0..4096)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state >> 24) as u8
        })
        .collect();
    // Five million empty nodes: 10 MB that would decode into 700 MB.
    let nodes = protobuf(&[(7, Field::Bytes([0x0a, 0x00].repeat(5_000_000)))]);
    for (name, bytes, problem) in [
        (
            "cut.onnx",
            good[..good.len() / 2].to_vec(),
            "not an ONNX model",
        ),
        ("noise.onnx", noise, "not an ONNX model"),
        ("nodes.onnx", nodes, "more than 6000 nodes"),
        (
            "external.onnx",
            external_onnx(13),
            "in an external file ('weights.bin')",
        ),
        (
            "opset6.onnx",
            external_onnx(6),
            "operator set 6 of the default domain",
        ),
    ] {
        std::fs::write(tmp.path().join(name), bytes).unwrap();
        let (out, took) = eval_timed(tmp.path(), name);
        assert_refused(&out, &[name, problem]);
        assert!(took.as_secs_f64() < 2.0, "{name}: {took:?}");
    }
}

#[test]
fn eval_refuses_lying_safetensors_files_in_one_error_line_naming_them() {
    let tmp = TempDir::new().unwrap();
    let network = nn_core::Network::sigmoid(&[784, 10], nn_core::Initializer::Default, 1).unwrap();
    let good = nn_export::to_safetensors(&network, "CrossEntropyCost").unwrap();
    let length = u64::from_le_bytes(good[..8].try_into().unwrap()) as usize;
    let (header, data) = (&good[8..8 + length], &good[8 + length..]);
    let changed = |change: &dyn Fn(&mut serde_json::Value)| {
        let mut header: serde_json::Value = serde_json::from_slice(header).unwrap();
        change(&mut header);
        let header = header.to_string();
        let mut bytes = (header.len() as u64).to_le_bytes().to_vec();
        bytes.extend_from_slice(header.as_bytes());
        bytes.extend_from_slice(data);
        bytes
    };
    let mut huge = good.clone();
    huge[..8].copy_from_slice(&u64::MAX.to_le_bytes());
    for (name, bytes, problem) in [
        (
            "huge.safetensors",
            huge,
            "a header of 18446744073709551615 bytes",
        ),
        (
            "past.safetensors",
            changed(&|h| h["0.bias"]["data_offsets"] = json!([0, u64::MAX])),
            "tensor '0.bias' has data offsets [0, 18446744073709551615] beyond",
        ),
        (
            "half.safetensors",
            changed(&|h| h["0.weight"]["dtype"] = json!("F16")),
            "tensor '0.weight' is 'F16', not F32",
        ),
        (
            "renamed.safetensors",
            changed(&|h| {
                let bias = h.as_object_mut().unwrap().remove("0.bias").unwrap();
                h["1.bias"] = bias;
            }),
            "tensor '1.bias' is none of the weights",
        ),
    ] {
        std::fs::write(tmp.path().join(name), bytes).unwrap();
        let (out, took) = eval_timed(tmp.path(), name);
        assert_refused(&out, &[name, problem]);
        assert!(took.as_secs_f64() < 2.0, "{name}: {took:?}");
    }
}

#[cfg(unix)]
#[test]
fn export_refuses_its_input_under_another_name_and_outputs_that_are_not_files() {
    let tmp = TempDir::new().unwrap();
    let model = tmp.path().join("model.json");
    model_file(&model, &[784, 10], 0.01, 0.0, "sigmoid");
    let before = std::fs::read(&model).unwrap();
    std::fs::hard_link(&model, tmp.path().join("hard.json")).unwrap();
    std::os::unix::fs::symlink("model.json", tmp.path().join("soft.JSON")).unwrap();
    std::fs::create_dir(tmp.path().join("folder.ONNX")).unwrap();
    for (out, problem) in [
        ("hard.json", "the output is the input model itself"),
        ("soft.JSON", "the output is the input model itself"),
        ("folder.ONNX", "a directory, not a regular file"),
        ("missing/m.onnx", "the folder missing does not exist"),
    ] {
        let result = run(tmp.path(), &["export", "model.json", out]);
        assert_refused(&result, &[out, problem]);
    }
    assert_eq!(std::fs::read(&model).unwrap(), before);
    ok(run(tmp.path(), &["export", "model.json", "m.ONNX"]));
    assert!(tmp.path().join("m.ONNX").is_file());
}
