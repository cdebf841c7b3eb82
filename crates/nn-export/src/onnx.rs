//! ONNX: writing a network as Gemm and activation nodes, and reading back the graphs of
//! `Linear` layers that nn and `torch.onnx.export` write.

use std::collections::HashMap;

use nn_core::{ActivationKind, Framing, MAX_PARAMETERS, Model, Network};
use prost::Message;

use crate::onnx_proto::{
    AttributeProto, DATA_LOCATION_EXTERNAL, Dimension, GraphProto, ModelProto, NodeProto,
    OperatorSetIdProto, StringStringEntryProto, TensorProto, TensorShapeProto, TypeProto,
    TypeProtoTensor, ValueInfoProto, attribute_type, data_type,
};
use crate::safetensors_format::to_json;
use crate::{ExportError, Layer, build_network, check_finite, layer_rows};

/// The ONNX IR version written (ONNX 1.10 and later read it).
const IR_VERSION: i64 = 8;
/// The operator set written.
const OPSET: i64 = 13;

fn int_attribute(name: &str, value: i64) -> AttributeProto {
    AttributeProto {
        name: name.into(),
        r#type: attribute_type::INT,
        i: Some(value),
        ..Default::default()
    }
}

fn node(op: &str, inputs: &[&str], output: &str, attribute: Vec<AttributeProto>) -> NodeProto {
    NodeProto {
        input: inputs.iter().map(|s| s.to_string()).collect(),
        output: vec![output.into()],
        name: format!("{op}_{output}"),
        op_type: op.into(),
        attribute,
        ..Default::default()
    }
}

fn float_tensor(name: String, dims: &[usize], values: &[f32]) -> TensorProto {
    TensorProto {
        dims: dims.iter().map(|&d| d as i64).collect(),
        data_type: data_type::FLOAT,
        name,
        raw_data: values.iter().flat_map(|v| v.to_le_bytes()).collect(),
        ..Default::default()
    }
}

fn value_info(name: &str, elem_type: i32, dims: &[Option<usize>]) -> ValueInfoProto {
    let dim = dims
        .iter()
        .map(|d| match d {
            Some(d) => Dimension {
                dim_value: Some(*d as i64),
                dim_param: None,
            },
            None => Dimension {
                dim_value: None,
                dim_param: Some("N".into()),
            },
        })
        .collect();
    ValueInfoProto {
        name: name.into(),
        r#type: Some(TypeProto {
            tensor_type: Some(TypeProtoTensor {
                elem_type,
                shape: Some(TensorShapeProto { dim }),
            }),
        }),
    }
}

