//! The write-run-collect cycle of `--write-commands` and `--collect`: the commands written by
//! `nn reproduce` and `nn search random`, run outside `nn` (by GNU parallel, or a minimal runner
//! of our own), collected back into the summary the runs give in one process.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::{assert_refused, data_dir, ok, run, stdout};
use tempfile::TempDir;

/// The directory of the `nn` binary under test, put first on PATH for the commands' `nn`.
fn path_with_nn() -> String {
    let bin = Path::new(env!("CARGO_BIN_EXE_nn")).parent().unwrap();
    format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    )
}

/// Whether GNU parallel runs here.
fn parallel_available() -> bool {
    Command::new("parallel")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success())
}

/// Runs every line of `commands` with GNU parallel, two at a time.
fn run_with_parallel(commands: &Path) {
    let status = Command::new("parallel")
        .args([
            "--will-cite",
            "--halt",
            "now,fail=1",
            "-j",
            "2",
            "--arg-file",
        ])
        .arg(commands)
        .env("PATH", path_with_nn())
        .status()
        .expect("GNU parallel runs");
    assert!(
        status.success(),
        "parallel failed on {}",
        commands.display()
    );
}

/// Runs every line of `commands` with `sh -c`, one after another: the minimal runner.
fn run_one_by_one(commands: &Path) {
    for line in std::fs::read_to_string(commands).unwrap().lines() {
        let status = Command::new("sh")
            .args(["-c", line])
            .env("PATH", path_with_nn())
            .status()
            .unwrap();
        assert!(status.success(), "{line}");
    }
}

/// `nn reproduce cross-entropy --quick` on MNIST: its summary trained in one process, and the
/// same experiment written as commands into `dir/runs`, run by `runner`, and collected.
fn reproduce_both_ways(runner: fn(&Path)) -> (serde_json::Value, serde_json::Value, PathBuf) {
    let dir = TempDir::new().unwrap().keep();
    let data = data_dir();
    let data = data.to_str().unwrap();
    let experiment = ["reproduce", "cross-entropy", "--quick", "--data", data];
    let with = |extra: &[&str]| -> Vec<String> {
        experiment
            .iter()
            .chain(extra)
            .map(|s| s.to_string())
            .collect()
    };
    ok(run(&dir, &with(&["--out", "here"])));
    let written = stdout(&ok(run(
        &dir,
        &with(&["--write-commands", "runs/commands.txt"]),
    )));
    assert!(written.contains("parallel <"), "{written}");
    let commands = dir.join("runs/commands.txt");
    let lines = std::fs::read_to_string(&commands).unwrap();
    assert_eq!(
        lines.lines().count(),
        4,
        "one line per run and seed (30 and 100 hidden, with the cross-entropy and with chapter \
         1's quadratic cost):\n{lines}"
    );
    assert!(
        lines
            .lines()
            .all(|l| l.starts_with("nn train ") && l.contains("--metrics /")),
        "{lines}"
    );
    assert!(!dir.join("here-too").exists());
    runner(&commands);
    ok(run(
        &dir,
        &with(&["--collect", "runs", "--out", "here-too"]),
    ));
    let read = |d: &str| -> serde_json::Value {
        serde_json::from_str(
            &std::fs::read_to_string(dir.join(d).join("cross-entropy.json")).unwrap(),
        )
        .unwrap()
    };
    (read("here"), read("here-too"), dir)
}

/// The figures that do not depend on where or when the runs were trained.
fn figures(summary: &serde_json::Value) -> Vec<serde_json::Value> {
    let runs = summary["runs"].as_array().unwrap();
    let mut out: Vec<serde_json::Value> = runs
        .iter()
        .flat_map(|r| {
            [
                r["command"].clone(),
                r["measures"].clone(),
                r["test_accuracy"].clone(),
            ]
        })
        .collect();
    out.push(summary["checks"].clone());
    out
}

#[test]
fn commands_run_outside_nn_and_collected_give_the_summary_of_one_process() {
    let parallel = parallel_available();
    eprintln!(
        "running the commands with {}",
        if parallel {
            "GNU parallel"
        } else {
            "sh, one by one (GNU parallel is missing)"
        }
    );
    let runner = if parallel {
        run_with_parallel
    } else {
        run_one_by_one
    };
    let (here, collected, dir) = reproduce_both_ways(runner);
    assert!(!figures(&here).is_empty());
    assert_eq!(figures(&here), figures(&collected));

    // A metrics file of another run is refused, and so is a missing one.
    let runs = dir.join("runs");
    let files: Vec<PathBuf> = std::fs::read_dir(&runs)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    assert_eq!(files.len(), 4);
    let (a, b) = (
        std::fs::read(&files[0]).unwrap(),
        std::fs::read(&files[1]).unwrap(),
    );
    std::fs::write(&files[0], &b).unwrap();
    let data = data_dir();
    let collect = [
        "reproduce",
        "cross-entropy",
        "--quick",
        "--data",
        data.to_str().unwrap(),
        "--collect",
        "runs",
        "--out",
        "again",
    ];
    assert_refused(&run(&dir, &collect), &["another run", "options differ"]);
    std::fs::write(&files[0], a).unwrap();
    std::fs::remove_file(&files[1]).unwrap();
    assert_refused(&run(&dir, &collect), &["1 of 4 runs have no metrics file"]);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
#[ignore = "requires GNU parallel (apt-get install -y parallel); .ci/run installs it and runs this"]
fn the_write_run_collect_cycle_with_gnu_parallel_requires_parallel() {
    assert!(
        parallel_available(),
        "GNU parallel is missing: apt-get install -y parallel"
    );
    let (here, collected, dir) = reproduce_both_ways(run_with_parallel);
    assert_eq!(figures(&here), figures(&collected));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_random_search_written_as_commands_collects_into_the_same_table() {
    let dir = TempDir::new().unwrap();
    let data = data_dir();
    let search = [
        "search",
        "random",
        "--quick",
        "--trials",
        "3",
        "--eta",
        "0.1:1",
        "--hidden",
        "10:40",
        "--data",
        data.to_str().unwrap(),
    ];
    let with = |extra: &[&str]| -> Vec<String> {
        search.iter().chain(extra).map(|s| s.to_string()).collect()
    };
    let here = stdout(&ok(run(dir.path(), &with(&[]))));
    ok(run(
        dir.path(),
        &with(&["--write-commands", "trials/commands.txt"]),
    ));
    run_one_by_one(&dir.path().join("trials/commands.txt"));
    let collected = stdout(&ok(run(dir.path(), &with(&["--collect", "trials"]))));
    // The table without its seconds column, and the winning line, are the same.
    let table = |out: &str| -> Vec<String> {
        out.lines()
            .filter(|l| !l.trim_start().starts_with("rank"))
            .map(|l| {
                let mut words: Vec<&str> = l.split_whitespace().collect();
                if words.len() == 8 && words[0].parse::<usize>().is_ok() {
                    words.remove(7);
                }
                words.join(" ")
            })
            .collect()
    };
    assert!(here.contains("nn train "), "{here}");
    assert_eq!(table(&here), table(&collected));
}
