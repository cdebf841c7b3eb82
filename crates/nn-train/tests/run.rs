//! Whole runs on a small data set of four classes of 4x4 images: composition, checkpoints,
//! resume and the checks on options and data.

use std::path::Path;

use nn_core::{ParamGuard, Silent};
use nn_data::IdxFiles;
use nn_train::{
    ActivationName, CheckedRunOptions, Checkpointer, CostName, DataIdentity, DataSet, Field,
    LrSchedule, MonitorItem, OptimizerName, Overrides, Run, RunError, RunOptions, TransformName,
    compose,
};

/// The example data set written into `dir` and loaded, 100 images held out.
fn data(dir: &Path) -> DataSet {
    nn_train::write_example_data(dir).unwrap();
    DataSet::load(IdxFiles::in_dir(dir).unwrap(), "the example".into(), None).unwrap()
}

/// A run using most of what a run can compose: softmax and log-likelihood, ReLU, L2, dropout,
/// fresh expansion, Nesterov momentum, a schedule and weight averaging, every figure monitored.
/// (Early stopping would end this easy run with its first epoch's weights.)
fn composed() -> CheckedRunOptions {
    RunOptions {
        layers: vec![16, 12, 4],
        cost: CostName::LogLikelihood,
        activation: ActivationName::Relu,
        eta: 0.2,
        batch_size: 20,
        epochs: 6,
        lambda: 0.1,
        dropout: 0.2,
        optimizer: OptimizerName::Nesterov,
        momentum: 0.8,
        expand: vec![TransformName::Shift],
        lr_schedule: LrSchedule::Exponential(0.9),
        monitor: vec![
            MonitorItem::TrainingCost,
            MonitorItem::TrainingAccuracy,
            MonitorItem::EvaluationCost,
            MonitorItem::EvaluationAccuracy,
        ],
        average_weights: Some(0.5),
        seed: 11,
        ..RunOptions::default()
    }
    .check()
    .unwrap()
}

#[test]
fn a_run_interrupted_and_resumed_from_its_checkpoint_ends_with_bit_identical_weights() {
    let tmp = tempfile::tempdir().unwrap();
    let data = data(tmp.path());
    let whole = Run::new(composed(), &data)
        .unwrap()
        .train(&mut Silent)
        .unwrap();

    let ckpt = tmp.path().join("ckpt");
    let identity = DataIdentity::of(&data).unwrap();
    let checkpointer = Checkpointer::at(&ckpt).claim(identity.clone()).unwrap();
    let mut run = Run::new(composed(), &data)
        .unwrap()
        .with_checkpointer(checkpointer);
    for _ in 0..4 {
        run.epoch(&mut Silent).unwrap();
    }
    drop(run);
    let restored = Checkpointer::load(&ckpt).unwrap();
    assert_eq!(restored.options, *composed());
    assert_eq!(
        identity.check_resumed(restored.data.as_ref()).unwrap(),
        None
    );
    let resumed = Run::resume(composed(), &data, restored).unwrap();
    assert_eq!(resumed.resumed_after(), Some(4));
    let resumed = resumed.train(&mut Silent).unwrap();

    // Every figure but the seconds each epoch took.
    let figures = |h: &nn_core::History| {
        h.epochs
            .iter()
            .map(|r| {
                let r = nn_core::EpochRecord {
                    seconds: 0.0,
                    ..r.clone()
                };
                format!("{r:?}")
            })
            .collect::<Vec<_>>()
    };
    assert_eq!(figures(&resumed.history), figures(&whole.history));
    let bits = |p: &[f32]| p.iter().map(|v| v.to_bits()).collect::<Vec<_>>();
    assert_eq!(bits(resumed.network.params()), bits(whole.network.params()));
    assert!(whole.test.accuracy() > 0.9, "{}", whole.test.accuracy());
}

