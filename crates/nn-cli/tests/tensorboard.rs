//! `--tensorboard DIR`: `nn train`'s event file is there after the run, and a place that cannot
//! take it is refused before the first epoch, leaving nothing behind; `nn reproduce` and
//! `nn search` write a run per training run, each in a subfolder named as the run, whose
//! scalars and hyper-parameters (read back with nn-tensorboard's reader) are the run's metrics
//! file. (TensorBoard's own reader checks the same: nn-tensorboard's `tests/read_back.py`, run
//! in CI.)

mod common;

use std::collections::BTreeMap;
use std::path::Path;

use common::{assert_refused, data_dir, mnist_train_args, ok, run, stderr, stdout};
use nn_tensorboard::{Ending, Logged};
use serde_json::Value;
use tempfile::TempDir;

fn train(dir: &std::path::Path, extra: &[&str]) -> std::process::Output {
    let mut flags = vec!["--epochs", "2"];
    flags.extend_from_slice(extra);
    run(dir, &mnist_train_args(500, &flags))
}

/// The event files in `dir`.
fn event_files(dir: &std::path::Path) -> Vec<String> {
    std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
                .filter(|name| name.starts_with("events.out.tfevents."))
                .collect()
        })
        .unwrap_or_default()
}

#[test]
fn a_run_writes_its_event_file_and_a_used_folder_is_refused_before_training() {
    let tmp = TempDir::new().unwrap();
    let dir = tmp.path();
    let out = ok(train(dir, &["--tensorboard", "logs/run"]));
    assert!(stdout(&out).contains("TensorBoard events in logs/run"));
    let files = event_files(&dir.join("logs/run"));
    assert_eq!(files.len(), 1, "{files:?}");
    assert!(
        std::fs::metadata(dir.join("logs/run").join(&files[0]))
            .unwrap()
            .len()
            > 100
    );

    let out = train(dir, &["--tensorboard", "logs/run"]);
    assert_refused(
        &out,
        &["--tensorboard", "already holds the event files of a run"],
    );
    assert!(!stdout(&out).contains("Epoch 1"), "{}", stdout(&out));
    assert_eq!(event_files(&dir.join("logs/run")).len(), 1);
}

#[test]
fn a_file_given_as_the_folder_is_refused_and_leaves_no_checkpoint_folder() {
    let tmp = TempDir::new().unwrap();
    let dir = tmp.path();
    std::fs::write(dir.join("taken"), "a file").unwrap();
    let out = train(dir, &["--tensorboard", "taken", "--checkpoint", "ckpt"]);
    assert_refused(&out, &["--tensorboard", "taken", "this is a file"]);
    assert!(!stdout(&out).contains("Epoch 1"), "{}", stdout(&out));
    assert!(
        !dir.join("ckpt").exists(),
        "the refused run's checkpoint folder is removed"
    );
    assert_eq!(
        std::fs::read_to_string(dir.join("taken")).unwrap(),
        "a file"
    );
}

/// The subfolders of `dir`, by name.
fn subfolders(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap())
        .filter(|e| e.path().is_dir())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

/// A metrics file.
fn metrics(path: &Path) -> Value {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap()
}

/// A JSON number as the `f64` it stands for (the hyper-parameters are doubles, the metrics
/// file writes whole numbers as integers).
fn normalized(value: &Value) -> Value {
    match value.as_f64() {
        Some(n) => serde_json::json!(n),
        None => value.clone(),
    }
}

/// A run's options (a metrics file's `options`) as the hyper-parameters they are recorded as:
/// every option that is not off, lists joined by commas (`none` when empty), other structures
/// as compact JSON.
fn expected_hparams(options: &Value) -> BTreeMap<String, Value> {
    options
        .as_object()
        .unwrap()
        .iter()
        .filter(|(_, v)| !v.is_null())
        .map(|(name, value)| {
            let value = match value {
                Value::Array(items) if items.is_empty() => Value::from("none"),
                Value::Array(items) => Value::from(
                    items
                        .iter()
                        .map(|i| i.as_str().map_or_else(|| i.to_string(), str::to_string))
                        .collect::<Vec<_>>()
                        .join(","),
                ),
                Value::Object(_) => Value::from(value.to_string()),
                other => normalized(other),
            };
            (name.clone(), value)
        })
        .collect()
}

