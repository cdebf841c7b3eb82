//! End-to-end tests of the experiments on the chapter's exercises and problems
//! (`nn reproduce l1-lambda`, `early-stopping-rules`, `momentum-range`, `hyper-gradient`,
//! `asymptotic`), on quick runs.

mod common;

use common::{assert_refused, data_dir, ok, run, stdout};

use serde_json::Value;
use tempfile::TempDir;

/// The exercises' experiments, in the chapter's order.
const EXERCISES: [&str; 5] = [
    "l1-lambda",
    "early-stopping-rules",
    "momentum-range",
    "hyper-gradient",
    "asymptotic",
];

/// Runs `nn reproduce NAME --quick` on MNIST and returns its summary.
fn quick(dir: &TempDir, name: &str) -> Value {
    let data = data_dir();
    ok(run(
        dir.path(),
        &[
            "reproduce",
            name,
            "--quick",
            "--out",
            "out",
            "--data",
            data.to_str().unwrap(),
        ],
    ));
    let json = std::fs::read_to_string(dir.path().join(format!("out/{name}.json"))).unwrap();
    serde_json::from_str(&json).unwrap()
}

/// The run labelled `label` of a summary.
fn run_named<'a>(summary: &'a Value, label: &str) -> &'a Value {
    summary["runs"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["label"] == label)
        .unwrap_or_else(|| panic!("no run {label} in {summary}"))
}

/// Our mean value of `metric` for the run labelled `label`.
fn ours(summary: &Value, label: &str, metric: &str) -> Option<f64> {
    run_named(summary, label)["measures"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["metric"] == metric)
        .unwrap_or_else(|| panic!("no measure {metric} for {label}"))["ours"]
        .as_f64()
}

