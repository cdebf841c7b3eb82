//! End-to-end tests of `nn reproduce`, `nn search` and `nn train --recipe`, on quick runs.

mod common;

use common::{data_dir, ok, run, stderr, stdout};

use serde_json::Value;
use tempfile::TempDir;

/// The names of the chapter's experiments and the blog's, in the chapter's order.
const EXPERIMENTS: [&str; 17] = [
    "slowdown",
    "cross-entropy",
    "overfitting",
    "regularized",
    "full-regularized",
    "init",
    "broad-strategy",
    "learning-rate",
    "stopping",
    "mini-batch",
    "training-size",
    "expansion",
    "dropout",
    "variations",
    "blog",
    "hessian",
    "blog-more",
];

#[test]
fn list_names_every_experiment_once_in_the_chapters_order_with_the_books_figures() {
    let dir = TempDir::new().unwrap();
    let out = stdout(&ok(run(dir.path(), &["reproduce", "--list"])));
    let names: Vec<&str> = out
        .lines()
        .filter(|l| !l.starts_with(' '))
        .filter_map(|l| l.split_whitespace().next())
        .collect();
    // Other lists (the exercises) may follow; the chapter's come in its order.
    let chapter: Vec<&str> = names
        .iter()
        .copied()
        .filter(|n| EXPERIMENTS.contains(n))
        .collect();
    assert_eq!(chapter, EXPERIMENTS, "{out}");
    let mut unique = names.clone();
    unique.sort_unstable();
    unique.dedup();
    assert_eq!(unique.len(), names.len(), "a name is listed twice:\n{out}");
    for figure in [
        "0.005",
        "95.49",
        "95.42",
        "96.59",
        "82.27",
        "87.1",
        "97.86",
        "95.33",
        "96.49",
        "97.92",
        "98.04",
        "1030/10000",
        "93.24",
        "94.48",
        "99.3",
        "98.7",
        "68.93",
        "58%",
        "97.5%",
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
        "quadratic, w=0.6 b=0.9, eta 0.15",
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
    let quadratic = kept("quadratic, w=2 b=2, eta 0.15");
    let (book, same_rate) = (
        kept("cross-entropy, w=2 b=2, eta 0.005"),
        kept("ours: cross-entropy, w=2 b=2, eta 0.15"),
    );
    assert!(quadratic > 0.9, "quadratic kept {quadratic}");
    assert!(book < 0.95, "cross-entropy at the book's eta kept {book}");
    assert!(
        same_rate < 0.2,
        "cross-entropy at eta 0.15 kept {same_rate}"
    );
    let checks = summary["checks"].as_array().unwrap();
    assert!(!checks.is_empty());
    assert!(checks.iter().all(|c| c["holds"] == true), "{checks:?}");

    let markdown = std::fs::read_to_string(out.join("slowdown.md")).unwrap();
    assert!(
        markdown.contains("| quadratic, w=2 b=2, eta 0.15 |"),
        "{markdown}"
    );
    assert!(markdown.contains("0.09"), "{markdown}");
}

/// Checks that every measure of every run in `summary` is what the run's history says for the
/// metrics a history holds (the first seed's value), and that every claim holds; the first
/// discrepancy otherwise.
fn measures_agree_with_histories(summary: &Value) -> Result<(), String> {
    for r in summary["runs"].as_array().ok_or("no runs")? {
        let history = r["history"].as_array().ok_or("no history")?;
        for m in r["measures"].as_array().ok_or("no measures")? {
            let name = m["metric"].as_str().ok_or("no metric name")?;
            let Some(epoch) = name
                .strip_prefix("evaluation accuracy after epoch ")
                .and_then(|rest| rest.strip_suffix(" (%)"))
            else {
                continue;
            };
            let epoch: u64 = epoch.parse().map_err(|_| format!("bad metric {name}"))?;
            let recorded = history
                .iter()
                .find(|e| e["epoch"].as_u64() == Some(epoch))
                .and_then(|e| e["evaluation_accuracy"].as_f64())
                .ok_or(format!("{}: no epoch {epoch} in the history", r["label"]))?;
            let first = m["per_seed"][0].as_f64().ok_or("no first seed")?;
            if (first - 100.0 * recorded).abs() > 1e-9 {
                return Err(format!(
                    "{}: {name} is {first}, the history says {}",
                    r["label"],
                    100.0 * recorded
                ));
            }
        }
    }
    for c in summary["checks"].as_array().ok_or("no checks")? {
        if c["holds"] != true {
            return Err(format!("does not hold: {c}"));
        }
    }
    Ok(())
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
    let after = |label| measure(&summary, label, "evaluation accuracy after epoch 1 (%)");
    assert_eq!(after("default initialization")["book"].as_f64(), Some(93.0));
    assert_eq!(after("large initialization")["book"].as_f64(), Some(87.0));
    // The book's claim holds even after a quick epoch on 1,000 images: the default
    // initialization is far ahead (50.0% against 19.6% when this was written).
    let ours = |label| after(label)["ours"].as_f64().unwrap();
    let (default, large) = (ours("default initialization"), ours("large initialization"));
    assert!(default > large + 10.0, "default {default}, large {large}");
    measures_agree_with_histories(&summary).unwrap();
    // The check can fail: a measure that disagrees with its history, or a claim that does not
    // hold, is caught.
    let mut misreported = summary.clone();
    let first = &mut misreported["runs"][0]["measures"][0]["per_seed"][0];
    *first = serde_json::json!(first.as_f64().unwrap() + 1.0);
    let err = measures_agree_with_histories(&misreported).unwrap_err();
    assert!(err.contains("the history says"), "{err}");
    let mut failing = summary.clone();
    failing["checks"][0]["holds"] = Value::Bool(false);
    assert!(measures_agree_with_histories(&failing).is_err());
    let runs = summary["runs"].as_array().unwrap();
    assert_eq!(runs.len(), 4);
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
                .starts_with("nn train --layers 784,")
        );
    }
    assert!(dir.path().join("out/init.png").is_file());
    assert!(dir.path().join("out/init-100.png").is_file());
    assert!(dir.path().join("out/init.md").is_file());
}

