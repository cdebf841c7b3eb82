//! Turns a run's options into the trait objects nn-core composes: the cost, the activations of
//! the network, the optimizer, the regularizers, the schedule and the data transforms; and
//! checks them once ([`ParamGuard`] for [`RunOptions`]) into [`CheckedRunOptions`], which keeps
//! the parts it built.

use std::sync::Arc;

use nn_core::{
    Activation, Adam, CheckedTrainConfig, Cost, EarlyStopping, EpochTransform, Examples,
    Initializer, Momentum, Monitor, Network, NetworkError, Newton, Optimizer, ParamGuard,
    Regularizer, Sgd, TrainConfig, activation_from_spec,
};
use nn_data::{
    AffineElastic, DataExpansion, Elastic, ImageSet, ImageTransform, RandomRotation, RandomScale,
    RandomShift, RandomSkew,
};
use nn_regularize::{Dropout, L1, L2};

use crate::Field;
use crate::error::RunError;
use crate::options::{
    CostName, InitName, MAX_EPOCHS, MonitorItem, OptimizerName, RunOptions, TransformName, join,
};

/// The cost a saved model names (network2.py's class name or ours), if it is known.
pub fn cost_of_model(name: &str) -> Option<&'static dyn Cost> {
    nn_costs::cost_by_name(name)
}

/// The output activation the cost is paired with: softmax (eq. 78) for the log-likelihood,
/// sigmoid otherwise. nn-core checks the pairing when the trainer is built.
pub fn output_activation(cost: CostName) -> &'static str {
    match cost {
        CostName::LogLikelihood => "softmax",
        CostName::Quadratic | CostName::CrossEntropy => "sigmoid",
    }
}

/// One activation per weighted layer: the chosen one in hidden layers and the cost's
/// [`output_activation`] at the output.
pub fn activations(options: &RunOptions) -> Result<Vec<Arc<dyn Activation>>, RunError> {
    let weighted = options.layers.len().saturating_sub(1);
    (0..weighted)
        .map(|l| {
            let spec = if l + 1 == weighted {
                output_activation(options.cost)
            } else {
                options.activation.spec()
            };
            activation_from_spec(spec).map_err(RunError::from)
        })
        .collect()
}

/// Checks layer sizes without allocating: at least two layers, none empty, and within nn-core's
/// limits on layers and parameters.
pub fn check_layers(layers: &[usize]) -> Result<(), RunError> {
    match Network::check_sizes(layers) {
        Ok(()) => Ok(()),
        Err(NetworkError::InvalidSizes(_)) => Err(RunError::option(
            Field::Layers,
            "give at least an input and an output layer, all of size 1 or more (e.g. `layers` \
             784,30,10)",
        )
        .valued(join(layers))),
        Err(e) => Err(RunError::option_from(Field::Layers, e.to_string(), e).valued(join(layers))),
    }
}

/// A freshly initialised network for the run: weights from N(0, 1/n_in) (the chapter's
/// improved initialization, which keeps hidden neurons out of saturation) or N(0, 1) with
/// `--init large`, biases from
/// N(0, 1), drawn from the run's seed.
pub fn network(options: &RunOptions) -> Result<Network, RunError> {
    check_layers(&options.layers)?;
    let init = match options.init {
        InitName::Default => Initializer::Default,
        InitName::Large => Initializer::Large,
    };
    Network::new(&options.layers, activations(options)?, init, options.seed).map_err(|e| {
        RunError::option_from(Field::Layers, e.to_string(), e).valued(join(&options.layers))
    })
}

/// The update rule of the run: plain SGD (Chapter 1's eqs. 20-21), momentum (eqs. 107-108), Nesterov's
/// momentum, Adam, or the damped Hessian technique (eq. 106).
pub fn optimizer(options: &RunOptions) -> Result<Box<dyn Optimizer>, RunError> {
    let momentum = |e: nn_core::TrainError| {
        RunError::option_from(Field::Momentum, e.to_string(), e).valued(options.momentum)
    };
    Ok(match options.optimizer {
        OptimizerName::Sgd => Box::new(Sgd),
        OptimizerName::Momentum => Box::new(Momentum::new(options.momentum).map_err(momentum)?),
        OptimizerName::Nesterov => {
            Box::new(Momentum::nesterov(options.momentum).map_err(momentum)?)
        }
        OptimizerName::Adam => Box::new(Adam::default()),
        OptimizerName::Newton => Box::new(Newton::new(Newton::DEFAULT_DAMPING)?),
    })
}

