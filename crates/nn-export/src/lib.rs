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
mod onnx_structure;
mod safetensors_format;

pub use onnx::{MAX_OPSET, MIN_OPSET, from_onnx, to_onnx};
pub use onnx_structure::{MAX_LIST, MAX_NODES, MAX_STRUCTURE_BYTES, MAX_TENSORS};
pub use safetensors_format::{MAX_HEADER_BYTES, from_safetensors, to_safetensors};

/// The largest ONNX or safetensors file [`load_any`] reads, 512 MiB (nn's JSON files have
/// their own limit, [`nn_core::model::MAX_MODEL_FILE_BYTES`]).
pub const MAX_FILE_BYTES: u64 = 512 << 20;

/// How much of a file [`load_any`] reads to tell its format: 4 KiB.
pub const HEAD_BYTES: u64 = 4096;

/// What went wrong exporting or loading a model. Each message is one line; names and other
/// text taken from a file are quoted with their control characters escaped and shortened to
/// [`MAX_SHOWN_CHARS`] characters, so a hostile file cannot make it longer or break it.
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
    /// The file's contents are not a network nn can read ([`load_any`] gives every error of
    /// [`from_onnx`] and [`from_safetensors`] the file's name this way).
    #[error("{path}: {source}")]
    Refused {
        /// The file.
        path: PathBuf,
        /// What is wrong, or the first thing that is not supported.
        source: Box<ExportError>,
    },
    /// Bytes that are not a network nn can read (no file involved).
    #[error("{0}")]
    Invalid(String),
    /// The bytes are not protobuf as ONNX encodes it.
    #[error("not an ONNX model (protobuf: {0})")]
    Protobuf(#[from] prost::DecodeError),
    /// A length-delimited protobuf field claims more bytes than its message has left.
    #[error("not an ONNX model: {message}.{field} claims {claimed} bytes where {left} are left")]
    LengthPastEnd {
        /// The message holding the field.
        message: &'static str,
        /// The field.
        field: &'static str,
        /// The length it claims.
        claimed: u64,
        /// The bytes left in the message.
        left: usize,
    },
    /// A list of an ONNX file holds more entries than any network nn reads needs
    /// ([`MAX_NODES`], [`MAX_TENSORS`], [`MAX_LIST`]).
    #[error("more than {limit} {what}, more than any network nn reads has")]
    TooMany {
        /// What there are too many of.
        what: &'static str,
        /// The limit.
        limit: usize,
    },
    /// An ONNX file's structure besides its weights would take more than
    /// [`MAX_STRUCTURE_BYTES`] of memory.
    #[error(
        "the model's names, shapes and attributes would take more than {limit} bytes of memory"
    )]
    TooMuchStructure {
        /// The limit.
        limit: usize,
    },
    /// A protobuf message field that is not repeated is given twice.
    #[error("not an ONNX model nn reads: {message}.{field} is given twice")]
    FieldTwice {
        /// The message holding the field.
        message: &'static str,
        /// The field.
        field: &'static str,
    },
    /// A safetensors file's 8-byte header length goes past the end of the file.
    #[error(
        "not a safetensors model: a header of {claimed} bytes, but only {left} bytes follow its \
         length"
    )]
    HeaderPastEnd {
        /// The header length the file claims.
        claimed: u64,
        /// The bytes after the length.
        left: usize,
    },
    /// A safetensors header is larger than [`MAX_HEADER_BYTES`].
    #[error("not a safetensors model nn reads: a header of {bytes} bytes, more than {limit}")]
    HeaderTooLarge {
        /// The header length the file claims.
        bytes: u64,
        /// The limit.
        limit: usize,
    },
    /// A safetensors tensor's data offsets go past the end of the file's data.
    #[error(
        "not a safetensors model: tensor {name} has data offsets [{start}, {end}] beyond the \
         {data} bytes of data"
    )]
    OffsetsPastEnd {
        /// The tensor's name, quoted.
        name: String,
        /// Where its data starts.
        start: u64,
        /// Where it ends.
        end: u64,
        /// The bytes of data the file holds.
        data: usize,
    },
    /// The network has a weight or bias that is NaN or infinite.
    #[error("the network has a weight or bias that is not finite: refusing to export it")]
    NotFinite,
    /// The output would overwrite the model it is made from.
    #[error("{0}: the output is the input model itself")]
    SameAsInput(PathBuf),
    /// The output exists and is not a regular file.
    #[error(
        "{path}: {kind}, not a regular file: a model is written only to a new or a regular file"
    )]
    NotARegularFile {
        /// The output.
        path: PathBuf,
        /// What it is: a directory, a device, a named pipe or a socket.
        kind: &'static str,
    },
    /// The output's folder does not exist.
    #[error("{path}: the folder {folder} does not exist")]
    MissingFolder {
        /// The output.
        path: PathBuf,
        /// Its folder.
        folder: PathBuf,
    },
    /// The output's extension names no format.
    #[error("{0}: unknown format: use a name ending in .onnx, .safetensors or .json")]
    UnknownFormat(PathBuf),
    /// Loading nn's JSON model failed.
    #[error(transparent)]
    Network(#[from] NetworkError),
}

