//! The runs the chapter's exercises and problems ask for, as experiments of the catalogue: an
//! L1 λ that beats no regularization, a second early-stopping rule, momentum coefficients
//! outside [0, 1), λ and η chosen by gradient descent on the validation cost, and the
//! asymptotic accuracy as the training set grows. Where [`RunOptions`] cannot express a run
//! (Prechelt's rule, μ outside [0, 1)), the rule is given to the trainer directly (nn-train's
//! [`Overrides`]) and the command line says so.

use std::path::PathBuf;

use nn_core::{EarlyStopping, Momentum, TrainError};
use nn_train::{
    InitName, OptimizerName, Overrides, RunError, RunOptions, RunOutcome, TransformName,
};

use crate::error::ChapterError;
use crate::experiment::{
    Body, Check, Curve, Experiment, FigureSpec, Measure, MeasureResult, Metric, Ran, RunResult,
    RunSpec,
};
use crate::figure;
use crate::finished::FinishedRun;
use crate::run_log::run_name;
use crate::runner::{quicken, train};
use crate::session::{Event, Session};

/// The experiments of the chapter's exercises and problems that ask for a run.
pub const EXERCISES: &[Experiment] = &[
    Experiment {
        name: "l1-lambda",
        title: "L1 regularization on the overfitting setup (784,30,10, 1,000 training images, \
                eta 0.5, large initialization, 400 epochs): no regularization against L1 \
                lambda 0.1, 0.3, 1 and 3",
        book: "problem: use L1 regularization on a 30-hidden-neuron network; can you find a \
               lambda that does better than running unregularized? (no figure given)",
        body: Body::Runs {
            runs: l1_lambda,
            figures: &[FigureSpec {
                suffix: "",
                title: "L1 regularization, 1,000 images: validation accuracy",
                curve: Curve::EvaluationAccuracy,
                runs: &[],
                x_label: "",
                log_x: false,
            }],
            checks: l1_checks,
        },
    },
    Experiment {
        name: "early-stopping-rules",
        title: "Early stopping on 784,30,10 (eta 0.5, lambda 5, at most 60 epochs): the \
                chapter's no-improvement-in-10 against Prechelt's generalization loss GL_alpha \
                (stop once the validation error exceeds its best by more than alpha %, here 5 \
                and 10), and no early stopping",
        book: "exercise: think of a rule other than no-improvement-in-n that compromises between \
               high validation accuracy and not training too long, and compare it with \
               no-improvement-in-10 in three runs",
        body: Body::Procedure(early_stopping_rules),
    },
    Experiment {
        name: "momentum-range",
        title: "Momentum coefficients outside [0, 1): mu -0.9, -0.5, 1, 1.01 and 1.1 against \
                0, 0.5 and 0.9 (784,30,10, eta 0.1, lambda 5, 10 epochs)",
        book: "exercise: what would go wrong if we used mu > 1 in the momentum technique? and \
               mu < 0?",
        body: Body::Procedure(momentum_range),
    },
    Experiment {
        name: "hyper-gradient",
        title: "eta and lambda by gradient descent on the validation cost: central differences \
                in (ln eta, ln lambda) of the unregularized cross-entropy on the validation set \
                after 10 epochs on 10,000 images, against the chapter's factor-of-ten grid",
        book: "exercise: it's tempting to choose lambda and eta by gradient descent; can you \
               think of an obstacle for lambda? for eta? (the chapter picks them by factors of \
               ten on the validation data)",
        body: Body::Procedure(hyper_gradient),
    },
    Experiment {
        name: "asymptotic",
        title: "Test error of 784,30,10 against the training-set size (500 to 50,000 images, \
                1,500,000 images seen, lambda = size / 10,000 as more_data.py), fitted by \
                error = a + b n^-c and extrapolated; 50,000 images with fresh shifts beside it",
        book: "research problem: how do the algorithms perform in the limit of very large data \
               sets? fit curves to accuracy against training-set size and extrapolate to \
               infinity (no figure given)",
        body: Body::Runs {
            runs: asymptotic,
            figures: &[FigureSpec {
                suffix: "",
                title: "Test accuracy against training-set size",
                curve: Curve::MeasureAgainstX,
                runs: &[],
                x_label: "training images",
                log_x: true,
            }],
            checks: asymptotic_checks,
        },
    },
];

/// Seeds of every exercise: the spread over them is reported.
const SEEDS: [u64; 3] = [0, 1, 2];

/// A measure the book gives no value for.
fn ours(metric: Metric) -> Measure {
    Measure { metric, book: None }
}

/// A run over [`SEEDS`].
fn seeded(label: &'static str, options: RunOptions, measures: Vec<Measure>) -> RunSpec {
    RunSpec {
        label,
        series: "",
        x: None,
        options,
        measures,
        seeds: SEEDS.to_vec(),
    }
}

/// The run labelled `label`.
fn find<'a>(results: &'a [RunResult], label: &str) -> Option<&'a RunResult> {
    results.iter().find(|r| r.label == label)
}