/// The network as an ONNX model (IR version 8, opset 13): input `input` float32 `[N, n_in]`,
/// per layer a `Gemm` (`transB` = 1, weights `[out, in]`) and its activation (`Sigmoid`,
/// `Tanh`, `Relu`, `Softmax` on axis 1, none for the identity), output `output` `[N, k]` and
/// `label`, each row's most active output (int64, `ArgMax` on axis 1).
///
/// The input standardization x' = (x − μ)/σ is folded into the first layer: W' = W/σ and
/// b' = b − W(μ/σ), with σ as the standardization stores it (a pixel that never varies in
/// the training set has σ raised to its floor, [`nn_core::PIXEL_STD_FLOOR`] times the global
/// one). A softmax's temperature c is folded into its layer (W' = cW, b' = cb). The
/// metadata (`metadata_props`) records `sizes`, `activations`, `cost`, `nn_version`,
/// `standardization_folded` and `framing` when the network has them. Refuses a network that
/// is not finite.
pub fn to_onnx(network: &Network, cost: &str) -> Result<Vec<u8>, ExportError> {
    check_finite(network)?;
    let layers = network.layers().len();
    let mut initializer = Vec::new();
    let mut nodes = Vec::new();
    let mut current = "input".to_string();
    for l in 0..layers {
        let shape = &network.layers()[l];
        let (mut weights, mut biases) = layer_rows(network, l);
        if l == 0 {
            fold_standardization(network, &mut weights, &mut biases);
        }
        let activation = network.activations()[l].clone();
        let op = match activation.kind() {
            ActivationKind::Sigmoid => Some("Sigmoid"),
            ActivationKind::Softmax { temperature } => {
                weights.iter_mut().for_each(|w| *w *= temperature);
                biases.iter_mut().for_each(|b| *b *= temperature);
                Some("Softmax")
            }
            ActivationKind::Other => match activation.spec().as_str() {
                "tanh" => Some("Tanh"),
                "relu" => Some("Relu"),
                "identity" => None,
                other => {
                    return Err(ExportError::Invalid(format!(
                        "activation '{other}' has no ONNX operator here"
                    )));
                }
            },
        };
        let (w, b) = (format!("layer{l}.weight"), format!("layer{l}.bias"));
        initializer.push(float_tensor(w.clone(), &[shape.rows, shape.cols], &weights));
        initializer.push(float_tensor(b.clone(), &[shape.rows], &biases));
        let last = l + 1 == layers;
        let z = if last && op.is_none() {
            "output".to_string()
        } else {
            format!("layer{l}.z")
        };
        nodes.push(node(
            "Gemm",
            &[&current, &w, &b],
            &z,
            vec![int_attribute("transB", 1)],
        ));
        current = z;
        if let Some(op) = op {
            let a = if last {
                "output".to_string()
            } else {
                format!("layer{l}.a")
            };
            let attributes = if op == "Softmax" {
                vec![int_attribute("axis", 1)]
            } else {
                Vec::new()
            };
            nodes.push(node(op, &[&current], &a, attributes));
            current = a;
        }
    }
    nodes.push(node(
        "ArgMax",
        &["output"],
        "label",
        vec![int_attribute("axis", 1), int_attribute("keepdims", 0)],
    ));
    let specs: Vec<String> = network.activations().iter().map(|a| a.spec()).collect();
    let mut metadata = vec![
        ("sizes", to_json(&network.sizes().to_vec())),
        ("activations", to_json(&specs)),
        ("cost", cost.to_string()),
        ("nn_version", env!("CARGO_PKG_VERSION").to_string()),
    ];
    if !network.standardization().is_none() {
        metadata.push(("standardization_folded", to_json(network.standardization())));
    }
    if let Some(framing) = network.framing() {
        metadata.push(("framing", to_json(&framing)));
    }
    let model = ModelProto {
        ir_version: IR_VERSION,
        opset_import: vec![OperatorSetIdProto {
            domain: String::new(),
            version: OPSET,
        }],
        producer_name: "nn".into(),
        producer_version: env!("CARGO_PKG_VERSION").into(),
        doc_string: "A feedforward network exported by nn (Chapter 3 of Neural Networks and Deep \
                     Learning)"
            .into(),
        graph: Some(GraphProto {
            node: nodes,
            name: "nn".into(),
            initializer,
            input: vec![value_info(
                "input",
                data_type::FLOAT,
                &[None, Some(network.input_size())],
            )],
            output: vec![
                value_info(
                    "output",
                    data_type::FLOAT,
                    &[None, Some(network.output_size())],
                ),
                value_info("label", data_type::INT64, &[None]),
            ],
            ..Default::default()
        }),
        metadata_props: metadata
            .into_iter()
            .map(|(key, value)| StringStringEntryProto {
                key: key.into(),
                value,
            })
            .collect(),
    };
    Ok(model.encode_to_vec())
}

/// W' = W/σ, b' = b − W(μ/σ), in f64 before rounding to f32.
fn fold_standardization(network: &Network, weights: &mut [f32], biases: &mut [f32]) {
    let s = network.standardization();
    if s.is_none() {
        return;
    }
    let cols = network.input_size();
    let (mean, std) = (s.mean(), s.std());
    let at = |v: &[f32], c: usize| f64::from(if v.len() == 1 { v[0] } else { v[c] });
    for (row, b) in weights.chunks_exact_mut(cols).zip(biases.iter_mut()) {
        let mut shift = 0.0;
        for (c, w) in row.iter_mut().enumerate() {
            let w64 = f64::from(*w);
            shift += w64 * at(mean, c) / at(std, c);
            *w = (w64 / at(std, c)) as f32;
        }
        *b = (f64::from(*b) - shift) as f32;
    }
}

/// What the graph has computed so far: the layers, and whether the last one still awaits its
/// bias (a `MatMul` before its `Add`) or its activation.
struct Walk {
    layers: Vec<Layer>,
    awaiting_bias: bool,
    activated: bool,
}

