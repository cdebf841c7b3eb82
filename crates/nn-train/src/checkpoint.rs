//! Checkpoints ([`Checkpointer`]): after every epoch, everything needed to continue the run
//! exactly.
//!
//! A checkpoint directory holds `checkpoint.json` (the run's options, the data's identity, the
//! parameters, the best and averaged weights, the input standardization, the optimizer's state
//! and the trainer's [`TrainingState`]) and `model.json` (the current model in network2.py's
//! format, for `nn eval`). Both are written atomically, the model first, so a run
//! killed at any moment leaves a consistent `checkpoint.json` behind.
//!
//! Parameters and optimizer state are stored as the bit patterns of their `f32` values, so a
//! resumed run continues from exactly the numbers it stopped with and ends bit-identical to a
//! run that was never interrupted.
//!
//! The checkpoint also records the identity of the data: the SHA-256 of the decompressed content
//! of each of the four data files, and the number of training images held out (`--holdout`). A
//! run resumes only on the same data (the selection within it, `--train-size`,
//! `--per-class`, `--validation-size`, `--invert`, is part of the saved options). Checkpoints
//! written before the identity was recorded resume with a warning that the data cannot be
//! checked.
//!
//! Everything read back is checked before use: the layer sizes against the parameter count
//! (with no allocation beyond what the file holds), every restored vector (parameters, best and
//! averaged weights, optimizer state) for its length and for NaN or infinite numbers, the floats
//! of the trainer's state, and the standardization against the options' `--normalize`; an error
//! names the field.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use nn_core::{
    Network, OptimizerState, ParamGuard, Standardization, Trainer, TrainingState, save_model,
};
use serde::{Deserialize, Serialize};

use crate::compose::{self, Parts};
use crate::data::DataSet;
use crate::error::{BoxError, CheckpointError, RunError};
use crate::lock::Lock;
use crate::options::RunOptions;

/// The version of the checkpoint format.
const FORMAT_VERSION: u32 = 1;
/// The file holding the run's state.
const STATE_FILE: &str = "checkpoint.json";
/// Largest state file read back: 4 GiB, room for the parameters, best and averaged weights and
/// two optimizer vectors of a network of 50 million parameters.
pub const MAX_STATE_BYTES: u64 = 4 << 30;
/// The file holding the current model.
const MODEL_FILE: &str = "model.json";

/// One data file a run was trained on: its name and the SHA-256 of its content.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DataFile {
    /// The role of the file, named as MNIST's file in that role, e.g. `train-images-idx3-ubyte`.
    pub name: String,
    /// SHA-256 of its (decompressed) content, lower-case hex.
    pub sha256: String,
}

/// What a run trains on: the content of its four files and how many of the training images
/// are held out for validation (`--holdout`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DataIdentity {
    /// Every data file's role and content hash.
    pub files: Vec<DataFile>,
    /// Training images held out for validation.
    pub holdout: usize,
}

impl DataIdentity {
    /// The identity of the data set `data`: every file's content hash and the hold-out size.
    pub fn of(data: &DataSet) -> Result<Self, CheckpointError> {
        let files = nn_data::verify_files(&data.files)
            .into_iter()
            .map(|r| match r.sha256 {
                Some(sha256) => Ok(DataFile {
                    name: r.name.to_string(),
                    sha256,
                }),
                None => Err(CheckpointError::Hash {
                    path: r.path,
                    source: match r.status {
                        nn_data::FileStatus::Broken(e) => Some(e),
                        _ => None,
                    },
                }),
            })
            .collect::<Result<_, _>>()?;
        Ok(Self {
            files,
            holdout: data.holdout,
        })
    }