/// The values of `metric` (by its description) for each seed of `run`; missing ones are NaN.
fn per_seed(run: &RunResult, metric: &str) -> Vec<f64> {
    run.measures
        .iter()
        .find(|m| m.metric == metric)
        .map(|m| m.per_seed.iter().map(|v| v.unwrap_or(f64::NAN)).collect())
        .unwrap_or_default()
}

/// The mean of `values` (NaN for none).
fn mean(values: &[f64]) -> f64 {
    values.iter().sum::<f64>() / values.len() as f64
}

/// Values to two decimals, comma-separated.
fn list(values: &[f64]) -> String {
    let shown: Vec<String> = values.iter().map(|v| format!("{v:.2}")).collect();
    shown.join(", ")
}

// ---------------------------------------------------------------------------------------------
// L1 regularization

/// The unregularized run of `l1-lambda`.
const UNREGULARIZED: &str = "no regularization";

/// Epochs of the `l1-lambda` runs (the chapter's overfitting run).
const L1_EPOCHS: usize = 400;

/// The L1 strengths tried, with their labels.
const L1_LAMBDAS: [(&str, f32); 4] = [
    ("L1 lambda 0.1", 0.1),
    ("L1 lambda 0.3", 0.3),
    ("L1 lambda 1", 1.0),
    ("L1 lambda 3", 3.0),
];

/// The chapter's overfitting run (1,000 images, 400 epochs, large initialization) with L1
/// strength `l1` (w → w − (ηλ/n) sgn(w) − η ∂C₀/∂w, eq. 97), monitored on 1,000 validation
/// images (the 10,000 after each of 400 epochs would cost more than the training).
fn thousand_images_l1(l1: f32) -> RunOptions {
    RunOptions {
        train_size: Some(1_000),
        init: InitName::Large,
        eta: 0.5,
        lambda: 0.0,
        l1,
        epochs: L1_EPOCHS,
        validation_size: Some(1_000),
        ..RunOptions::default()
    }
}

fn l1_lambda() -> Vec<RunSpec> {
    let measures = || {
        vec![
            ours(Metric::PeakEvaluationAccuracy),
            ours(Metric::EvaluationAccuracyAfter(L1_EPOCHS)),
            ours(Metric::TestAccuracy),
        ]
    };
    let mut runs = vec![seeded(UNREGULARIZED, thousand_images_l1(0.0), measures())];
    runs.extend(
        L1_LAMBDAS
            .iter()
            .map(|&(label, l1)| seeded(label, thousand_images_l1(l1), measures())),
    );
    runs
}

fn l1_checks(results: &[RunResult]) -> Vec<Check> {
    let peak = Metric::PeakEvaluationAccuracy.describe();
    let last = Metric::EvaluationAccuracyAfter(L1_EPOCHS).describe();
    let Some(none) = find(results, UNREGULARIZED) else {
        return Vec::new();
    };
    // λ is chosen on the validation accuracy of the final model, the one the test set judges.
    let chosen = results
        .iter()
        .filter(|r| r.label != UNREGULARIZED)
        .max_by(|a, b| mean(&per_seed(a, &last)).total_cmp(&mean(&per_seed(b, &last))));
    let Some(chosen) = chosen else {
        return Vec::new();
    };
    let wins = chosen
        .test_accuracy
        .iter()
        .zip(&none.test_accuracy)
        .filter(|(l1, plain)| l1 > plain)
        .count();
    vec![
        Check {
            claim: format!(
                "the L1 lambda whose final model has the best validation accuracy ({}) beats no \
                 regularization on the test set in every seed",
                chosen.label
            ),
            holds: wins == none.test_accuracy.len() && wins > 0,
            detail: format!(
                "test accuracy per seed: {} [{}] against unregularized [{}]",
                chosen.label,
                list(&chosen.test_accuracy),
                list(&none.test_accuracy)
            ),
        },
        Check {
            claim: "and on the peak validation accuracy, on average".into(),
            holds: mean(&per_seed(chosen, &peak)) > mean(&per_seed(none, &peak)),
            detail: format!(
                "mean peak validation accuracy {:.2}% against {:.2}%",
                mean(&per_seed(chosen, &peak)),
                mean(&per_seed(none, &peak))
            ),
        },
    ]
}

// ---------------------------------------------------------------------------------------------
// Procedures: runs with rules the run options cannot express, tolerating divergence

/// A run's outcome, or the epoch in which its weights or cost stopped being finite.
type Trained = std::result::Result<RunOutcome, usize>;

/// A figure of a procedure's run, from one seed's [`Trained`].
type Figure<'a> = (&'a str, &'a dyn Fn(&Trained) -> Option<f64>);

/// A rule given to the trainer in place of what the flags choose.
#[derive(Debug, Clone, Copy)]
enum Rule {
    /// The flags' own rules.
    Flags,
    /// Momentum with any coefficient, [`Momentum::with_any_coefficient`].
    AnyMomentum(f32),
    /// An early-stopping rule.
    Stopping(EarlyStopping),
}

impl Rule {
    fn overrides(self) -> Result<Overrides, TrainError> {
        Ok(match self {
            Self::Flags => Overrides::default(),
            Self::AnyMomentum(mu) => Overrides {
                optimizer: Some(Box::new(Momentum::with_any_coefficient(mu)?)),
                ..Overrides::default()
            },
            Self::Stopping(rule) => Overrides {
                early_stopping: Some(rule),
                ..Overrides::default()
            },
        })
    }

