//! Checkpoints: after every epoch, everything needed to continue the run exactly.
//!
//! A checkpoint directory holds `checkpoint.json` (the run's options, the parameters, the
//! optimizer's state and the trainer's [`TrainingState`]) and `model.json` (the current model in
//! network2.py's format, for `nn eval`). Both are written atomically, the model first, so a run
//! killed at any moment leaves a consistent `checkpoint.json` behind.
//!
//! Parameters and optimizer state are stored as the bit patterns of their `f32` values, so a
//! resumed run continues from exactly the numbers it stopped with and ends bit-identical to a
//! run that was never interrupted.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use nn_core::{Network, Trainer, TrainingState, save_model, write_atomically};
use serde::{Deserialize, Serialize};

use crate::compose;
use crate::options::RunOptions;

/// The version of the checkpoint format.
const FORMAT_VERSION: u32 = 1;
/// The file holding the run's state.
const STATE_FILE: &str = "checkpoint.json";
/// The file holding the current model.
const MODEL_FILE: &str = "model.json";

#[derive(Serialize, Deserialize)]
struct CheckpointFile {
    format_version: u32,
    options: RunOptions,
    sizes: Vec<usize>,
    params: Vec<u32>,
    optimizer: Vec<Vec<u32>>,
    best_params: Option<Vec<u32>>,
    #[serde(default)]
    averaged_params: Option<Vec<u32>>,
    state: TrainingState,
}

/// A run restored from a checkpoint.
#[derive(Debug)]
pub struct Restored {
    /// The run's options.
    pub options: RunOptions,
    /// The network as it was after the last finished epoch.
    pub network: Network,
    /// The trainer's state.
    pub state: TrainingState,
    /// The optimizer's state.
    pub optimizer_state: Vec<Vec<f32>>,
}

fn bits(values: &[f32]) -> Vec<u32> {
    values.iter().map(|v| v.to_bits()).collect()
}

fn floats(bits: &[u32]) -> Vec<f32> {
    bits.iter().map(|&b| f32::from_bits(b)).collect()
}

/// Writes the checkpoint of `trainer`'s run into `dir`, creating it if needed.
pub fn save(dir: &Path, options: &RunOptions, trainer: &Trainer<'_>, cost: &str) -> Result<()> {
    std::fs::create_dir_all(dir)
        .with_context(|| format!("cannot create checkpoint directory {}", dir.display()))?;
    let network = trainer.network();
    save_model(network, cost, &dir.join(MODEL_FILE))?;
    let mut state = trainer.state().clone();
    let best_params = state.best_params.take().map(|p| bits(&p));
    let averaged_params = state.averaged_params.take().map(|p| bits(&p));
    let file = CheckpointFile {
        format_version: FORMAT_VERSION,
        options: options.clone(),
        sizes: network.sizes().to_vec(),
        params: bits(network.params()),
        optimizer: trainer.optimizer_state().iter().map(|v| bits(v)).collect(),
        best_params,
        averaged_params,
        state,
    };
    let json = serde_json::to_vec(&file).context("cannot serialize the checkpoint")?;
    write_atomically(&dir.join(STATE_FILE), &json)?;
    Ok(())
}

/// The path of a checkpoint's state file.
fn state_path(dir: &Path) -> PathBuf {
    dir.join(STATE_FILE)
}

/// Reads the checkpoint in `dir`, checking that its parameters fit its options.
pub fn load(dir: &Path) -> Result<Restored> {
    let path = state_path(dir);
    let text = std::fs::read_to_string(&path).with_context(|| {
        format!(
            "cannot read checkpoint {}; --resume needs a directory written by --checkpoint",
            path.display()
        )
    })?;
    let file: CheckpointFile = serde_json::from_str(&text).with_context(|| {
        format!(
            "{} is not a valid checkpoint; start the run again with --checkpoint",
            path.display()
        )
    })?;
    if file.format_version != FORMAT_VERSION {
        bail!(
            "{}: checkpoint format {} is not supported (expected {FORMAT_VERSION})",
            path.display(),
            file.format_version
        );
    }
    let mut network = compose::network(&file.options)?;
    if network.sizes() != file.sizes.as_slice() || network.params().len() != file.params.len() {
        bail!(
            "{}: the saved parameters do not fit the layers {:?}; the checkpoint is corrupt",
            path.display(),
            file.options.layers
        );
    }
    network.params_mut().copy_from_slice(&floats(&file.params));
    if !network.is_finite() {
        bail!(
            "{}: the saved parameters hold non-finite numbers; the checkpoint is corrupt",
            path.display()
        );
    }
    let mut state = file.state;
    state.best_params = file.best_params.map(|b| floats(&b));
    state.averaged_params = file.averaged_params.map(|a| floats(&a));
    Ok(Restored {
        options: file.options,
        network,
        state,
        optimizer_state: file.optimizer.iter().map(|v| floats(v)).collect(),
    })
}
