//! The page's engine in safe Rust: what `web/engine.js` calls through the exports of
//! [`crate`], each a thin use of the workspace's crates (no arithmetic of its own).

use nn_core::{
    Activation, DenseExamples, Framing, Initializer, Network, OptimizerState, ParamGuard, Sgd,
    Silent, Softmax, TrainConfig, Trainer,
};
use nn_data::ImageSet;
use nn_data::picture::{PictureError, prepare_rgba};
use nn_train::options::{CostName, MAX_EPOCHS, TransformName};
use nn_train::{RunError, RunOptions, compose};
use serde::Deserialize;
use serde_json::Value;

/// Why the engine refused a call; its message is the JavaScript `Error`'s.
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    /// Options that are not valid JSON, or of the wrong form.
    #[error("bad options: {0}")]
    Options(#[from] serde_json::Error),
    /// A value out of range, or a call out of order.
    #[error("{0}")]
    Invalid(String),
    /// The run's options, as nn-train checks them.
    #[error(transparent)]
    Run(#[from] RunError),
    /// The trainer's refusal.
    #[error(transparent)]
    Train(#[from] nn_core::TrainError),
    /// A model file that cannot be read.
    #[error("bad model: {0}")]
    Model(#[from] nn_core::ModelError),
    /// IDX files that cannot be read.
    #[error(transparent)]
    Data(#[from] nn_data::DataError),
    /// A picture that cannot be prepared.
    #[error(transparent)]
    Picture(#[from] PictureError),
}

/// A [`Result`] with an [`EngineError`].
pub type EngineResult<T> = Result<T, EngineError>;

/// The options of `createNetwork`, over the book's defaults.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CreateOptions {
    sizes: Option<Vec<usize>>,
    cost: Option<Value>,
    hidden: Option<Value>,
    init: Option<Value>,
    seed: Option<u64>,
}

/// The options of `trainEpoch`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct EpochOptions {
    eta: f32,
    lambda: f32,
    mini_batch: usize,
    epoch: usize,
    seed: u64,
    #[serde(default)]
    dropout: f32,
    #[serde(default)]
    expand: Expand,
    training_size: Option<usize>,
}

/// `expand`: `false`, `true` (the affine-elastic distortion of the best recipe) or the
/// distortions by name.
#[derive(Deserialize, Default)]
#[serde(untagged)]
enum Expand {
    #[default]
    Off,
    Flag(bool),
    Names(Vec<TransformName>),
}

impl Expand {
    fn transforms(self) -> Vec<TransformName> {
        match self {
            Expand::Off | Expand::Flag(false) => Vec::new(),
            Expand::Flag(true) => vec![TransformName::AffineElastic],
            Expand::Names(names) => names,
        }
    }
}

/// A network, idle or with the trainer of its run (kept between epochs, so that epoch k
/// trains exactly as the native trainer's epoch k of the same options).
enum State {
    Idle(Network),
    Training {
        trainer: Box<Trainer<'static>>,
        options: Box<RunOptions>,
    },
}

/// A network of the page, with its cost.
pub struct WebNetwork {
    state: Option<State>,
    cost: CostName,
}

/// The cost name the model file gives (network2.py's class name or ours).
fn cost_name(name: &str) -> EngineResult<CostName> {
    CostName::ALL
        .into_iter()
        .find(|c| c.cost().name() == name)
        .ok_or_else(|| {
            EngineError::Invalid(format!(
                "the model's cost {name:?} is not one the page trains (quadratic, cross-entropy, \
                 log-likelihood)"
            ))
        })
}

impl WebNetwork {
    /// A fresh network (`createNetwork`): the options' JSON holds `sizes`, `cost`, `hidden`,
    /// `init` and `seed`, each optional (the book's 784,30,10 cross-entropy network, seed 0),
    /// built as `nn train` builds it.
    pub fn create(options: &str) -> EngineResult<Self> {
        let given: CreateOptions = serde_json::from_str(options)?;
        let mut run = serde_json::to_value(RunOptions::default())?;
        let fields = [
            ("layers", given.sizes.map(|s| serde_json::json!(s))),
            ("cost", given.cost),
            ("activation", given.hidden),
            ("init", given.init),
            ("seed", given.seed.map(Value::from)),
        ];
        for (field, value) in fields {
            if let Some(value) = value {
                run[field] = value;
            }
        }
        let run: RunOptions = serde_json::from_value(run)?;
        let network = compose::network(&run)?;
        Ok(Self {
            state: Some(State::Idle(network)),
            cost: run.cost,
        })
    }

    /// A network from a model file's JSON (`networkFromJson`), as `nn eval` reads it.
    pub fn from_json(text: &str) -> EngineResult<Self> {
        let model = nn_core::model_from_json(text)?;
        Ok(Self {
            cost: cost_name(&model.cost)?,
            state: Some(State::Idle(model.network)),
        })
    }

    /// The network as it is now.
    pub fn network(&self) -> &Network {
        match self
            .state
            .as_ref()
            .expect("the state is put back after every call")
        {
            State::Idle(network) => network,
            State::Training { trainer, .. } => trainer.network(),
        }
    }

    /// The model file `nn eval` reads (`toJson`).
    pub fn to_json(&self) -> String {
        nn_core::model_to_json(self.network(), self.cost.cost().name())
    }

    /// Epochs trained here so far.
    pub fn epochs_done(&self) -> usize {
        match &self.state {
            Some(State::Training { trainer, .. }) => trainer.state().history.len(),
            _ => 0,
        }
    }

    /// Trains epoch `epoch` (the next one) on `data` with the options' JSON (`trainEpoch`):
    /// the options become a [`RunOptions`] and nn-train composes the trainer, as for `nn
    /// train`; the trainer is kept while the options stay the same, and rebuilt (keeping the
    /// run's history, so the epoch's seed is the same) when they change.
    pub fn train_epoch(&mut self, data: &ImageSet, options: &str) -> EngineResult<()> {
        let given: EpochOptions = serde_json::from_str(options)?;
        if let Some(n) = given.training_size.filter(|&n| n != data.len()) {
            return Err(EngineError::Invalid(format!(
                "trainingSize {n} is not the training set's {} images (λ is divided by the \
                 number trained on): slice the set to {n} images",
                data.len()
            )));
        }
        let done = self.epochs_done();
        if given.epoch != done + 1 {
            return Err(EngineError::Invalid(format!(
                "epoch {}: this network has trained {done} epochs here, so the next is {}",
                given.epoch,
                done + 1
            )));
        }
        let network = self.network();
        compose::check_data(network, data, "training data")?;
        let run = RunOptions {
            layers: network.sizes().to_vec(),
            cost: self.cost,
            eta: given.eta,
            batch_size: given.mini_batch,
            epochs: MAX_EPOCHS,
            lambda: given.lambda,
            dropout: given.dropout,
            expand: given.expand.transforms(),
            monitor: Vec::new(),
            seed: given.seed,
            ..RunOptions::default()
        };
        let state = self
            .state
            .take()
            .expect("the state is put back after every call");
        let (state, outcome) = match state {
            State::Training { trainer, options } if *options == run => {
                let mut trainer = trainer;
                let outcome = trainer.run_epoch(data, None, &mut Silent);
                (State::Training { trainer, options }, outcome)
            }
            other => match Self::trainer(other, &run, data) {
                Ok(mut trainer) => {
                    let outcome = trainer.run_epoch(data, None, &mut Silent);
                    let options = Box::new(run);
                    (State::Training { trainer, options }, outcome)
                }
                Err(refused) => {
                    let (state, error) = *refused;
                    self.state = Some(state);
                    return Err(error);
                }
            },
        };
        self.state = Some(state);
        outcome.map(|_| ()).map_err(EngineError::from)
    }

    /// The trainer of `run` for the network of `state`, with the history of its run so far;
    /// on failure the state back and the error.
    fn trainer(
        state: State,
        run: &RunOptions,
        data: &ImageSet,
    ) -> Result<Box<Trainer<'static>>, Box<(State, EngineError)>> {
        let (network, history) = match state {
            State::Idle(network) => (network, None),
            State::Training { trainer, .. } => {
                let history = trainer.state().clone();
                (trainer.finish().0, Some(history))
            }
        };
        let built = (|| -> EngineResult<Box<Trainer<'static>>> {
            let checked = run.clone().check()?;
            let (_, parts) = checked.into_parts();
            let mut trainer = parts.trainer(network.clone())?;
            if let Some(expansion) = compose::expansion(run, data)? {
                trainer = trainer.with_transform(expansion);
            }
            if let Some(mut history) = history {
                history.eta = run.eta;
                trainer.resume(history, OptimizerState::Stateless)?;
            }
            Ok(Box::new(trainer))
        })();
        built.map_err(|error| Box::new((State::Idle(network), error)))
    }

    /// Accuracy in [0, 1] and mean cost (without regularization, as `nn eval` reports it) on
    /// `data` (`evaluate`).
    pub fn evaluate(&self, data: &ImageSet) -> EngineResult<(f64, f64)> {
        let network = self.network();
        compose::check_data(network, data, "evaluation data")?;
        let evaluation = network.evaluate(data, self.cost.cost());
        let mean = evaluation.cost_sum / evaluation.count.max(1) as f64;
        Ok((evaluation.accuracy(), mean))
    }

    /// The output activations for one input (`predict`).
    pub fn predict(&self, input: &[f32]) -> EngineResult<Vec<f32>> {
        let network = self.network();
        if input.len() != network.input_size() {
            return Err(EngineError::Invalid(format!(
                "{} pixels for a network of {} inputs",
                input.len(),
                network.input_size()
            )));
        }
        Ok(network.feedforward(input))
    }
}

/// Labelled images from the raw bytes of two IDX files, gzipped or not (`dataFromIdx`).
pub fn data_from_idx(images: &[u8], labels: &[u8]) -> EngineResult<ImageSet> {
    let images = nn_data::parse_idx(images, "the images file")?;
    let labels = nn_data::parse_idx(labels, "the labels file")?;
    Ok(ImageSet::from_idx(
        images,
        labels,
        ("the images file", "the labels file"),
    )?)
}

/// A canvas's RGBA picture prepared as `nn predict` prepares a PNG (MNIST's framing, 28x28),
/// as 784 values in [0, 1] (`preparePicture`).
pub fn prepare_picture(rgba: &[u8], width: u32, height: u32) -> EngineResult<Vec<f32>> {
    let digit = prepare_rgba(rgba, width, height, 28, Framing::MNIST)?;
    Ok(digit.pixels().map(|p| f32::from(p[0]) / 255.0).collect())
}

/// The options of the single-neuron widget.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NeuronOptions {
    w: f32,
    b: f32,
    eta: f32,
    cost: CostName,
    epochs: usize,
}