#[test]
fn the_broad_strategys_first_stripped_down_run_diverges_in_the_first_epoch() {
    // eta 10 with lambda 1000 on 1,000 images: the weight decay factor 1 - eta lambda / n is
    // -9, so the weights blow up (network2.py prints 10/100 from NaN weights); `nn train` stops
    // with a one-line error. With lambda 20 the same eta trains.
    let dir = TempDir::new().unwrap();
    let data = data_dir();
    for (lambda, diverges) in [("1000", true), ("20", false)] {
        let output = run(
            dir.path(),
            &[
                "train",
                "--layers",
                "784,10",
                "--train-size",
                "1000",
                "--validation-size",
                "100",
                "--eta",
                "10",
                "--lambda",
                lambda,
                "--epochs",
                "3",
                "--quiet",
                "--data",
                data.to_str().unwrap(),
            ],
        );
        let err = stderr(&output);
        assert_eq!(!output.status.success(), diverges, "lambda {lambda}: {err}");
        if diverges {
            assert!(err.contains("diverged in epoch 1"), "{err}");
            assert_eq!(err.lines().count(), 1, "{err}");
        }
    }
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

/// The workspace's docs directory.
fn docs_dir() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs")
}

/// Checks every figure tagged in `doc` as `NUMBER<!--fig NAME|RUN|METRIC|FIELD-->` (a `%`
/// may follow the number) against the record of experiment NAME returned by `record`: FIELD
/// is `ours`, `spread`, `book` or `seedN` (the N-th seed's value, from 0), and the record's
/// value rounded to the doc's decimals must be the doc's number. Returns how many figures were
/// checked, or the first that disagrees.
fn check_tagged_figures(
    doc: &str,
    record: &dyn Fn(&str) -> Option<Value>,
) -> Result<usize, String> {
    const TAG: &str = "<!--fig ";
    let mut checked = 0;
    let mut rest = doc;
    while let Some(at) = rest.find(TAG) {
        let before = rest[..at].strip_suffix('%').unwrap_or(&rest[..at]);
        let start = before
            .rfind(|c: char| !(c.is_ascii_digit() || c == '.' || c == '-'))
            .map_or(0, |i| i + 1);
        let number = &before[start..];
        let after = &rest[at + TAG.len()..];
        let end = after.find("-->").ok_or("an unterminated <!--fig tag")?;
        let tag = &after[..end];
        rest = &after[end..];
        let parts: Vec<&str> = tag.split('|').map(str::trim).collect();
        let [name, label, metric, field] = parts[..] else {
            return Err(format!("'{tag}': want NAME|RUN|METRIC|FIELD"));
        };
        if number.parse::<f64>().is_err() {
            return Err(format!("'{tag}' follows '{number}', not a number"));
        }
        let summary = record(name).ok_or(format!("'{tag}': no record of {name}"))?;
        let run = summary["runs"]
            .as_array()
            .and_then(|runs| runs.iter().find(|r| r["label"] == label))
            .ok_or(format!("'{tag}': no run '{label}' in the record of {name}"))?;
        let measure = run["measures"]
            .as_array()
            .and_then(|ms| ms.iter().find(|m| m["metric"] == metric))
            .ok_or(format!("'{tag}': no measure '{metric}'"))?;
        let value = match field.strip_prefix("seed") {
            Some(i) => {
                &measure["per_seed"][i
                    .parse::<usize>()
                    .map_err(|_| format!("'{tag}': bad seed"))?]
            }
            None => &measure[field],
        }
        .as_f64()
        .ok_or(format!("'{tag}': the record has no {field}"))?;
        let decimals = number.split_once('.').map_or(0, |(_, d)| d.len());
        let recorded = format!("{value:.decimals$}");
        if recorded != number {
            return Err(format!(
                "'{tag}': the doc says {number}, the record {recorded}"
            ));
        }
        checked += 1;
    }
    Ok(checked)
}