#[test]
fn a_directory_holding_another_runs_checkpoint_is_refused_unless_overwritten() {
    let tmp = tempfile::tempdir().unwrap();
    let data = data(tmp.path());
    let ckpt = tmp.path().join("ckpt");
    let identity = DataIdentity::of(&data).unwrap();
    let checkpointer = Checkpointer::at(&ckpt).claim(identity.clone()).unwrap();
    let mut run = Run::new(composed(), &data)
        .unwrap()
        .with_checkpointer(checkpointer);
    run.epoch(&mut Silent).unwrap();
    for (file, _) in Checkpointer::files(&ckpt).iter().zip(0..) {
        assert!(file.is_file(), "{}", file.display());
    }
    // While the run lives, its directory is locked, even against overwriting or resuming.
    for claim in [
        Checkpointer::at(&ckpt),
        Checkpointer::at(&ckpt).overwrite(true),
        Checkpointer::at(&ckpt).resuming(&ckpt),
    ] {
        let in_use = claim.claim(identity.clone());
        assert!(
            matches!(in_use, Err(nn_train::CheckpointError::InUse(_))),
            "{in_use:?}"
        );
    }
    drop(run);
    let refused = Checkpointer::at(&ckpt).claim(identity.clone()).unwrap_err();
    assert!(
        refused.to_string().contains("`overwrite_checkpoint`"),
        "{refused}"
    );
    assert!(
        Checkpointer::at(&ckpt)
            .resuming(&ckpt)
            .claim(identity.clone())
            .is_ok()
    );
    assert!(
        Checkpointer::at(&ckpt)
            .overwrite(true)
            .claim(identity)
            .is_ok()
    );
}

#[test]
fn a_checkpoint_resumed_on_other_data_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let data = data(tmp.path());
    let identity = DataIdentity::of(&data).unwrap();
    let other = DataIdentity {
        holdout: identity.holdout + 1,
        ..identity.clone()
    };
    let error = other
        .check_resumed(Some(&identity))
        .unwrap_err()
        .to_string();
    assert!(
        error.contains("other data") && error.contains("`holdout`"),
        "{error}"
    );
    let warning = identity.check_resumed(None).unwrap().unwrap();
    assert!(warning.contains("does not record"), "{warning}");
}

/// Collects the warnings an observer is given.
#[derive(Default)]
struct Warnings(Vec<String>);

impl nn_core::Observer for Warnings {
    fn warning(&mut self, message: &str) {
        self.0.push(message.to_string());
    }
}

#[test]
fn resume_from_a_checkpoint_without_its_data_record_warns_the_first_epoch() {
    let tmp = tempfile::tempdir().unwrap();
    let data = data(tmp.path());
    let ckpt = tmp.path().join("ckpt");
    let checkpointer = Checkpointer::at(&ckpt)
        .claim(DataIdentity::of(&data).unwrap())
        .unwrap();
    let mut run = Run::new(composed(), &data)
        .unwrap()
        .with_checkpointer(checkpointer);
    run.epoch(&mut Silent).unwrap();
    drop(run);
    let resumed_warnings = || {
        let mut run = Run::resume_from(&ckpt, &data).unwrap();
        let mut warnings = Warnings::default();
        run.epoch(&mut warnings).unwrap();
        run.epoch(&mut warnings).unwrap();
        warnings.0
    };
    assert_eq!(resumed_warnings(), Vec::<String>::new());
    // As an older nn wrote it: no record of the data.
    let file = ckpt.join("checkpoint.json");
    let mut saved: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
    saved.as_object_mut().unwrap().remove("data").unwrap();
    std::fs::write(&file, saved.to_string()).unwrap();
    let warnings = resumed_warnings();
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    assert!(
        warnings[0].contains("does not record its data"),
        "{warnings:?}"
    );
}

