//! `nn train --tensorboard DIR`: the event file is there after the run, and a place that cannot
//! take it is refused before the first epoch, leaving nothing behind. (What the file holds is
//! checked against the metrics file by TensorBoard's own reader: nn-tensorboard's
//! `tests/read_back.py`, run in CI.)

mod common;

use common::{assert_refused, mnist_train_args, ok, run, stdout};

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
