//! The experiments as data: what an experiment trains ([`Body`]), the figures it reports
//! ([`Metric`]) beside the book's, the claims it checks ([`Check`]), and what a run of it gives
//! ([`crate::Summary`], written as `NAME.json` and `NAME.md`).

use std::cell::OnceCell;
use std::path::PathBuf;

use nn_core::EpochRecord;
use nn_data::ImageSet;
use nn_train::{DataSet, RunOptions};
use serde::{Deserialize, Serialize};

use crate::error::ChapterError;
use crate::finished::FinishedRun;
use crate::session::Session;

/// One experiment of the chapter.
pub struct Experiment {
    /// Its name on the command line.
    pub name: &'static str,
    /// What it shows.
    pub title: &'static str,
    /// The book's result (or the cited paper's), in words.
    pub book: &'static str,
    /// What is trained.
    pub body: Body,
}

/// How an experiment trains.
pub enum Body {
    /// The single sigmoid neuron of the chapter's opening.
    Slowdown,
    /// The Hessian technique against gradient descent on pooled digits.
    Hessian,
    /// MNIST networks, each trained as nn-train's [`nn_train::Run`].
    Runs {
        /// The runs, full-size.
        runs: fn() -> Vec<RunSpec>,
        /// The figures drawn from them.
        figures: &'static [FigureSpec],
        /// The claims checked on the results.
        checks: fn(&[RunResult]) -> Vec<Check>,
    },
    /// Runs decided as the experiment goes (each step depends on the last).
    Procedure(fn(&Experiment, &mut Session) -> Result<Ran, ChapterError>),
}

/// What a procedure returns: the results, the checked claims and the figures written.
pub type Ran = (Vec<RunResult>, Vec<Check>, Vec<PathBuf>);

/// One configuration trained by an experiment (once per seed).
pub struct RunSpec {
    /// Its name in tables and legends.
    pub label: &'static str,
    /// The line joining it to others in a figure against [`RunSpec::x`] (e.g. "no expansion").
    pub series: &'static str,
    /// Its abscissa in such a figure (e.g. the training-set size).
    pub x: Option<f64>,
    /// The run's options (its seed is each of [`RunSpec::seeds`] in turn).
    pub options: RunOptions,
    /// The figures reported, each with the book's value when it gives one.
    pub measures: Vec<Measure>,
    /// The seeds trained; the spread over them is reported.
    pub seeds: Vec<u64>,
}

/// A figure reported for a run, next to the book's.
#[derive(Debug, Clone, Copy)]
pub struct Measure {
    /// What is measured.
    pub metric: Metric,
    /// The book's value, in the metric's unit.
    pub book: Option<f64>,
}

/// What a run reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Metric {
    /// The final model's accuracy on the test set (%).
    TestAccuracy,
    /// The best accuracy on the monitored data over all epochs (%), as the book quotes.
    PeakEvaluationAccuracy,
    /// Accuracy on the training data after the last epoch (%).
    FinalTrainingAccuracy,
    /// Cost on the training data after the last epoch.
    FinalTrainingCost,
    /// The epoch in which the cost on the monitored data was lowest.
    LowestEvaluationCostEpoch,
    /// Accuracy on the monitored data after this epoch (%).
    EvaluationAccuracyAfter(usize),
    /// The best accuracy on the training data over all epochs (%), as the book quotes.
    PeakTrainingAccuracy,
    /// The final model's accuracy on all 10,000 validation images (%), as the book's
    /// `more_data.py` scores it (computed once, after training).
    ValidationAccuracy,
    /// The number of epochs trained (fewer than asked when early stopping or a schedule ends
    /// the run).
    EpochsTrained,
    /// Training seconds (summed over the epochs, monitoring excluded) until the accuracy on the
    /// monitored data first reaches this percentage.
    SecondsToEvaluationAccuracy(u8),
    /// Training seconds per epoch (monitoring excluded), the mean over the epochs.
    SecondsPerEpoch,
}