#[test]
fn the_log_likelihood_is_paired_with_a_softmax_output_and_the_others_with_sigmoids() {
    for cost in CostName::ALL {
        let options = RunOptions {
            cost,
            activation: ActivationName::Tanh,
            ..RunOptions::default()
        };
        let specs: Vec<String> = compose::activations(&options)
            .unwrap()
            .iter()
            .map(|a| a.spec())
            .collect();
        let output = if cost == CostName::LogLikelihood {
            "softmax"
        } else {
            "sigmoid"
        };
        assert_eq!(specs, ["tanh", output], "{cost:?}");
        assert_eq!(CostName::of(cost.cost()), Some(cost));
    }
}

#[test]
fn bad_options_are_refused_by_their_check_naming_the_option() {
    let cases: Vec<(RunOptions, &str)> = vec![
        (
            RunOptions {
                epochs: 1_000_000,
                ..RunOptions::default()
            },
            "`epochs` 1000000",
        ),
        (
            RunOptions {
                lambda: -1.0,
                ..RunOptions::default()
            },
            "`lambda`",
        ),
        (
            RunOptions {
                dropout: 1.0,
                ..RunOptions::default()
            },
            "`dropout`",
        ),
        (
            RunOptions {
                max_norm: Some(0.0),
                ..RunOptions::default()
            },
            "`max_norm`",
        ),
        (
            RunOptions {
                optimizer: OptimizerName::Momentum,
                momentum: 2.0,
                ..RunOptions::default()
            },
            "`momentum` 2",
        ),
        (
            RunOptions {
                keep_original: 0.3,
                ..RunOptions::default()
            },
            "needs `expand`",
        ),
        (
            RunOptions {
                layers: vec![784],
                ..RunOptions::default()
            },
            "`layers` 784",
        ),
        (
            RunOptions {
                eta: f32::NAN,
                ..RunOptions::default()
            },
            "eta",
        ),
    ];
    for (options, expected) in cases {
        let error: RunError = options.check().unwrap_err();
        let message = nn_core::error::message_chain(&error);
        assert!(message.contains(expected), "{expected}: {message}");
    }
}

#[test]
fn data_that_does_not_fit_the_layers_or_a_batch_larger_than_the_data_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let data = data(tmp.path());
    let error = Run::new(RunOptions::default(), &data)
        .unwrap_err()
        .to_string();
    assert!(
        error.contains("`layers` 784,30,10") && error.contains("`layers` 16,30,4"),
        "{error}"
    );
    let options = RunOptions {
        layers: vec![16, 4],
        train_size: Some(50),
        batch_size: 60,
        ..RunOptions::default()
    };
    let error = Run::new(options, &data).unwrap_err().to_string();
    assert!(
        error.contains("`batch_size` 60") && error.contains("50 training images"),
        "{error}"
    );
}

#[test]
fn an_offline_expansion_makes_its_copies_once_and_needs_transforms() {
    let tmp = tempfile::tempdir().unwrap();
    let data = data(tmp.path());
    let offline = RunOptions {
        layers: vec![16, 8, 4],
        epochs: 2,
        expand: vec![TransformName::Shift, TransformName::Rotate],
        expand_copies: Some(2),
        ..RunOptions::default()
    };
    let run = Run::new(offline.clone(), &data).unwrap();
    assert!(
        run.describe().contains("offline") && run.describe().contains("(3x)"),
        "{}",
        run.describe()
    );
    let fresh = Run::new(
        RunOptions {
            expand_copies: None,
            ..offline.clone()
        },
        &data,
    )
    .unwrap();
    assert!(fresh.describe().contains("fresh"), "{}", fresh.describe());
    for (options, expected) in [
        (
            RunOptions {
                expand: Vec::new(),
                ..offline.clone()
            },
            "needs `expand`",
        ),
        (
            RunOptions {
                expand_copies: Some(0),
                ..offline.clone()
            },
            "`expand_copies` 0",
        ),
        (
            RunOptions {
                keep_original: 0.2,
                ..offline
            },
            "`keep_original`",
        ),
    ] {
        let error = options.check().unwrap_err().to_string();
        assert!(error.contains(expected), "{expected}: {error}");
    }
}