/// The regularizers of the run: L2 (eq. 85) and L1 (eq. 95) when their λ is not zero, dropout
/// (with input dropout and max-norm) when a rate is not zero or max-norm is on.
pub fn regularizers(options: &RunOptions) -> Result<Vec<Box<dyn Regularizer>>, RunError> {
    let mut list: Vec<Box<dyn Regularizer>> = Vec::new();
    if options.lambda != 0.0 {
        list.push(Box::new(L2::new(options.lambda).map_err(|e| {
            RunError::option_from(Field::Lambda, "use a value >= 0, e.g. 5.0", e)
        })?));
    }
    if options.l1 != 0.0 {
        list.push(Box::new(L1::new(options.l1).map_err(|e| {
            RunError::option_from(Field::L1, "use a value >= 0, e.g. 5.0", e)
        })?));
    }
    if options.dropout != 0.0 || options.input_dropout != 0.0 || options.max_norm.is_some() {
        let mut dropout = Dropout::new(options.dropout)
            .map_err(|e| RunError::option_from(Field::Dropout, "use a probability such as 0.5", e))?
            .with_input(options.input_dropout)
            .map_err(|e| {
                RunError::option_from(Field::InputDropout, "use a probability such as 0.2", e)
            })?;
        if let Some(c) = options.max_norm {
            dropout = dropout.with_max_norm(c).map_err(|e| {
                RunError::option_from(Field::MaxNorm, "use a positive bound such as 3.5", e)
            })?;
        }
        list.push(Box::new(dropout));
    }
    Ok(list)
}

/// The monitored figures, as nn-core's flags.
pub fn monitor(options: &RunOptions) -> Monitor {
    Monitor {
        training_cost: options.monitors(MonitorItem::TrainingCost),
        training_accuracy: options.monitors(MonitorItem::TrainingAccuracy),
        evaluation_cost: options.monitors(MonitorItem::EvaluationCost),
        evaluation_accuracy: options.monitors(MonitorItem::EvaluationAccuracy),
    }
}

/// The trainer's configuration (epochs, mini-batch, η, monitoring, early stopping, schedule,
/// seed, weight averaging), checked, so that bad values are reported before any data is read.
pub fn config(options: &RunOptions) -> Result<CheckedTrainConfig, RunError> {
    if options.epochs > MAX_EPOCHS {
        return Err(
            RunError::option(Field::Epochs, format!("use at most {MAX_EPOCHS} epochs"))
                .valued(options.epochs),
        );
    }
    DataExpansion::check_keep_original(options.keep_original).map_err(|e| {
        RunError::option_from(
            Field::KeepOriginal,
            "0.5 keeps half the images as they are",
            e,
        )
        .valued(options.keep_original)
    })?;
    let kept_changed = options.keep_original != RunOptions::default().keep_original;
    if options.expand.is_empty() && kept_changed {
        return Err(RunError::option(
            Field::KeepOriginal,
            "needs `expand`: it is the fraction of the images that the expansion leaves as they \
             are",
        )
        .valued(options.keep_original));
    }
    match options.expand_copies {
        Some(0) => {
            return Err(RunError::option(
                Field::ExpandCopies,
                "make at least 1 distorted copy, or leave it unset for fresh distortions",
            )
            .valued(0));
        }
        Some(n) if options.expand.is_empty() => {
            return Err(RunError::option(
                Field::ExpandCopies,
                "needs `expand`: it is the number of copies the distortions of `expand` make",
            )
            .valued(n));
        }
        Some(n) if kept_changed => {
            return Err(RunError::option(
                Field::ExpandCopies,
                "keeps every original, so `keep_original` does not apply; drop one of them",
            )
            .valued(n));
        }
        _ => {}
    }
    let config = TrainConfig {
        epochs: options.epochs,
        batch_size: options.batch_size,
        eta: options.eta,
        monitor: monitor(options),
        early_stopping: options.early_stopping.map(EarlyStopping::NoImprovement),
        schedule: options.lr_schedule.schedule(),
        seed: options.seed,
        weight_averaging: options.average_weights,
        ..TrainConfig::default()
    };
    Ok(config.check()?)
}

