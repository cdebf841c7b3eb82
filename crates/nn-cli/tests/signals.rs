//! Real signals sent to a real `nn` process (SIGINT as Ctrl-C sends it, SIGTERM as `kill`
//! does), and two real `nn` processes on one checkpoint folder or output file.
#![cfg(target_os = "linux")]

mod common;

use std::io::{BufRead, BufReader, Read};
use std::path::Path;
use std::process::{Child, ChildStderr, ChildStdout, Command, ExitStatus, Stdio};
use std::sync::mpsc::{Receiver, channel};
use std::time::{Duration, Instant};

use common::{data_dir, mnist_train_args, nn, run, stderr};
use nn_tensorboard::{Ending, Logged};

/// A child `nn` whose output lines arrive on channels as they are printed.
struct Running {
    child: Child,
    stdout: Receiver<String>,
    stderr: Receiver<String>,
}

fn lines<R: Read + Send + 'static>(stream: R) -> Receiver<String> {
    let (send, receive) = channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stream).lines().map_while(Result::ok) {
            if send.send(line).is_err() {
                break;
            }
        }
    });
    receive
}

/// Starts `nn args` in `cwd`, and waits until it has installed its signal handlers (the
/// kernel's `SigCgt` mask of the process shows SIGINT caught), so that a signal sent from now on
/// meets them rather than the default action.
fn start(cwd: &Path, args: &[String]) -> Running {
    let mut child = nn(cwd)
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("nn starts");
    let stdout = lines::<ChildStdout>(child.stdout.take().unwrap());
    let stderr = lines::<ChildStderr>(child.stderr.take().unwrap());
    let started = Instant::now();
    while !catches_sigint(child.id()) {
        assert!(started.elapsed() < Duration::from_secs(20), "no handlers");
        std::thread::sleep(Duration::from_millis(5));
    }
    Running {
        child,
        stdout,
        stderr,
    }
}

fn catches_sigint(pid: u32) -> bool {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("SigCgt:"))
        .and_then(|mask| u64::from_str_radix(mask.trim(), 16).ok())
        .is_some_and(|mask| mask & (1 << (2 - 1)) != 0)
}

impl Running {
    /// Waits for a line of `stream` holding `text`, and returns it.
    fn wait_for(&self, stdout: bool, text: &str) -> String {
        let stream = if stdout { &self.stdout } else { &self.stderr };
        let deadline = Instant::now() + Duration::from_secs(240);
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match stream.recv_timeout(left) {
                Ok(line) if line.contains(text) => return line,
                Ok(_) => {}
                Err(e) => panic!("no line with '{text}': {e}"),
            }
        }
    }

    fn signal(&self, name: &str) {
        let sent = Command::new("kill")
            .args([format!("-{name}"), self.child.id().to_string()])
            .status()
            .expect("kill runs");
        assert!(sent.success());
    }

    /// Waits (at most `limit`) for the process to end; returns its status and the rest of its
    /// standard error.
    fn end_within(mut self, limit: Duration) -> (ExitStatus, String) {
        let started = Instant::now();
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                let rest: Vec<String> = self.stderr.iter().collect();
                return (status, rest.join("\n"));
            }
            if started.elapsed() > limit {
                let _ = self.child.kill();
                panic!("nn did not end within {limit:?} of the signal");
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }
}

/// A long [784,100,10] run on 10,000 images, checkpointed into `ck` and saving `m.json`.
fn long_run(extra: &[&str]) -> Vec<String> {
    let mut args = mnist_train_args(10_000, &["--layers", "784,100,10", "--epochs", "500"]);
    args.extend(extra.iter().map(|s| s.to_string()));
    args
}

/// The one line `nn` ends with when a signal stops it.
fn stop_line(rest: &str) -> &str {
    assert!(
        !rest.contains("panicked") && !rest.contains("error:"),
        "{rest}"
    );
    let stops: Vec<&str> = rest
        .lines()
        .filter(|l| l.starts_with("stopped by"))
        .collect();
    assert_eq!(stops.len(), 1, "one line saying what was kept: {rest}");
    stops[0]
}

/// Files of `dir` left by an unfinished write or a held lock.
fn leftovers(dir: &Path) -> Vec<String> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".tmp") || n.ends_with("nn-lock"))
        .collect()
}

fn epochs_in_checkpoint(dir: &Path) -> usize {
    let text = std::fs::read_to_string(dir.join("checkpoint.json")).unwrap();
    let json: serde_json::Value = serde_json::from_str(&text).unwrap();
    json["state"]["history"].as_array().unwrap().len()
}

