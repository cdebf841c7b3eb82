//! Presets of `nn train --recipe`: whole configurations that explicit flags can still override.

use clap::ValueEnum;
use serde::{Deserialize, Serialize};

use crate::options::{
    ActivationName, CostName, EvalSet, InitName, LrSchedule, MonitorItem, OptimizerName,
    RunOptions, TransformName,
};

/// A preset configuration (`--recipe`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Recipe {
    /// The book's main run (the defaults): 784,30,10 sigmoid, cross-entropy, eta 0.5, batch 10,
    /// lambda 5.0, 30 epochs
    Book,
    /// Beyond the book, aiming at >= 99.4% with a fully-connected net: 784,800,800,10 ReLU,
    /// softmax + log-likelihood, dropout 0.2, L2 lambda 5.0, momentum 0.9, eta 0.05 multiplied
    /// by 0.985 after every epoch, batch 100, fresh affine + elastic distortions of 80% of the
    /// images each epoch, Polyak averaging of the weights over epochs (beta 0.9), early stopping
    /// on the averaged weights after 100 epochs without a better validation accuracy, at most
    /// 350 epochs
    Best,
}

impl Recipe {
    /// The options of the preset.
    pub fn options(self) -> RunOptions {
        match self {
            Self::Book => RunOptions::default(),
            Self::Best => RunOptions {
                layers: vec![784, 800, 800, 10],
                cost: CostName::LogLikelihood,
                activation: ActivationName::Relu,
                init: InitName::Default,
                eta: 0.05,
                batch_size: 100,
                epochs: 350,
                lambda: 5.0,
                l1: 0.0,
                dropout: 0.2,
                optimizer: OptimizerName::Momentum,
                momentum: 0.9,
                expand: vec![TransformName::AffineElastic],
                keep_original: 0.2,
                eval: EvalSet::Validation,
                monitor: vec![MonitorItem::EvaluationAccuracy],
                early_stopping: Some(100),
                lr_schedule: LrSchedule::Exponential(0.985),
                average_weights: Some(0.9),
                ..RunOptions::default()
            },
        }
    }
}