/// Everything in which the TensorBoard run `logged` differs from the metrics file `metrics`:
/// each measure of its history (and eta, and the epoch's seconds unless `seconds` is false)
/// a series at step = epoch with every epoch once, as `f32`; no other series; the options as
/// hyper-parameters; a finished run; no damaged record.
fn problems(logged: &Logged, metrics: &Value, seconds: bool) -> Vec<String> {
    let mut found = Vec::new();
    let history = metrics["history"].as_array().unwrap();
    let mut tags = vec!["eta", "seconds"];
    for measure in MEASURES {
        if !history[0][measure].is_null() {
            tags.push(measure);
        }
    }
    let mut logged_tags: Vec<&str> = logged.scalars.keys().map(String::as_str).collect();
    logged_tags.sort_unstable();
    tags.sort_unstable();
    if logged_tags != tags {
        found.push(format!("series {logged_tags:?}, expected {tags:?}"));
    }
    for tag in tags.iter().filter(|t| seconds || **t != "seconds") {
        let expected: Vec<(i64, f32)> = history
            .iter()
            .map(|r| {
                (
                    r["epoch"].as_i64().unwrap(),
                    r[*tag].as_f64().unwrap() as f32,
                )
            })
            .collect();
        if logged.series(tag) != expected {
            found.push(format!(
                "{tag}: {:?}, metrics {expected:?}",
                logged.series(tag)
            ));
        }
    }
    let hparams = logged.hparams.clone().unwrap_or_default();
    let hparams: BTreeMap<String, Value> = hparams
        .iter()
        .map(|(k, v)| (k.clone(), normalized(v)))
        .collect();
    if hparams != expected_hparams(&metrics["options"]) {
        found.push(format!(
            "hyper-parameters {hparams:?}, options {:?}",
            expected_hparams(&metrics["options"])
        ));
    }
    if logged.ending != Some(Ending::Finished) {
        found.push(format!("ended {:?}", logged.ending));
    }
    if !logged.damaged.is_empty() {
        found.push(format!("damaged {:?}", logged.damaged));
    }
    found
}

/// The measures a history may hold, as the metrics file and the event files tag them.
const MEASURES: [&str; 4] = [
    "training_cost",
    "training_accuracy",
    "evaluation_cost",
    "evaluation_accuracy",
];

/// The bytes of every event file under `dir`, by path.
fn event_bytes(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    let mut files = BTreeMap::new();
    for run in subfolders(dir) {
        for file in event_files(&dir.join(&run)) {
            let bytes = std::fs::read(dir.join(&run).join(&file)).unwrap();
            files.insert(format!("{run}/{file}"), bytes);
        }
    }
    files
}

#[test]
fn a_reproduction_writes_a_run_per_training_run_and_run_again_restarts_only_what_it_trains() {
    let tmp = TempDir::new().unwrap();
    let dir = tmp.path();
    let data = data_dir();
    let args = [
        "reproduce",
        "init",
        "--quick",
        "--out",
        "out",
        "--tensorboard",
        "tb",
        "--data",
        data.to_str().unwrap(),
    ];
    ok(run(dir, &args));
    let runs = subfolders(&dir.join("tb"));
    assert_eq!(
        runs,
        [
            "init-001-large_initialization-seed0-quick",
            "init-002-default_initialization-seed0-quick",
            "init-003-100_hidden_large_initialization-seed0-quick",
            "init-004-100_hidden_default_initialization-seed0-quick",
        ]
    );
    let kept = |i: usize| metrics(&dir.join(format!("out/init-runs/init-{i:03}-seed0.json")));
    for (i, name) in runs.iter().enumerate() {
        let folder = dir.join("tb").join(name);
        assert_eq!(event_files(&folder).len(), 1, "{name}");
        let logged = Logged::read(&folder).unwrap();
        let found = problems(&logged, &kept(i + 1), true);
        assert!(found.is_empty(), "{name}: {found:?}");
        assert_eq!(logged.series("evaluation_accuracy").len(), 3, "{name}");
    }
    // The check can fail: one figure changed is caught.
    let logged = Logged::read(&dir.join("tb").join(&runs[0])).unwrap();
    let mut changed = kept(1);
    changed["history"][1]["evaluation_accuracy"] = serde_json::json!(0.123);
    assert!(!problems(&logged, &changed, true).is_empty());

    // Run again with one run's result gone: the others are read back and their event files
    // left as they were; the one trained again restarts its series in its folder.
    let before = event_bytes(&dir.join("tb"));
    std::fs::remove_file(dir.join("out/init-runs/init-002-seed0.json")).unwrap();
    let again = ok(run(dir, &args));
    assert_eq!(
        stderr(&again).matches("finished earlier").count(),
        3,
        "{}",
        stderr(&again)
    );
    assert_eq!(subfolders(&dir.join("tb")), runs);
    let after = event_bytes(&dir.join("tb"));
    for (path, bytes) in &before {
        assert_eq!(after.get(path), Some(bytes), "{path} changed");
    }
    let restarted = dir.join("tb").join(&runs[1]);
    assert_eq!(event_files(&restarted).len(), 2);
    assert_eq!(after.len(), before.len() + 1);
    let logged = Logged::read(&restarted).unwrap();
    let found = problems(&logged, &kept(2), true);
    assert!(found.is_empty(), "the restarted run: {found:?}");
}