#[test]
fn sigint_in_training_keeps_the_last_epochs_checkpoint_and_says_how_to_continue() {
    let dir = tempfile::tempdir().unwrap();
    let running = start(
        dir.path(),
        &long_run(&["--checkpoint", "ck", "--save", "m.json"]),
    );
    running.wait_for(true, "Epoch 2:");
    running.signal("INT");
    let (status, rest) = running.end_within(Duration::from_secs(5));
    assert_eq!(status.code(), Some(130), "{rest}");
    let line = stop_line(&rest);
    let epoch: usize = line
        .split("interrupted in epoch ")
        .nth(1)
        .and_then(|s| s.split(';').next())
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("names the epoch: {line}"));
    assert!(
        line.contains(&format!("the checkpoint of epoch {} is in ck", epoch - 1)),
        "{line}"
    );
    assert_eq!(epochs_in_checkpoint(&dir.path().join("ck")), epoch - 1);
    // The model is written only when a run ends: it is absent, not half-written.
    assert!(!dir.path().join("m.json").exists());
    assert!(leftovers(dir.path()).is_empty() && leftovers(&dir.path().join("ck")).is_empty());

    // The command it gives continues the run.
    let command = line.split('`').nth(1).expect("a command in backquotes");
    let mut words: Vec<String> = command.split(' ').skip(1).map(str::to_string).collect();
    words.extend(["--epochs".to_string(), (epoch + 1).to_string()]);
    let resumed = run(dir.path(), &words);
    assert!(resumed.status.success(), "{}", stderr(&resumed));
    let out = common::stdout(&resumed);
    assert!(
        out.contains(&format!("Resuming after epoch {}", epoch - 1)),
        "{out}"
    );
    assert_eq!(epochs_in_checkpoint(&dir.path().join("ck")), epoch + 1);
}

#[test]
fn sigterm_ends_a_run_with_143_and_says_nothing_was_saved_without_a_checkpoint() {
    let dir = tempfile::tempdir().unwrap();
    let running = start(
        dir.path(),
        &long_run(&["--save", "m.json", "--metrics", "x.json"]),
    );
    running.wait_for(true, "Epoch 1:");
    running.signal("TERM");
    let (status, rest) = running.end_within(Duration::from_secs(5));
    assert_eq!(status.code(), Some(143), "{rest}");
    let line = stop_line(&rest);
    assert!(
        line.starts_with("stopped by SIGTERM: interrupted in epoch "),
        "{line}"
    );
    assert!(
        line.contains("nothing was saved") && line.contains("--checkpoint DIR"),
        "{line}"
    );
    assert!(!dir.path().join("m.json").exists() && !dir.path().join("x.json").exists());
    assert!(
        leftovers(dir.path()).is_empty(),
        "{:?}",
        leftovers(dir.path())
    );
}

#[test]
fn a_live_runs_checkpoint_folder_and_model_file_are_refused_to_a_second_run_but_not_after_kill_9() {
    let dir = tempfile::tempdir().unwrap();
    let first = start(
        dir.path(),
        &long_run(&["--checkpoint", "ck", "--save", "m.json"]),
    );
    // Epoch 1's checkpoint is written before epoch 2 ends.
    first.wait_for(true, "Epoch 2:");
    let pid = first.child.id();

    // Resuming the live run's folder, or saving to its model file, is refused, naming it.
    let short = |extra: &[&str]| {
        let mut args = mnist_train_args(1_000, &["--epochs", "1"]);
        args.extend(extra.iter().map(|s| s.to_string()));
        run(dir.path(), &args)
    };
    let resumed = run(
        dir.path(),
        &["train", "--resume", "ck", "--data"]
            .map(str::to_string)
            .into_iter()
            .chain([data_dir().display().to_string()])
            .collect::<Vec<_>>(),
    );
    common::assert_refused(
        &resumed,
        &["--checkpoint ck", "in use", &format!("pid {pid}")],
    );
    common::assert_refused(
        &short(&["--save", "m.json"]),
        &["--save m.json", "in use", &format!("pid {pid}")],
    );
    common::assert_refused(
        &short(&["--checkpoint", "ck", "--overwrite-checkpoint"]),
        &["--checkpoint ck", "in use", &format!("pid {pid}")],
    );
    // Negative control: another file and folder are free.
    assert!(
        short(&["--save", "other.json", "--checkpoint", "ck2"])
            .status
            .success()
    );

    // Killed outright, the first run cannot release its locks; they do not outlive it.
    first.signal("KILL");
    let (status, _) = first.end_within(Duration::from_secs(5));
    assert_eq!(status.code(), None, "killed by the signal");
    assert!(
        dir.path().join("ck/.nn-lock").exists(),
        "the stale lock file is left"
    );
    let more = (epochs_in_checkpoint(&dir.path().join("ck")) + 1).to_string();
    let resumed = run(
        dir.path(),
        &["train", "--resume", "ck", "--epochs", &more, "--data"]
            .map(str::to_string)
            .into_iter()
            .chain([data_dir().display().to_string()])
            .collect::<Vec<_>>(),
    );
    assert!(resumed.status.success(), "{}", stderr(&resumed));
    assert!(short(&["--save", "m.json"]).status.success());
    assert!(leftovers(&dir.path().join("ck")).is_empty());
}

