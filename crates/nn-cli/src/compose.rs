//! Turns a run's options into the trait objects nn-core composes: the cost, the activations of
//! the network, the optimizer, the regularizers, the schedule and the data transforms.

use std::sync::Arc;

use anyhow::{Context, Result, anyhow, bail};
use nn_core::{
    Activation, Adam, CheckedTrainConfig, Cost, EarlyStopping, EpochTransform, Examples,
    Initializer, Momentum, Monitor, Network, Newton, Optimizer, ParamGuard, Regularizer, Schedule,
    Sgd, TrainConfig, activation_from_spec,
};
use nn_data::{
    AffineElastic, Elastic, ImageSet, ImageTransform, RandomRotation, RandomScale, RandomShift,
    RandomSkew,
};
use nn_regularize::{DataExpansion, Dropout, L1, L2};

use crate::options::{
    CostName, InitName, LrSchedule, MAX_EPOCHS, MonitorItem, OptimizerName, RunOptions,
    TransformName, join,
};

/// Damping of the Hessian technique: small enough to keep Newton steps, large enough to keep
/// H + λI invertible on flat directions.
const NEWTON_DAMPING: f64 = 1e-3;

/// The cost function of a run.
pub fn cost(name: CostName) -> &'static dyn Cost {
    nn_costs::cost_by_name(name.flag()).expect("every --cost value names a cost of nn-costs")
}

/// The cost a saved model names (network2.py's class name or ours), if it is known.
pub fn cost_of_model(name: &str) -> Option<&'static dyn Cost> {
    nn_costs::cost_by_name(name)
}

/// One activation per weighted layer: the chosen one in hidden layers; softmax at the output
/// for the log-likelihood cost, sigmoid otherwise.
pub fn activations(options: &RunOptions) -> Result<Vec<Arc<dyn Activation>>> {
    let weighted = options.layers.len().saturating_sub(1);
    let output = match options.cost {
        CostName::LogLikelihood => "softmax",
        CostName::Quadratic | CostName::CrossEntropy => "sigmoid",
    };
    (0..weighted)
        .map(|l| {
            let spec = if l + 1 == weighted {
                output
            } else {
                options.activation.spec()
            };
            activation_from_spec(spec).map_err(Into::into)
        })
        .collect()
}

/// A freshly initialised network for the run.
pub fn network(options: &RunOptions) -> Result<Network> {
    Network::check_sizes(&options.layers).map_err(|_| {
        anyhow!(
            "--layers {}: give at least an input and an output layer, all of size 1 or more \
             (e.g. --layers 784,30,10)",
            join(&options.layers)
        )
    })?;
    let init = match options.init {
        InitName::Default => Initializer::Default,
        InitName::Large => Initializer::Large,
    };
    Network::new(&options.layers, activations(options)?, init, options.seed)
        .with_context(|| format!("--layers {}", join(&options.layers)))
}

/// The update rule of the run.
pub fn optimizer(options: &RunOptions) -> Result<Box<dyn Optimizer>> {
    let momentum = |e: nn_core::TrainError| anyhow!("--momentum {}: {e}", options.momentum);
    Ok(match options.optimizer {
        OptimizerName::Sgd => Box::new(Sgd),
        OptimizerName::Momentum => Box::new(Momentum::new(options.momentum).map_err(momentum)?),
        OptimizerName::Nesterov => {
            Box::new(Momentum::nesterov(options.momentum).map_err(momentum)?)
        }
        OptimizerName::Adam => Box::new(Adam::default()),
        OptimizerName::Newton => Box::new(Newton::new(NEWTON_DAMPING)?),
    })
}

/// The regularizers of the run: L2 and L1 when their λ is not zero, dropout when a rate is not
/// zero or max-norm is on.
pub fn regularizers(options: &RunOptions) -> Result<Vec<Box<dyn Regularizer>>> {
    let mut list: Vec<Box<dyn Regularizer>> = Vec::new();
    if options.lambda != 0.0 {
        list.push(Box::new(
            L2::new(options.lambda).context("--lambda: use a value >= 0, e.g. 5.0")?,
        ));
    }
    if options.l1 != 0.0 {
        list.push(Box::new(
            L1::new(options.l1).context("--l1: use a value >= 0, e.g. 5.0")?,
        ));
    }
    if options.dropout != 0.0 || options.input_dropout != 0.0 || options.max_norm.is_some() {
        let mut dropout = Dropout::new(options.dropout)
            .context("--dropout: use a probability such as 0.5")?
            .with_input(options.input_dropout)
            .context("--input-dropout: use a probability such as 0.2")?;
        if let Some(c) = options.max_norm {
            dropout = dropout
                .with_max_norm(c)
                .context("--max-norm: use a positive bound such as 3.5")?;
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

/// The trainer's configuration, validated so that bad values are reported before any data is
/// read.
pub fn config(options: &RunOptions) -> Result<CheckedTrainConfig> {
    if options.epochs > MAX_EPOCHS {
        bail!(
            "--epochs {}: use at most {MAX_EPOCHS} epochs",
            options.epochs
        );
    }
    DataExpansion::check_keep_original(options.keep_original).with_context(|| {
        format!(
            "--keep-original {} (0.5 keeps half the images as they are)",
            options.keep_original
        )
    })?;
    if options.expand.is_empty() && options.keep_original != RunOptions::default().keep_original {
        bail!(
            "--keep-original {} needs --expand: it is the fraction of the images that the \
             expansion leaves as they are",
            options.keep_original
        );
    }
    let config = TrainConfig {
        epochs: options.epochs,
        batch_size: options.batch_size,
        eta: options.eta,
        monitor: monitor(options),
        early_stopping: options.early_stopping.map(EarlyStopping::NoImprovement),
        schedule: match options.lr_schedule {
            LrSchedule::Constant => Schedule::Constant,
            LrSchedule::Halve(patience) => Schedule::halving(patience),
            LrSchedule::Exponential(factor) => Schedule::Exponential { factor },
        },
        seed: options.seed,
        weight_averaging: options.average_weights,
        ..TrainConfig::default()
    };
    Ok(config.check()?)
}

/// The per-epoch expansion of the training data asked for by `--expand`, drawing fresh
/// distortions of the training images every epoch; `None` without `--expand`.
pub fn expansion(options: &RunOptions) -> Result<Option<Box<dyn EpochTransform>>> {
    if options.expand.is_empty() {
        return Ok(None);
    }
    let expansion = DataExpansion::fresh(image_transforms(&options.expand), options.keep_original)
        .context("--expand")?;
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
pub fn check_data(network: &Network, set: &ImageSet, what: &str) -> Result<()> {
    if network.check_shape(set, what).is_err() {
        bail!(
            "{what} have {} pixels ({}x{}) and {} classes, the model expects {} inputs and {} \
             outputs",
            set.input_len(),
            set.rows,
            set.cols,
            set.classes,
            network.input_size(),
            network.output_size()
        );
    }
    Ok(())
}
