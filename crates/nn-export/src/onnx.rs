//! ONNX: writing a network as Gemm and activation nodes, and reading back the graphs of
//! `Linear` layers that nn and `torch.onnx.export` write.

use std::collections::{HashMap, HashSet};

use nn_core::{ActivationKind, Framing, MAX_PARAMETERS, Model, Network};
use prost::Message;

use crate::onnx_proto::{
    AttributeProto, DATA_LOCATION_EXTERNAL, Dimension, GraphProto, ModelProto, NodeProto,
    OperatorSetIdProto, StringStringEntryProto, TensorProto, TensorShapeProto, TypeProto,
    TypeProtoTensor, ValueInfoProto, attribute_type, data_type,
};
use crate::safetensors_format::to_json;
use crate::{
    ExportError, Layer, MAX_SHOWN_CHARS, build_network, check_finite, escaped, layer_rows,
    one_line, onnx_structure, shown,
};

/// The ONNX IR version written (ONNX 1.10 and later read it).
const IR_VERSION: i64 = 8;
/// The operator set written.
const OPSET: i64 = 13;

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

/// The metadata entry nn writes last in its ONNX files (after every entry a network may lack).
const NN_LAST_ENTRY: &str = "nn_version";

/// The network as an ONNX model (IR version 8, opset 13): input `input` float32 `[N, n_in]`,
/// per layer a `Gemm` (`transB` = 1, weights `[out, in]`) and its activation (`Sigmoid`,
/// `Tanh`, `Relu`, `Softmax` on axis 1, none for the identity), output `output` `[N, k]` and
/// `label`, each row's most active output (int64, `ArgMax` on axis 1).
///
/// The input standardization x' = (x − μ)/σ is folded into the first layer: W' = W/σ and
/// b' = b − W(μ/σ), with σ as the standardization stores it (a pixel that never varies in
/// the training set has σ raised to its floor, [`nn_core::PIXEL_STD_FLOOR`] times the global
/// one). A softmax's temperature c is folded into its layer (W' = cW, b' = cb). The
/// metadata (`metadata_props`) records `standardization_folded` and `framing` when the network
/// has them, then `sizes`, `activations`, `cost` and, last, `nn_version`. Refuses a network
/// that is not finite.
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
            vec![AttributeProto::int("transB", 1)],
        ));
        current = z;
        if let Some(op) = op {
            let a = if last {
                "output".to_string()
            } else {
                format!("layer{l}.a")
            };
            let attributes = if op == "Softmax" {
                vec![AttributeProto::int("axis", 1)]
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
        vec![
            AttributeProto::int("axis", 1),
            AttributeProto::int("keepdims", 0),
        ],
    ));
    let specs: Vec<String> = network.activations().iter().map(|a| a.spec()).collect();
    // The entries a network may lack first and `nn_version` last: a file cut between two
    // entries is then a file without `nn_version`, which `from_onnx` refuses as cut.
    let mut metadata = Vec::new();
    if !network.standardization().is_none() {
        metadata.push(("standardization_folded", to_json(network.standardization())));
    }
    if let Some(framing) = network.framing() {
        metadata.push(("framing", to_json(&framing)));
    }
    metadata.extend([
        ("sizes", to_json(&network.sizes().to_vec())),
        ("activations", to_json(&specs)),
        ("cost", cost.to_string()),
        (NN_LAST_ENTRY, env!("CARGO_PKG_VERSION").to_string()),
    ]);
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

/// The oldest operator set of the default domain that [`from_onnx`] reads: 7, the first in
/// which `Gemm`, `MatMul`, `Add` and the activations have their present meaning (earlier sets
/// gave them `broadcast` and `consumed_inputs` attributes).
pub const MIN_OPSET: i64 = 7;

/// The newest operator set of the default domain that [`from_onnx`] reads: 24. The operators
/// it reads, with the attributes it accepts, compute the same in every set from [`MIN_OPSET`]
/// to this one.
pub const MAX_OPSET: i64 = 24;

