//! One whole training run: the data selected, the network built (or restored), the trainer
//! composed, every epoch trained and checkpointed, the final model tested.

use std::time::Instant;

use nn_core::{
    Cost, EpochRecord, EpochTransform, Evaluation, Examples, History, Network, Observer,
    ParamGuard, Standardization, StandardizationKind, Trainer, regularized_cost,
};

use crate::Field;
use crate::checkpoint::{Checkpointer, Restored};
use crate::compose::{self, CheckedRunOptions, Overrides};
use crate::data::{DataSet, Selection};
use crate::error::RunError;
use crate::options::{RunOptions, join};

/// A run ready to train: its options, the images it trains on, monitors and tests, and its
/// trainer, fresh or resumed from a checkpoint.
///
/// ```
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// use nn_core::Silent;
/// use nn_train::{DataSet, Run, RunOptions};
///
/// # let dir = tempfile::tempdir()?;
/// # nn_train::write_example_data(dir.path())?;
/// let files = nn_data::IdxFiles::in_dir(dir.path())?;
/// let data = DataSet::load(files, "the example".into(), None)?;
///
/// let options = RunOptions { layers: vec![16, 10, 4], epochs: 2, eta: 1.0, ..RunOptions::default() };
/// let mut run = Run::new(options, &data)?;
/// let first = run.epoch(&mut Silent)?; // one epoch at a time, or all with `run.train`
/// assert_eq!(first.epoch, 1);
/// let outcome = run.train(&mut Silent)?;
/// assert_eq!(outcome.history.epochs.len(), 2);
/// assert_eq!(outcome.test.count, data.splits.test.len());
/// # Ok(())
/// # }
/// ```
pub struct Run {
    options: RunOptions,
    cost: &'static dyn Cost,
    trainer: Trainer<'static>,
    selection: Selection,
    rules: String,
    resumed_after: Option<usize>,
    checkpointer: Option<Checkpointer>,
    seconds: f64,
}

impl std::fmt::Debug for Run {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Run")
            .field("options", &self.options)
            .field("rules", &self.rules)
            .field("resumed_after", &self.resumed_after)
            .finish()
    }
}

/// The result of a finished run.
#[derive(Debug)]
pub struct RunOutcome {
    /// The options the run used.
    pub options: RunOptions,
    /// Every epoch's figures, the best epoch and why the run stopped.
    pub history: History,
    /// The final model on the test images.
    pub test: Evaluation,
    /// The trained network (the best weights with early stopping, the averaged ones with
    /// weight averaging).
    pub network: Network,
    /// The cost it was trained with.
    pub cost: &'static dyn Cost,
    /// Wall-clock seconds of the training loop in this process.
    pub seconds: f64,
}

impl Run {
    /// A fresh run of `options` on `data`: a new network from the run's seed, the input
    /// standardization fitted on the training images when `--normalize` asks for it, and the
    /// framing of the training images' digits measured
    /// ([`nn_data::picture::measure_framing`]) so that the saved model prepares pictures as
    /// they were (measured again on resume).
    pub fn new(
        options: impl ParamGuard<Checked = CheckedRunOptions, Error = RunError>,
        data: &DataSet,
    ) -> Result<Self, RunError> {
        Self::new_with(options, data, Overrides::default())
    }

    /// [`Run::new`] with `overrides` in place of the options' own optimizer or early-stopping
    /// rule: for rules a [`RunOptions`] cannot name, such as a momentum coefficient outside
    /// [0, 1) or Prechelt's generalization-loss stopping rule.
    pub fn new_with(
        options: impl ParamGuard<Checked = CheckedRunOptions, Error = RunError>,
        data: &DataSet,
        overrides: Overrides,
    ) -> Result<Self, RunError> {
        let options = options.check()?;
        let network = compose::network(&options)?;
        Self::build(options, data, network, None, overrides)
    }

    /// Continues the run `restored` from its checkpoint on `data` with `options` (the
    /// checkpoint's, perhaps with more epochs): bit-identical to a run never interrupted.
    /// Options that differ otherwise are refused ([`RunError::ResumeOptions`], see
    /// [`RunOptions::differences`]). Call [`crate::DataIdentity::check_resumed`] first to make
    /// sure `data` is the checkpoint's.
    pub fn resume(
        options: impl ParamGuard<Checked = CheckedRunOptions, Error = RunError>,
        data: &DataSet,
        restored: Restored,
    ) -> Result<Self, RunError> {
        let options = options.check()?;
        let differing = options.differences(&restored.options);
        if !differing.is_empty() {
            return Err(RunError::ResumeOptions { differing });
        }
        Self::build(
            options,
            data,
            restored.network,
            Some((restored.state, restored.optimizer_state)),
            Overrides::default(),
        )
    }

