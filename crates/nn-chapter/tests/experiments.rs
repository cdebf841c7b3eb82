//! The catalogue as a library: the kept records are the catalogue's runs, the experiments
//! without MNIST networks bear out their claims, and the searches start from the network
//! training starts from.

use nn_chapter::{Body, ChapterError, Session};
use nn_train::{DataSet, RunOptions};

/// MNIST, split as the book does.
fn mnist() -> DataSet {
    let files = nn_data::IdxFiles::in_dir(nn_testdata::mnist_dir()).unwrap();
    DataSet::load(files, "MNIST".into(), None).unwrap()
}

#[test]
fn every_kept_record_has_the_runs_and_figures_of_its_experiment() {
    let dir = nn_testdata::workspace_root().join("docs/records");
    let mut compared = 0;
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_stem().unwrap().to_str().unwrap().to_string();
        // network2.py's runs and their replay by our engine (scripts/network2-spread.py,
        // scripts/overfitting-investigation.py) are no experiment of the catalogue.
        if name == "network2" || name == "network2-replay" {
            continue;
        }
        let record: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        let experiment = nn_chapter::find(&name).unwrap();
        assert_eq!(record["title"], experiment.title, "{name}");
        let Body::Runs { runs: specs, .. } = &experiment.body else {
            continue;
        };
        let specs = specs();
        let runs = record["runs"].as_array().unwrap();
        let labels: Vec<&str> = runs.iter().map(|r| r["label"].as_str().unwrap()).collect();
        let expected: Vec<&str> = specs.iter().map(|s| s.label).collect();
        assert_eq!(labels, expected, "{name}");
        for (run, spec) in runs.iter().zip(&specs) {
            let metrics: Vec<String> = spec.measures.iter().map(|m| m.metric.describe()).collect();
            let kept: Vec<&str> = run["measures"]
                .as_array()
                .unwrap()
                .iter()
                .map(|m| m["metric"].as_str().unwrap())
                .collect();
            assert_eq!(kept, metrics, "{name}: {}", spec.label);
            let seeds: Vec<u64> = serde_json::from_value(run["seeds"].clone()).unwrap();
            assert_eq!(seeds, spec.seeds, "{name}: {}", spec.label);
        }
        compared += 1;
    }
    assert!(compared >= 12, "{compared} records compared");
}

#[test]
fn the_hessian_experiment_bears_out_both_claims_quickly() {
    let data = mnist();
    let out = tempfile::tempdir().unwrap();
    let mut session = Session::new(&data, out.path()).quick(true);
    let summary = nn_chapter::run("hessian", &mut session).unwrap();
    assert_eq!(summary.runs.len(), 2);
    assert_eq!(summary.checks.len(), 2);
    assert!(
        summary.checks.iter().all(|c| c.holds),
        "{:?}",
        summary.checks
    );
    assert!(out.path().join("hessian.png").is_file());
}

#[test]
fn an_mnist_network_too_large_for_the_hessian_is_refused_with_the_reason() {
    // 784,2,10 (1,600 parameters) used to take 39 s an epoch and end at chance.
    let data = mnist();
    let options = RunOptions {
        layers: vec![784, 2, 10],
        optimizer: nn_train::OptimizerName::Newton,
        train_size: Some(1_000),
        epochs: 2,
        ..RunOptions::default()
    };
    let started = std::time::Instant::now();
    let error = nn_train::Run::new(options, &data)
        .and_then(|run| run.train(&mut nn_core::Silent))
        .unwrap_err();
    let message = nn_core::error::message_chain(&error);
    for reason in [
        "1600 x 1600 Hessian",
        "backward passes",
        "at most 1000 parameters",
    ] {
        assert!(message.contains(reason), "{message}");
    }
    assert!(
        started.elapsed().as_secs_f64() < 5.0,
        "refused before training"
    );
}

#[test]
fn the_untrained_cost_is_the_cost_of_the_network_training_starts_from() {
    // An epoch at a negligible eta leaves the network where it started: its training cost is
    // the untrained network's, which another seed's network does not match.
    let data = mnist();
    let small = |seed| RunOptions {
        train_size: Some(1_000),
        validation_size: Some(100),
        epochs: 1,
        eta: 1e-9,
        seed,
        monitor: vec![nn_train::MonitorItem::TrainingCost],
        ..RunOptions::default()
    };
    let initial = nn_chapter::search::initial_cost(&small(3), &data).unwrap();
    let outcome = nn_train::Run::new(small(3), &data)
        .unwrap()
        .train(&mut nn_core::Silent)
        .unwrap();
    let after = outcome.history.epochs[0].training_cost.unwrap();
    assert!(
        ((after - initial) / initial).abs() < 1e-5,
        "{initial} against {after}"
    );
    let other = nn_chapter::search::initial_cost(&small(4), &data).unwrap();
    assert!(((other - initial) / initial).abs() > 1e-3, "{other}");
}

#[test]
fn an_experiment_on_mnist_without_a_data_set_is_refused_and_one_without_needs_none() {
    let out = tempfile::tempdir().unwrap();
    let mut session = Session::without_data(out.path()).quick(true);
    let error = nn_chapter::run("regularized", &mut session).unwrap_err();
    assert!(matches!(error, ChapterError::NoData), "{error}");
    let summary = nn_chapter::run("slowdown", &mut session).unwrap();
    assert!(
        summary.checks.iter().all(|c| c.holds),
        "{:?}",
        summary.checks
    );
}