    /// Checks that a resumed run continues on the data its checkpoint was trained on (`saved`,
    /// identified now by `self`); returns a warning when the checkpoint does not record its data.
    pub fn check_resumed(&self, saved: Option<&Self>) -> Result<Option<String>, CheckpointError> {
        let Some(saved) = saved else {
            return Ok(Some(
                "the checkpoint does not record its data (written by an older nn); make sure \
                 the data given is the data it was trained on"
                    .to_string(),
            ));
        };
        let mut differing: Vec<String> = saved
            .files
            .iter()
            .filter_map(|s| match self.files.iter().find(|d| d.name == s.name) {
                Some(d) if d.sha256 == s.sha256 => None,
                Some(d) => Some(format!(
                    "{} (SHA-256 {} here, {} in the checkpoint)",
                    s.name,
                    short(&d.sha256),
                    short(&s.sha256)
                )),
                None => Some(format!("{} (absent here)", s.name)),
            })
            .collect();
        if differing.is_empty() && saved.files.len() != self.files.len() {
            differing.push("another set of files".to_string());
        }
        if saved.holdout != self.holdout {
            differing.push(format!(
                "{} training images held out here, {} in the checkpoint (`holdout` {})",
                self.holdout, saved.holdout, saved.holdout
            ));
        }
        if !differing.is_empty() {
            return Err(CheckpointError::OtherData { differing });
        }
        Ok(None)
    }
}

/// The first 12 hex digits of a hash.
fn short(hash: &str) -> &str {
    hash.get(..12).unwrap_or(hash)
}

#[derive(Serialize, Deserialize)]
struct CheckpointFile {
    format_version: u32,
    options: RunOptions,
    /// The data trained on (absent in checkpoints written before it was recorded).
    #[serde(default)]
    data: Option<DataIdentity>,
    sizes: Vec<usize>,
    params: Vec<u32>,
    optimizer: Vec<Vec<u32>>,
    best_params: Option<Vec<u32>>,
    #[serde(default)]
    averaged_params: Option<Vec<u32>>,
    /// The input standardization (`--normalize`), absent when there is none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    standardization: Option<Standardization>,
    state: TrainingState,
}

/// A run restored from a checkpoint: pass it to [`crate::Run::resume`].
#[derive(Debug)]
pub struct Restored {
    /// The run's options.
    pub options: RunOptions,
    /// The network as it was after the last finished epoch.
    pub network: Network,
    /// The trainer's state.
    pub state: TrainingState,
    /// The optimizer's state.
    pub optimizer_state: OptimizerState,
    /// The data trained on, when the checkpoint records it.
    pub data: Option<DataIdentity>,
}

/// Writes a run's checkpoint into a directory after every epoch, as Keras' `ModelCheckpoint` or
/// burn's checkpointer: `checkpoint.json` (everything needed to continue bit-identically) and
/// `model.json` (the current model, network2.py's format), each written atomically through
/// [`nn_core::atomic`].
///
/// ```
/// use nn_train::{Checkpointer, DataIdentity};
///
/// let dir = tempfile::tempdir()?;
/// let data = DataIdentity { files: Vec::new(), holdout: 1 };
/// let ckpt = dir.path().join("ckpt");
/// let checkpointer = Checkpointer::at(&ckpt).claim(data.clone())?;
/// assert!(checkpointer.dir().is_dir());
/// // While it lives, the directory is this process's; afterwards another run may resume it.
/// assert!(Checkpointer::at(&ckpt).overwrite(true).claim(data.clone()).is_err());
/// drop(checkpointer);
/// assert!(Checkpointer::at(&ckpt).resuming(&ckpt).claim(data).is_ok());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone)]
pub struct Checkpointer {
    dir: PathBuf,
    data: DataIdentity,
    /// Keeps other processes out of the directory while this checkpointer (or a clone) lives.
    _lock: Arc<Lock>,
}

/// Claims a directory for a run's checkpoints ([`Checkpointer::at`]): which run it may already
/// hold, then [`CheckpointerBuilder::claim`].
#[derive(Debug, Clone)]
pub struct CheckpointerBuilder {
    dir: PathBuf,
    resuming: Option<PathBuf>,
    overwrite: bool,
}