/// The most characters of a name or other text from a file that an error message shows: 80.
pub const MAX_SHOWN_CHARS: usize = 80;

/// Text from a file as an error message shows it: in single quotes, control characters
/// escaped, at most [`MAX_SHOWN_CHARS`] characters (then `...`).
pub(crate) fn shown(text: &str) -> String {
    format!("'{}'", escaped(text, MAX_SHOWN_CHARS))
}

/// Another library's error message, which may quote text from the file, as one line of at
/// most four times [`MAX_SHOWN_CHARS`] characters.
pub(crate) fn one_line(error: impl std::fmt::Display) -> String {
    escaped(&error.to_string(), 4 * MAX_SHOWN_CHARS)
}

/// `text` with its control characters (line breaks among them) escaped, cut after `most`
/// characters.
pub(crate) fn escaped(text: &str, most: usize) -> String {
    let mut out = String::new();
    for (i, c) in text.chars().enumerate() {
        if i == most {
            out.push_str("...");
            break;
        }
        if c.is_control() {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    out
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
    /// The format named by a path's extension, in any case.
    ///
    /// ```
    /// use nn_export::Format;
    /// assert_eq!(Format::from_path("m.onnx".as_ref())?, Format::Onnx);
    /// assert_eq!(Format::from_path("M.ONNX".as_ref())?, Format::Onnx);
    /// assert!(Format::from_path("m.txt".as_ref()).is_err());
    /// # Ok::<(), nn_export::ExportError>(())
    /// ```
    pub fn from_path(path: &Path) -> Result<Self, ExportError> {
        let extension = path.extension().and_then(|e| e.to_str());
        match extension.map(str::to_ascii_lowercase).as_deref() {
            Some("onnx") => Ok(Self::Onnx),
            Some("safetensors") => Ok(Self::Safetensors),
            Some("json") => Ok(Self::Json),
            _ => Err(ExportError::UnknownFormat(path.to_path_buf())),
        }
    }
}

/// Writes `model` to `out` atomically in the format its extension names (in any case),
/// refusing a network that is not finite, an `out` that is the file `input` (the model's own
/// file, under another name, through a symbolic link or as a hard link), an `out` that exists
/// and is not a regular file (a directory, a device, a named pipe, a socket, or a link to one),
/// and an `out` whose folder does not exist, before anything is written.
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
    check_output(input, out)?;
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

/// Checks that `out` may be written: its folder exists, and it is new or a regular file
/// (links followed) other than `input`.
fn check_output(input: Option<&Path>, out: &Path) -> Result<(), ExportError> {
    let io = |source| ExportError::Io {
        path: out.to_path_buf(),
        source,
    };
    let existing = match std::fs::metadata(out) {
        Ok(meta) => meta,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            if let Some(folder) = out.parent().filter(|f| !f.as_os_str().is_empty())
                && !folder.is_dir()
            {
                return Err(ExportError::MissingFolder {
                    path: out.to_path_buf(),
                    folder: folder.to_path_buf(),
                });
            }
            return Ok(());
        }
        Err(e) => return Err(io(e)),
    };
    if let Some(kind) = not_regular(&existing.file_type()) {
        return Err(ExportError::NotARegularFile {
            path: out.to_path_buf(),
            kind,
        });
    }
    if let Some(input) = input
        && nn_core::atomic::same_place(input, out)
    {
        return Err(ExportError::SameAsInput(out.to_path_buf()));
    }
    Ok(())
}

/// What a file that is not a regular one is, or `None` for a regular file.
fn not_regular(kind: &std::fs::FileType) -> Option<&'static str> {
    if kind.is_file() {
        return None;
    }
    if kind.is_dir() {
        return Some("a directory");
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        if kind.is_fifo() {
            return Some("a named pipe");
        }
        if kind.is_socket() {
            return Some("a socket");
        }
        if kind.is_block_device() || kind.is_char_device() {
            return Some("a device");
        }
    }
    Some("not a file")
}

