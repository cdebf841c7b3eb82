//! network2.py's spread beside ours (issue 28): the comparison of a kept record agrees with
//! `scripts/network2-compare.py`, and `nn reproduce`'s summary sets the three columns side by
//! side.

use nn_chapter::{BookPosition, RunResult, Session};

/// The runs of the kept record `docs/records/NAME.json`.
fn record_runs(name: &str) -> Vec<RunResult> {
    let path = nn_testdata::workspace_root().join(format!("docs/records/{name}.json"));
    let record: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    serde_json::from_value(record["runs"].clone()).unwrap()
}

#[test]
fn a_records_comparison_is_the_one_network2_compare_py_makes() {
    let runs = record_runs("cross-entropy");
    let comparisons = nn_chapter::network2::compare("cross-entropy", &runs);
    let labels: Vec<&str> = comparisons.iter().map(|c| c.label.as_str()).collect();
    assert_eq!(
        labels,
        [
            "30 hidden",
            "30 hidden, quadratic, eta 3.0 (Chapter 1)",
            "100 hidden",
            "100 hidden, quadratic, eta 3.0 (Chapter 1)"
        ]
    );
    let c = &comparisons[0];
    // python3 scripts/network2-compare.py prints for this row: 95.41 (95.00-95.75, 5 seeds),
    // 95.25 (94.94-95.51, 3 seeds), within (3 of 5 below it), p 0.48 (0.48214285714285715).
    assert_eq!(c.network2.to_string(), "95.41 (95.00-95.75, 5 seeds)");
    assert_eq!(c.ours.unwrap().to_string(), "95.25 (94.94-95.51, 3 seeds)");
    assert_eq!(c.book, Some(95.49));
    assert_eq!(
        c.book_position,
        Some(BookPosition::Within { below: 3, of: 5 })
    );
    assert!((c.permutation_p.unwrap() - 0.48214285714285715).abs() < 1e-12);
}

#[test]
fn runs_network2_py_was_not_run_for_get_no_comparison() {
    let mut runs = record_runs("cross-entropy");
    for run in &mut runs {
        run.label.push_str(" (renamed)");
    }
    assert!(nn_chapter::network2::compare("cross-entropy", &runs).is_empty());
    // Nor do another experiment's runs of the same labels.
    assert!(nn_chapter::network2::compare("variations", &record_runs("cross-entropy")).is_empty());
}

#[test]
fn the_permutation_test_is_small_for_separated_samples_and_one_for_equal_means() {
    let theirs = [96.1, 96.2, 96.3, 96.4, 96.5];
    let below = [95.0, 95.1, 95.2];
    // Only the observed split is as far apart: 1 / C(8, 3) (groups of unequal sizes have no
    // mirror split).
    let p = nn_chapter::permutation_p(&theirs, &below).unwrap();
    assert!((p - 1.0 / 56.0).abs() < 1e-12, "{p}");
    assert_eq!(
        nn_chapter::permutation_p(&[1.0, 2.0], &[1.0, 2.0]),
        Some(1.0)
    );
    assert_eq!(nn_chapter::permutation_p(&theirs, &[95.0]), None);
}

#[test]
fn the_summary_sets_the_book_network2_py_and_ours_side_by_side() {
    let files = nn_data::IdxFiles::in_dir(nn_testdata::mnist_dir()).unwrap();
    let data = nn_train::DataSet::load(files, "MNIST".into(), None).unwrap();
    let out = tempfile::tempdir().unwrap();
    let mut session = Session::new(&data, out.path()).quick(true);
    let summary = nn_chapter::run("regularized", &mut session).unwrap();
    let metrics: Vec<&str> = summary.network2.iter().map(|c| c.metric.as_str()).collect();
    assert_eq!(
        metrics,
        [
            "peak evaluation accuracy (%)",
            "final training accuracy (%)",
            "epoch of lowest evaluation cost"
        ]
    );
    let markdown = summary.markdown();
    assert!(
        markdown.contains(
            "| run | figure | book | network2.py here | ours | book in network2.py's spread | \
             permutation p |"
        ),
        "{markdown}"
    );
    let peak = &summary.network2[0];
    let row = format!(
        "| 1,000 images, lambda 0.1 | peak evaluation accuracy (%) | 87.1 | {} | {} | {} | - |",
        peak.network2,
        peak.ours.unwrap(),
        peak.book_position.unwrap()
    );
    assert!(markdown.contains(&row), "{row}\n{markdown}");
    assert!(markdown.contains("a quick run: ours are not comparable"));
    // An experiment network2.py was not run for has no such table.
    let mut session = Session::without_data(out.path());
    let slowdown = nn_chapter::run("slowdown", &mut session).unwrap();
    assert!(slowdown.network2.is_empty());
    assert!(!slowdown.markdown().contains("network2.py here"));
}
