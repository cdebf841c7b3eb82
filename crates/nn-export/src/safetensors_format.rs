//! safetensors: the weights as PyTorch's `nn.Sequential` names them, everything else in the
//! header's `__metadata__`.

use std::collections::{HashMap, HashSet};
use std::fmt;
use std::marker::PhantomData;

use nn_core::{Framing, MAX_LAYERS, Model, Network, Standardization};
use safetensors::{Dtype, tensor::TensorView};
use serde::Deserialize;
use serde::de::{Deserializer, Error as _, MapAccess, SeqAccess, Visitor};

use crate::{
    ExportError, Layer, MAX_LIST, MAX_TENSORS, build_network, check_finite, layer_rows, one_line,
    shown,
};

/// The `nn.Sequential` index of each layer's `Linear` module: each `Linear` and each activation
/// module (every activation but the identity, which has none) takes one index.
fn module_indices(specs: &[String]) -> Vec<usize> {
    let mut next = 0;
    specs
        .iter()
        .map(|spec| {
            let index = next;
            next += if spec == "identity" { 1 } else { 2 };
            index
        })
        .collect()
}

fn le_bytes(values: &[f32]) -> Vec<u8> {
    values.iter().flat_map(|v| v.to_le_bytes()).collect()
}

/// The network as a safetensors file: `0.weight` `[out, in]`, `0.bias` `[out]`, `2.weight`,
/// ... in float32, and in `__metadata__` the keys `format` (`nn`), `nn_version`, `sizes`,
/// `activations` (JSON lists), `cost`, and `standardization` and `framing` (JSON) when the
/// network has them. The standardization is kept as nn stores it, not folded into the
/// weights: a reader applies `(x - mean) / std` itself. Refuses a network that is not finite.
///
/// ```
/// use nn_core::{Initializer, Network};
/// let network = Network::sigmoid(&[3, 2], Initializer::Default, 1)?;
/// let bytes = nn_export::to_safetensors(&network, "QuadraticCost")?;
/// let back = nn_export::from_safetensors(&bytes)?;
/// assert_eq!(back.network.params(), network.params());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn to_safetensors(network: &Network, cost: &str) -> Result<Vec<u8>, ExportError> {
    check_finite(network)?;
    let specs: Vec<String> = network.activations().iter().map(|a| a.spec()).collect();
    let mut data = Vec::new();
    for (l, index) in module_indices(&specs).into_iter().enumerate() {
        let shape = &network.layers()[l];
        let (weights, biases) = layer_rows(network, l);
        data.push((
            format!("{index}.weight"),
            vec![shape.rows, shape.cols],
            le_bytes(&weights),
        ));
        data.push((format!("{index}.bias"), vec![shape.rows], le_bytes(&biases)));
    }
    let mut metadata = HashMap::from([
        ("format".to_string(), "nn".to_string()),
        ("nn_version".into(), env!("CARGO_PKG_VERSION").into()),
        ("sizes".into(), to_json(&network.sizes().to_vec())),
        ("activations".into(), to_json(&specs)),
        ("cost".into(), cost.into()),
    ]);
    if !network.standardization().is_none() {
        metadata.insert("standardization".into(), to_json(network.standardization()));
    }
    if let Some(framing) = network.framing() {
        metadata.insert("framing".into(), to_json(&framing));
    }
    let views = data
        .iter()
        .map(|(name, shape, bytes)| {
            TensorView::new(Dtype::F32, shape.clone(), bytes)
                .map(|view| (name.clone(), view))
                .map_err(|e| ExportError::Invalid(e.to_string()))
        })
        .collect::<Result<Vec<_>, _>>()?;
    safetensors::serialize(views, Some(metadata)).map_err(|e| ExportError::Invalid(e.to_string()))
}

/// A metadata value as JSON.
pub(crate) fn to_json(value: &impl serde::Serialize) -> String {
    serde_json::to_string(value).expect("sizes, names and statistics always serialize")
}

/// The largest safetensors header nn reads: 100,000,000 bytes, the limit of the safetensors
/// crate's own reader. nn's headers take about 70 bytes a tensor, and 21 an input for a
/// per-pixel standardization: 17,000 bytes for a [784, 30, 10] network with one.
pub const MAX_HEADER_BYTES: usize = 100_000_000;

/// The most dimensions a tensor of a safetensors file may have: 8 (nn's have one or two).
const MAX_RANK: usize = 8;

/// A JSON list of at most `N` entries, refused at the first one more, so that a list of
/// millions costs no memory.
struct Bounded<T, const N: usize>(Vec<T>);

impl<'de, T: Deserialize<'de>, const N: usize> Deserialize<'de> for Bounded<T, N> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct List<T, const N: usize>(PhantomData<T>);
        impl<'de, T: Deserialize<'de>, const N: usize> Visitor<'de> for List<T, N> {
            type Value = Bounded<T, N>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                write!(f, "a list of at most {N} entries")
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
                let mut values = Vec::new();
                while let Some(value) = seq.next_element()? {
                    if values.len() == N {
                        return Err(A::Error::custom(format!("a list of more than {N} entries")));
                    }
                    values.push(value);
                }
                Ok(Bounded(values))
            }
        }
        deserializer.deserialize_seq(List(PhantomData))
    }
}

