//! Saving and loading networks as JSON, in network2.py's format.
//!
//! network2.py's `save` writes `sizes`, `weights` (per layer, a list of rows), `biases` (per
//! layer, a list of one-element lists) and `cost` (the cost class's name). We write the same keys,
//! so our files for the quadratic and cross-entropy costs load in network2.py's `load`, and we add
//! `activations` and `format_version` for what network2 has no word for. A file without
//! `activations` is network2's: sigmoid neurons throughout.

use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::{Network, NetworkError, activation_from_spec};

/// The version of the file format written by [`save_model`].
pub const FORMAT_VERSION: u32 = 1;

/// A network with the name of the cost it was trained with.
#[derive(Debug, Clone)]
pub struct Model {
    /// The network.
    pub network: Network,
    /// The cost's name as network2.py writes it, e.g. `"CrossEntropyCost"`.
    pub cost: String,
}

#[derive(Serialize, Deserialize)]
struct ModelFile {
    sizes: Vec<usize>,
    weights: Vec<Vec<Vec<f64>>>,
    biases: Vec<Vec<Vec<f64>>>,
    cost: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    activations: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    format_version: Option<u32>,
}

/// The model as network2-compatible JSON text.
pub fn model_to_json(network: &Network, cost: &str) -> String {
    let file = ModelFile {
        sizes: network.sizes().to_vec(),
        weights: (0..network.layers().len())
            .map(|l| {
                let w = network.weights(l);
                w.row_iter()
                    .map(|row| row.iter().map(|&v| f64::from(v)).collect())
                    .collect()
            })
            .collect(),
        biases: (0..network.layers().len())
            .map(|l| {
                network
                    .biases(l)
                    .iter()
                    .map(|&b| vec![f64::from(b)])
                    .collect()
            })
            .collect(),
        cost: cost.to_string(),
        activations: Some(network.activations().iter().map(|a| a.spec()).collect()),
        format_version: Some(FORMAT_VERSION),
    };
    serde_json::to_string(&file).expect("a model always serializes")
}

/// Writes `contents` to `path` atomically (see [`crate::atomic::write_with`]).
pub fn write_atomically(path: &Path, contents: &[u8]) -> Result<(), NetworkError> {
    crate::atomic::write_bytes(path, contents).map_err(|source| NetworkError::Io {
        path: path.to_path_buf(),
        source,
    })
}

/// Saves a model atomically as network2-compatible JSON.
pub fn save_model(network: &Network, cost: &str, path: &Path) -> Result<(), NetworkError> {
    write_atomically(path, model_to_json(network, cost).as_bytes())
}

/// Loads a model saved by [`save_model`] or by network2.py, validating every shape and number.
pub fn load_model(path: &Path) -> Result<Model, NetworkError> {
    let text = std::fs::read_to_string(path).map_err(|source| NetworkError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    model_from_json(&text).map_err(|problem| NetworkError::InvalidModel {
        path: path.to_path_buf(),
        problem,
    })
}

/// Parses and validates model JSON; the error says what is wrong.
pub fn model_from_json(text: &str) -> Result<Model, String> {
    let file: ModelFile =
        serde_json::from_str(text).map_err(|e| format!("not a model file: {e}"))?;
    let sizes = &file.sizes;
    if sizes.len() < 2 || sizes.contains(&0) {
        return Err(format!("invalid layer sizes {sizes:?}"));
    }
    let layers = sizes.len() - 1;
    let specs = file
        .activations
        .unwrap_or_else(|| vec!["sigmoid".into(); layers]);
    let activations = specs
        .iter()
        .map(|s| activation_from_spec(s))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| e.to_string())?;
    let mut network = Network::zeros(sizes, activations).map_err(|e| e.to_string())?;
    if file.weights.len() != layers || file.biases.len() != layers {
        return Err(format!(
            "sizes {sizes:?} need {layers} weight and bias layers, the file has {} and {}",
            file.weights.len(),
            file.biases.len()
        ));
    }
    let shapes = network.layers().to_vec();
    let params = network.params_mut();
    for (l, shape) in shapes.iter().enumerate() {
        let weights = &file.weights[l];
        if weights.len() != shape.rows {
            return Err(format!(
                "layer {} weights have {} rows, expected {} (sizes {sizes:?})",
                l + 1,
                weights.len(),
                shape.rows
            ));
        }
        for (r, row) in weights.iter().enumerate() {
            if row.len() != shape.cols {
                return Err(format!(
                    "layer {} weights row {r} has {} columns, expected {}",
                    l + 1,
                    row.len(),
                    shape.cols
                ));
            }
            for (c, &v) in row.iter().enumerate() {
                params[shape.weights.start + c * shape.rows + r] =
                    finite(v, || format!("layer {} weight ({r}, {c})", l + 1))?;
            }
        }
        let biases = &file.biases[l];
        if biases.len() != shape.rows {
            return Err(format!(
                "layer {} biases have {} entries, expected {}",
                l + 1,
                biases.len(),
                shape.rows
            ));
        }
        for (r, b) in biases.iter().enumerate() {
            let [b] = b.as_slice() else {
                return Err(format!(
                    "layer {} bias {r} must be a one-element list",
                    l + 1
                ));
            };
            params[shape.biases.start + r] = finite(*b, || format!("layer {} bias {r}", l + 1))?;
        }
    }
    Ok(Model {
        network,
        cost: file.cost,
    })
}

fn finite(value: f64, what: impl Fn() -> String) -> Result<f32, String> {
    let v = value as f32;
    if v.is_finite() {
        Ok(v)
    } else {
        Err(format!("{} is {value}, not a finite 32-bit number", what()))
    }
}