#[test]
fn a_run_resumed_with_other_options_is_refused_by_the_library_naming_each_field() {
    let tmp = tempfile::tempdir().unwrap();
    let data = data(tmp.path());
    let ckpt = tmp.path().join("ckpt");
    let identity = DataIdentity::of(&data).unwrap();
    let checkpointer = Checkpointer::at(&ckpt).claim(identity).unwrap();
    let mut run = Run::new(composed(), &data)
        .unwrap()
        .with_checkpointer(checkpointer);
    run.epoch(&mut Silent).unwrap();
    drop(run);

    let saved = composed().into_inner();
    let other = RunOptions {
        eta: 0.1,
        seed: 12,
        dropout: 0.5,
        ..saved.clone()
    };
    let refused = Run::resume(other, &data, Checkpointer::load(&ckpt).unwrap()).unwrap_err();
    let RunError::ResumeOptions { differing } = &refused else {
        panic!("{refused:?}");
    };
    let fields: Vec<Field> = differing.iter().map(|d| d.field).collect();
    assert_eq!(
        fields,
        [Field::Dropout, Field::Eta, Field::Seed],
        "{refused}"
    );
    assert!(
        refused.to_string().contains("`eta` (saved 0.2, given 0.1)"),
        "{refused}"
    );
    // More epochs is no difference: the run goes on.
    let longer = RunOptions { epochs: 8, ..saved };
    let resumed = Run::resume(longer, &data, Checkpointer::load(&ckpt).unwrap()).unwrap();
    assert_eq!(resumed.resumed_after(), Some(1));
}

/// The cross-entropy doubled: a cost of the user's own, unknown to `CostName`.
#[derive(Debug)]
struct DoubledCrossEntropy;

impl nn_core::Cost for DoubledCrossEntropy {
    fn name(&self) -> &'static str {
        "DoubledCrossEntropy"
    }

    fn total(
        &self,
        z: &[f32],
        a: &[f32],
        y: &[f32],
        rows: usize,
        output: &dyn nn_core::Activation,
    ) -> f64 {
        2.0 * nn_costs::CrossEntropyCost.total(z, a, y, rows, output)
    }

    fn delta(
        &self,
        z: &[f32],
        a: &[f32],
        y: &[f32],
        rows: usize,
        output: &dyn nn_core::Activation,
        delta: &mut [f32],
    ) {
        nn_costs::CrossEntropyCost.delta(z, a, y, rows, output, delta);
        delta.iter_mut().for_each(|d| *d *= 2.0);
    }
}

#[test]
fn a_cost_of_ones_own_trains_through_run_and_is_the_outcomes_cost() {
    let tmp = tempfile::tempdir().unwrap();
    let data = data(tmp.path());
    let options = RunOptions {
        layers: vec![16, 8, 4],
        epochs: 2,
        eta: 0.5,
        lambda: 0.0,
        ..RunOptions::default()
    };
    let overrides = || Overrides {
        cost: Some(&DoubledCrossEntropy),
        ..Overrides::default()
    };
    let doubled = Run::new_with(options.clone(), &data, overrides())
        .unwrap()
        .train(&mut Silent)
        .unwrap();
    assert_eq!(doubled.cost.name(), "DoubledCrossEntropy");
    // Twice the gradient is the cross-entropy at twice eta, to rounding.
    let twice_eta = Run::new(
        RunOptions {
            eta: 1.0,
            ..options
        },
        &data,
    )
    .unwrap()
    .train(&mut Silent)
    .unwrap();
    let gap = doubled
        .network
        .params()
        .iter()
        .zip(twice_eta.network.params())
        .map(|(a, b)| (a - b).abs())
        .fold(0.0f32, f32::max);
    assert!(gap < 1e-4, "{gap}");
    assert!(doubled.test.accuracy() > 0.9, "{}", doubled.test.accuracy());
    let saved = tmp.path().join("doubled.json");
    doubled.save(&saved).unwrap();
    assert_eq!(
        nn_core::load_model(&saved).unwrap().cost,
        "DoubledCrossEntropy"
    );
}