    /// What the command line cannot say, as a shell comment.
    fn note(self) -> String {
        match self {
            Self::Flags => String::new(),
            Self::AnyMomentum(mu) => format!(
                "  # momentum mu = {mu} through Momentum::with_any_coefficient (the run options \
                 refuse mu outside [0, 1))"
            ),
            Self::Stopping(rule) => format!("  # early stopping: {rule:?}"),
        }
    }
}

/// Trains `options` once per seed of `seeds` (the first only in a quick session, shrunk as
/// [`quicken`] does), with `rule`, and reports `figures` over the seeds. A run that diverges
/// is kept as the epoch it diverged in.
fn train_seeds(
    experiment: &Experiment,
    session: &mut Session,
    label: String,
    mut options: RunOptions,
    (seeds, rule): (&[u64], Rule),
    figures: &[Figure],
) -> Result<(RunResult, Vec<Trained>), ChapterError> {
    let seeds = if session.quick { &seeds[..1] } else { seeds };
    if session.quick {
        quicken(&mut options);
    }
    let mut trained = Vec::new();
    for &seed in seeds {
        let seeded = RunOptions {
            seed,
            ..options.clone()
        };
        let command = format!("{}{}", session.progress.command(&seeded), rule.note());
        session.progress.event(&Event::Training {
            experiment: experiment.name,
            position: None,
            label: &label,
            seed,
            command: &command,
        });
        let overrides = rule.overrides().map_err(|source| ChapterError::Train {
            what: format!("{}: run '{label}'", experiment.name),
            source,
        })?;
        let outcome = train(
            &run_name(&[experiment.name, &label], seed, session.quick),
            &seeded,
            session.data()?,
            overrides,
            &mut *session.progress,
        )?;
        match outcome {
            Ok(outcome) => {
                session.progress.event(&Event::Trained {
                    test_accuracy: 100.0 * outcome.test.accuracy(),
                    epochs: Some(outcome.history.epochs.len()),
                    seconds: outcome.seconds,
                });
                trained.push(Ok(outcome));
            }
            Err(RunError::Train(TrainError::Diverged { epoch, what, .. })) => {
                session.progress.event(&Event::Diverged { epoch, what });
                trained.push(Err(epoch));
            }
            Err(e) => return Err(ChapterError::of_run(experiment.name, &label, e)),
        }
    }
    let measures = figures
        .iter()
        .map(|(name, of)| {
            MeasureResult::from_seeds((*name).to_string(), None, trained.iter().map(of).collect())
        })
        .collect();
    let finished: Vec<&RunOutcome> = trained.iter().flatten().collect();
    let shown = RunOptions {
        seed: seeds[0],
        ..options
    };
    let result = RunResult {
        label,
        series: String::new(),
        x: None,
        options: finished.first().map(|o| o.options.clone()),
        command: format!("{}{}", session.progress.command(&shown), rule.note()),
        seeds: seeds.to_vec(),
        measures,
        test_accuracy: finished.iter().map(|o| 100.0 * o.test.accuracy()).collect(),
        seconds: finished.iter().map(|o| o.seconds).collect(),
        history: finished
            .first()
            .map(|o| o.history.epochs.clone())
            .unwrap_or_default(),
    };
    Ok((result, trained))
}

/// A [`Metric`] of a finished run; none for a diverged one.
fn metric(metric: Metric) -> impl Fn(&Trained) -> Option<f64> {
    move |t| {
        t.as_ref()
            .ok()
            .and_then(|o| metric.of_figures(&FinishedRun::from(o)))
    }
}

/// Epochs a finished run trained for.
fn epochs_run(t: &Trained) -> Option<f64> {
    t.as_ref().ok().map(|o| o.history.epochs.len() as f64)
}

/// Draws `spec` from `results` into the experiment's output directory.
fn draw(
    experiment: &Experiment,
    session: &Session,
    spec: &FigureSpec,
    results: &[RunResult],
) -> Result<PathBuf, ChapterError> {
    let path = session.figure_path(experiment.name, spec.suffix);
    figure::draw_runs(&path, spec, results)?;
    Ok(path)
}

// ---------------------------------------------------------------------------------------------
// Early stopping

/// The longest run of `early-stopping-rules`.
const STOPPING_EPOCHS: usize = 60;
/// Prechelt's thresholds α: stop once the validation error is 5% (or 10%, relative) above its
/// best; at 96% accuracy that is 0.2 (0.4) points below the best accuracy.
const GL_ALPHAS: [(&str, f64); 2] = [
    ("generalization loss GL_5", 5.0),
    ("generalization loss GL_10", 10.0),
];