/// The claim starting with `start` holds.
fn holds(summary: &Value, start: &str) -> bool {
    summary["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["claim"].as_str().unwrap().starts_with(start))
        .unwrap_or_else(|| panic!("no claim '{start}' in {summary}"))["holds"]
        == true
}

#[test]
fn list_ends_with_the_five_exercises_and_their_questions() {
    let dir = TempDir::new().unwrap();
    let out = stdout(&ok(run(dir.path(), &["reproduce", "--list"])));
    let names: Vec<&str> = out
        .lines()
        .filter(|l| !l.starts_with(' '))
        .filter_map(|l| l.split_whitespace().next())
        .collect();
    assert!(names.ends_with(&EXERCISES), "{out}");
    for question in ["mu > 1", "no-improvement-in-n", "very large data"] {
        assert!(out.contains(question), "--list lacks '{question}':\n{out}");
    }
}

#[test]
fn an_unknown_name_is_refused_with_the_exercises_among_the_choices() {
    let dir = TempDir::new().unwrap();
    assert_refused(
        &run(dir.path(), &["reproduce", "momentum"]),
        &[
            "no experiment named 'momentum'",
            "momentum-range",
            "asymptotic",
        ],
    );
}

#[test]
fn momentum_outside_zero_one_trains_only_through_the_opt_in_and_goes_wrong() {
    let dir = TempDir::new().unwrap();
    let summary = quick(&dir, "momentum-range");
    let first = "evaluation accuracy after epoch 1 (%)";
    let test = "test accuracy (%)";
    let at = |label, metric| ours(&summary, label, metric).unwrap_or(f64::NAN);
    // μ < 0 reverses part of each step: slower than plain SGD, which μ = 0.5 beats.
    assert!(at("mu -0.9", first) < at("mu 0 (plain SGD)", first));
    assert!(at("mu 0.5", first) > at("mu 0 (plain SGD)", first));
    // μ > 1 grows the velocity without bound: nothing is learnt.
    assert!(at("mu 1.1", test) < 15.0, "{}", at("mu 1.1", test));
    assert!(at("mu 0.9", test) > 60.0, "{}", at("mu 0.9", test));
    // Only the coefficients nn train refuses say they went through the opt-in.
    let command = |label| {
        run_named(&summary, label)["command"]
            .as_str()
            .unwrap()
            .to_string()
    };
    assert!(command("mu -0.9").contains("with_any_coefficient"));
    assert!(command("mu 1.1").contains("momentum mu = 1.1"));
    assert!(!command("mu 0.5").contains('#'), "{}", command("mu 0.5"));
    assert!(dir.path().join("out/momentum-range.png").is_file());
}

#[test]
fn nn_train_still_refuses_momentum_outside_zero_one() {
    let dir = TempDir::new().unwrap();
    assert_refused(
        &run(dir.path(), &["train", "--momentum", "1.1", "--epochs", "1"]),
        &["--momentum 1.1", "[0, 1)"],
    );
}

#[test]
fn early_stopping_rules_run_each_rule_within_the_epoch_limit() {
    let dir = TempDir::new().unwrap();
    let summary = quick(&dir, "early-stopping-rules");
    for label in [
        "no early stopping",
        "no-improvement-in-10",
        "generalization loss GL_5",
    ] {
        let epochs = ours(&summary, label, "epochs trained").unwrap();
        assert!((1.0..=3.0).contains(&epochs), "{label}: {epochs}");
    }
    let gl = run_named(&summary, "generalization loss GL_5");
    assert!(
        gl["command"]
            .as_str()
            .unwrap()
            .contains("GeneralizationLoss(5.0)")
    );
    assert_eq!(summary["checks"].as_array().unwrap().len(), 4);
}

#[test]
fn hyper_gradient_descends_from_its_start_and_compares_with_the_whole_grid() {
    let dir = TempDir::new().unwrap();
    let summary = quick(&dir, "hyper-gradient");
    let runs = summary["runs"].as_array().unwrap();
    let grid = runs
        .iter()
        .filter(|r| r["label"].as_str().unwrap().starts_with("grid: "))
        .count();
    assert_eq!(grid, 9);
    let cost = "validation cost C0 (unregularized)";
    let start = ours(&summary, "descent start: eta 0.025, lambda 1.000", cost).unwrap();
    let steps: Vec<f64> = runs
        .iter()
        .filter(|r| r["label"].as_str().unwrap().starts_with("descent step"))
        .map(|r| r["measures"][0]["ours"].as_f64().unwrap())
        .collect();
    // Every accepted step lowers the cost (the quick run takes one).
    assert_eq!(steps.len(), 1, "{summary}");
    assert!(steps[0] < start, "{steps:?} from {start}");
    assert!(holds(&summary, "the descent lowers the validation cost"));
    let choices = runs
        .iter()
        .filter(|r| r["label"].as_str().unwrap().contains("'s choice"))
        .count();
    assert_eq!(choices, 2);
}

#[test]
fn asymptotic_fits_a_curve_and_reports_its_asymptote_per_seed() {
    let dir = TempDir::new().unwrap();
    let summary = quick(&dir, "asymptotic");
    assert_eq!(summary["runs"].as_array().unwrap().len(), 7);
    let checks = summary["checks"].as_array().unwrap();
    let fit = checks
        .iter()
        .find(|c| {
            c["claim"]
                .as_str()
                .unwrap()
                .starts_with("error = a + b n^-c")
        })
        .unwrap();
    assert!(
        fit["detail"].as_str().unwrap().contains("RMS residual"),
        "{fit}"
    );
    assert!(dir.path().join("out/asymptotic.png").is_file());
}

#[test]
fn l1_lambda_trains_each_strength_with_l1_alone_and_judges_the_choice_on_the_test_set() {
    let dir = TempDir::new().unwrap();
    let summary = quick(&dir, "l1-lambda");
    let plain = run_named(&summary, "no regularization")["command"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(
        plain.contains("--lambda 0") && !plain.contains("--l1"),
        "{plain}"
    );
    for (label, flag) in [("L1 lambda 0.1", "--l1 0.1"), ("L1 lambda 3", "--l1 3")] {
        let command = run_named(&summary, label)["command"].as_str().unwrap();
        assert!(
            command.contains(flag) && command.contains("--lambda 0"),
            "{command}"
        );
    }
    let claim = &summary["checks"][0]["claim"];
    assert!(claim.as_str().unwrap().contains("(L1 lambda "), "{claim}");
}