    fn build(
        options: CheckedRunOptions,
        data: &DataSet,
        mut network: Network,
        resume: Option<(nn_core::TrainingState, nn_core::OptimizerState)>,
        overrides: Overrides,
    ) -> Result<Self, RunError> {
        let selection = data.select(&options)?;
        for (set, name) in [
            (&selection.training, "training"),
            (&selection.evaluation, options.eval.name()),
            (&selection.test, "test"),
        ] {
            let what = format!("the {name} images of {}", data.origin);
            compose::check_data(&network, set, &what).map_err(|e| {
                let mut suggested = network.sizes().to_vec();
                (suggested[0], *suggested.last_mut().expect("two layers")) =
                    (set.input_len(), set.classes);
                RunError::option_from(
                    Field::Layers,
                    format!(
                        "{e}; make the first and last layers fit the data (e.g. `layers` {})",
                        join(&suggested)
                    ),
                    e,
                )
                .valued(join(network.sizes()))
            })?;
        }
        network.set_framing(nn_data::picture::measure_framing(&selection.training));
        if resume.is_none() && options.normalize != StandardizationKind::None {
            network.set_standardization(Standardization::fit(
                options.normalize,
                &selection.training,
            )?)?;
        }
        let training = selection.training.len();
        if options.batch_size > training {
            return Err(RunError::option(
                Field::BatchSize,
                format!("larger than the {training} training images; use at most {training}"),
            )
            .valued(options.batch_size));
        }
        let (options, parts) = options.into_parts();
        let parts = parts.overridden(overrides)?;
        let expansion = compose::expansion(&options, &selection.training)?;
        let rules = describe(&options, &parts, expansion.as_deref());
        let cost = parts.cost;
        let mut trainer = parts.trainer(network)?;
        if let Some(expansion) = expansion {
            trainer = trainer.with_transform(expansion);
        }
        let resumed_after = match resume {
            Some((state, optimizer_state)) => {
                let done = state.history.len();
                trainer
                    .resume(state, optimizer_state)
                    .map_err(RunError::Resume)?;
                Some(done)
            }
            None => None,
        };
        Ok(Self {
            options,
            cost,
            trainer,
            selection,
            rules,
            resumed_after,
            checkpointer: None,
            seconds: 0.0,
        })
    }

    /// Writes a checkpoint with `checkpointer` after every epoch.
    pub fn with_checkpointer(mut self, checkpointer: Checkpointer) -> Self {
        self.checkpointer = Some(checkpointer);
        self
    }

    /// The run's options.
    pub fn options(&self) -> &RunOptions {
        &self.options
    }

    /// The images trained on, monitored and tested.
    pub fn selection(&self) -> &Selection {
        &self.selection
    }

    /// The epochs the checkpoint had run, for a resumed run.
    pub fn resumed_after(&self) -> Option<usize> {
        self.resumed_after
    }

    /// The update rule, regularizers, expansion, averaging and standardization, e.g.
    /// `sgd, L2(lambda=5)`.
    pub fn describe(&self) -> &str {
        &self.rules
    }

    /// The trainer, e.g. for its state.
    pub fn trainer(&self) -> &Trainer<'static> {
        &self.trainer
    }

    /// The training cost of the network as it is now, with every regularizer's penalty, as
    /// the trainer reports it after an epoch: before the first epoch, the cost the run starts
    /// from (`nn search eta` compares a trial's cost with it).
    pub fn training_cost(&self) -> f64 {
        let training = &self.selection.training;
        let network = self.trainer.network();
        let evaluation = network.evaluate(training, self.cost);
        regularized_cost(
            network,
            self.trainer.regularizers(),
            &evaluation,
            training.len(),
        )
    }

    /// True once every epoch has run or the run stopped early.
    pub fn is_finished(&self) -> bool {
        self.trainer.is_finished()
    }

    /// Trains one epoch, tells `observer`, and writes the checkpoint when there is a
    /// checkpointer. Stopping between epochs and resuming from the checkpoint later gives the
    /// same weights, bit for bit, as never stopping.
    pub fn epoch(&mut self, observer: &mut dyn Observer) -> Result<EpochRecord, RunError> {
        let started = Instant::now();
        let record = self.trainer.run_epoch(
            &self.selection.training,
            Some(&self.selection.evaluation),
            observer,
        )?;
        self.seconds += started.elapsed().as_secs_f64();
        if let Some(checkpointer) = &self.checkpointer {
            checkpointer.save(&self.options, &self.trainer, self.cost.name())?;
        }
        Ok(record)
    }

    /// Ends the run (see [`Trainer::finish`]) and tests the final network.
    pub fn finish(self) -> RunOutcome {
        let (network, history) = self.trainer.finish();
        let test = network.evaluate(&self.selection.test, self.cost);
        RunOutcome {
            options: self.options,
            history,
            test,
            network,
            cost: self.cost,
            seconds: self.seconds,
        }
    }

    /// Trains every remaining epoch ([`Run::epoch`]) and [`Run::finish`]es.
    pub fn train(mut self, observer: &mut dyn Observer) -> Result<RunOutcome, RunError> {
        while !self.is_finished() {
            self.epoch(observer)?;
        }
        Ok(self.finish())
    }
}

/// The optimizer, regularizers, data expansion, averaging and standardization of a run.
fn describe(
    options: &RunOptions,
    parts: &compose::Parts,
    expansion: Option<&dyn EpochTransform>,
) -> String {
    let mut rules = vec![parts.optimizer.describe()];
    rules.extend(parts.regularizers.iter().map(|r| r.describe()));
    rules.extend(expansion.map(|t| t.describe()));
    if let Some(beta) = options.average_weights {
        rules.push(format!("weights averaged (beta={beta})"));
    }
    if options.normalize != StandardizationKind::None {
        rules.push(format!(
            "inputs standardized ({})",
            options.normalize.name()
        ));
    }
    rules.join(", ")
}