/// The expansion of the `training` images asked for by `--expand`: fresh distortions every
/// epoch (a `--keep-original` fraction left as they are), or, with `--expand-copies N`, the
/// images followed by N distorted copies made once from the run's seed; `None` without
/// `--expand`.
pub fn expansion(
    options: &RunOptions,
    training: &ImageSet,
) -> Result<Option<Box<dyn EpochTransform>>, RunError> {
    if options.expand.is_empty() {
        return Ok(None);
    }
    let transforms = image_transforms(&options.expand);
    let expansion = match options.expand_copies {
        None => DataExpansion::fresh(transforms, options.keep_original),
        Some(copies) => DataExpansion::offline(training, &transforms, copies, options.seed),
    }
    .map_err(|e| RunError::option_from(Field::Expand, e.to_string(), e))?;
    Ok(Some(Box::new(expansion)))
}

/// The image distortions named by `--expand` or `--transforms`.
pub fn image_transforms(names: &[TransformName]) -> Vec<Box<dyn ImageTransform>> {
    names
        .iter()
        .map(|name| -> Box<dyn ImageTransform> {
            match name {
                TransformName::Shift => Box::new(RandomShift::default()),
                TransformName::Rotate => Box::new(RandomRotation::default()),
                TransformName::Skew => Box::new(RandomSkew::default()),
                TransformName::Scale => Box::new(RandomScale::default()),
                TransformName::Elastic => Box::new(Elastic::default()),
                TransformName::AffineElastic => Box::new(AffineElastic::default()),
            }
        })
        .collect()
}

/// Checks that the images of `set` (described by `what`, e.g. "the test images of DIR") fit
/// `network`; the error names both shapes.
pub fn check_data(network: &Network, set: &ImageSet, what: &str) -> Result<(), RunError> {
    if network.check_shape(set, what).is_err() {
        return Err(RunError::DataShape {
            what: what.to_string(),
            pixels: set.input_len(),
            rows: set.rows,
            cols: set.cols,
            classes: set.classes,
            inputs: network.input_size(),
            outputs: network.output_size(),
        });
    }
    Ok(())
}

/// What a caller puts in place of a run's own choices ([`crate::Run::new_with`]).
#[derive(Default)]
pub struct Overrides {
    /// The cost, instead of the options' `cost`: any [`Cost`], e.g. one of your own. It must
    /// suit the output layer the options' cost pairs with (sigmoid, or softmax for the
    /// log-likelihood); the trainer checks the pairing. Checkpoints record its name.
    pub cost: Option<&'static dyn Cost>,
    /// The update rule, instead of the options' `optimizer`.
    pub optimizer: Option<Box<dyn Optimizer>>,
    /// The early-stopping rule, instead of the options' `early_stopping`.
    pub early_stopping: Option<EarlyStopping>,
}

impl std::fmt::Debug for Overrides {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Overrides")
            .field("cost", &self.cost.map(|c| c.name()))
            .field("optimizer", &self.optimizer)
            .field("early_stopping", &self.early_stopping)
            .finish()
    }
}

/// The composed pieces of a run, ready for [`nn_core::Trainer::new`].
pub struct Parts {
    /// The cost.
    pub cost: &'static dyn Cost,
    /// The update rule.
    pub optimizer: Box<dyn Optimizer>,
    /// The regularizers.
    pub regularizers: Vec<Box<dyn Regularizer>>,
    /// The trainer's configuration.
    pub config: CheckedTrainConfig,
}

impl std::fmt::Debug for Parts {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Parts")
            .field("cost", &self.cost.name())
            .field("optimizer", &self.optimizer)
            .field("regularizers", &self.regularizers)
            .field("config", &self.config)
            .finish()
    }
}

impl Parts {
    /// Composes every piece of `options` but the network and the data expansion (see
    /// [`expansion`], which needs the training images).
    ///
    /// ```
    /// use nn_train::{RunOptions, compose::Parts};
    /// let parts = Parts::of(&RunOptions::default())?;
    /// assert_eq!(parts.cost.name(), "CrossEntropyCost");
    /// assert_eq!(parts.regularizers.len(), 1); // L2 with λ = 5.0
    /// # Ok::<(), nn_train::RunError>(())
    /// ```
    pub fn of(options: &RunOptions) -> Result<Self, RunError> {
        let config = config(options)?;
        Ok(Self {
            cost: options.cost.cost(),
            optimizer: optimizer(options)?,
            regularizers: regularizers(options)?,
            config,
        })
    }