/// The most epochs the widget runs.
pub const MAX_NEURON_EPOCHS: usize = 100_000;

/// The chapter's single sigmoid neuron learning to map input 1 to output 0 (`neuron`): its
/// output and cost before training and after each epoch, trained by nn-core's trainer with
/// the chosen cost (as `nn reproduce slowdown` does).
pub fn neuron(options: &str) -> EngineResult<(Vec<f32>, Vec<f32>)> {
    let given: NeuronOptions = serde_json::from_str(options)?;
    if given.epochs > MAX_NEURON_EPOCHS {
        return Err(EngineError::Invalid(format!(
            "epochs {}: at most {MAX_NEURON_EPOCHS}",
            given.epochs
        )));
    }
    if !(given.w.is_finite() && given.b.is_finite()) {
        return Err(EngineError::Invalid(
            "w and b must be finite numbers".into(),
        ));
    }
    if given.cost == CostName::LogLikelihood {
        return Err(EngineError::Invalid(
            "the neuron is a sigmoid: use the quadratic or the cross-entropy cost".into(),
        ));
    }
    let cost = given.cost.cost();
    let mut network = Network::sigmoid(&[1, 1], Initializer::Default, 0)
        .map_err(|e| EngineError::Invalid(e.to_string()))?;
    let shape = network.layers()[0].clone();
    network.params_mut()[shape.weights.clone()].fill(given.w);
    network.params_mut()[shape.biases.clone()].fill(given.b);
    let data = DenseExamples::new(vec![vec![1.0]], vec![vec![0.0]]);
    let config = TrainConfig {
        epochs: given.epochs.max(1),
        batch_size: 1,
        eta: given.eta,
        ..TrainConfig::default()
    };
    let mut trainer = Trainer::new(network, cost, Box::new(Sgd), Vec::new(), config)?;
    let measure = |network: &Network| {
        let output = network.feedforward(&[1.0])[0];
        (output, network.evaluate(&data, cost).cost_sum as f32)
    };
    let (mut outputs, mut costs) = (Vec::new(), Vec::new());
    let (output, c) = measure(trainer.network());
    outputs.push(output);
    costs.push(c);
    for _ in 0..given.epochs {
        trainer.run_epoch(&data, None, &mut Silent)?;
        let (output, c) = measure(trainer.network());
        outputs.push(output);
        costs.push(c);
    }
    Ok((outputs, costs))
}

/// The most weighted inputs [`softmax`] takes.
pub const MAX_SOFTMAX: usize = 1 << 16;

/// `a_j = e^{c z_j} / Σ_k e^{c z_k}` by nn-core's softmax layer with temperature c (eq. 83)
/// (`softmax`).
pub fn softmax(z: &[f32], c: f32) -> EngineResult<Vec<f32>> {
    if z.is_empty() || z.len() > MAX_SOFTMAX {
        return Err(EngineError::Invalid(format!(
            "softmax of {} values: give 1 to {MAX_SOFTMAX}",
            z.len()
        )));
    }
    if !c.is_finite() || z.iter().any(|v| !v.is_finite()) {
        return Err(EngineError::Invalid(
            "z and c must be finite numbers".into(),
        ));
    }
    let mut a = vec![0.0; z.len()];
    Softmax { temperature: c }.forward(z, &mut a, z.len());
    Ok(a)
}