fn early_stopping_rules(
    experiment: &Experiment,
    session: &mut Session,
) -> Result<Ran, ChapterError> {
    let base = RunOptions {
        epochs: STOPPING_EPOCHS,
        ..RunOptions::default()
    };
    let mut runs = vec![
        ("no early stopping", base.clone(), Rule::Flags),
        (
            "no-improvement-in-10",
            RunOptions {
                early_stopping: Some(10),
                ..base.clone()
            },
            Rule::Flags,
        ),
    ];
    runs.extend(GL_ALPHAS.map(|(label, alpha)| {
        let rule = Rule::Stopping(EarlyStopping::GeneralizationLoss(alpha));
        (label, base.clone(), rule)
    }));
    let (epochs, peak, test) = (
        "epochs trained",
        Metric::PeakEvaluationAccuracy.describe(),
        Metric::TestAccuracy.describe(),
    );
    let figures: [Figure; 3] = [
        (epochs, &epochs_run),
        (&peak, &metric(Metric::PeakEvaluationAccuracy)),
        (&test, &metric(Metric::TestAccuracy)),
    ];
    let mut results = Vec::new();
    for (label, options, rule) in runs {
        let (result, _) = train_seeds(
            experiment,
            session,
            label.into(),
            options,
            (&SEEDS, rule),
            &figures,
        )?;
        results.push(result);
    }
    let of = |label, what: &str| per_seed(&results[index(&results, label)], what);
    let (full, patient) = ("no early stopping", "no-improvement-in-10");
    let (gl, lenient) = (GL_ALPHAS[0].0, GL_ALPHAS[1].0);
    let limit = if session.quick {
        3.0
    } else {
        STOPPING_EPOCHS as f64
    };
    let checks = vec![
        Check {
            claim: "no-improvement-in-10 stops before the 60-epoch limit in every run and keeps \
                    the test accuracy of training all 60 epochs (within 0.2 points on average)"
                .into(),
            holds: of(patient, epochs).iter().all(|&e| e < limit)
                && mean(&of(patient, &test)) >= mean(&of(full, &test)) - 0.2,
            detail: format!(
                "epochs [{}]; test accuracy {:.2}% against {:.2}% for all 60 epochs",
                list(&of(patient, epochs)),
                mean(&of(patient, &test)),
                mean(&of(full, &test))
            ),
        },
        Check {
            claim: "GL_5 stops sooner than no-improvement-in-10 in every run".into(),
            holds: of(gl, epochs)
                .iter()
                .zip(&of(patient, epochs))
                .all(|(g, p)| g < p),
            detail: format!(
                "epochs: GL_5 [{}], no-improvement-in-10 [{}]",
                list(&of(gl, epochs)),
                list(&of(patient, epochs))
            ),
        },
        Check {
            claim: "GL_5 costs at most 0.3 points of test accuracy against no-improvement-in-10 \
                    (means)"
                .into(),
            holds: mean(&of(gl, &test)) >= mean(&of(patient, &test)) - 0.3,
            detail: format!(
                "test accuracy: GL_5 [{}], no-improvement-in-10 [{}]",
                list(&of(gl, &test)),
                list(&of(patient, &test))
            ),
        },
        Check {
            claim: "GL_10 lies between them: more epochs and a better test accuracy than GL_5, \
                    fewer epochs than no-improvement-in-10 (means)"
                .into(),
            holds: mean(&of(lenient, epochs)) > mean(&of(gl, epochs))
                && mean(&of(lenient, epochs)) < mean(&of(patient, epochs))
                && mean(&of(lenient, &test)) > mean(&of(gl, &test)),
            detail: format!(
                "GL_10: epochs [{}], test accuracy [{}]",
                list(&of(lenient, epochs)),
                list(&of(lenient, &test))
            ),
        },
    ];
    let figure = draw(
        experiment,
        session,
        &FigureSpec {
            suffix: "",
            title: "Early-stopping rules: validation accuracy (first seed)",
            curve: Curve::EvaluationAccuracy,
            runs: &[],
            x_label: "",
            log_x: false,
        },
        &results,
    )?;
    Ok((results, checks, vec![figure]))
}

/// The position of the run labelled `label` (every label a procedure asks for is its own).
fn index(results: &[RunResult], label: &str) -> usize {
    results
        .iter()
        .position(|r| r.label == label)
        .expect("a procedure names only its own runs")
}

// ---------------------------------------------------------------------------------------------
// Momentum outside [0, 1)

/// The coefficients tried, with their labels: inside [0, 1) for reference, then outside.
const MOMENTA: [(&str, f32); 8] = [
    ("mu -0.9", -0.9),
    ("mu -0.5", -0.5),
    ("mu 0 (plain SGD)", 0.0),
    ("mu 0.5", 0.5),
    ("mu 0.9", 0.9),
    ("mu 1", 1.0),
    ("mu 1.01", 1.01),
    ("mu 1.1", 1.1),
];