/// Reads an ONNX model of `Linear` layers: what [`to_onnx`] writes, and what
/// `torch.onnx.export` writes for an `nn.Sequential` of `Linear` layers and activations:
/// `Gemm` (`transB` 0 or 1, `alpha` and `beta` 1) or `MatMul` then `Add`, `Sigmoid`, `Tanh`,
/// `Relu`, `Softmax` on the last axis, and before the first layer `Flatten`, `Identity` or
/// `Reshape`; a final `ArgMax` is allowed beside the output. Weights may be `raw_data` or
/// `float_data`, as initializers or `Constant` nodes; weights in external files are refused.
/// The cost and framing come from the metadata when it has them (the cost is `unknown`
/// otherwise).
///
/// ```
/// // Random bytes are refused with a message, not a panic.
/// assert!(nn_export::from_onnx(&[0x08, 0xff, 0xff, 0x42, 0x13]).is_err());
/// ```
pub fn from_onnx(bytes: &[u8]) -> Result<Model, ExportError> {
    let invalid = |m: String| ExportError::Invalid(m);
    let model = ModelProto::decode(bytes)
        .map_err(|e| invalid(format!("not an ONNX model (protobuf: {e})")))?;
    let Some(graph) = &model.graph else {
        return Err(invalid("not an ONNX model: no graph".into()));
    };
    if !graph.sparse_initializer.is_empty() {
        return Err(invalid("unsupported: sparse initializers".into()));
    }
    let mut constants: HashMap<&str, &TensorProto> = graph
        .initializer
        .iter()
        .map(|t| (t.name.as_str(), t))
        .collect();
    let inputs: Vec<&ValueInfoProto> = graph
        .input
        .iter()
        .filter(|i| !constants.contains_key(i.name.as_str()))
        .collect();
    let [input] = inputs.as_slice() else {
        return Err(invalid(format!(
            "unsupported: {} graph inputs besides the weights, not one",
            inputs.len()
        )));
    };
    let input_size = input_features(input)?;
    let mut current = input.name.clone();
    let mut side_outputs = Vec::new();
    let mut walk = Walk {
        layers: Vec::new(),
        awaiting_bias: false,
        activated: false,
    };
    for node in &graph.node {
        let op = node.op_type.as_str();
        let what = || format!("operator {op} (node '{}')", node.name);
        if !(node.domain.is_empty() || node.domain == "ai.onnx") {
            return Err(invalid(format!(
                "unsupported: {} of domain '{}'",
                what(),
                node.domain
            )));
        }
        if op == "Constant" {
            let [output] = node.output.as_slice() else {
                return Err(invalid(format!("{} has not one output", what())));
            };
            let value = node
                .attribute
                .iter()
                .find(|a| a.name == "value")
                .and_then(|a| a.t.as_ref())
                .ok_or_else(|| {
                    invalid(format!("unsupported: {} without a tensor value", what()))
                })?;
            constants.insert(output.as_str(), value);
            continue;
        }
        if node.input.first() != Some(&current) {
            return Err(invalid(format!(
                "unsupported: {} does not take the previous node's output '{current}'",
                what()
            )));
        }
        let [output] = node.output.as_slice() else {
            return Err(invalid(format!(
                "unsupported: {} with {} outputs",
                what(),
                node.output.len()
            )));
        };
        let attribute = |name: &str| node.attribute.iter().find(|a| a.name == name);
        let int = |name: &str, default: i64| attribute(name).and_then(|a| a.i).unwrap_or(default);
        let float = |name: &str| attribute(name).and_then(|a| a.f).unwrap_or(1.0);
        let constant = |i: usize| -> Result<&TensorProto, ExportError> {
            let name = node
                .input
                .get(i)
                .ok_or_else(|| invalid(format!("{} lacks input {i}", what())))?;
            constants.get(name.as_str()).copied().ok_or_else(|| {
                invalid(format!(
                    "unsupported: {}: input '{name}' is not a constant",
                    what()
                ))
            })
        };
        match op {
            "Flatten" | "Identity" | "Reshape" if walk.layers.is_empty() => {
                if op == "Flatten" && int("axis", 1) != 1 {
                    return Err(invalid(format!(
                        "unsupported: {} with axis other than 1",
                        what()
                    )));
                }
                if op == "Reshape" {
                    let shape = int64_values(constant(1)?)?;
                    let flat =
                        |d: i64| d == -1 || d == 0 || input_size.is_none_or(|n| d == n as i64);
                    if shape.len() != 2 || !flat(shape[1]) {
                        return Err(invalid(format!(
                            "unsupported: {} to shape {shape:?}, not [N, inputs]",
                            what()
                        )));
                    }
                }
            }
            "Gemm" | "MatMul" => {
                if walk.awaiting_bias {
                    return Err(invalid(format!(
                        "unsupported: {} after a MatMul without its Add",
                        what()
                    )));
                }
                let trans_b = if op == "Gemm" { int("transB", 0) } else { 0 };
                if op == "Gemm"
                    && (int("transA", 0) != 0
                        || !(trans_b == 0 || trans_b == 1)
                        || float("alpha") != 1.0
                        || float("beta") != 1.0)
                {
                    return Err(invalid(format!(
                        "unsupported: {} with transA, alpha or beta other than 0, 1, 1",
                        what()
                    )));
                }
                let w = constant(1)?;
                let dims = tensor_dims(w)?;
                let [a, b] = dims.as_slice() else {
                    return Err(invalid(format!(
                        "unsupported: {}: weights of shape {dims:?}",
                        what()
                    )));
                };
                let (out, inputs) = if trans_b == 1 { (*a, *b) } else { (*b, *a) };
                let raw = float_values(w)?;
                let weights = if trans_b == 1 {
                    raw
                } else {
                    let mut t = vec![0.0; raw.len()];
                    for i in 0..inputs {
                        for o in 0..out {
                            t[o * inputs + i] = raw[i * out + o];
                        }
                    }
                    t
                };
                let biases = match (op, node.input.get(2)) {
                    ("Gemm", Some(name)) if !name.is_empty() => {
                        let c = constant(2)?;
                        let dims = tensor_dims(c)?;
                        if !(dims == [out] || dims == [1, out]) {
                            return Err(invalid(format!(
                                "unsupported: {}: bias of shape {dims:?}",
                                what()
                            )));
                        }
                        float_values(c)?
                    }
                    _ => vec![0.0; out],
                };
                walk.layers.push(Layer {
                    out,
                    inputs,
                    weights,
                    biases,
                    activation: "identity".into(),
                });
                walk.awaiting_bias = op == "MatMul";
                walk.activated = false;
            }
            "Add" if walk.awaiting_bias => {
                let c = constant(1)?;
                let layer = walk.layers.last_mut().expect("a MatMul came first");
                if tensor_dims(c)? != [layer.out] {
                    return Err(invalid(format!(
                        "unsupported: {}: bias of shape {:?}",
                        what(),
                        c.dims
                    )));
                }
                layer.biases = float_values(c)?;
                walk.awaiting_bias = false;
            }
            "Sigmoid" | "Tanh" | "Relu" | "Softmax"
                if !walk.layers.is_empty() && !walk.activated =>
            {
                if op == "Softmax" {
                    let opset = model
                        .opset_import
                        .iter()
                        .find(|o| o.domain.is_empty() || o.domain == "ai.onnx")
                        .map_or(OPSET, |o| o.version);
                    let axis = int("axis", if opset >= 13 { -1 } else { 1 });
                    if !(axis == 1 || axis == -1) {
                        return Err(invalid(format!("unsupported: {} on axis {axis}", what())));
                    }
                }
                walk.awaiting_bias = false;
                walk.activated = true;
                walk.layers.last_mut().expect("checked above").activation = op.to_lowercase();
            }
            "ArgMax" => {
                side_outputs.push(output.clone());
                continue;
            }
            _ => return Err(invalid(format!("unsupported: {}", what()))),
        }
        current = output.clone();
    }
    if walk.awaiting_bias {
        return Err(invalid("unsupported: a MatMul without its Add".into()));
    }
    for output in &graph.output {
        if output.name != current && !side_outputs.contains(&output.name) {
            return Err(invalid(format!(
                "unsupported: graph output '{}' is not the last layer's '{current}'",
                output.name
            )));
        }
    }
    if !graph.output.iter().any(|o| o.name == current) {
        return Err(invalid(format!(
            "the graph does not output the last layer's '{current}'"
        )));
    }
    if let (Some(n), Some(first)) = (input_size, walk.layers.first())
        && first.inputs != n
    {
        return Err(invalid(format!(
            "the input has {n} features but the first layer takes {}",
            first.inputs
        )));
    }
    let mut network = build_network(&walk.layers)?;
    let meta = |key: &str| {
        model
            .metadata_props
            .iter()
            .find(|p| p.key == key)
            .map(|p| p.value.clone())
    };
    if let Some(text) = meta("framing") {
        let framing: Framing =
            serde_json::from_str(&text).map_err(|e| invalid(format!("metadata 'framing': {e}")))?;
        network.set_framing(Some(framing));
    }
    Ok(Model {
        network,
        cost: meta("cost").unwrap_or_else(|| "unknown".into()),
    })
}