#[test]
fn two_runs_started_together_on_one_checkpoint_folder_train_one_at_a_time() {
    let dir = tempfile::tempdir().unwrap();
    let args = mnist_train_args(
        2_000,
        &[
            "--epochs",
            "3",
            "--checkpoint",
            "ck",
            "--overwrite-checkpoint",
        ],
    );
    let spawn = || {
        nn(dir.path())
            .args(&args)
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap()
    };
    let (a, b) = (spawn(), spawn());
    let (a, b) = (a.wait_with_output().unwrap(), b.wait_with_output().unwrap());
    let refused = [&a, &b]
        .iter()
        .filter(|o| {
            String::from_utf8_lossy(&o.stderr).contains("in use by another running process")
        })
        .count();
    let succeeded = [&a, &b].iter().filter(|o| o.status.success()).count();
    // Either they overlapped (one refused) or one finished before the other claimed the folder.
    assert_eq!(refused + succeeded, 2, "{}\n{}", stderr(&a), stderr(&b));
    assert!(succeeded >= 1);
    assert_eq!(epochs_in_checkpoint(&dir.path().join("ck")), 3);
}

#[test]
fn sigint_in_a_search_prints_the_finished_trials_and_exits_130() {
    let dir = tempfile::tempdir().unwrap();
    let mut args: Vec<String> = ["search", "eta", "--seeds", "1"]
        .map(str::to_string)
        .to_vec();
    let train = mnist_train_args(20_000, &["--layers", "784,100,10", "--epochs", "10"]);
    args.extend(train.into_iter().skip(1));
    let running = start(dir.path(), &args);
    running.wait_for(false, "eta 0.01 ");
    running.signal("INT");
    let printed: Vec<String> = running.stdout.try_iter().collect();
    let Running {
        mut child,
        stdout,
        stderr,
    } = running;
    let status = child.wait().unwrap();
    let rest: Vec<String> = stderr.iter().collect();
    let table: Vec<String> = printed.into_iter().chain(stdout.iter()).collect();
    assert_eq!(status.code(), Some(130), "{rest:?}");
    let line = stop_line(&rest.join("\n")).to_string();
    assert!(
        line.contains(
            "interrupted in trial 2 of the eta search; the finished trial is in the table above"
        ),
        "{line}"
    );
    assert!(
        table
            .iter()
            .any(|l| l.split_whitespace().nth(1) == Some("0.01")),
        "{table:?}"
    );
}