fn momentum_range(experiment: &Experiment, session: &mut Session) -> Result<Ran, ChapterError> {
    let (first, test, overflow) = (
        Metric::EvaluationAccuracyAfter(1).describe(),
        Metric::TestAccuracy.describe(),
        "epoch the weights or cost overflowed",
    );
    let diverged = |t: &Trained| t.as_ref().err().map(|&epoch| epoch as f64);
    let figures: [Figure; 3] = [
        (&first, &metric(Metric::EvaluationAccuracyAfter(1))),
        (&test, &metric(Metric::TestAccuracy)),
        (overflow, &diverged),
    ];
    let mut results = Vec::new();
    for (label, mu) in MOMENTA {
        // Inside [0, 1) the flags' own momentum, which checks its range.
        let rule = if (0.0..1.0).contains(&mu) {
            Rule::Flags
        } else {
            Rule::AnyMomentum(mu)
        };
        let options = RunOptions {
            eta: 0.1,
            epochs: 10,
            optimizer: OptimizerName::Momentum,
            // Outside [0, 1) the options cannot hold mu (they check its range): the rule's
            // optimizer carries it, and the command line's note says so.
            momentum: match rule {
                Rule::Flags => mu,
                _ => RunOptions::default().momentum,
            },
            ..RunOptions::default()
        };
        let (result, _) = train_seeds(
            experiment,
            session,
            label.into(),
            options,
            (&SEEDS, rule),
            &figures,
        )?;
        results.push(result);
    }
    let of = |label, what: &str| per_seed(&results[index(&results, label)], what);
    let plain = "mu 0 (plain SGD)";
    let behind = |label| {
        of(label, &first)
            .iter()
            .zip(&of(plain, &first))
            .all(|(a, b)| a < b)
    };
    let checks = vec![
        Check {
            claim: "mu > 1 diverges: with mu 1.01 and 1.1 the weights overflow in every run, and \
                    sooner for the larger mu"
                .into(),
            holds: ["mu 1.01", "mu 1.1"]
                .iter()
                .all(|l| of(l, overflow).iter().all(|e| e.is_finite()))
                && mean(&of("mu 1.1", overflow)) <= mean(&of("mu 1.01", overflow)),
            detail: format!(
                "overflow in epoch: mu 1.01 [{}], mu 1.1 [{}] (NaN: did not overflow)",
                list(&of("mu 1.01", overflow)),
                list(&of("mu 1.1", overflow))
            ),
        },
        Check {
            claim: "mu < 0 slows learning: after the first epoch mu -0.5 and -0.9 are behind \
                    plain SGD in every run"
                .into(),
            holds: behind("mu -0.5") && behind("mu -0.9"),
            detail: format!(
                "validation accuracy after epoch 1: mu -0.9 [{}], mu -0.5 [{}], mu 0 [{}]",
                list(&of("mu -0.9", &first)),
                list(&of("mu -0.5", &first)),
                list(&of(plain, &first))
            ),
        },
        Check {
            claim: "and they are still behind after the last epoch (mean test accuracy)".into(),
            holds: mean(&of("mu -0.9", &test)) < mean(&of(plain, &test))
                && mean(&of("mu -0.5", &test)) < mean(&of(plain, &test)),
            detail: format!(
                "test accuracy: mu -0.9 {:.2}%, mu -0.5 {:.2}%, mu 0 {:.2}%",
                mean(&of("mu -0.9", &test)),
                mean(&of("mu -0.5", &test)),
                mean(&of(plain, &test))
            ),
        },
        Check {
            claim: "inside [0, 1) momentum speeds learning: mu 0.5 is ahead of plain SGD after \
                    the first epoch in every run"
                .into(),
            holds: of("mu 0.5", &first)
                .iter()
                .zip(&of(plain, &first))
                .all(|(a, b)| a > b),
            detail: format!(
                "validation accuracy after epoch 1: mu 0.5 [{}], mu 0 [{}]",
                list(&of("mu 0.5", &first)),
                list(&of(plain, &first))
            ),
        },
    ];
    let figure = draw(
        experiment,
        session,
        &FigureSpec {
            suffix: "",
            title: "Momentum coefficients: validation accuracy (first seed; runs that overflowed \
                    have no curve)",
            curve: Curve::EvaluationAccuracy,
            runs: &[],
            x_label: "",
            log_x: false,
        },
        &results,
    )?;
    Ok((results, checks, vec![figure]))
}

// ---------------------------------------------------------------------------------------------
// Hyper-parameters by gradient descent

/// The probe training of `hyper-gradient`: 784,30,10 on the first 10,000 images for 10 epochs,
/// nothing monitored, seed 0 for every probe so that differences measure η and λ, not the
/// shuffle.
fn probe(eta: f64, lambda: f64) -> RunOptions {
    RunOptions {
        eta: eta as f32,
        lambda: lambda as f32,
        epochs: 10,
        train_size: Some(10_000),
        monitor: Vec::new(),
        ..RunOptions::default()
    }
}

/// The chapter's grid: η and λ by factors of ten.
const GRID_ETA: [f64; 3] = [0.025, 0.25, 2.5];
const GRID_LAMBDA: [f64; 3] = [0.1, 1.0, 10.0];
/// Where the descent starts: the grid's smallest η and the chapter's first λ.
const START: (f64, f64) = (0.025, 1.0);
/// The step of the central differences, in ln units (a factor e^0.25 ≈ 1.28 each way).
const DIFFERENCE: f64 = 0.25;
/// The first step's length in (ln η, ln λ) (a factor e), halved whenever a step fails.
const FIRST_STEP: f64 = 1.0;
/// Descent iterations (each: four probes for the gradient, one or more for the step).
const ITERATIONS: usize = 6;

