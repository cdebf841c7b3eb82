//! Exporting networks to ONNX and safetensors, and reading models back whatever their format.
//!
//! - [`to_onnx`]: an ONNX model (opset 13) with one `Gemm` and one activation node per layer,
//!   the input standardization folded into the first layer's weights and bias, and an `ArgMax`
//!   giving each image's `label`;
//! - [`to_safetensors`]: the weights named as PyTorch names those of an `nn.Sequential` of
//!   `Linear` and activation modules (`0.weight`, `0.bias`, `2.weight`, ...), with sizes,
//!   activations, cost, framing and the standardization (kept as it is, not folded) in the
//!   header's `__metadata__`;
//! - [`load_any`]: a model from nn's JSON, a safetensors file written by [`to_safetensors`], or
//!   an ONNX file of `Linear` layers such as `torch.onnx.export` writes, told apart by content.
//!
//! ```
//! use nn_core::{Initializer, Network};
//!
//! let network = Network::sigmoid(&[4, 3, 2], Initializer::Default, 1)?;
//! let onnx = nn_export::to_onnx(&network, "CrossEntropyCost")?;
//! let back = nn_export::from_onnx(&onnx)?;
//! let x = [0.1, 0.2, 0.3, 0.4];
//! let (a, b) = (network.feedforward(&x), back.network.feedforward(&x));
//! assert!(a.iter().zip(&b).all(|(a, b)| (a - b).abs() < 1e-6));
//! assert_eq!(back.cost, "CrossEntropyCost");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::io::Read;
use std::path::{Path, PathBuf};

use nn_core::{Model, Network, NetworkError, activation_from_spec};

mod onnx;
pub mod onnx_proto;
mod safetensors_format;

pub use onnx::{from_onnx, to_onnx};
pub use safetensors_format::{from_safetensors, to_safetensors};

/// The largest ONNX or safetensors file [`load_any`] reads, 512 MiB (nn's JSON files have
/// their own limit, [`nn_core::model::MAX_MODEL_FILE_BYTES`]).
pub const MAX_FILE_BYTES: u64 = 512 << 20;

/// What went wrong exporting or loading a model.
#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    /// Reading or writing a file failed.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The operating-system error.
        source: std::io::Error,
    },
    /// The file is larger than [`MAX_FILE_BYTES`].
    #[error("{path}: {bytes} bytes, more than the {limit} bytes a model may have")]
    TooLarge {
        /// The file.
        path: PathBuf,
        /// Its size.
        bytes: u64,
        /// The limit.
        limit: u64,
    },
    /// The file's contents are not a network nn can read.
    #[error("{path}: {reason}")]
    Refused {
        /// The file.
        path: PathBuf,
        /// What is wrong, or the first thing that is not supported.
        reason: String,
    },
    /// Bytes that are not a network nn can read (no file involved).
    #[error("{0}")]
    Invalid(String),
    /// The network has a weight or bias that is NaN or infinite.
    #[error("the network has a weight or bias that is not finite: refusing to export it")]
    NotFinite,
    /// The output would overwrite the model it is made from.
    #[error("{0}: the output is the input model itself")]
    SameAsInput(PathBuf),
    /// The output's extension names no format.
    #[error("{0}: unknown format: use a name ending in .onnx, .safetensors or .json")]
    UnknownFormat(PathBuf),
    /// Loading nn's JSON model failed.
    #[error(transparent)]
    Network(#[from] NetworkError),
}

/// The file formats nn writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// nn's (and network2.py's) JSON.
    Json,
    /// ONNX, opset 13.
    Onnx,
    /// safetensors with nn's metadata.
    Safetensors,
}

impl Format {
    /// The format named by a path's extension.
    ///
    /// ```
    /// use nn_export::Format;
    /// assert_eq!(Format::from_path("m.onnx".as_ref())?, Format::Onnx);
    /// assert!(Format::from_path("m.txt".as_ref()).is_err());
    /// # Ok::<(), nn_export::ExportError>(())
    /// ```
    pub fn from_path(path: &Path) -> Result<Self, ExportError> {
        match path.extension().and_then(|e| e.to_str()) {
            Some("onnx") => Ok(Self::Onnx),
            Some("safetensors") => Ok(Self::Safetensors),
            Some("json") => Ok(Self::Json),
            _ => Err(ExportError::UnknownFormat(path.to_path_buf())),
        }
    }
}

/// Writes `model` to `out` atomically in the format its extension names, refusing a network
/// that is not finite and an `out` that is the file `input` (the model's own file).
///
/// ```
/// use nn_core::{Initializer, Model, Network};
///
/// let dir = tempfile::tempdir()?;
/// let network = Network::sigmoid(&[4, 3, 2], Initializer::Default, 1)?;
/// let model = Model { network, cost: "QuadraticCost".into() };
/// let out = dir.path().join("m.safetensors");
/// nn_export::export(&model, None, &out)?;
/// let back = nn_export::load_any(&out)?;
/// assert_eq!(back.network.params(), model.network.params());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn export(model: &Model, input: Option<&Path>, out: &Path) -> Result<Format, ExportError> {
    let format = Format::from_path(out)?;
    if let Some(input) = input
        && same_file(input, out)
    {
        return Err(ExportError::SameAsInput(out.to_path_buf()));
    }
    let bytes = match format {
        Format::Onnx => to_onnx(&model.network, &model.cost)?,
        Format::Safetensors => to_safetensors(&model.network, &model.cost)?,
        Format::Json => {
            check_finite(&model.network)?;
            nn_core::model_to_json(&model.network, &model.cost).into_bytes()
        }
    };
    nn_core::atomic::write_bytes(out, &bytes).map_err(|source| ExportError::Io {
        path: out.to_path_buf(),
        source,
    })?;
    Ok(format)
}