/// Flags of `nn search` and `nn train` on MNIST.
fn with_data(args: &[&str]) -> Vec<String> {
    let data = data_dir();
    let mut all: Vec<String> = args.iter().map(|s| s.to_string()).collect();
    all.extend(["--data".to_string(), data.to_str().unwrap().to_string()]);
    all
}

#[test]
fn a_random_search_writes_a_run_per_trial_named_by_its_settings() {
    let tmp = TempDir::new().unwrap();
    let dir = tmp.path();
    let search = with_data(&[
        "search",
        "random",
        "--quick",
        "--trials",
        "2",
        "--eta",
        "0.1:1",
        "--hidden",
        "10:40",
        "--tensorboard",
        "tb",
    ]);
    ok(run(dir, &search));
    let runs = subfolders(&dir.join("tb"));
    assert_eq!(runs.len(), 2, "{runs:?}");
    for (i, name) in runs.iter().enumerate() {
        let logged = Logged::read(&dir.join("tb").join(name)).unwrap();
        let hparams = logged.hparams.clone().expect("hyper-parameters");
        let number = |name: &str| hparams[name].as_f64().unwrap().to_string();
        let hidden = hparams["layers"]
            .as_str()
            .unwrap()
            .split(',')
            .nth(1)
            .unwrap();
        // The name says which trial it is.
        assert_eq!(
            *name,
            format!(
                "random-{:03}-eta{}-lambda{}-hidden{hidden}-batch{}-seed0",
                i + 1,
                number("eta"),
                number("lambda"),
                number("batch_size")
            )
        );
        // The same run trained by `nn train` from its hyper-parameters has the same figures.
        let metrics_file = format!("trial{i}.json");
        let flags = [
            ("--layers", hparams["layers"].as_str().unwrap().to_string()),
            ("--eta", number("eta")),
            ("--lambda", number("lambda")),
            ("--batch-size", number("batch_size")),
            ("--epochs", number("epochs")),
            ("--early-stopping", number("early_stopping")),
            ("--train-size", number("train_size")),
            ("--validation-size", number("validation_size")),
            ("--seed", number("seed")),
            ("--metrics", metrics_file.clone()),
        ];
        let mut train = vec!["train".to_string(), "--quiet".to_string()];
        for (flag, value) in flags {
            train.extend([flag.to_string(), value]);
        }
        ok(run(
            dir,
            &with_data(&train.iter().map(String::as_str).collect::<Vec<_>>()),
        ));
        let found = problems(&logged, &metrics(&dir.join(metrics_file)), false);
        assert!(found.is_empty(), "{name}: {found:?}");
    }
}

#[test]
fn an_eta_search_writes_a_run_per_trial_and_refuses_folders_of_other_runs() {
    let tmp = TempDir::new().unwrap();
    let dir = tmp.path();
    let search = with_data(&["search", "eta", "--quick", "--tensorboard", "tb"]);
    let out = stdout(&ok(run(dir, &search)));
    let etas: Vec<&str> = out
        .lines()
        .filter(|l| {
            l.contains("cost falls") || l.contains("cost does not fall") || l.ends_with("diverged")
        })
        .map(|l| l.split_whitespace().nth(1).unwrap())
        .collect();
    let mut expected: Vec<String> = etas.iter().map(|eta| format!("eta{eta}-seed0")).collect();
    expected.sort();
    let runs = subfolders(&dir.join("tb"));
    assert_eq!(runs, expected, "{out}");
    for name in &runs {
        let logged = Logged::read(&dir.join("tb").join(name)).unwrap();
        assert!(logged.damaged.is_empty(), "{name}");
        assert!(logged.ending.is_some(), "{name}");
        let epochs = logged.series("training_cost").len();
        assert!((1..=2).contains(&epochs), "{name}: {epochs} epochs");
        assert_eq!(logged.hparams.unwrap()["train_size"], 1000.0, "{name}");
    }

    // The same search again restarts each run; another search in the same folder is refused
    // before its first trial trains, naming what differs.
    ok(run(dir, &search));
    assert_eq!(subfolders(&dir.join("tb")), runs);
    let other = with_data(&[
        "search",
        "eta",
        "--quick",
        "--train-size",
        "800",
        "--tensorboard",
        "tb",
    ]);
    let refused = run(dir, &other);
    assert_refused(
        &refused,
        &[
            "tb/eta0.01-seed0",
            "another run",
            "train_size: 1000 there, 800 here",
        ],
    );
    for name in &runs {
        assert_eq!(event_files(&dir.join("tb").join(name)).len(), 2, "{name}");
    }
}
