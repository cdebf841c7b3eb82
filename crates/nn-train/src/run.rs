//! One whole training run: the data selected, the network built (or restored), the trainer
//! composed, every epoch trained and checkpointed, the final model tested.

use std::path::Path;
use std::time::Instant;

use nn_core::{
    Cost, EpochRecord, EpochTransform, Evaluation, Examples, History, Network, Observer,
    ParamGuard, Standardization, StandardizationKind, Trainer, regularized_cost, save_model,
};
use nn_data::ImageSet;

use crate::Field;
use crate::checkpoint::{Checkpointer, DataIdentity, Restored};
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
    /// Warnings found while the run was put together, handed to the first epoch's observer.
    warnings: Vec<String>,
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

    /// Continues the run checkpointed in `dir` on `data` with the options it saved,
    /// checkpointing into `dir` again: the data is checked against the checkpoint's record
    /// ([`RunError::Checkpoint`] with [`crate::CheckpointError::OtherData`] otherwise), the
    /// directory claimed as the run's own ([`Checkpointer::at`]). Bit-identical to a run never
    /// interrupted. A checkpoint that does not record its data is resumed with a warning to
    /// the first epoch's observer ([`nn_core::Observer::warning`]).
    ///
    /// ```
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use nn_core::Silent;
    /// use nn_train::{Checkpointer, DataIdentity, DataSet, Run, RunOptions};
    ///
    /// # let dir = tempfile::tempdir()?;
    /// # nn_train::write_example_data(dir.path())?;
    /// let data = DataSet::load(nn_data::IdxFiles::in_dir(dir.path())?, "the example".into(), None)?;
    /// let ckpt = dir.path().join("ckpt");
    /// let options = RunOptions { layers: vec![16, 10, 4], epochs: 3, eta: 1.0, ..RunOptions::default() };
    /// let checkpointer = Checkpointer::at(&ckpt).claim(DataIdentity::of(&data)?)?;
    /// let mut run = Run::new(options, &data)?.with_checkpointer(checkpointer);
    /// run.epoch(&mut Silent)?;
    /// drop(run); // stopped after one epoch
    ///
    /// let resumed = Run::resume_from(&ckpt, &data)?;
    /// assert_eq!(resumed.resumed_after(), Some(1));
    /// drop(resumed);
    /// // Or with more epochs, the one option a resumed run may change.
    /// let longer = Run::resume_from_with(&ckpt, &data, |options| options.epochs = 10)?;
    /// assert_eq!(longer.options().epochs, 10);
    /// assert_eq!(longer.train(&mut Silent)?.history.epochs.len(), 10);
    /// # Ok(())
    /// # }
    /// ```
    pub fn resume_from(dir: &Path, data: &DataSet) -> Result<Self, RunError> {
        Self::resume_from_with(dir, data, |_| {})
    }

    /// [`Run::resume_from`] with the saved options changed by `change` first (more
    /// `epochs`; any other change is refused, [`RunError::ResumeOptions`]).
    pub fn resume_from_with(
        dir: &Path,
        data: &DataSet,
        change: impl FnOnce(&mut RunOptions),
    ) -> Result<Self, RunError> {
        let restored = Checkpointer::load(dir)?;
        let identity = DataIdentity::of(data)?;
        let warning = identity.check_resumed(restored.data.as_ref())?;
        let checkpointer = Checkpointer::at(dir).resuming(dir).claim(identity)?;
        let mut options = restored.options.clone();
        change(&mut options);
        let mut run = Self::resume(options, data, restored)?.with_checkpointer(checkpointer);
        run.warnings.extend(warning);
        Ok(run)
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
            warnings: Vec::new(),
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
    /// checkpointer. The first epoch also hands `observer` the warnings found while the run
    /// was put together (a checkpoint that does not record its data, [`Run::resume_from`]). Stopping between epochs and resuming from the checkpoint later gives the
    /// same weights, bit for bit, as never stopping.
    pub fn epoch(&mut self, observer: &mut dyn Observer) -> Result<EpochRecord, RunError> {
        for warning in self.warnings.drain(..) {
            observer.warning(&warning);
        }
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

impl RunOutcome {
    /// Saves the trained network as a model file (network2.py's JSON with the cost's name,
    /// and the standardization and framing the network carries), written atomically.
    ///
    /// ```
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use nn_core::Silent;
    /// use nn_train::{DataSet, Run, RunOptions};
    ///
    /// # let dir = tempfile::tempdir()?;
    /// # nn_train::write_example_data(dir.path())?;
    /// let data = DataSet::load(nn_data::IdxFiles::in_dir(dir.path())?, "the example".into(), None)?;
    /// let options = RunOptions { layers: vec![16, 10, 4], epochs: 3, eta: 1.0, ..RunOptions::default() };
    /// let outcome = Run::new(options, &data)?.train(&mut Silent)?;
    /// outcome.save(dir.path().join("model.json"))?;
    /// let model = nn_core::load_model(&dir.path().join("model.json"))?;
    /// assert_eq!(model.network.params(), outcome.network.params());
    ///
    /// let labels = outcome.predict(&data.splits.test);
    /// let right = labels.iter().zip(&data.splits.test.labels).filter(|(p, l)| **p == Some(**l)).count();
    /// assert_eq!(right, outcome.test.correct);
    /// # Ok(())
    /// # }
    /// ```
    pub fn save(&self, path: impl AsRef<Path>) -> Result<(), RunError> {
        Ok(save_model(&self.network, self.cost.name(), path.as_ref())?)
    }

    /// The label the trained network gives each image of `images`, of the labels' type (`None`
    /// where its outputs are not all finite, or name a class beyond `u8`).
    pub fn predict(&self, images: &ImageSet) -> Vec<Option<u8>> {
        self.network
            .predict(images)
            .into_iter()
            .map(|class| class.and_then(|c| u8::try_from(c).ok()))
            .collect()
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