/// The operators [`from_onnx`] reads: the fewest and the most inputs each takes, and the
/// attributes it may have.
fn signature(op: &str) -> Option<(usize, usize, &'static [&'static str])> {
    Some(match op {
        "Constant" => (0, 0, &["value"]),
        "Gemm" => (2, 3, &["alpha", "beta", "transA", "transB"]),
        "MatMul" | "Add" => (2, 2, &[]),
        "Sigmoid" | "Tanh" | "Relu" | "Identity" => (1, 1, &[]),
        "Softmax" | "Flatten" => (1, 1, &["axis"]),
        "Reshape" => (2, 2, &["allowzero"]),
        "ArgMax" => (1, 1, &["axis", "keepdims", "select_last_index"]),
        _ => return None,
    })
}

/// What the graph has computed so far: the layers, whether the last one still awaits its
/// bias (a `MatMul` before its `Add`) or its activation, and the current value's rank and
/// features per example when they are known.
struct Walk {
    layers: Vec<Layer>,
    awaiting_bias: bool,
    activated: bool,
    rank: Option<usize>,
    features: Option<usize>,
}

/// Reads an ONNX model of `Linear` layers: what [`to_onnx`] writes, and what
/// `torch.onnx.export` writes for an `nn.Sequential` of `Linear` layers and activations:
/// `Gemm` (`transB` 0 or 1, `alpha` and `beta` 1, `transA` 0) or `MatMul` then `Add`,
/// `Sigmoid`, `Tanh`, `Relu`, `Softmax` on the last axis, and before the first layer
/// `Flatten` (axis 1), `Identity` or `Reshape` (to `[-1, features]`, `[0, features]` or
/// `[0, -1]`, which keep each example's row; `allowzero` 1 only without a 0); a final
/// `ArgMax` of each row is allowed beside the output as the graph output `label`. Operator
/// sets [`MIN_OPSET`] to [`MAX_OPSET`] of the default domain are read; nodes of another domain
/// are refused. Weights may be `raw_data` or `float_data`, as initializers or `Constant`
/// nodes; weights in external files are refused (no path a file names is ever read). Every
/// value must have one name, every attribute a supported value, every weight be finite.
/// The cost and framing come from the metadata when it has them (the cost is `unknown`
/// otherwise).
///
/// Before decoding, the file's protobuf structure is walked without allocating, and a file
/// whose lists are longer than any such network needs ([`crate::MAX_NODES`],
/// [`crate::MAX_TENSORS`], [`crate::MAX_LIST`]), whose structure would take more than
/// [`crate::MAX_STRUCTURE_BYTES`] of memory, or whose lengths go past the end is refused.
///
/// ```
/// // Random bytes are refused with a message, not a panic.
/// assert!(nn_export::from_onnx(&[0x08, 0xff, 0xff, 0x42, 0x13]).is_err());
/// ```
pub fn from_onnx(bytes: &[u8]) -> Result<Model, ExportError> {
    let invalid = ExportError::Invalid;
    onnx_structure::check(bytes)?;
    let model = ModelProto::decode(bytes)?;
    check_opsets(&model.opset_import)?;
    // Protobuf cannot tell a file cut between two metadata entries from a whole one; nn
    // writes its last entry last, so that such a cut of nn's file shows.
    if model.producer_name == "nn" && !model.metadata_props.iter().any(|p| p.key == NN_LAST_ENTRY) {
        return Err(invalid(format!(
            "cut short: a file nn wrote ends with the metadata entry '{NN_LAST_ENTRY}', this one \
             has none"
        )));
    }
    let Some(graph) = &model.graph else {
        return Err(invalid("not an ONNX model: no graph".into()));
    };
    if !graph.sparse_initializer.is_empty() {
        return Err(invalid("unsupported: sparse initializers".into()));
    }
    check_names(graph)?;
    let values = graph
        .node
        .iter()
        .flat_map(|n| n.attribute.iter().filter_map(|a| a.t.as_ref()));
    for tensor in graph.initializer.iter().chain(values) {
        check_internal(tensor)?;
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
    let (rank, features) = input_shape(input)?;
    let mut current = input.name.as_str();
    let mut label = None;
    let mut walk = Walk {
        layers: Vec::new(),
        awaiting_bias: false,
        activated: false,
        rank,
        features,
    };
    for (n, node) in graph.node.iter().enumerate() {
        let op = node.op_type.as_str();
        let what = || {
            format!(
                "operator {} (node {})",
                escaped(op, MAX_SHOWN_CHARS),
                shown(&node.name)
            )
        };
        if !(node.domain.is_empty() || node.domain == "ai.onnx") {
            return Err(invalid(format!(
                "unsupported: {} of domain {}",
                what(),
                shown(&node.domain)
            )));
        }
        let Some((fewest, most, attributes)) = signature(op) else {
            return Err(invalid(format!("unsupported: {}", what())));
        };
        if !(fewest..=most).contains(&node.input.len()) {
            let expected = if fewest == most {
                fewest.to_string()
            } else {
                format!("{fewest} to {most}")
            };
            return Err(invalid(format!(
                "unsupported: {} with {} inputs, not {expected}",
                what(),
                node.input.len()
            )));
        }
        let [output] = node.output.as_slice() else {
            return Err(invalid(format!(
                "unsupported: {} with {} outputs, not one",
                what(),
                node.output.len()
            )));
        };
        for (i, a) in node.attribute.iter().enumerate() {
            if !attributes.contains(&a.name.as_str()) {
                return Err(invalid(format!(
                    "unsupported: {} with the attribute {}",
                    what(),
                    shown(&a.name)
                )));
            }
            if node.attribute[..i].iter().any(|b| b.name == a.name) {
                return Err(invalid(format!(
                    "{} has the attribute {} twice",
                    what(),
                    shown(&a.name)
                )));
            }
        }
        let attribute = |name: &str| node.attribute.iter().find(|a| a.name == name);
        let int = |name: &str, default: i64| match attribute(name) {
            None => Ok(default),
            // A zero may be left out, as proto3 writers do.
            Some(a) if a.r#type == attribute_type::INT => Ok(a.i.unwrap_or(0)),
            Some(_) => Err(invalid(format!(
                "{}: its attribute '{name}' is not an integer",
                what()
            ))),
        };
        let float = |name: &str| match attribute(name) {
            None => Ok(1.0),
            Some(a) if a.r#type == attribute_type::FLOAT => Ok(a.f.unwrap_or(0.0)),
            Some(_) => Err(invalid(format!(
                "{}: its attribute '{name}' is not a float",
                what()
            ))),
        };
        if op == "Constant" {
            let value = attribute("value")
                .filter(|a| a.r#type == attribute_type::TENSOR)
                .and_then(|a| a.t.as_ref())
                .ok_or_else(|| {
                    invalid(format!("unsupported: {} without a tensor value", what()))
                })?;
            constants.insert(output.as_str(), value);
            continue;
        }
        if node.input[0] != current {
            return Err(invalid(format!(
                "unsupported: {} does not take the previous node's output {}",
                what(),
                shown(current)
            )));
        }
        let constant = |i: usize| -> Result<&TensorProto, ExportError> {
            let name = &node.input[i];
            constants.get(name.as_str()).copied().ok_or_else(|| {
                invalid(format!(
                    "unsupported: {}: input {} is not a constant",
                    what(),
                    shown(name)
                ))
            })
        };
        match op {
            "Flatten" | "Identity" | "Reshape" if walk.layers.is_empty() => {
                if op == "Flatten" {
                    let axis = int("axis", 1)?;
                    if axis != 1 {
                        return Err(invalid(format!(
                            "unsupported: {} on axis {axis}: nn reads a Flatten on axis 1, \
                             which keeps each example's row",
                            what()
                        )));
                    }
                    walk.rank = Some(2);
                }
                if op == "Reshape" {
                    walk.features = reshaped(&walk, constant(1)?, int("allowzero", 0)?)
                        .map_err(|reason| invalid(format!("unsupported: {} {reason}", what())))?;
                    walk.rank = Some(2);
                }
            }
            "Gemm" | "MatMul" => {
                if walk.awaiting_bias {
                    return Err(invalid(format!(
                        "unsupported: {} after a MatMul without its Add",
                        what()
                    )));
                }
                if let Some(rank) = walk.rank.filter(|&r| r != 2) {
                    return Err(invalid(format!(
                        "unsupported: {} of values of rank {rank}: a Flatten or Reshape to \
                         [N, features] must come first",
                        what()
                    )));
                }
                let trans_b = if op == "Gemm" {
                    let (alpha, beta) = (float("alpha")?, float("beta")?);
                    let (trans_a, trans_b) = (int("transA", 0)?, int("transB", 0)?);
                    if alpha != 1.0 || beta != 1.0 || trans_a != 0 || !(0..=1).contains(&trans_b) {
                        return Err(invalid(format!(
                            "unsupported: {} with alpha {alpha}, beta {beta}, transA {trans_a}, \
                             transB {trans_b}: nn reads alpha 1, beta 1, transA 0 and transB 0 \
                             or 1",
                            what()
                        )));
                    }
                    trans_b
                } else {
                    0
                };
                let w = constant(1)?;
                let dims = tensor_dims(w)?;
                let [a, b] = dims.as_slice() else {
                    return Err(invalid(format!(
                        "unsupported: {}: weights of shape {dims:?}",
                        what()
                    )));
                };
                let (out, inputs) = if trans_b == 1 { (*a, *b) } else { (*b, *a) };
                if let Some(features) = walk.features
                    && features != inputs
                {
                    return Err(invalid(if walk.layers.is_empty() {
                        format!(
                            "the input has {features} features but the first layer takes {inputs}"
                        )
                    } else {
                        format!(
                            "layer {} takes {inputs} inputs but the layer before gives \
                             {features}: the layers do not chain",
                            walk.layers.len()
                        )
                    }));
                }
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
                let biases = match node.input.get(2) {
                    Some(name) if !name.is_empty() => bias(constant(2)?, out, &what)?,
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
                walk.features = Some(out);
            }
            "Add" if walk.awaiting_bias => {
                let layer = walk.layers.last_mut().expect("a MatMul came first");
                layer.biases = bias(constant(1)?, layer.out, &what)?;
                walk.awaiting_bias = false;
            }
            "Sigmoid" | "Tanh" | "Relu" | "Softmax"
                if !walk.layers.is_empty() && !walk.activated =>
            {
                if op == "Softmax" {
                    // The default axis is 1 before operator set 13 and -1 since: the same here.
                    let axis = int("axis", -1)?;
                    if !(axis == 1 || axis == -1) {
                        return Err(invalid(format!("unsupported: {} on axis {axis}", what())));
                    }
                }
                walk.awaiting_bias = false;
                walk.activated = true;
                walk.layers.last_mut().expect("checked above").activation = op.to_lowercase();
            }
            "ArgMax" => {
                if n + 1 != graph.node.len() {
                    return Err(invalid(format!(
                        "unsupported: {} before other nodes: nn reads an ArgMax only as the last \
                         node, beside the output",
                        what()
                    )));
                }
                let axis = int("axis", 0)?;
                let keepdims = int("keepdims", 1)?;
                let last = int("select_last_index", 0)?;
                if !(axis == 1 || axis == -1)
                    || !(0..=1).contains(&keepdims)
                    || !(0..=1).contains(&last)
                {
                    return Err(invalid(format!(
                        "unsupported: {} with axis {axis}, keepdims {keepdims}, \
                         select_last_index {last}: nn reads the ArgMax of each row (axis 1)",
                        what()
                    )));
                }
                if output != "label" || !graph.output.iter().any(|o| o.name == *output) {
                    return Err(invalid(format!(
                        "unsupported: {} giving {}: nn reads an ArgMax only as the graph output \
                         'label'",
                        what(),
                        shown(output)
                    )));
                }
                label = Some(output.as_str());
                continue;
            }
            _ => {
                return Err(invalid(format!(
                    "unsupported: {} at this place in the graph",
                    what()
                )));
            }
        }
        current = output.as_str();
    }
    if walk.awaiting_bias {
        return Err(invalid("unsupported: a MatMul without its Add".into()));
    }
    for output in &graph.output {
        if output.name != current && Some(output.name.as_str()) != label {
            return Err(invalid(format!(
                "unsupported: graph output {} is not the last layer's {}",
                shown(&output.name),
                shown(current)
            )));
        }
    }
    if !graph.output.iter().any(|o| o.name == current) {
        return Err(invalid(format!(
            "the graph does not output the last layer's {}",
            shown(current)
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
        let framing: Framing = serde_json::from_str(&text)
            .map_err(|e| invalid(format!("metadata 'framing': {}", one_line(e))))?;
        network.set_framing(Some(framing));
    }
    Ok(Model {
        network,
        cost: meta("cost").unwrap_or_else(|| "unknown".into()),
    })
}

/// Checks the operator sets: exactly one of the default domain (`""` or `ai.onnx`), of a
/// version from [`MIN_OPSET`] to [`MAX_OPSET`]. Sets of other domains may be listed, as
/// exporters list some they do not use; a node of another domain is refused where it stands.
fn check_opsets(opsets: &[OperatorSetIdProto]) -> Result<(), ExportError> {
    let invalid = ExportError::Invalid;
    let default: Vec<i64> = opsets
        .iter()
        .filter(|o| o.domain.is_empty() || o.domain == "ai.onnx")
        .map(|o| o.version)
        .collect();
    match default.as_slice() {
        [version] if (MIN_OPSET..=MAX_OPSET).contains(version) => Ok(()),
        [version] => Err(invalid(format!(
            "unsupported: operator set {version} of the default domain: nn reads {MIN_OPSET} to \
             {MAX_OPSET}"
        ))),
        [] => Err(invalid(
            "the model names no operator set of the default domain (ai.onnx)".into(),
        )),
        _ => Err(invalid(
            "the model names two operator sets of the default domain".into(),
        )),
    }
}

/// Checks that every value of the graph has a name defined once: by an initializer, a graph
/// input (which may repeat an initializer's name, as files of IR version 3 list them) or a
/// node's output; and that no graph input or output is listed twice.
fn check_names(graph: &GraphProto) -> Result<(), ExportError> {
    let twice = |name: &str, what: &str| {
        Err(ExportError::Invalid(format!(
            "{} is {what} twice: every value must have one name",
            shown(name)
        )))
    };
    let mut defined = HashSet::new();
    for t in &graph.initializer {
        if !defined.insert(t.name.as_str()) {
            return twice(&t.name, "an initializer");
        }
    }
    let initializers = defined.clone();
    let mut listed = HashSet::new();
    for input in &graph.input {
        if !listed.insert(input.name.as_str()) {
            return twice(&input.name, "listed as a graph input");
        }
        if !initializers.contains(input.name.as_str()) && !defined.insert(input.name.as_str()) {
            return twice(&input.name, "defined");
        }
    }
    for node in &graph.node {
        for output in &node.output {
            if output.is_empty() {
                return Err(ExportError::Invalid(format!(
                    "node {} has an output without a name",
                    shown(&node.name)
                )));
            }
            if !defined.insert(output.as_str()) {
                return twice(output, "defined");
            }
        }
    }
    let mut outputs = HashSet::new();
    for output in &graph.output {
        if !outputs.insert(output.name.as_str()) {
            return twice(&output.name, "listed as a graph output");
        }
    }
    Ok(())
}

/// Refuses a tensor whose data is in another file: nn never reads a path a model names.
fn check_internal(t: &TensorProto) -> Result<(), ExportError> {
    if t.data_location == Some(DATA_LOCATION_EXTERNAL) || !t.external_data.is_empty() {
        let location = t
            .external_data
            .iter()
            .find(|e| e.key == "location")
            .map_or(String::new(), |e| format!(" ({})", shown(&e.value)));
        return Err(ExportError::Invalid(format!(
            "tensor {}: its data is in an external file{location}, which nn never reads: \
             write the weights into the model (torch.onnx.export(..., external_data=False))",
            shown(&t.name)
        )));
    }
    Ok(())
}

/// The features per example after a `Reshape` to the int64 tensor `shape`: only a reshape to
/// `[-1, n]` or `[0, n]` (`n` features, agreeing with the features known so far) or to
/// `[0, -1]` keeps each example's row; otherwise why it is refused. With `allowzero` 1 (as
/// `torch.onnx.export`'s dynamo exporter writes it) a 0 is an empty dimension, not a copy of
/// the input's, which nn refuses; a shape without one means the same either way.
fn reshaped(walk: &Walk, shape: &TensorProto, allowzero: i64) -> Result<Option<usize>, String> {
    let shape = int64_values(shape).map_err(|e| e.to_string())?;
    if !(allowzero == 0 || allowzero == 1 && !shape.contains(&0)) {
        return Err(format!(
            "with allowzero {allowzero} to a shape {}",
            if shape.contains(&0) {
                "with a 0"
            } else {
                "without one"
            }
        ));
    }
    let refused = || {
        Err(format!(
            "to the shape {}: nn reads a Reshape only to [-1, features], [0, features] or \
             [0, -1], which keep each example's row",
            if shape.len() <= 4 {
                format!("{shape:?}")
            } else {
                format!("of {} dimensions", shape.len())
            }
        ))
    };
    let to = match shape.as_slice() {
        [-1 | 0, n] if *n > 0 => usize::try_from(*n).ok(),
        [0, -1] => walk.features,
        _ => return refused(),
    };
    match (to, walk.features) {
        (Some(to), Some(features)) if to != features => Err(format!(
            "to [_, {to}] of values of {features} features per example"
        )),
        _ => Ok(to.or(walk.features)),
    }
}

/// A layer's `out` biases: a float32 tensor of shape `[out]` or `[1, out]`.
fn bias(t: &TensorProto, out: usize, what: &dyn Fn() -> String) -> Result<Vec<f32>, ExportError> {
    let dims = tensor_dims(t)?;
    if !(dims == [out] || dims == [1, out]) {
        return Err(ExportError::Invalid(format!(
            "unsupported: {}: bias of shape {dims:?}, not [{out}]",
            what()
        )));
    }
    float_values(t)
}

/// The rank and the features per example (the product of the dimensions after the first) of
/// a graph input, when its shape gives them; the input must be float32 of rank 2 or more.
fn input_shape(input: &ValueInfoProto) -> Result<(Option<usize>, Option<usize>), ExportError> {
    let invalid = |m: String| ExportError::Invalid(format!("input {}: {m}", shown(&input.name)));
    let tensor = input
        .r#type
        .as_ref()
        .and_then(|t| t.tensor_type.as_ref())
        .ok_or_else(|| invalid("unsupported: not a tensor".into()))?;
    if tensor.elem_type != data_type::FLOAT {
        return Err(invalid(format!(
            "unsupported: element type {}, not float32",
            tensor.elem_type
        )));
    }
    let Some(shape) = &tensor.shape else {
        return Ok((None, None));
    };
    if shape.dim.len() < 2 {
        return Err(invalid(format!(
            "unsupported: rank {}, not [N, features]",
            shape.dim.len()
        )));
    }
    let mut features = Some(1usize);
    for d in &shape.dim[1..] {
        match d.dim_value {
            Some(v) if v <= 0 => return Err(invalid(format!("a dimension {v}"))),
            Some(v) => {
                if let Some(f) = features {
                    let v = usize::try_from(v).ok();
                    features = Some(v.and_then(|v| f.checked_mul(v)).ok_or_else(|| {
                        invalid("more features per example than can be counted".into())
                    })?);
                }
            }
            None => features = None,
        }
    }
    Ok((Some(shape.dim.len()), features))
}

/// A tensor's dimensions, checked: none negative, none and not their product above
/// [`MAX_PARAMETERS`] elements.
fn tensor_dims(t: &TensorProto) -> Result<Vec<usize>, ExportError> {
    let invalid = |m: String| ExportError::Invalid(format!("tensor {}: {m}", shown(&t.name)));
    let mut count = 1usize;
    let mut dims = Vec::with_capacity(t.dims.len());
    for &d in &t.dims {
        let d = usize::try_from(d).map_err(|_| invalid(format!("dimension {d}")))?;
        if d > MAX_PARAMETERS {
            return Err(invalid(format!(
                "dimension {d}, more than the {MAX_PARAMETERS} elements a tensor may have"
            )));
        }
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

/// A float32 tensor's elements, from `raw_data` (4 bytes each) or `float_data`, whose
/// length must be what the dimensions need.
fn float_values(t: &TensorProto) -> Result<Vec<f32>, ExportError> {
    let count = element_count(t)?;
    let invalid = |m: String| ExportError::Invalid(format!("tensor {}: {m}", shown(&t.name)));
    if t.data_type != data_type::FLOAT {
        return Err(invalid(format!(
            "unsupported element type {}, not float32",
            t.data_type
        )));
    }
    if t.raw_data.is_empty() {
        if t.float_data.len() != count {
            return Err(invalid(format!(
                "dimensions {:?} need {count} elements but it holds {}",
                t.dims,
                t.float_data.len()
            )));
        }
        return Ok(t.float_data.clone());
    }
    if !t.float_data.is_empty() {
        return Err(invalid("both raw_data and float_data".into()));
    }
    if Some(t.raw_data.len()) != count.checked_mul(4) {
        return Err(invalid(format!(
            "{} bytes of raw data where dimensions {:?} need {count} floats of 4 bytes",
            t.raw_data.len(),
            t.dims
        )));
    }
    Ok(t.raw_data
        .chunks_exact(4)
        .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
        .collect())
}

/// An int64 tensor's elements (a `Reshape`'s shape), from `raw_data` (8 bytes each) or
/// `int64_data`, whose length must be what the dimensions need.
fn int64_values(t: &TensorProto) -> Result<Vec<i64>, ExportError> {
    let count = element_count(t)?;
    let invalid = |m: String| ExportError::Invalid(format!("tensor {}: {m}", shown(&t.name)));
    if t.data_type != data_type::INT64 {
        return Err(invalid(format!("element type {}, not int64", t.data_type)));
    }
    let fits = if t.raw_data.is_empty() {
        t.int64_data.len() == count
    } else {
        t.int64_data.is_empty() && Some(t.raw_data.len()) == count.checked_mul(8)
    };
    if !fits {
        return Err(invalid(format!(
            "dimensions {:?} do not match its data",
            t.dims
        )));
    }
    if t.raw_data.is_empty() {
        return Ok(t.int64_data.clone());
    }
    Ok(t.raw_data
        .chunks_exact(8)
        .map(|b| i64::from_le_bytes(b.try_into().expect("chunks of 8")))
        .collect())
}