impl CheckpointerBuilder {
    /// The run writing here continues the checkpoint in `from`: when `from` is the directory
    /// itself, its checkpoint is this run's own, not another run's.
    pub fn resuming(mut self, from: impl Into<PathBuf>) -> Self {
        self.resuming = Some(from.into());
        self
    }

    /// Whether a checkpoint of another run in the directory may be written over (refused
    /// otherwise, [`CheckpointError::Claimed`]).
    pub fn overwrite(mut self, overwrite: bool) -> Self {
        self.overwrite = overwrite;
        self
    }

    /// Makes the directory ready: creates it, locks it for as long as the checkpointer lives
    /// ([`Lock::dir`]: a directory in use by another live process is refused, one whose run
    /// was killed is not), and refuses when it already holds the checkpoint of another run
    /// unless told to overwrite. `data` is recorded in every checkpoint, so that a resumed run
    /// can be refused other data.
    pub fn claim(self, data: DataIdentity) -> Result<Checkpointer, CheckpointError> {
        let Self {
            dir,
            resuming,
            overwrite,
        } = self;
        std::fs::create_dir_all(&dir).map_err(|source| CheckpointError::Create {
            dir: dir.clone(),
            source,
        })?;
        let lock = Lock::dir(&dir)?;
        // Both exist here, so their canonical forms tell whether they are one directory.
        let own = resuming.is_some_and(
            |r| matches!((r.canonicalize(), dir.canonicalize()), (Ok(a), Ok(b)) if a == b),
        );
        if dir.join(STATE_FILE).exists() && !own && !overwrite {
            return Err(CheckpointError::Claimed { dir });
        }
        Ok(Checkpointer {
            dir,
            data,
            _lock: Arc::new(lock),
        })
    }
}

impl Checkpointer {
    /// Starts claiming `dir` for a run's checkpoints: a fresh run's by default, or
    /// [`resuming`](CheckpointerBuilder::resuming) one,
    /// [`overwrite`](CheckpointerBuilder::overwrite) another run's, then
    /// [`claim`](CheckpointerBuilder::claim).
    pub fn at(dir: impl Into<PathBuf>) -> CheckpointerBuilder {
        CheckpointerBuilder {
            dir: dir.into(),
            resuming: None,
            overwrite: false,
        }
    }

    /// The directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The files a checkpoint directory holds: the state and the model.
    pub fn files(dir: &Path) -> [PathBuf; 2] {
        [dir.join(STATE_FILE), dir.join(MODEL_FILE)]
    }

    /// Writes the checkpoint of `trainer`'s run (with `options`, trained with the cost named
    /// `cost`): the model first, then the state, so a run killed at any moment leaves a
    /// consistent state file behind.
    pub fn save(
        &self,
        options: &RunOptions,
        trainer: &Trainer<'_>,
        cost: &str,
    ) -> Result<(), CheckpointError> {
        let write = |path: PathBuf, source: BoxError| CheckpointError::Write { path, source };
        let network = trainer.network();
        let model = self.dir.join(MODEL_FILE);
        save_model(network, cost, &model).map_err(|e| write(model.clone(), e.into()))?;
        let mut state = trainer.state().clone();
        let best_params = state.best_params.take().map(|p| bits(&p));
        let averaged_params = state.averaged_params.take().map(|p| bits(&p));
        let file = CheckpointFile {
            format_version: FORMAT_VERSION,
            options: options.clone(),
            data: Some(self.data.clone()),
            sizes: network.sizes().to_vec(),
            params: bits(network.params()),
            optimizer: trainer
                .optimizer_state()
                .to_vectors()
                .iter()
                .map(|v| bits(v))
                .collect(),
            best_params,
            averaged_params,
            standardization: (!network.standardization().is_none())
                .then(|| network.standardization().clone()),
            state,
        };
        let path = self.dir.join(STATE_FILE);
        let json = serde_json::to_vec(&file).map_err(|e| write(path.clone(), e.into()))?;
        nn_core::atomic::write_bytes(&path, &json).map_err(|e| write(path.clone(), e.into()))
    }