impl Metric {
    /// The metric's name in tables.
    pub fn describe(self) -> String {
        match self {
            Self::TestAccuracy => "test accuracy (%)".into(),
            Self::PeakEvaluationAccuracy => "peak evaluation accuracy (%)".into(),
            Self::FinalTrainingAccuracy => "final training accuracy (%)".into(),
            Self::FinalTrainingCost => "final training cost".into(),
            Self::LowestEvaluationCostEpoch => "epoch of lowest evaluation cost".into(),
            Self::EvaluationAccuracyAfter(e) => format!("evaluation accuracy after epoch {e} (%)"),
            Self::PeakTrainingAccuracy => "peak training accuracy (%)".into(),
            Self::ValidationAccuracy => "validation accuracy (%)".into(),
            Self::EpochsTrained => "epochs trained".into(),
            Self::SecondsToEvaluationAccuracy(p) => {
                format!("training seconds to {p}% evaluation accuracy")
            }
            Self::SecondsPerEpoch => "seconds per epoch".into(),
        }
    }

    /// The value of the metric for a finished run; `None` when the run never reached it.
    /// [`Metric::ValidationAccuracy`] needs the trained network (a run collected from its
    /// metrics file has none) and the validation images, read from `data` at the first such
    /// measure and kept in `validation` for the others.
    pub(crate) fn measure(
        self,
        outcome: &FinishedRun,
        data: Result<&DataSet, ChapterError>,
        validation: &OnceCell<ImageSet>,
    ) -> Result<Option<f64>, ChapterError> {
        if !matches!(self, Self::ValidationAccuracy) {
            return Ok(self.of_figures(outcome));
        }
        let Some((network, cost)) = &outcome.model else {
            return Err(ChapterError::NeedsModel {
                metric: self.describe(),
            });
        };
        if validation.get().is_none() {
            let images = data?.validation_images(None)?;
            validation.set(images).ok();
        }
        let images = validation.get().expect("loaded above");
        let evaluation = if outcome.options.invert {
            network.evaluate(&images.clone().inverted(true), *cost)
        } else {
            network.evaluate(images, *cost)
        };
        Ok(Some(100.0 * evaluation.accuracy()))
    }

    /// The value of the metric read from a finished run's figures; `None` when the run never
    /// reached it, and for [`Metric::ValidationAccuracy`], which evaluates the network
    /// (which needs the trained network).
    pub fn of_figures(self, outcome: &FinishedRun) -> Option<f64> {
        let epochs = &outcome.history.epochs;
        let percent = |v: Option<f64>| v.map(|a| 100.0 * a);
        match self {
            Self::TestAccuracy => Some(100.0 * outcome.test.accuracy()),
            Self::PeakEvaluationAccuracy => percent(
                epochs
                    .iter()
                    .filter_map(|r| r.evaluation_accuracy)
                    .reduce(f64::max),
            ),
            Self::FinalTrainingAccuracy => percent(epochs.last().and_then(|r| r.training_accuracy)),
            Self::FinalTrainingCost => epochs.last().and_then(|r| r.training_cost),
            Self::LowestEvaluationCostEpoch => epochs
                .iter()
                .filter_map(|r| r.evaluation_cost.map(|c| (r.epoch, c)))
                .min_by(|a, b| a.1.total_cmp(&b.1))
                .map(|(epoch, _)| epoch as f64),
            Self::EvaluationAccuracyAfter(e) => percent(
                epochs
                    .iter()
                    .find(|r| r.epoch == e)
                    .and_then(|r| r.evaluation_accuracy),
            ),
            Self::PeakTrainingAccuracy => percent(
                epochs
                    .iter()
                    .filter_map(|r| r.training_accuracy)
                    .reduce(f64::max),
            ),
            Self::ValidationAccuracy => None,
            Self::EpochsTrained => Some(epochs.len() as f64),
            Self::SecondsToEvaluationAccuracy(p) => {
                let mut seconds = 0.0;
                epochs.iter().find_map(|r| {
                    seconds += r.seconds;
                    let reached = r.evaluation_accuracy? * 100.0 >= f64::from(p);
                    reached.then_some(seconds)
                })
            }
            Self::SecondsPerEpoch => (!epochs.is_empty())
                .then(|| epochs.iter().map(|r| r.seconds).sum::<f64>() / epochs.len() as f64),
        }
    }
}

