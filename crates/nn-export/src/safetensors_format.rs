//! safetensors: the weights as PyTorch's `nn.Sequential` names them, everything else in the
//! header's `__metadata__`.

use std::collections::HashMap;

use nn_core::{Framing, Model, Network, Standardization};
use safetensors::{Dtype, SafeTensors, tensor::TensorView};

use crate::{ExportError, Layer, build_network, check_finite, layer_rows};

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

/// Reads a safetensors file written by [`to_safetensors`] (its `__metadata__` gives the
/// activations, which the tensors alone do not), checking every name, shape, type and number.
pub fn from_safetensors(bytes: &[u8]) -> Result<Model, ExportError> {
    let invalid =
        |m: String| ExportError::Invalid(format!("not a safetensors model nn can read: {m}"));
    let tensors = SafeTensors::deserialize(bytes).map_err(|e| invalid(e.to_string()))?;
    let (_, header) = SafeTensors::read_metadata(bytes).map_err(|e| invalid(e.to_string()))?;
    let empty = HashMap::new();
    let metadata = header.metadata().as_ref().unwrap_or(&empty);
    let get = |key: &str| {
        metadata
            .get(key)
            .ok_or_else(|| invalid(format!("its __metadata__ has no '{key}'")))
    };
    let parse = |key: &str, what: &str| -> Result<serde_json::Value, ExportError> {
        serde_json::from_str(get(key)?).map_err(|e| invalid(format!("'{key}' is not {what}: {e}")))
    };
    let sizes: Vec<usize> = serde_json::from_value(parse("sizes", "a list of sizes")?)
        .map_err(|e| invalid(format!("'sizes': {e}")))?;
    let specs: Vec<String> = serde_json::from_value(parse("activations", "a list of names")?)
        .map_err(|e| invalid(format!("'activations': {e}")))?;
    Network::check_sizes(&sizes).map_err(|e| invalid(e.to_string()))?;
    if specs.len() + 1 != sizes.len() {
        return Err(invalid(format!(
            "{} activations for {} layers",
            specs.len(),
            sizes.len() - 1
        )));
    }
    let indices = module_indices(&specs);
    let expected = 2 * indices.len();
    if tensors.len() != expected {
        return Err(invalid(format!(
            "{} tensors where {} layers need {expected}",
            tensors.len(),
            indices.len()
        )));
    }
    let read = |name: &str, shape: &[usize]| -> Result<Vec<f32>, ExportError> {
        let view = tensors
            .tensor(name)
            .map_err(|_| invalid(format!("no tensor '{name}'")))?;
        if view.dtype() != Dtype::F32 || view.shape() != shape {
            return Err(invalid(format!(
                "tensor '{name}' is {:?} {:?}, not F32 {shape:?}",
                view.dtype(),
                view.shape()
            )));
        }
        Ok(view
            .data()
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
            weights: read(&format!("{index}.weight"), &[out, inputs])?,
            biases: read(&format!("{index}.bias"), &[out])?,
            activation: specs[l].clone(),
        });
    }
    let mut network = build_network(&layers).map_err(|e| invalid(e.to_string()))?;
    if let Some(text) = metadata.get("standardization") {
        let standardization: Standardization =
            serde_json::from_str(text).map_err(|e| invalid(format!("'standardization': {e}")))?;
        network
            .set_standardization(standardization)
            .map_err(|e| invalid(e.to_string()))?;
    }
    if let Some(text) = metadata.get("framing") {
        let framing: Framing =
            serde_json::from_str(text).map_err(|e| invalid(format!("'framing': {e}")))?;
        network.set_framing(Some(framing));
    }
    Ok(Model {
        network,
        cost: get("cost")?.clone(),
    })
}