/// The number of features per example of a graph input of shape `[N, features]` or
/// `[N, d1, d2, ...]` (flattened), when its dimensions are given.
fn input_features(input: &ValueInfoProto) -> Result<Option<usize>, ExportError> {
    let tensor = input
        .r#type
        .as_ref()
        .and_then(|t| t.tensor_type.as_ref())
        .ok_or_else(|| {
            ExportError::Invalid(format!(
                "unsupported: input '{}' is not a tensor",
                input.name
            ))
        })?;
    if tensor.elem_type != data_type::FLOAT {
        return Err(ExportError::Invalid(format!(
            "unsupported: input '{}' of element type {}, not float32",
            input.name, tensor.elem_type
        )));
    }
    let Some(shape) = &tensor.shape else {
        return Ok(None);
    };
    if shape.dim.len() < 2 {
        return Err(ExportError::Invalid(format!(
            "unsupported: input '{}' of rank {}, not [N, features]",
            input.name,
            shape.dim.len()
        )));
    }
    let mut features = Some(1usize);
    for d in &shape.dim[1..] {
        features = match (features, d.dim_value) {
            (Some(f), Some(v)) if v > 0 => f.checked_mul(v as usize),
            _ => None,
        };
    }
    Ok(features)
}

/// A tensor's dimensions, checked: none negative, at most [`MAX_PARAMETERS`] elements, and
/// its data in this file.
fn tensor_dims(t: &TensorProto) -> Result<Vec<usize>, ExportError> {
    let invalid = |m: String| ExportError::Invalid(format!("tensor '{}': {m}", t.name));
    if t.data_location == Some(DATA_LOCATION_EXTERNAL) || !t.external_data.is_empty() {
        return Err(invalid(
            "its data is in an external file, which is not read".into(),
        ));
    }
    let mut count = 1usize;
    let mut dims = Vec::with_capacity(t.dims.len());
    for &d in &t.dims {
        let d = usize::try_from(d).map_err(|_| invalid(format!("dimension {d}")))?;
        count = count
            .checked_mul(d)
            .filter(|&c| c <= MAX_PARAMETERS)
            .ok_or_else(|| invalid(format!("dimensions {:?}: too many elements", t.dims)))?;
        dims.push(d);
    }
    Ok(dims)
}

