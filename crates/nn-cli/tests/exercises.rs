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

/// The check whose claim starts with `start`.
fn check<'a>(summary: &'a Value, start: &str) -> &'a Value {
    summary["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["claim"].as_str().unwrap().starts_with(start))
        .unwrap_or_else(|| panic!("no claim '{start}' in {summary}"))
}

/// The claim starting with `start` holds.
fn holds(summary: &Value, start: &str) -> bool {
    check(summary, start)["holds"] == true
}

/// Our value of `metric` for each seed of the run labelled `label` (NaN where none).
fn per_seed(summary: &Value, label: &str, metric: &str) -> Vec<f64> {
    run_named(summary, label)["measures"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["metric"] == metric)
        .unwrap_or_else(|| panic!("no measure {metric} for {label}"))["per_seed"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_f64().unwrap_or(f64::NAN))
        .collect()
}

/// The test accuracy of each seed of the run labelled `label`.
fn test_accuracies(summary: &Value, label: &str) -> Vec<f64> {
    serde_json::from_value(run_named(summary, label)["test_accuracy"].clone()).unwrap()
}

/// The mean of `values`.
fn mean(values: &[f64]) -> f64 {
    values.iter().sum::<f64>() / values.len() as f64
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
    // The overflow is measured (3 quick epochs are too few for μ 1.1 to overflow; μ 0.9 never
    // does), and the verdict on "μ > 1 diverges" is the one those epochs give.
    let overflow = "epoch the weights or cost overflowed";
    let (fast, faster) = (
        per_seed(&summary, "mu 1.01", overflow),
        per_seed(&summary, "mu 1.1", overflow),
    );
    assert!(
        per_seed(&summary, "mu 0.9", overflow)
            .iter()
            .all(|e| e.is_nan())
    );
    let diverges =
        fast.iter().chain(&faster).all(|e| e.is_finite()) && mean(&faster) <= mean(&fast);
    assert_eq!(
        holds(&summary, "mu > 1 diverges"),
        diverges,
        "{fast:?} {faster:?}"
    );
    let behind = |label| {
        per_seed(&summary, label, first)[0] < per_seed(&summary, "mu 0 (plain SGD)", first)[0]
    };
    assert_eq!(
        holds(&summary, "mu < 0 slows learning"),
        behind("mu -0.5") && behind("mu -0.9")
    );
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
fn early_stopping_rules_run_each_rule_within_the_epoch_limit_and_judge_them_by_their_figures() {
    let dir = TempDir::new().unwrap();
    let summary = quick(&dir, "early-stopping-rules");
    for label in [
        "no-improvement-in-10",
        "generalization loss GL_5",
        "generalization loss GL_10",
    ] {
        let epochs = ours(&summary, label, "epochs trained").unwrap();
        assert!((1.0..=3.0).contains(&epochs), "{label}: {epochs}");
    }
    // The negative control: without a rule the run trains the whole (quick) limit.
    assert_eq!(
        ours(&summary, "no early stopping", "epochs trained"),
        Some(3.0)
    );
    let gl = run_named(&summary, "generalization loss GL_5");
    assert!(
        gl["command"]
            .as_str()
            .unwrap()
            .contains("GeneralizationLoss(5.0)")
    );
    // Each verdict is the one the runs' figures give.
    let epochs = |label| per_seed(&summary, label, "epochs trained");
    let test = |label| per_seed(&summary, label, "test accuracy (%)");
    let (gl, patient) = ("generalization loss GL_5", "no-improvement-in-10");
    let sooner = epochs(gl).iter().zip(&epochs(patient)).all(|(g, p)| g < p);
    assert_eq!(holds(&summary, "GL_5 stops sooner"), sooner);
    assert_eq!(
        holds(&summary, "GL_5 costs at most 0.3 points"),
        mean(&test(gl)) >= mean(&test(patient)) - 0.3
    );
    let kept = epochs(patient).iter().all(|&e| e < 3.0)
        && mean(&test(patient)) >= mean(&test("no early stopping")) - 0.2;
    assert_eq!(holds(&summary, "no-improvement-in-10 stops before"), kept);
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
    let choices: Vec<&str> = runs
        .iter()
        .map(|r| r["label"].as_str().unwrap())
        .filter(|l| l.contains("'s choice"))
        .collect();
    assert_eq!(choices.len(), 2);
    let at_least_as_good =
        mean(&per_seed(&summary, choices[1], cost)) <= mean(&per_seed(&summary, choices[0], cost));
    assert_eq!(
        holds(&summary, "the descent's choice is at least as good"),
        at_least_as_good
    );
}

#[test]
fn asymptotic_fits_a_curve_and_reports_its_asymptote_per_seed() {
    let dir = TempDir::new().unwrap();
    let summary = quick(&dir, "asymptotic");
    let runs = summary["runs"].as_array().unwrap();
    assert_eq!(runs.len(), 7);
    // The mean test errors of the original data, by size.
    let points: Vec<(f64, f64)> = runs
        .iter()
        .filter(|r| r["series"] == "original data")
        .map(|r| {
            let label = r["label"].as_str().unwrap();
            (
                r["x"].as_f64().unwrap(),
                100.0 - mean(&test_accuracies(&summary, label)),
            )
        })
        .collect();
    assert_eq!(points.len(), 6);
    let falling = points.windows(2).all(|w| w[1].1 < w[0].1);
    assert_eq!(
        holds(&summary, "the test error falls"),
        falling,
        "{points:?}"
    );
    // The fit it reports is a fit of those errors: its residual, recomputed from the printed
    // (rounded) parameters, is the one printed, and the verdict is the residual's.
    let fit = check(&summary, "error = a + b n^-c");
    let detail = fit["detail"].as_str().unwrap();
    let numbers = regex::Regex::new(
        r"^error = (-?[0-9.]+) \+ (-?[0-9.]+) n\^-([0-9.]+) \(%\), RMS residual ([0-9.]+)$",
    )
    .unwrap();
    let caps = numbers
        .captures(detail)
        .unwrap_or_else(|| panic!("{detail}"));
    let [a, b, c, rms] = [1, 2, 3, 4].map(|i| caps[i].parse::<f64>().unwrap());
    let recomputed = (points
        .iter()
        .map(|&(n, e)| (a + b * n.powf(-c) - e).powi(2))
        .sum::<f64>()
        / points.len() as f64)
        .sqrt();
    assert!(
        (recomputed - rms).abs() < 0.05 + 0.05 * b.abs() * 500f64.powf(-c),
        "{recomputed} against {detail}"
    );
    assert_eq!(fit["holds"] == true, rms <= 0.15, "{detail}");
    // One seed in a quick run: its asymptote is the fit's.
    let asymptote = check(&summary, "the extrapolated asymptote a")["detail"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(
        asymptote.starts_with(&format!("a per seed: [{a:.2}]")),
        "{asymptote} against a = {a}"
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
    // The choice is judged on the test set: the verdict is whether it beat no
    // regularization in every seed, as the runs' test accuracies say.
    let claim = summary["checks"][0]["claim"].as_str().unwrap();
    let chosen = regex::Regex::new(r"\((L1 lambda [0-9.]+)\)")
        .unwrap()
        .captures(claim)
        .unwrap_or_else(|| panic!("{claim}"))[1]
        .to_string();
    let (l1, none) = (
        test_accuracies(&summary, &chosen),
        test_accuracies(&summary, "no regularization"),
    );
    let wins = l1.iter().zip(&none).all(|(a, b)| a > b);
    assert_eq!(
        summary["checks"][0]["holds"] == true,
        wins,
        "{l1:?} against {none:?}"
    );
    let peak = "peak evaluation accuracy (%)";
    assert_eq!(
        summary["checks"][1]["holds"] == true,
        mean(&per_seed(&summary, &chosen, peak))
            > mean(&per_seed(&summary, "no regularization", peak))
    );
}