/// The validation set of the probes, and the objective of a finished probe on it: the
/// unregularized cost C₀ = −(1/n) Σ [y ln a + (1 − y) ln(1 − a)] (eq. 63), since with the
/// penalty (λ/2n) Σ w² included a smaller λ would always look better.
struct Objective {
    validation: nn_data::ImageSet,
}

impl Objective {
    fn of(&self, t: &Trained) -> Option<f64> {
        let outcome = t.as_ref().ok()?;
        let e = outcome.network.evaluate(&self.validation, outcome.cost);
        let cost = e.cost_sum / e.count as f64;
        cost.is_finite().then_some(cost)
    }
}

/// The objective's name in the summaries.
const COST: &str = "validation cost C0 (unregularized)";

/// A probe's cost, +∞ when it diverged.
struct Probe<'a, 's> {
    experiment: &'a Experiment,
    session: &'a mut Session<'s>,
    objective: &'a Objective,
    count: usize,
}

impl Probe<'_, '_> {
    /// Trains one probe at (ln η, ln λ) and returns its row and its cost.
    fn at(
        &mut self,
        label: String,
        (ln_eta, ln_lambda): (f64, f64),
    ) -> Result<(RunResult, f64), ChapterError> {
        self.count += 1;
        let objective = |t: &Trained| self.objective.of(t);
        let figures: [Figure; 2] = [
            (COST, &objective),
            ("validation accuracy (%)", &|t: &Trained| {
                t.as_ref().ok().map(|o| {
                    100.0
                        * o.network
                            .evaluate(&self.objective.validation, o.cost)
                            .accuracy()
                })
            }),
        ];
        let (result, trained) = train_seeds(
            self.experiment,
            self.session,
            label,
            probe(ln_eta.exp(), ln_lambda.exp()),
            (&[0], Rule::Flags),
            &figures,
        )?;
        let cost = trained
            .first()
            .and_then(|t| self.objective.of(t))
            .unwrap_or(f64::INFINITY);
        Ok((result, cost))
    }
}

/// "eta X, lambda Y" to three significant digits.
fn point((ln_eta, ln_lambda): (f64, f64)) -> String {
    format!("eta {:.3}, lambda {:.3}", ln_eta.exp(), ln_lambda.exp())
}

fn hyper_gradient(experiment: &Experiment, session: &mut Session) -> Result<Ran, ChapterError> {
    let probe_options = {
        let mut a = probe(START.0, START.1);
        if session.quick {
            quicken(&mut a);
        }
        a
    };
    let validation = session
        .data()?
        .validation_images(probe_options.validation_size)?;
    let objective = Objective { validation };
    let quick = session.quick;
    let mut probes = Probe {
        experiment,
        session,
        objective: &objective,
        count: 0,
    };
    let mut results = Vec::new();

    // The chapter's way: every combination of the factor-of-ten grid.
    let mut grid_best = (f64::INFINITY, (0.0, 0.0));
    for eta in GRID_ETA {
        for lambda in GRID_LAMBDA {
            let at = (eta.ln(), lambda.ln());
            let (row, cost) = probes.at(format!("grid: {}", point(at)), at)?;
            results.push(row);
            if cost < grid_best.0 {
                grid_best = (cost, at);
            }
        }
    }
    let grid_trainings = probes.count;

    // Normalized gradient descent with step halving on the same objective.
    let iterations = if quick { 1 } else { ITERATIONS };
    let mut at = (START.0.ln(), START.1.ln());
    let (row, mut cost) = probes.at(format!("descent start: {}", point(at)), at)?;
    let start_cost = cost;
    results.push(row);
    let mut step = FIRST_STEP;
    for k in 1..=iterations {
        let mut gradient = [0.0; 2];
        for (i, g) in gradient.iter_mut().enumerate() {
            let shifted = |sign: f64| {
                let mut p = at;
                if i == 0 {
                    p.0 += sign * DIFFERENCE;
                } else {
                    p.1 += sign * DIFFERENCE;
                }
                p
            };
            let (_, plus) = probes.at(format!("difference {k}"), shifted(1.0))?;
            let (_, minus) = probes.at(format!("difference {k}"), shifted(-1.0))?;
            *g = (plus - minus) / (2.0 * DIFFERENCE);
        }
        let norm = gradient[0].hypot(gradient[1]);
        if !(norm.is_finite() && norm > 0.0) {
            break;
        }
        let moved = loop {
            let next = (
                at.0 - step * gradient[0] / norm,
                at.1 - step * gradient[1] / norm,
            );
            let (row, next_cost) = probes.at(format!("descent step {k}: {}", point(next)), next)?;
            if next_cost < cost {
                results.push(row);
                break Some((next, next_cost));
            }
            step /= 2.0;
            if step < DIFFERENCE / 4.0 {
                break None;
            }
        };
        let Some((next, next_cost)) = moved else {
            break;
        };
        (at, cost) = (next, next_cost);
    }
    let descent_trainings = probes.count - grid_trainings;

    // Both choices trained with three seeds.
    let test = Metric::TestAccuracy.describe();
    let objective_of = |t: &Trained| objective.of(t);
    let figures: [Figure; 2] = [
        (COST, &objective_of),
        (&test, &metric(Metric::TestAccuracy)),
    ];
    let mut chosen = Vec::new();
    for (label, (ln_eta, ln_lambda)) in [
        (
            format!("grid's choice, {}", point(grid_best.1)),
            grid_best.1,
        ),
        (format!("descent's choice, {}", point(at)), at),
    ] {
        let (row, _) = train_seeds(
            experiment,
            probes.session,
            label,
            probe(ln_eta.exp(), ln_lambda.exp()),
            (&SEEDS, Rule::Flags),
            &figures,
        )?;
        chosen.push(row);
    }
    let (grid_row, descent_row) = (&chosen[0], &chosen[1]);
    let checks = vec![
        Check {
            claim: "the descent lowers the validation cost from its start".into(),
            holds: cost < start_cost,
            detail: format!(
                "C0 {start_cost:.4} at {} -> {cost:.4} at {}",
                point((START.0.ln(), START.1.ln())),
                point(at)
            ),
        },
        Check {
            claim: "the descent's choice is at least as good as the grid's on the validation \
                    cost (mean over 3 seeds)"
                .into(),
            holds: mean(&per_seed(descent_row, COST)) <= mean(&per_seed(grid_row, COST)),
            detail: format!(
                "C0: descent [{}], grid [{}]; test accuracy: descent [{}], grid [{}]; \
                 {descent_trainings} trainings for the descent against {grid_trainings} for the \
                 grid",
                list(&per_seed(descent_row, COST)),
                list(&per_seed(grid_row, COST)),
                list(&descent_row.test_accuracy),
                list(&grid_row.test_accuracy)
            ),
        },
    ];
    results.extend(chosen);
    Ok((results, checks, Vec::new()))
}