    /// These pieces with `overrides` in place of the cost, the optimizer or the early-stopping
    /// rule.
    pub fn overridden(self, overrides: Overrides) -> Result<Self, RunError> {
        let config = match overrides.early_stopping {
            Some(rule) => TrainConfig {
                early_stopping: Some(rule),
                ..self.config.into_inner()
            }
            .check()?,
            None => self.config,
        };
        Ok(Self {
            cost: overrides.cost.unwrap_or(self.cost),
            optimizer: overrides.optimizer.unwrap_or(self.optimizer),
            config,
            ..self
        })
    }

    /// The trainer of `network` with these pieces.
    pub fn trainer(self, network: Network) -> Result<nn_core::Trainer<'static>, RunError> {
        Ok(nn_core::Trainer::new(
            network,
            self.cost,
            self.optimizer,
            self.regularizers,
            self.config,
        )?)
    }
}

/// Run options that passed [`RunOptions`]' check ([`ParamGuard::check`]): every hyper-parameter
/// is in range, and the parts they compose (cost, optimizer, regularizers, trainer
/// configuration) are built, once, and kept. It reads as a [`RunOptions`].
///
/// ```
/// use nn_core::ParamGuard;
/// use nn_train::{Field, RunOptions};
///
/// let checked = RunOptions { eta: 0.1, ..RunOptions::default() }.check()?;
/// assert_eq!(checked.eta, 0.1);
/// assert_eq!(checked.parts().regularizers.len(), 1); // L2 with λ = 5.0
/// let error = RunOptions { epochs: 0, ..RunOptions::default() }.check().unwrap_err();
/// assert!(error.to_string().contains("epoch"), "{error}");
/// let error = RunOptions { dropout: 1.5, ..RunOptions::default() }.check().unwrap_err();
/// assert_eq!(error.field(), Some(Field::Dropout));
/// # Ok::<(), nn_train::RunError>(())
/// ```
pub struct CheckedRunOptions {
    options: RunOptions,
    parts: Parts,
}

impl std::ops::Deref for CheckedRunOptions {
    type Target = RunOptions;
    fn deref(&self) -> &RunOptions {
        &self.options
    }
}

impl std::fmt::Debug for CheckedRunOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("CheckedRunOptions")
            .field(&self.options)
            .finish()
    }
}

impl Clone for CheckedRunOptions {
    /// The same options with parts of their own, composed afresh (the options were checked:
    /// composing them again cannot fail).
    fn clone(&self) -> Self {
        Self {
            options: self.options.clone(),
            parts: Parts::of(&self.options).expect("checked options compose"),
        }
    }
}

impl PartialEq for CheckedRunOptions {
    fn eq(&self, other: &Self) -> bool {
        self.options == other.options
    }
}

impl CheckedRunOptions {
    /// The options.
    pub fn into_inner(self) -> RunOptions {
        self.options
    }

    /// The parts the options composed.
    pub fn parts(&self) -> &Parts {
        &self.parts
    }

    /// The options and the parts they composed.
    pub fn into_parts(self) -> (RunOptions, Parts) {
        (self.options, self.parts)
    }
}

impl ParamGuard for CheckedRunOptions {
    type Checked = Self;
    type Error = RunError;
    fn check(self) -> Result<Self, RunError> {
        Ok(self)
    }
}

impl ParamGuard for RunOptions {
    type Checked = CheckedRunOptions;
    type Error = RunError;

    /// Checks every option once, building the parts: the trainer's hyper-parameters (η,
    /// mini-batch, epochs up to [`MAX_EPOCHS`], schedule, early stopping, averaging), the
    /// optimizer's μ, the regularizers' λ, rates and bound, the expansion's kept fraction and
    /// the layer sizes.
    fn check(self) -> Result<CheckedRunOptions, RunError> {
        let parts = Parts::of(&self)?;
        check_layers(&self.layers)?;
        Ok(CheckedRunOptions {
            options: self,
            parts,
        })
    }
}