fn element_count(t: &TensorProto) -> Result<usize, ExportError> {
    Ok(tensor_dims(t)?.iter().product())
}

/// A float32 tensor's elements, from `raw_data` or `float_data`, whose length must match the
/// dimensions.
fn float_values(t: &TensorProto) -> Result<Vec<f32>, ExportError> {
    let count = element_count(t)?;
    let invalid = |m: String| ExportError::Invalid(format!("tensor '{}': {m}", t.name));
    if t.data_type != data_type::FLOAT {
        return Err(invalid(format!(
            "unsupported element type {}, not float32",
            t.data_type
        )));
    }
    let values: Vec<f32> = if t.raw_data.is_empty() {
        t.float_data.clone()
    } else {
        if !t.raw_data.len().is_multiple_of(4) {
            return Err(invalid(format!(
                "{} raw bytes, not whole floats",
                t.raw_data.len()
            )));
        }
        t.raw_data
            .chunks_exact(4)
            .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
            .collect()
    };
    if values.len() != count {
        return Err(invalid(format!(
            "dimensions {:?} need {count} elements but it holds {}",
            t.dims,
            values.len()
        )));
    }
    Ok(values)
}

/// An int64 tensor's elements (a `Reshape`'s shape).
fn int64_values(t: &TensorProto) -> Result<Vec<i64>, ExportError> {
    let count = element_count(t)?;
    let invalid = |m: String| ExportError::Invalid(format!("tensor '{}': {m}", t.name));
    if t.data_type != data_type::INT64 {
        return Err(invalid(format!("element type {}, not int64", t.data_type)));
    }
    let values: Vec<i64> = if t.raw_data.is_empty() {
        t.int64_data.clone()
    } else {
        t.raw_data
            .chunks_exact(8)
            .map(|b| i64::from_le_bytes(b.try_into().expect("chunks of 8")))
            .collect()
    };
    if values.len() != count || (!t.raw_data.is_empty() && t.raw_data.len() != 8 * count) {
        return Err(invalid(format!(
            "dimensions {:?} do not match its data",
            t.dims
        )));
    }
    Ok(values)
}