// ---------------------------------------------------------------------------------------------
// Asymptotic performance

/// Training-set sizes of `asymptotic`.
const ASYMPTOTIC_SIZES: [(&str, usize); 6] = [
    ("500 images", 500),
    ("1,000 images", 1_000),
    ("5,000 images", 5_000),
    ("10,000 images", 10_000),
    ("20,000 images", 20_000),
    ("50,000 images", 50_000),
];
/// Images seen by every run of `asymptotic` (more_data.py's 1,500,000).
const IMAGES_SEEN: usize = 1_500_000;
/// The series fitted.
const ORIGINAL: &str = "original data";
/// The run with expanded data.
const EXPANDED: &str = "50,000 images, fresh shifts each epoch";

/// more_data.py's run on `size` images: η 0.5, λ = size/10,000, 1,500,000 images seen,
/// nothing monitored (we keep the default initialization).
fn sized(size: usize) -> RunOptions {
    RunOptions {
        train_size: Some(size),
        eta: 0.5,
        lambda: size as f32 * 1e-4,
        epochs: IMAGES_SEEN / size,
        monitor: Vec::new(),
        ..RunOptions::default()
    }
}

fn asymptotic() -> Vec<RunSpec> {
    let mut runs: Vec<RunSpec> = ASYMPTOTIC_SIZES
        .iter()
        .map(|&(label, size)| RunSpec {
            series: ORIGINAL,
            x: Some(size as f64),
            ..seeded(label, sized(size), vec![ours(Metric::TestAccuracy)])
        })
        .collect();
    runs.push(RunSpec {
        series: "fresh shifts each epoch",
        x: Some(50_000.0),
        ..seeded(
            EXPANDED,
            RunOptions {
                expand: vec![TransformName::Shift],
                ..sized(50_000)
            },
            vec![ours(Metric::TestAccuracy)],
        )
    });
    runs
}

/// A fitted learning curve e(n) = a + b·n^(−c) (errors in %).
#[derive(Debug, Clone, Copy)]
struct PowerLaw {
    a: f64,
    b: f64,
    c: f64,
    /// Root-mean-square residual (points of %).
    rms: f64,
}

impl PowerLaw {
    /// The exponents tried: 0.01 to 2 in steps of 0.01.
    const EXPONENTS: std::ops::RangeInclusive<u32> = 1..=200;

    /// The least-squares fit to `points` (n, error): for each exponent c, a and b by linear
    /// least squares on x = n^(−c); the c with the smallest squared error. None with fewer
    /// than four distinct sizes (three parameters need a residual to judge them).
    fn fit(points: &[(f64, f64)]) -> Option<Self> {
        let mut sizes: Vec<f64> = points.iter().map(|p| p.0).collect();
        sizes.sort_by(f64::total_cmp);
        sizes.dedup();
        if sizes.len() < 4 || points.iter().any(|p| !p.1.is_finite()) {
            return None;
        }
        Self::EXPONENTS
            .filter_map(|k| {
                let c = f64::from(k) / 100.0;
                let xs: Vec<f64> = points.iter().map(|p| p.0.powf(-c)).collect();
                let n = points.len() as f64;
                let (mx, my) = (
                    xs.iter().sum::<f64>() / n,
                    points.iter().map(|p| p.1).sum::<f64>() / n,
                );
                let sxx: f64 = xs.iter().map(|x| (x - mx).powi(2)).sum();
                let sxy: f64 = xs
                    .iter()
                    .zip(points)
                    .map(|(x, p)| (x - mx) * (p.1 - my))
                    .sum();
                if sxx <= 0.0 {
                    return None;
                }
                let b = sxy / sxx;
                let a = my - b * mx;
                let squares: f64 = xs
                    .iter()
                    .zip(points)
                    .map(|(x, p)| (a + b * x - p.1).powi(2))
                    .sum();
                Some(Self {
                    a,
                    b,
                    c,
                    rms: (squares / n).sqrt(),
                })
            })
            .min_by(|p, q| p.rms.total_cmp(&q.rms))
    }