/// A tensor's entry in the header.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Entry {
    dtype: String,
    shape: Bounded<u64, MAX_RANK>,
    data_offsets: [u64; 2],
}

/// A JSON object read key by key, each key at most once, into `Self` (a [`Default`] to which
/// [`Object::entry`] adds each entry), so that a limit on its entries is applied before one
/// more is read.
trait Object: Default {
    /// What the object is, for serde's error messages.
    const EXPECTING: &'static str;

    /// Reads the value of `key` from `map` into `self`.
    fn entry<'de, A: MapAccess<'de>>(&mut self, key: String, map: &mut A) -> Result<(), A::Error>;
}

/// Deserializes an [`Object`].
struct ObjectVisitor<T>(PhantomData<T>);

impl<'de, T: Object> Visitor<'de> for ObjectVisitor<T> {
    type Value = T;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str(T::EXPECTING)
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<T, A::Error> {
        let mut object = T::default();
        let mut keys = HashSet::new();
        while let Some(key) = map.next_key::<String>()? {
            if !keys.insert(key.clone()) {
                return Err(A::Error::custom(format!("{} given twice", shown(&key))));
            }
            object.entry(key, &mut map)?;
        }
        Ok(object)
    }
}

/// The header: `__metadata__` (at most [`MAX_LIST`] entries) and at most [`MAX_TENSORS`]
/// tensors, each named once, in the header's order.
#[derive(Default)]
struct Header {
    metadata: HashMap<String, String>,
    tensors: Vec<(String, Entry)>,
}

impl Object for Header {
    const EXPECTING: &'static str = "a safetensors header";
    fn entry<'de, A: MapAccess<'de>>(&mut self, key: String, map: &mut A) -> Result<(), A::Error> {
        if key == "__metadata__" {
            self.metadata = map.next_value::<Metadata>()?.0;
        } else if self.tensors.len() == MAX_TENSORS {
            return Err(A::Error::custom(format!("more than {MAX_TENSORS} tensors")));
        } else {
            self.tensors.push((key, map.next_value()?));
        }
        Ok(())
    }
}

/// The header's `__metadata__`: at most [`MAX_LIST`] strings by name.
#[derive(Default)]
struct Metadata(HashMap<String, String>);

impl Object for Metadata {
    const EXPECTING: &'static str = "__metadata__: strings by name";
    fn entry<'de, A: MapAccess<'de>>(&mut self, key: String, map: &mut A) -> Result<(), A::Error> {
        if self.0.len() == MAX_LIST {
            return Err(A::Error::custom(format!(
                "__metadata__ of more than {MAX_LIST} entries"
            )));
        }
        self.0.insert(key, map.next_value()?);
        Ok(())
    }
}

impl<'de> Deserialize<'de> for Header {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_map(ObjectVisitor(PhantomData))
    }
}

impl<'de> Deserialize<'de> for Metadata {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_map(ObjectVisitor(PhantomData))
    }
}