/// What a figure plots.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Curve {
    /// Training cost per epoch.
    TrainingCost,
    /// Cost on the monitored data per epoch.
    EvaluationCost,
    /// Training accuracy per epoch (%).
    TrainingAccuracy,
    /// Accuracy on the monitored data per epoch (%).
    EvaluationAccuracy,
    /// Accuracy on the monitored data (%) against the training seconds so far (the chapter's
    /// way of choosing the mini-batch size).
    EvaluationAccuracyAgainstTime,
    /// The first measure of each run against its [`RunSpec::x`], one line per series.
    MeasureAgainstX,
}

/// A figure of an experiment, written to `NAME<suffix>.png`.
pub struct FigureSpec {
    /// Appended to the experiment's name to make the file name.
    pub suffix: &'static str,
    /// The figure's caption.
    pub title: &'static str,
    /// What is plotted.
    pub curve: Curve,
    /// The runs drawn, by label; empty for all.
    pub runs: &'static [&'static str],
    /// The x label (for [`Curve::MeasureAgainstX`]).
    pub x_label: &'static str,
    /// Whether the x axis is logarithmic.
    pub log_x: bool,
}

/// A claim of the book checked on our results.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Check {
    /// The claim.
    pub claim: String,
    /// Whether our results bear it out.
    pub holds: bool,
    /// The figures behind the verdict.
    pub detail: String,
}

/// One reported figure of a run: the book's and ours over the seeds.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct MeasureResult {
    /// What was measured.
    pub metric: String,
    /// The book's value.
    pub book: Option<f64>,
    /// Ours: the mean over the seeds that reached a value.
    pub ours: Option<f64>,
    /// Ours for each seed.
    pub per_seed: Vec<Option<f64>>,
    /// Largest minus smallest over the seeds (with two or more seeds).
    pub spread: Option<f64>,
}

impl MeasureResult {
    /// The figure `metric` over the seeds: the mean and spread of the values reached.
    pub fn from_seeds(metric: String, book: Option<f64>, per_seed: Vec<Option<f64>>) -> Self {
        let values: Vec<f64> = per_seed.iter().flatten().copied().collect();
        let ours = (!values.is_empty()).then(|| values.iter().sum::<f64>() / values.len() as f64);
        let spread = (values.len() > 1).then(|| {
            values.iter().copied().fold(f64::NEG_INFINITY, f64::max)
                - values.iter().copied().fold(f64::INFINITY, f64::min)
        });
        Self {
            metric,
            book,
            ours,
            per_seed,
            spread,
        }
    }
}

/// The results of one run specification (as `docs/records/*.json` keep them).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RunResult {
    /// The run's label.
    pub label: String,
    /// Its series in figures against x.
    #[serde(default)]
    pub series: String,
    /// Its abscissa in such figures.
    #[serde(default)]
    pub x: Option<f64>,
    /// The options of the first seed's run (none for the single neuron).
    pub options: Option<RunOptions>,
    /// The equivalent command line, as the front end writes one ([`crate::Progress::command`]; empty
    /// for the single neuron and the Hessian technique).
    pub command: String,
    /// The seeds trained.
    pub seeds: Vec<u64>,
    /// The reported figures.
    pub measures: Vec<MeasureResult>,
    /// Test accuracy (%) of each seed's final model.
    pub test_accuracy: Vec<f64>,
    /// Training seconds of each seed.
    pub seconds: Vec<f64>,
    /// The first seed's figures per epoch (drawn in the figures).
    #[serde(default)]
    pub history: Vec<EpochRecord>,
}

impl RunResult {
    /// The mean of our value of `metric`, if measured.
    pub fn ours(&self, metric: Metric) -> Option<f64> {
        let name = metric.describe();
        self.measures.iter().find(|m| m.metric == name)?.ours
    }
}