#[test]
fn sigint_in_a_reproduction_keeps_the_finished_runs_which_the_same_command_reuses() {
    let dir = tempfile::tempdir().unwrap();
    let data = data_dir().display().to_string();
    let args: Vec<String> = [
        "reproduce",
        "learning-rate",
        "--out",
        "out",
        "--data",
        &data,
    ]
    .map(str::to_string)
    .to_vec();
    let running = start(dir.path(), &args);
    running.wait_for(false, "test accuracy");
    running.signal("INT");
    let (status, rest) = running.end_within(Duration::from_secs(10));
    assert_eq!(status.code(), Some(130), "{rest}");
    let line = stop_line(&rest).to_string();
    assert!(line.contains("interrupted in run 2 of "), "{line}");
    assert!(
        line.contains("the 1 finished runs are kept in out/learning-rate-runs"),
        "{line}"
    );
    let kept: Vec<_> = std::fs::read_dir(dir.path().join("out/learning-rate-runs"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(kept.len(), 1, "{kept:?}");
    assert!(
        !dir.path().join("out/learning-rate.json").exists(),
        "no summary of a part"
    );

    // Run again, the finished run is read back, not trained again.
    let again = start(dir.path(), &args);
    let reused = again.wait_for(false, "learning-rate [1/");
    assert!(reused.contains("finished earlier, read from"), "{reused}");
    let second = again.wait_for(false, "learning-rate [");
    assert!(!second.contains("finished earlier"), "{second}");
    again.signal("INT");
    let (status, rest) = again.end_within(Duration::from_secs(10));
    assert_eq!(status.code(), Some(130), "{rest}");
    assert!(
        stop_line(&rest).contains("interrupted in run 2 of "),
        "{rest}"
    );
}

#[test]
fn sigint_in_data_expand_leaves_the_output_folder_untouched() {
    let dir = tempfile::tempdir().unwrap();
    let data = data_dir().display().to_string();
    let args: Vec<String> = ["data", "expand", "--out", "expanded", "--data", &data]
        .map(str::to_string)
        .to_vec();
    let running = start(dir.path(), &args);
    running.signal("INT");
    let (status, rest) = running.end_within(Duration::from_secs(30));
    assert_eq!(status.code(), Some(130), "{rest}");
    assert!(
        stop_line(&rest).contains("nothing in expanded was changed"),
        "{rest}"
    );
    let out = dir.path().join("expanded");
    let files: Vec<_> = std::fs::read_dir(&out).map_or(Vec::new(), |d| d.collect());
    assert!(files.is_empty(), "{files:?}");
    // Negative control: uninterrupted, it writes the set.
    let done = run(dir.path(), &args);
    assert!(done.status.success(), "{}", stderr(&done));
    assert_eq!(std::fs::read_dir(&out).unwrap().count(), 4);
}

/// Waits (at most four minutes) until the newest event file in the TensorBoard run `dir` holds
/// `epochs` epochs; returns its path.
fn wait_for_epochs(dir: &Path, files: usize, epochs: usize) -> std::path::PathBuf {
    let deadline = Instant::now() + Duration::from_secs(240);
    loop {
        let mut names: Vec<_> = std::fs::read_dir(dir)
            .map(|entries| entries.map(|e| e.unwrap().path()).collect())
            .unwrap_or_default();
        names.sort();
        if names.len() == files {
            let newest = names.pop().unwrap();
            let logged = Logged::read_file(&newest).unwrap();
            if logged.series("training_cost").len() >= epochs {
                return newest;
            }
        }
        assert!(
            Instant::now() < deadline,
            "{} epochs in {}",
            epochs,
            dir.display()
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn sigint_in_a_reproduction_leaves_valid_event_files_and_the_same_command_restarts_the_run() {
    let dir = tempfile::tempdir().unwrap();
    let data = data_dir().display().to_string();
    let args: Vec<String> = [
        "reproduce",
        "learning-rate",
        "--out",
        "out",
        "--tensorboard",
        "tb",
        "--data",
        &data,
    ]
    .map(str::to_string)
    .to_vec();
    let tb = dir.path().join("tb");
    let (first, second) = (
        tb.join("learning-rate-001-eta_0.025-seed0"),
        tb.join("learning-rate-002-eta_0.25-seed0"),
    );
    let running = start(dir.path(), &args);
    running.wait_for(false, "test accuracy");
    let interrupted = wait_for_epochs(&second, 1, 2);
    running.signal("INT");
    let (status, rest) = running.end_within(Duration::from_secs(10));
    assert_eq!(status.code(), Some(130), "{rest}");
    stop_line(&rest);
    let finished = Logged::read(&first).unwrap();
    assert_eq!(finished.series("training_cost").len(), 30);
    assert_eq!(finished.ending, Some(Ending::Finished));
    // The interrupted run's file is whole: every record sound, its epochs in order, no ending.
    let cut = Logged::read(&second).unwrap();
    assert!(cut.damaged.is_empty(), "{:?}", cut.damaged);
    assert_eq!(cut.ending, None);
    let steps: Vec<i64> = cut.series("training_cost").iter().map(|s| s.0).collect();
    assert!(steps.len() >= 2, "{steps:?}");
    assert_eq!(steps, (1..=steps.len() as i64).collect::<Vec<_>>());
    assert!(cut.hparams.is_some());

    // Run again: the finished run is read back and its file left alone; the interrupted one
    // trains again from its start, in a new file of its folder that TensorBoard shows alone.
    let kept = std::fs::read(&finished.files[0]).unwrap();
    let again = start(dir.path(), &args);
    again.wait_for(false, "learning-rate [2/");
    let restarted = wait_for_epochs(&second, 2, 1);
    again.signal("INT");
    let (status, rest) = again.end_within(Duration::from_secs(10));
    assert_eq!(status.code(), Some(130), "{rest}");
    assert_eq!(std::fs::read(&finished.files[0]).unwrap(), kept);
    assert_eq!(Logged::read(&first).unwrap().files.len(), 1);
    let shown = Logged::read(&second).unwrap();
    assert_eq!(shown.files, [interrupted.clone(), restarted.clone()]);
    assert!(shown.damaged.is_empty(), "{:?}", shown.damaged);
    let new = Logged::read_file(&restarted).unwrap();
    assert_eq!(shown.scalars, new.scalars, "only the new attempt's epochs");
    assert_ne!(
        shown.scalars,
        Logged::read_file(&interrupted).unwrap().scalars
    );
    assert_eq!(new.hparams, None, "recorded once, by the first attempt");
    assert_eq!(shown.hparams, cut.hparams);
}