    /// Reads the checkpoint in `dir`, checking everything before use: the layer sizes against
    /// the parameter count (with no allocation beyond what the file holds), every restored
    /// vector for its length and for NaN or infinite numbers, the floats of the trainer's state,
    /// and the standardization against the options' `--normalize`; an error names the field.
    pub fn load(dir: &Path) -> Result<Restored, RunError> {
        let path = dir.join(STATE_FILE);
        let corrupt = |problem: String| CheckpointError::Corrupt {
            path: path.clone(),
            problem,
        };
        if let Ok(meta) = std::fs::metadata(&path) {
            if !meta.is_file() {
                return Err(CheckpointError::NotAFile { path }.into());
            }
            if meta.len() > MAX_STATE_BYTES {
                return Err(CheckpointError::TooLarge {
                    path,
                    bytes: Some(meta.len()),
                    limit: MAX_STATE_BYTES,
                }
                .into());
            }
        }
        // The file can grow meanwhile: the read is bounded too.
        let mut text = String::new();
        nn_core::atomic::open_to_read(&path)
            .and_then(|file| file.take(MAX_STATE_BYTES + 1).read_to_string(&mut text))
            .map_err(|source| CheckpointError::Read {
                path: path.clone(),
                source,
            })?;
        if text.len() as u64 > MAX_STATE_BYTES {
            return Err(CheckpointError::TooLarge {
                path,
                bytes: None,
                limit: MAX_STATE_BYTES,
            }
            .into());
        }
        let file: CheckpointFile =
            serde_json::from_str(&text).map_err(|source| CheckpointError::Invalid {
                path: path.clone(),
                source,
            })?;
        if file.format_version != FORMAT_VERSION {
            return Err(CheckpointError::Format {
                path,
                found: file.format_version,
                expected: FORMAT_VERSION,
            }
            .into());
        }
        check(&file).map_err(corrupt)?;
        let mut network = compose::network(&file.options)?;
        network.params_mut().copy_from_slice(&floats(&file.params));
        if let Some(standardization) = file.standardization {
            network
                .set_standardization(standardization)
                .map_err(|e| corrupt(e.to_string()))?;
        }
        if network.standardization().kind() != file.options.normalize {
            return Err(corrupt(format!(
                "the options say `normalize` {} but the saved standardization is {}",
                file.options.normalize.name(),
                network.standardization().kind().name()
            ))
            .into());
        }
        let mut state = file.state;
        state.best_params = file.best_params.map(|b| floats(&b));
        state.averaged_params = file.averaged_params.map(|a| floats(&a));
        // Its options must pass the checks new options pass, and the optimizer's state must be
        // the one they build for this network.
        let (_, Parts { mut optimizer, .. }) = file
            .options
            .clone()
            .check()
            .map_err(|e| corrupt(format!("its options: {e}")))?
            .into_parts();
        optimizer
            .prepare(file.params.len())
            .map_err(|e| corrupt(e.to_string()))?;
        let needed: Vec<usize> = optimizer
            .state()
            .to_vectors()
            .iter()
            .map(Vec::len)
            .collect();
        let found: Vec<usize> = file.optimizer.iter().map(Vec::len).collect();
        if needed != found {
            return Err(corrupt(format!(
                "the optimizer's state holds vectors of {found:?} numbers where {} needs {needed:?}",
                optimizer.describe()
            ))
            .into());
        }
        let optimizer_state =
            OptimizerState::from_vectors(file.optimizer.iter().map(|v| floats(v)).collect())
                .map_err(|e| corrupt(e.to_string()))?;
        Ok(Restored {
            options: file.options,
            network,
            state,
            optimizer_state,
            data: file.data,
        })
    }
}