    /// The fitted error at `n` images.
    fn at(&self, n: f64) -> f64 {
        self.a + self.b * n.powf(-self.c)
    }
}

fn asymptotic_checks(results: &[RunResult]) -> Vec<Check> {
    let test = Metric::TestAccuracy.describe();
    let curve: Vec<&RunResult> = results.iter().filter(|r| r.series == ORIGINAL).collect();
    let seeds = curve.first().map_or(0, |r| r.seeds.len());
    // Errors (%) per seed, and of the means.
    let points = |seed: Option<usize>| -> Vec<(f64, f64)> {
        curve
            .iter()
            .filter_map(|r| {
                let values = per_seed(r, &test);
                let accuracy = match seed {
                    Some(s) => *values.get(s)?,
                    None => mean(&values),
                };
                Some((r.x?, 100.0 - accuracy))
            })
            .collect()
    };
    let mean_points = points(None);
    let fit = PowerLaw::fit(&mean_points);
    let per_seed_fits: Vec<Option<PowerLaw>> = (0..seeds)
        .map(|s| PowerLaw::fit(&points(Some(s))))
        .collect();
    let asymptotes: Vec<f64> = per_seed_fits
        .iter()
        .map(|f| f.map_or(f64::NAN, |f| f.a))
        .collect();
    let falling = mean_points.windows(2).all(|w| w[1].1 < w[0].1);
    let largest = mean_points.last().map_or(f64::NAN, |p| p.1);
    let expanded = find(results, EXPANDED).map_or(f64::NAN, |r| 100.0 - mean(&per_seed(r, &test)));
    let shown = |f: Option<PowerLaw>| {
        f.map_or_else(
            || "no fit (fewer than four sizes)".to_string(),
            |f| {
                format!(
                    "error = {:.2} + {:.1} n^-{:.2} (%), RMS residual {:.3}",
                    f.a, f.b, f.c, f.rms
                )
            },
        )
    };
    let spread = asymptotes.iter().copied().fold(f64::NEG_INFINITY, f64::max)
        - asymptotes.iter().copied().fold(f64::INFINITY, f64::min);
    vec![
        Check {
            claim: "the test error falls with every larger training set (means over the seeds)"
                .into(),
            holds: falling && mean_points.len() > 1,
            detail: format!(
                "errors (%): {}",
                list(&mean_points.iter().map(|p| p.1).collect::<Vec<_>>())
            ),
        },
        Check {
            claim: "error = a + b n^-c fits the mean errors within 0.15 points RMS".into(),
            holds: fit.is_some_and(|f| f.rms <= 0.15),
            detail: shown(fit),
        },
        Check {
            claim: "the extrapolated asymptote a lies between 0 and the 50,000-image error in \
                    every seed: 784,30,10 levels off, more data still helps a little"
                .into(),
            holds: !asymptotes.is_empty() && asymptotes.iter().all(|&a| a >= 0.0 && a < largest),
            detail: format!(
                "a per seed: [{}] (spread {spread:.2}); 50,000-image error {largest:.2}%",
                list(&asymptotes)
            ),
        },
        Check {
            claim: "fresh shifts at 50,000 images do not reach the error the fit predicts for \
                    1,500,000 real images (distortions are worth less than new data)"
                .into(),
            holds: fit.is_some_and(|f| expanded > f.at(IMAGES_SEEN as f64)),
            detail: format!(
                "shifted 50,000: {expanded:.2}% error; fit at 1,500,000: {}",
                fit.map_or_else(
                    || "-".to_string(),
                    |f| format!("{:.2}%", f.at(IMAGES_SEEN as f64))
                )
            ),
        },
    ]
}

#[cfg(test)]
mod tests {
    use super::PowerLaw;

    #[test]
    fn power_law_fit_recovers_the_curve_it_was_given() {
        let points: Vec<(f64, f64)> = [500.0, 1e3, 2e3, 5e3, 1e4, 5e4]
            .iter()
            .map(|&n: &f64| (n, 2.5 + 300.0 * n.powf(-0.6)))
            .collect();
        let fit = PowerLaw::fit(&points).unwrap();
        assert!((fit.a - 2.5).abs() < 1e-6, "{fit:?}");
        assert!(
            (fit.b - 300.0).abs() < 1e-3 && (fit.c - 0.6).abs() < 1e-9,
            "{fit:?}"
        );
        assert!(PowerLaw::fit(&points[..3]).is_none());
    }
}