/// The record of experiment `name` kept in docs/records.
fn kept_record(name: &str) -> Option<Value> {
    let text =
        std::fs::read_to_string(docs_dir().join("records").join(format!("{name}.json"))).ok()?;
    serde_json::from_str(&text).ok()
}

#[test]
fn every_tagged_figure_in_the_docs_matches_its_measured_record() {
    let mut total = 0;
    for doc in ["reproduction.md", "../README.md"] {
        let text = std::fs::read_to_string(docs_dir().join(doc)).unwrap();
        total += check_tagged_figures(&text, &kept_record).unwrap_or_else(|e| panic!("{doc}: {e}"));
    }
    assert!(total >= 40, "only {total} figures are tagged");
}

#[test]
fn the_figure_check_catches_a_figure_that_disagrees_with_its_record() {
    let record = |name: &str| {
        (name == "demo").then(|| {
            serde_json::json!({"runs": [{"label": "a run", "measures": [
                {"metric": "test accuracy (%)", "ours": 95.174, "per_seed": [95.26, 95.09],
                 "book": 95.49, "spread": 0.17}]}]})
        })
    };
    let tag = |field: &str| format!("<!--fig demo|a run|test accuracy (%)|{field}-->");
    let good = format!(
        "ours 95.17%{} (95.26{}, 95.1{}), book 95.49%{}",
        tag("ours"),
        tag("seed0"),
        tag("seed1"),
        tag("book")
    );
    assert_eq!(check_tagged_figures(&good, &record), Ok(4));
    for bad in [
        format!("ours 95.18%{}", tag("ours")),
        format!("spread 0.2{}", tag("ours")),
        format!("ours 95.17%{}", tag("seed2")),
        format!("ours %{}", tag("ours")),
        format!(
            "ours 95.17%{}",
            "<!--fig other|a run|test accuracy (%)|ours-->"
        ),
        format!(
            "ours 95.17%{}",
            "<!--fig demo|b run|test accuracy (%)|ours-->"
        ),
        format!("ours 95.17%{}", "<!--fig demo|a run|ours-->"),
    ] {
        assert!(check_tagged_figures(&bad, &record).is_err(), "{bad} passed");
    }
}

/// The flags of an `nn train` line and their values, without the defaults that older records
/// spell differently (`--optimizer sgd` and `--momentum 0.9` left out, an empty `--monitor`
/// written as the default).
fn flags(line: &str) -> std::collections::BTreeMap<String, String> {
    let words: Vec<&str> = line.split_whitespace().skip(2).collect();
    let mut flags = std::collections::BTreeMap::new();
    let mut i = 0;
    while i < words.len() {
        let value = words.get(i + 1).filter(|w| !w.starts_with("--"));
        flags.insert(words[i].to_string(), value.map_or("", |v| v).to_string());
        i += if value.is_some() { 2 } else { 1 };
    }
    for (flag, default) in [
        ("--optimizer", "sgd"),
        ("--momentum", "0.9"),
        ("--monitor", "evaluation-accuracy"),
    ] {
        if flags.get(flag).is_some_and(|v| v == default) {
            flags.remove(flag);
        }
    }
    flags
}

#[test]
fn each_experiments_runs_are_the_nn_train_lines_its_kept_record_was_trained_with() {
    // The kept records were measured before the catalogue moved into nn-chapter: the same
    // command lines mean the same trainings, bit for bit.
    let dir = TempDir::new().unwrap();
    let mut compared = 0;
    for name in EXPERIMENTS {
        let Some(record) = kept_record(name) else {
            continue;
        };
        let file = dir.path().join(format!("{name}.txt"));
        let output = run(
            dir.path(),
            &[
                "reproduce",
                name,
                "--write-commands",
                file.to_str().unwrap(),
            ],
        );
        if !output.status.success() {
            // The experiments that train in this process only say so.
            assert!(
                stderr(&output).contains("trains in this process only"),
                "{name}"
            );
            continue;
        }
        let lines = std::fs::read_to_string(&file).unwrap();
        let planned: Vec<_> = lines
            .lines()
            .map(|l| flags(l.split(" --quiet --metrics ").next().unwrap()))
            .collect();
        for kept in record["runs"].as_array().unwrap() {
            let command = kept["command"].as_str().unwrap();
            assert!(
                planned.contains(&flags(command)),
                "{name}: no line `{command}` in\n{lines}"
            );
        }
        compared += 1;
    }
    assert!(compared >= 12, "only {compared} records compared");
    // Negative control: a record's line with another value is not among them.
    let lines = std::fs::read_to_string(dir.path().join("init.txt")).unwrap();
    let mut other = flags(lines.lines().next().unwrap());
    other.insert("--eta".into(), "0.2".into());
    assert!(
        !lines
            .lines()
            .any(|l| flags(l.split(" --quiet").next().unwrap()) == other)
    );
}