/// Whether two paths name the same file (the same path, or both existing and the same once
/// links are resolved).
fn same_file(a: &Path, b: &Path) -> bool {
    if a == b {
        return true;
    }
    match (std::fs::canonicalize(a), std::fs::canonicalize(b)) {
        (Ok(a), Ok(b)) => a == b,
        _ => false,
    }
}

fn check_finite(network: &Network) -> Result<(), ExportError> {
    if network.is_finite() {
        Ok(())
    } else {
        Err(ExportError::NotFinite)
    }
}

/// Loads a model from nn's JSON, safetensors or ONNX, telling them apart by content: JSON
/// starts with `{`, safetensors with an 8-byte little-endian header length and then `{`, and
/// anything else is read as ONNX. ONNX and safetensors files larger than [`MAX_FILE_BYTES`]
/// are refused without being read.
///
/// ```
/// let dir = tempfile::tempdir()?;
/// let path = dir.path().join("noise.onnx");
/// std::fs::write(&path, [0xff, 0x00, 0x13, 0x37])?;
/// let error = nn_export::load_any(&path).unwrap_err().to_string();
/// assert!(error.starts_with(&path.display().to_string()));
/// # Ok::<(), std::io::Error>(())
/// ```
pub fn load_any(path: &Path) -> Result<Model, ExportError> {
    let io = |source| ExportError::Io {
        path: path.to_path_buf(),
        source,
    };
    let file = nn_core::atomic::open_to_read(path).map_err(io)?;
    let mut bytes = Vec::new();
    file.take(MAX_FILE_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(io)?;
    let first = bytes.iter().find(|b| !b.is_ascii_whitespace());
    if first == Some(&b'{') {
        // nn's JSON, read by nn-core with its own (larger) limit.
        drop(bytes);
        return Ok(nn_core::load_model(path)?);
    }
    if bytes.len() as u64 > MAX_FILE_BYTES {
        return Err(ExportError::TooLarge {
            path: path.to_path_buf(),
            bytes: std::fs::metadata(path).map_or(bytes.len() as u64, |m| m.len()),
            limit: MAX_FILE_BYTES,
        });
    }
    let refused = |e: ExportError| match e {
        ExportError::Invalid(reason) => ExportError::Refused {
            path: path.to_path_buf(),
            reason,
        },
        other => other,
    };
    if bytes.len() > 8 && bytes[8] == b'{' {
        from_safetensors(&bytes).map_err(refused)
    } else {
        from_onnx(&bytes).map_err(refused)
    }
}

/// A layer's weights as rows of `[out, in]`, row-major, and its biases.
fn layer_rows(network: &Network, layer: usize) -> (Vec<f32>, Vec<f32>) {
    // nalgebra stores a matrix by columns: the transpose's columns are the rows.
    let rows = network.weights(layer).transpose().as_slice().to_vec();
    (rows, network.biases(layer).iter().copied().collect())
}

/// One layer read from a file: weights as rows of `[out, in]`, biases, activation spec.
struct Layer {
    out: usize,
    inputs: usize,
    weights: Vec<f32>,
    biases: Vec<f32>,
    activation: String,
}

/// Builds a network from layers that must chain (each layer's inputs the previous one's
/// outputs), with finite weights.
fn build_network(layers: &[Layer]) -> Result<Network, ExportError> {
    let invalid = ExportError::Invalid;
    let Some(first) = layers.first() else {
        return Err(invalid("the model has no layers".into()));
    };
    let mut sizes = vec![first.inputs];
    for (l, layer) in layers.iter().enumerate() {
        if layer.inputs != sizes[l] {
            return Err(invalid(format!(
                "layer {l} takes {} inputs but the layer before gives {}: the layers do not chain",
                layer.inputs, sizes[l]
            )));
        }
        if layer.weights.len() != layer.out * layer.inputs || layer.biases.len() != layer.out {
            return Err(invalid(format!(
                "layer {l}: weights or biases of the wrong size"
            )));
        }
        if let Some(v) = layer
            .weights
            .iter()
            .chain(&layer.biases)
            .find(|v| !v.is_finite())
        {
            return Err(invalid(format!(
                "layer {l} has a weight or bias {v}, not a finite number"
            )));
        }
        sizes.push(layer.out);
    }
    let activations = layers
        .iter()
        .map(|l| activation_from_spec(&l.activation))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| invalid(e.to_string()))?;
    let mut network = Network::zeros(&sizes, activations).map_err(|e| invalid(e.to_string()))?;
    let shapes = network.layers().to_vec();
    let params = network.params_mut();
    for (layer, shape) in layers.iter().zip(&shapes) {
        for r in 0..shape.rows {
            for c in 0..shape.cols {
                params[shape.weights.start + c * shape.rows + r] =
                    layer.weights[r * shape.cols + c];
            }
        }
        params[shape.biases.clone()].copy_from_slice(&layer.biases);
    }
    Ok(network)
}