fn check_finite(network: &Network) -> Result<(), ExportError> {
    if network.is_finite() {
        Ok(())
    } else {
        Err(ExportError::NotFinite)
    }
}

/// Loads a model from nn's JSON, safetensors or ONNX, telling them apart by their first
/// [`HEAD_BYTES`]: safetensors starts with an 8-byte little-endian header length and then
/// `{`, JSON with `{` (after white space), and anything else is read as ONNX. An ONNX or
/// safetensors file larger than [`MAX_FILE_BYTES`] is refused from its length, without being
/// read further, and the read itself stops at the limit.
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
    let length = file.metadata().map_or(0, |m| m.len());
    let mut reader = file.take(MAX_FILE_BYTES + 1);
    let mut bytes = Vec::new();
    reader
        .by_ref()
        .take(HEAD_BYTES)
        .read_to_end(&mut bytes)
        .map_err(io)?;
    let first = bytes.iter().find(|b| !b.is_ascii_whitespace());
    if first == Some(&b'{') && !is_safetensors(&bytes) {
        // nn's JSON, read by nn-core with its own (larger) limit.
        drop(bytes);
        return Ok(nn_core::load_model(path)?);
    }
    let too_large = |bytes: u64| ExportError::TooLarge {
        path: path.to_path_buf(),
        bytes,
        limit: MAX_FILE_BYTES,
    };
    if length > MAX_FILE_BYTES {
        return Err(too_large(length));
    }
    // A regular file's length sizes the buffer once; a device reads into a growing one, and
    // a file that grows meanwhile is cut at the limit.
    bytes.reserve(usize::try_from(length).map_or(0, |n| n.saturating_sub(bytes.len())));
    reader.read_to_end(&mut bytes).map_err(io)?;
    if bytes.len() as u64 > MAX_FILE_BYTES {
        return Err(too_large(bytes.len() as u64));
    }
    let refused = |e: ExportError| ExportError::Refused {
        path: path.to_path_buf(),
        source: Box::new(e),
    };
    if is_safetensors(&bytes) {
        from_safetensors(&bytes).map_err(refused)
    } else {
        from_onnx(&bytes).map_err(refused)
    }
}

/// Whether `bytes` start as a safetensors file: `{` after 8 bytes of header length, one of
/// which at least is not text (a header length below 2⁵⁶ has a zero byte; the first 8 bytes of
/// a JSON text are printable or white space, even when a header length's low byte happens to
/// be a `{` or a space).
fn is_safetensors(bytes: &[u8]) -> bool {
    match bytes.split_first_chunk::<8>() {
        Some((length, [b'{', ..])) => length
            .iter()
            .any(|b| !(b.is_ascii_graphic() || b.is_ascii_whitespace())),
        _ => false,
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
        if Some(layer.weights.len()) != layer.out.checked_mul(layer.inputs)
            || layer.biases.len() != layer.out
        {
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
        .map_err(|e| invalid(one_line(e)))?;
    let mut network = Network::zeros(&sizes, activations).map_err(|e| invalid(one_line(e)))?;
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
