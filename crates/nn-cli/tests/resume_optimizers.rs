//! `nn train --checkpoint` then `--resume` with the optimizers that carry state from step to
//! step (Nesterov's velocity, Adam's moments and step count): the resumed run saves the model
//! the uninterrupted run saves, byte for byte.

mod common;

use common::{data_dir, mnist_train_args, ok, run, stdout};

use std::path::Path;

use serde_json::Value;
use tempfile::TempDir;

/// Reads a file that must exist.
fn bytes(path: &Path) -> Vec<u8> {
    std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Copies the checkpoint folder `from` of `dir` to `to` (resuming writes to the folder).
fn copy_checkpoint(dir: &Path, from: &str, to: &str) {
    std::fs::create_dir(dir.join(to)).unwrap();
    for file in ["checkpoint.json", "model.json"] {
        std::fs::copy(dir.join(from).join(file), dir.join(to).join(file)).unwrap();
    }
}

/// Resumes the run checkpointed after epoch 2 in `dir/checkpoint` up to epoch 4 and saves its
/// model as `save`.
fn resume(dir: &Path, checkpoint: &str, save: &str) {
    let data = data_dir();
    let out = ok(run(
        dir,
        &[
            "train",
            "--resume",
            checkpoint,
            "--epochs",
            "4",
            "--data",
            data.to_str().unwrap(),
            "--save",
            save,
        ],
    ));
    let text = stdout(&out);
    assert!(text.contains("Resuming after epoch 2 of 4"), "{text}");
}

#[test]
fn nesterov_and_adam_resume_to_the_uninterrupted_runs_model() {
    for (optimizer, eta) in [("nesterov", "0.1"), ("adam", "0.005")] {
        let tmp = TempDir::new().unwrap();
        let dir = tmp.path();
        let train = |extra: &[&str]| {
            let flags = [
                &["--optimizer", optimizer, "--eta", eta, "--seed", "5"],
                extra,
            ]
            .concat();
            ok(run(dir, &mnist_train_args(1000, &flags)));
        };
        train(&["--epochs", "4", "--save", "straight.json"]);
        train(&["--epochs", "2", "--checkpoint", "ckpt"]);
        copy_checkpoint(dir, "ckpt", "lost");
        resume(dir, "ckpt", "resumed.json");
        assert!(
            bytes(&dir.join("straight.json")) == bytes(&dir.join("resumed.json")),
            "{optimizer}: the resumed run's model differs from the uninterrupted run's"
        );

        // The comparison can fail: the same checkpoint with the optimizer's state set to zero
        // (a velocity or moments lost on the way) resumes to another model.
        let state = dir.join("lost/checkpoint.json");
        let mut checkpoint: Value = serde_json::from_slice(&bytes(&state)).unwrap();
        let vectors = checkpoint["optimizer"].as_array_mut().unwrap();
        assert!(!vectors.is_empty(), "{optimizer} keeps a state");
        for vector in vectors.iter_mut() {
            for value in vector.as_array_mut().unwrap() {
                *value = 0.into();
            }
        }
        std::fs::write(&state, serde_json::to_vec(&checkpoint).unwrap()).unwrap();
        resume(dir, "lost", "lost.json");
        assert!(
            bytes(&dir.join("straight.json")) != bytes(&dir.join("lost.json")),
            "{optimizer}: losing the optimizer's state went unnoticed"
        );
    }
}
