//! Saving and loading networks as JSON, in network2.py's format.
//!
//! network2.py's `save` writes `sizes`, `weights` (per layer, a list of rows), `biases` (per
//! layer, a list of one-element lists) and `cost` (the cost class's name). We write the same keys,
//! so our files for the quadratic and cross-entropy costs load in network2.py's `load`, and we add
//! `activations` and `format_version` for what network2 has no word for. A file without
//! `activations` is network2's: sigmoid neurons throughout. A network that standardizes its
//! inputs also gets a `standardization` key (`{"kind": "pixel", "mean": [...], "std": [...]}`);
//! network2.py's `load` ignores keys it does not know, so such a file still loads there, but
//! network2 will not standardize the inputs it is given. A network that knows how its training
//! images framed their digits gets a `framing` key (see [`crate::Framing`]); without one,
//! pictures are prepared as MNIST's.

use std::io::Read;
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::{
    Framing, MAX_PARAMETERS, ModelError, Network, NetworkError, Standardization,
    activation_from_spec,
};

/// The version of the file format written by [`save_model`].
pub const FORMAT_VERSION: u32 = 1;

/// The largest model file [`load_model`] reads: 32 bytes for each of [`MAX_PARAMETERS`]
/// numbers, 8 GiB.
///
/// A number written by us or by network2.py takes at most 25 bytes with its separator (17
/// significant digits, sign, point, exponent); each bias adds its one-element list's brackets
/// and each weight row its own, at most 29 bytes per parameter in all, so every network within
/// [`MAX_PARAMETERS`] fits. A standardization's two numbers per input (50 bytes) fit in the rest
/// whenever the network has at least 17 parameters per input, as any network with a first hidden
/// layer of 17 or more neurons has. Anything larger is not a model, and is refused before it is
/// read.
pub const MAX_MODEL_FILE_BYTES: u64 = 32 * MAX_PARAMETERS as u64;

/// A network with the name of the cost it was trained with.
///
/// ```
/// use nn_core::{Initializer, Network, model_from_json, model_to_json};
///
/// let network = Network::sigmoid(&[3, 4, 2], Initializer::Default, 7)?;
/// let json = model_to_json(&network, "CrossEntropyCost");
/// // network2.py's fields, so its `load` reads the file too.
/// assert!(json.contains("\"sizes\"") && json.contains("\"biases\""));
/// let model = model_from_json(&json)?;
/// assert_eq!(model.cost, "CrossEntropyCost");
/// assert_eq!(model.network.params(), network.params());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
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
    #[serde(default, skip_serializing_if = "Option::is_none")]
    standardization: Option<Standardization>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    framing: Option<Framing>,
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
        standardization: Some(network.standardization().clone()).filter(|s| !s.is_none()),
        framing: network.framing(),
    };
    serde_json::to_string(&file).expect("a model always serializes")
}

/// Saves a model atomically ([`crate::atomic::write_bytes`]) as network2-compatible JSON.
pub fn save_model(network: &Network, cost: &str, path: &Path) -> Result<(), NetworkError> {
    crate::atomic::write_bytes(path, model_to_json(network, cost).as_bytes()).map_err(|source| {
        NetworkError::Io {
            path: path.to_path_buf(),
            source,
        }
    })
}

/// Loads a model saved by [`save_model`] or by network2.py, validating every shape and number.
/// Files larger than [`MAX_MODEL_FILE_BYTES`] are refused without being read.
pub fn load_model(path: &Path) -> Result<Model, NetworkError> {
    let io = |source| NetworkError::Io {
        path: path.to_path_buf(),
        source,
    };
    let too_large = |bytes| NetworkError::ModelFileTooLarge {
        path: path.to_path_buf(),
        bytes,
        limit: MAX_MODEL_FILE_BYTES,
    };
    let file = crate::atomic::open_to_read(path).map_err(io)?;
    let declared = file.metadata().map_err(io)?.len();
    if declared > MAX_MODEL_FILE_BYTES {
        return Err(too_large(declared));
    }
    // The length can change under us (or lie, for special files): the read is bounded too.
    let mut bytes = Vec::new();
    file.take(MAX_MODEL_FILE_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(io)?;
    if bytes.len() as u64 > MAX_MODEL_FILE_BYTES {
        return Err(too_large(bytes.len() as u64));
    }
    model_from_slice(&bytes).map_err(|problem| NetworkError::InvalidModel {
        path: path.to_path_buf(),
        problem: Box::new(problem),
    })
}

/// Parses and validates model JSON; the error says what is wrong.
pub fn model_from_json(text: &str) -> Result<Model, ModelError> {
    model_from_slice(text.as_bytes())
}

/// The layer sizes alone, read first so that sizes beyond the limits are refused before the
/// weights are parsed into memory.
#[derive(Deserialize)]
struct SizesOnly {
    sizes: Vec<usize>,
}

fn model_from_slice(bytes: &[u8]) -> Result<Model, ModelError> {
    let SizesOnly { sizes } = serde_json::from_slice(bytes)?;
    Network::check_sizes(&sizes)?;
    let file: ModelFile = serde_json::from_slice(bytes)?;
    let sizes = &file.sizes;
    let layers = sizes.len().saturating_sub(1);
    let specs = file
        .activations
        .unwrap_or_else(|| vec!["sigmoid".into(); layers]);
    let activations = specs
        .iter()
        .map(|s| activation_from_spec(s))
        .collect::<Result<Vec<_>, _>>()?;
    let mut network = Network::zeros(sizes, activations)?;
    if let Some(standardization) = file.standardization {
        network.set_standardization(standardization)?;
    }
    network.set_framing(file.framing);
    if file.weights.len() != layers || file.biases.len() != layers {
        return Err(ModelError::LayerCount {
            sizes: sizes.clone(),
            expected: layers,
            weights: file.weights.len(),
            biases: file.biases.len(),
        });
    }
    let shapes = network.layers().to_vec();
    let params = network.params_mut();
    for (l, shape) in shapes.iter().enumerate() {
        let layer = l + 1;
        let weights = &file.weights[l];
        if weights.len() != shape.rows {
            return Err(ModelError::WeightRows {
                layer,
                rows: weights.len(),
                expected: shape.rows,
                sizes: sizes.clone(),
            });
        }
        for (r, row) in weights.iter().enumerate() {
            if row.len() != shape.cols {
                return Err(ModelError::WeightColumns {
                    layer,
                    row: r,
                    columns: row.len(),
                    expected: shape.cols,
                });
            }
            for (c, &v) in row.iter().enumerate() {
                params[shape.weights.start + c * shape.rows + r] =
                    finite(v, || format!("layer {layer} weight ({r}, {c})"))?;
            }
        }
        let biases = &file.biases[l];
        if biases.len() != shape.rows {
            return Err(ModelError::BiasCount {
                layer,
                count: biases.len(),
                expected: shape.rows,
            });
        }
        for (r, b) in biases.iter().enumerate() {
            let [b] = b.as_slice() else {
                return Err(ModelError::BiasShape { layer, index: r });
            };
            params[shape.biases.start + r] = finite(*b, || format!("layer {layer} bias {r}"))?;
        }
    }
    Ok(Model {
        network,
        cost: file.cost,
    })
}

fn finite(value: f64, what: impl Fn() -> String) -> Result<f32, ModelError> {
    let v = value as f32;
    if v.is_finite() {
        Ok(v)
    } else {
        Err(ModelError::NotFinite {
            what: what(),
            value,
        })
    }
}