fn bits(values: &[f32]) -> Vec<u32> {
    values.iter().map(|v| v.to_bits()).collect()
}

fn floats(bits: &[u32]) -> Vec<f32> {
    bits.iter().map(|&b| f32::from_bits(b)).collect()
}

/// What is wrong with a checkpoint read back, if anything: sizes that do not fit, a vector of
/// the wrong length, a NaN or infinite number.
fn check(file: &CheckpointFile) -> Result<(), String> {
    let layers = &file.options.layers;
    if file.sizes != *layers {
        return Err(format!(
            "the saved sizes {:?} are not the layers {layers:?} of its options",
            file.sizes
        ));
    }
    if layers.len() < 2 || Network::parameter_count(layers) != Some(file.params.len()) {
        return Err(format!(
            "the {} saved parameters do not fit the layers {layers:?}",
            file.params.len()
        ));
    }
    let count = file.params.len();
    let finite = |bits: &[u32]| bits.iter().all(|&b| f32::from_bits(b).is_finite());
    let vector = |bits: &[u32], what: &str, length: Option<usize>| -> Result<(), String> {
        if length.is_some_and(|l| l != bits.len()) {
            return Err(format!("{what}: {} numbers, expected {count}", bits.len()));
        }
        if !finite(bits) {
            return Err(format!("{what}: NaN or infinite numbers"));
        }
        Ok(())
    };
    vector(&file.params, "parameters", Some(count))?;
    if let Some(b) = &file.best_params {
        vector(b, "best weights", Some(count))?;
    }
    if let Some(a) = &file.averaged_params {
        vector(a, "averaged weights", Some(count))?;
    }
    for (i, v) in file.optimizer.iter().enumerate() {
        // Lengths are the optimizer's to check (Adam keeps a step count beside its moments).
        vector(v, &format!("optimizer state vector {i}"), None)?;
    }
    let state = &file.state;
    if !(state.eta.is_finite() && state.eta > 0.0) {
        return Err(format!(
            "the learning rate {} is not a positive number",
            state.eta
        ));
    }
    if let Some((accuracy, epoch)) = state.best
        && !((0.0..=1.0).contains(&accuracy) && epoch <= state.history.len())
    {
        return Err(format!(
            "the best accuracy {accuracy} in epoch {epoch} is impossible"
        ));
    }
    for record in &state.history {
        let fraction = |v: Option<f64>| v.is_none_or(|a| (0.0..=1.0).contains(&a));
        let finite = |v: Option<f64>| v.is_none_or(f64::is_finite);
        if !(record.eta.is_finite()
            && record.eta > 0.0
            && record.seconds.is_finite()
            && record.seconds >= 0.0
            && finite(record.training_cost)
            && finite(record.evaluation_cost)
            && fraction(record.training_accuracy)
            && fraction(record.evaluation_accuracy))
        {
            return Err(format!(
                "the figures of epoch {} are impossible (NaN, infinite, negative or an accuracy \
                 beyond 1)",
                record.epoch
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use serde_json::{Value, json};

    /// A valid checkpoint of a 3,2,2 network with momentum, best and averaged weights.
    fn valid() -> Value {
        let options = RunOptions {
            layers: vec![3, 2, 2],
            optimizer: crate::OptimizerName::Momentum,
            ..RunOptions::default()
        };
        let count = 3 * 2 + 2 + 2 * 2 + 2;
        let file = CheckpointFile {
            format_version: FORMAT_VERSION,
            options,
            data: Some(DataIdentity {
                files: Vec::new(),
                holdout: 1,
            }),
            sizes: vec![3, 2, 2],
            params: bits(&vec![0.25; count]),
            optimizer: vec![bits(&vec![0.0; count])],
            best_params: Some(bits(&vec![0.5; count])),
            averaged_params: Some(bits(&vec![0.5; count])),
            standardization: None,
            state: TrainingState::new(0.5),
        };
        serde_json::to_value(&file).unwrap()
    }

    fn load_value(value: &Value) -> Result<Restored, RunError> {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join(STATE_FILE), value.to_string()).unwrap();
        Checkpointer::load(dir.path())
    }

    #[test]
    fn a_huge_state_file_is_refused_unread() {
        let dir = tempfile::tempdir().unwrap();
        let file = std::fs::File::create(dir.path().join(STATE_FILE)).unwrap();
        file.set_len(MAX_STATE_BYTES + 1).unwrap();
        let error = Checkpointer::load(dir.path()).unwrap_err().to_string();
        assert!(error.contains("more than any checkpoint"), "{error}");
    }

    #[test]
    fn a_valid_checkpoint_loads() {
        let restored = load_value(&valid()).unwrap();
        assert_eq!(restored.network.sizes(), &[3, 2, 2]);
    }

    /// Hostile numbers: sizes near `usize::MAX`, NaN and infinite bit patterns, 1e39.
    fn number() -> impl Strategy<Value = Value> {
        prop_oneof![
            Just(json!(usize::MAX)),
            Just(json!(usize::MAX / 2 + 1)),
            Just(json!(1u64 << 32)),
            Just(json!(0)),
            Just(json!(f32::NAN.to_bits())),
            Just(json!(f32::INFINITY.to_bits())),
            Just(json!(1e39)),
            Just(json!(-1.0)),
            any::<u32>().prop_map(|b| json!(b)),
            any::<i64>().prop_map(|n| json!(n)),
        ]
    }

    /// A checkpoint with one field, or one element of a vector, replaced or the vector resized.
    fn mutated() -> impl Strategy<Value = Value> {
        let fields = prop_oneof![
            Just("/sizes/1"),
            Just("/options/layers/1"),
            Just("/options/layers/0"),
            Just("/options/batch_size"),
            Just("/options/epochs"),
            Just("/params/3"),
            Just("/optimizer/0/0"),
            Just("/best_params/1"),
            Just("/averaged_params/13"),
            Just("/state/eta"),
            Just("/state/epochs_without_improvement"),
        ];
        let vectors = prop_oneof![
            Just("/params"),
            Just("/optimizer/0"),
            Just("/best_params"),
            Just("/averaged_params"),
            Just("/sizes"),
            Just("/options/layers"),
        ];
        prop_oneof![
            (fields, number()).prop_map(|(field, n)| {
                let mut v = valid();
                *v.pointer_mut(field).unwrap() = n;
                v
            }),
            (vectors, 0usize..40, number()).prop_map(|(field, len, n)| {
                let mut v = valid();
                let vector = v.pointer_mut(field).unwrap().as_array_mut().unwrap();
                vector.resize(len, n);
                v
            }),
        ]
    }

    proptest! {
        #[test]
        fn a_mutated_checkpoint_gives_an_error_or_resumes(value in mutated()) {
            // Loading is where a checkpoint is judged: what it accepts, the run's parts are
            // built from and resume from without another error.
            let Ok(restored) = load_value(&value) else {
                return Ok(());
            };
            let options = &restored.options;
            // A mini-batch larger than the training set is refused by `Run` against the data,
            // before this point.
            prop_assume!(options.batch_size <= 60_000);
            let config = compose::config(options);
            prop_assert!(config.is_ok(), "loaded, then {:?}", config.err());
            let optimizer = compose::optimizer(options);
            prop_assert!(optimizer.is_ok(), "loaded, then {:?}", optimizer.err());
            let trainer = Trainer::new(
                restored.network,
                options.cost.cost(),
                optimizer.unwrap(),
                Vec::new(),
                config.unwrap(),
            );
            prop_assert!(trainer.is_ok(), "loaded, then {:?}", trainer.err());
            let resumed = trainer.unwrap().resume(restored.state, restored.optimizer_state);
            prop_assert!(resumed.is_ok(), "loaded, then {:?}", resumed.err());
        }
    }
}