/// Reads a safetensors file written by [`to_safetensors`] (its `__metadata__` gives the
/// activations, which the tensors alone do not), checking before anything is allocated that
/// the header's length is within the file and at most [`MAX_HEADER_BYTES`], and then every
/// tensor: type F32, a shape whose element count can be counted, data offsets within the file
/// and of the shape's size, laid end to end; the tensors are exactly the weights and biases of
/// the layers `sizes` and `activations` describe, each weight finite.
///
/// ```
/// // A header length past the end of the file.
/// let mut bytes = 1000u64.to_le_bytes().to_vec();
/// bytes.extend_from_slice(b"{}");
/// let error = nn_export::from_safetensors(&bytes).unwrap_err().to_string();
/// assert!(error.contains("a header of 1000 bytes, but only 2"), "{error}");
/// ```
pub fn from_safetensors(bytes: &[u8]) -> Result<Model, ExportError> {
    let invalid =
        |m: String| ExportError::Invalid(format!("not a safetensors model nn can read: {m}"));
    let Some((length, rest)) = bytes.split_first_chunk::<8>() else {
        return Err(invalid("shorter than its 8-byte header length".into()));
    };
    let claimed = u64::from_le_bytes(*length);
    if claimed > rest.len() as u64 {
        return Err(ExportError::HeaderPastEnd {
            claimed,
            left: rest.len(),
        });
    }
    if claimed > MAX_HEADER_BYTES as u64 {
        return Err(ExportError::HeaderTooLarge {
            bytes: claimed,
            limit: MAX_HEADER_BYTES,
        });
    }
    let (header, data) = rest.split_at(claimed as usize);
    let header: Header = serde_json::from_slice(header)
        .map_err(|e| invalid(format!("its header: {}", one_line(e))))?;
    let mut spans = Vec::with_capacity(header.tensors.len());
    for (name, entry) in &header.tensors {
        let [start, end] = entry.data_offsets;
        if start > end || end > data.len() as u64 {
            return Err(ExportError::OffsetsPastEnd {
                name: shown(name),
                start,
                end,
                data: data.len(),
            });
        }
        if entry.dtype != "F32" {
            return Err(invalid(format!(
                "tensor {} is {}, not F32",
                shown(name),
                shown(&entry.dtype)
            )));
        }
        let shape = &entry.shape.0;
        let needed = shape
            .iter()
            .try_fold(4u64, |n, &d| n.checked_mul(d))
            .ok_or_else(|| {
                invalid(format!(
                    "tensor {}: shape {shape:?} has more elements than can be counted",
                    shown(name)
                ))
            })?;
        if end - start != needed {
            return Err(invalid(format!(
                "tensor {}: data offsets [{start}, {end}] hold {} bytes where shape {shape:?} \
                 needs {needed}",
                shown(name),
                end - start
            )));
        }
        spans.push((start, end, name));
    }
    spans.sort();
    let mut at = 0;
    for (start, end, name) in spans {
        if start != at {
            return Err(invalid(format!(
                "tensor {}'s data starts at byte {start}, where the tensors before end at {at}",
                shown(name)
            )));
        }
        at = end;
    }
    if at != data.len() as u64 {
        return Err(invalid(format!(
            "{} bytes after the last tensor's data",
            data.len() as u64 - at
        )));
    }
    let metadata = &header.metadata;
    let get = |key: &str| {
        metadata
            .get(key)
            .ok_or_else(|| invalid(format!("its __metadata__ has no '{key}'")))
    };
    let sizes: Bounded<usize, { MAX_LAYERS + 1 }> = serde_json::from_str(get("sizes")?)
        .map_err(|e| invalid(format!("'sizes' is not a list of sizes: {}", one_line(e))))?;
    let specs: Bounded<String, MAX_LAYERS> =
        serde_json::from_str(get("activations")?).map_err(|e| {
            invalid(format!(
                "'activations' is not a list of names: {}",
                one_line(e)
            ))
        })?;
    let (sizes, specs) = (sizes.0, specs.0);
    Network::check_sizes(&sizes).map_err(|e| invalid(one_line(e)))?;
    if specs.len() + 1 != sizes.len() {
        return Err(invalid(format!(
            "{} activations for {} layers",
            specs.len(),
            sizes.len() - 1
        )));
    }
    let indices = module_indices(&specs);
    let names: HashSet<String> = indices
        .iter()
        .flat_map(|i| [format!("{i}.weight"), format!("{i}.bias")])
        .collect();
    if let Some((extra, _)) = header.tensors.iter().find(|(n, _)| !names.contains(n)) {
        return Err(invalid(format!(
            "tensor {} is none of the weights and biases of the layers its sizes and \
             activations describe",
            shown(extra)
        )));
    }
    let read = |name: &str, shape: &[usize], what: &str| -> Result<Vec<f32>, ExportError> {
        let (_, entry) = header
            .tensors
            .iter()
            .find(|(n, _)| n == name)
            .ok_or_else(|| invalid(format!("no tensor '{name}' ({what})")))?;
        if !entry
            .shape
            .0
            .iter()
            .copied()
            .eq(shape.iter().map(|&d| d as u64))
        {
            return Err(invalid(format!(
                "tensor '{name}' ({what}) has the shape {:?}, not {shape:?}",
                entry.shape.0
            )));
        }
        let [start, end] = entry.data_offsets;
        Ok(data[start as usize..end as usize]
            .chunks_exact(4)
            .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
            .collect())
    };
    let mut layers = Vec::new();
    for (l, index) in indices.iter().enumerate() {
        let (out, inputs) = (sizes[l + 1], sizes[l]);
        layers.push(Layer {
            out,
            inputs,
            weights: read(
                &format!("{index}.weight"),
                &[out, inputs],
                &format!("layer {l}'s weights"),
            )?,
            biases: read(
                &format!("{index}.bias"),
                &[out],
                &format!("layer {l}'s biases"),
            )?,
            activation: specs[l].clone(),
        });
    }
    let mut network = build_network(&layers).map_err(|e| invalid(e.to_string()))?;
    if let Some(text) = metadata.get("standardization") {
        let standardization: Standardization = serde_json::from_str(text)
            .map_err(|e| invalid(format!("'standardization': {}", one_line(e))))?;
        network
            .set_standardization(standardization)
            .map_err(|e| invalid(one_line(e)))?;
    }
    if let Some(text) = metadata.get("framing") {
        let framing: Framing = serde_json::from_str(text)
            .map_err(|e| invalid(format!("'framing': {}", one_line(e))))?;
        network.set_framing(Some(framing));
    }
    Ok(Model {
        network,
        cost: get("cost")?.clone(),
    })
}
