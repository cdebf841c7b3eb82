//! Hostile models: ONNX and safetensors files that are truncated, lie about their sizes, name
//! other files, hold more structure than any network, or a graph nn would compute otherwise
//! than the file means; and outputs of `export` that would destroy a file. Each is refused
//! with one line naming the file and the problem, in bounded memory and well under a second.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use nn_core::{Initializer, Model, Network, activation_from_spec};
use nn_export::onnx_proto::{
    AttributeProto, Dimension, GraphProto, ModelProto, NodeProto, OperatorSetIdProto,
    StringStringEntryProto, TensorProto, TypeProto, TypeProtoTensor, ValueInfoProto,
    attribute_type, data_type,
};
use nn_export::{
    ExportError, MAX_FILE_BYTES, MAX_HEADER_BYTES, MAX_LIST, MAX_NODES, MAX_OPSET,
    MAX_STRUCTURE_BYTES, MAX_TENSORS, MIN_OPSET, export, from_onnx, from_safetensors, load_any,
    to_onnx, to_safetensors,
};
use prost::Message;
use prost::encoding::{WireType, encode_key, encode_varint};
use tempfile::TempDir;

/// The longest a refusal may take.
const QUICK: Duration = Duration::from_secs(1);

/// A [6, 5, 3] network, relu then softmax.
fn network() -> Network {
    let activations = vec![
        activation_from_spec("relu").unwrap(),
        activation_from_spec("softmax").unwrap(),
    ];
    Network::new(&[6, 5, 3], activations, Initializer::Default, 5).unwrap()
}

fn model() -> Model {
    Model {
        network: network(),
        cost: "CrossEntropyCost".into(),
    }
}

/// nn's own ONNX file of [`network`]: Gemm, Relu, Gemm, Softmax, ArgMax to `label`.
fn good() -> ModelProto {
    ModelProto::decode(to_onnx(&network(), "CrossEntropyCost").unwrap().as_slice()).unwrap()
}

fn graph(model: &mut ModelProto) -> &mut GraphProto {
    model.graph.as_mut().unwrap()
}

/// [`good`] with its graph changed by `change`.
fn changed(change: impl FnOnce(&mut GraphProto)) -> ModelProto {
    let mut model = good();
    change(graph(&mut model));
    model
}

/// The initializer `name`.
fn tensor<'a>(model: &'a mut ModelProto, name: &str) -> &'a mut TensorProto {
    let mut initializers = graph(model).initializer.iter_mut();
    initializers.find(|t| t.name == name).unwrap()
}

/// The first node of the operator `op`.
fn node<'a>(model: &'a mut ModelProto, op: &str) -> &'a mut NodeProto {
    let mut nodes = graph(model).node.iter_mut();
    nodes.find(|n| n.op_type == op).unwrap()
}

/// The error of `read`, which must fail, and fail quickly in one line.
#[track_caller]
fn refusal<T: std::fmt::Debug>(read: impl FnOnce() -> Result<T, ExportError>) -> ExportError {
    let start = Instant::now();
    let error = read().unwrap_err();
    let elapsed = start.elapsed();
    assert!(elapsed < QUICK, "refused after {elapsed:?}: {error}");
    let text = error.to_string();
    assert!(!text.contains('\n') && !text.contains('\r'), "{text:?}");
    error
}

/// Asserts that `model` is refused with a message holding `expected`.
#[track_caller]
fn refused(model: &ModelProto, expected: &str) {
    let bytes = model.encode_to_vec();
    let error = refusal(|| from_onnx(&bytes)).to_string();
    assert!(error.contains(expected), "'{error}' lacks '{expected}'");
}

/// Asserts that `model` is read.
#[track_caller]
fn read(model: &ModelProto) -> Model {
    from_onnx(&model.encode_to_vec()).unwrap_or_else(|e| panic!("refused: {e}"))
}

/// Writes `bytes` to `name` in `dir` and asserts that [`load_any`] refuses it quickly in one
/// line that starts with the file's name and holds each of `expected`.
#[track_caller]
fn refused_file(dir: &Path, name: &str, bytes: &[u8], expected: &[&str]) -> ExportError {
    let path = dir.join(name);
    std::fs::write(&path, bytes).unwrap();
    let error = refusal(|| load_any(&path));
    let text = error.to_string();
    assert!(text.starts_with(&format!("{}: ", path.display())), "{text}");
    for e in expected {
        assert!(text.contains(e), "'{text}' lacks '{e}'");
    }
    error
}

/// `body` as field `tag` of a message, length-delimited.
fn field(tag: u32, body: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(body.len() + 16);
    encode_key(tag, WireType::LengthDelimited, &mut out);
    encode_varint(body.len() as u64, &mut out);
    out.extend_from_slice(body);
    out
}

/// A `ModelProto` of opset 13 whose graph's encoding is `graph`.
fn model_with_graph(graph: &[u8]) -> Vec<u8> {
    let opset = OperatorSetIdProto {
        domain: String::new(),
        version: 13,
    };
    let mut out = field(8, &opset.encode_to_vec());
    out.extend(field(7, graph));
    out
}

#[test]
fn truncated_files_and_random_bytes_are_refused_in_one_line_naming_the_file() {
    let dir = TempDir::new().unwrap();
    let onnx = to_onnx(&network(), "CrossEntropyCost").unwrap();
    let safetensors = to_safetensors(&network(), "CrossEntropyCost").unwrap();
    type Reader = fn(&[u8]) -> Result<Model, ExportError>;
    let formats: [(&[u8], &str, Reader); 2] = [
        (&onnx, "cut.onnx", from_onnx),
        (&safetensors, "cut.safetensors", from_safetensors),
    ];
    for (bytes, name, reader) in formats {
        for len in [
            0,
            1,
            8,
            9,
            bytes.len() / 3,
            bytes.len() / 2,
            bytes.len() - 1,
        ] {
            refused_file(dir.path(), name, &bytes[..len], &[]);
        }
        // Every other length too, without a panic, and none loads: protobuf cannot tell a cut
        // between two fields from the end, but nn writes its metadata entry `nn_version`
        // last, and a file nn wrote without it is refused.
        let start = Instant::now();
        for len in 0..bytes.len() {
            assert!(reader(&bytes[..len]).is_err(), "{name} cut at {len} loads");
        }
        assert!(start.elapsed() < QUICK * 10);
    }
    let mut state = 0x2545_f491_4f6c_dd1du64;
    for round in 0..300 {
        let noise: Vec<u8> = (0..1 + round * 7)
            .map(|_| {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                state as u8
            })
            .collect();
        refused_file(dir.path(), "noise.onnx", &noise, &[]);
    }
}

#[test]
fn a_hundred_byte_file_claiming_tebibytes_is_refused_before_anything_is_allocated() {
    let dir = TempDir::new().unwrap();
    // Gemm(x, w) with w a tensor of 2^20 x 2^20 floats (4 TiB), with no data.
    let float = Some(TypeProto {
        tensor_type: Some(TypeProtoTensor {
            elem_type: data_type::FLOAT,
            shape: None,
        }),
    });
    let lying = GraphProto {
        node: vec![NodeProto {
            input: vec!["x".into(), "w".into()],
            output: vec!["y".into()],
            op_type: "Gemm".into(),
            ..Default::default()
        }],
        initializer: vec![TensorProto {
            dims: vec![1 << 20, 1 << 20],
            data_type: data_type::FLOAT,
            name: "w".into(),
            ..Default::default()
        }],
        input: vec![ValueInfoProto {
            name: "x".into(),
            r#type: float.clone(),
        }],
        output: vec![ValueInfoProto {
            name: "y".into(),
            r#type: float,
        }],
        ..Default::default()
    };
    let bytes = model_with_graph(&lying.encode_to_vec());
    assert!(bytes.len() <= 101, "{} bytes", bytes.len());
    refused_file(dir.path(), "tebibytes.onnx", &bytes, &["too many elements"]);
    // A raw_data field that claims 4 TiB of 100 bytes.
    let mut tensor = field(8, b"w");
    encode_key(9, WireType::LengthDelimited, &mut tensor);
    encode_varint(1 << 42, &mut tensor);
    tensor.extend_from_slice(&[0; 64]);
    let bytes = model_with_graph(&field(5, &tensor));
    assert!(bytes.len() <= 101, "{} bytes", bytes.len());
    let error = refused_file(dir.path(), "claims.onnx", &bytes, &["TensorProto.raw_data"]);
    assert!(
        error.to_string().contains("claims 4398046511104 bytes"),
        "{error}"
    );
    // A length near u64::MAX.
    let mut huge = Vec::new();
    encode_key(7, WireType::LengthDelimited, &mut huge);
    encode_varint(u64::MAX, &mut huge);
    refused_file(dir.path(), "huge.onnx", &huge, &["ModelProto.graph claims"]);
}

/// Asserts that a graph of 50 million empty entries of its field `field`, each of which
/// would decode into `decoded` bytes, is refused at the entry after the `limit`th.
#[track_caller]
fn fifty_million_empty(field_number: u32, decoded: usize, limit: usize, what: &str) {
    let count = 50_000_000;
    // Gigabytes from a 100 MB file.
    assert!(count * decoded > 4 << 30);
    let bytes = model_with_graph(&field(field_number, &[]).repeat(count));
    let error = refusal(|| from_onnx(&bytes));
    assert!(
        matches!(error, ExportError::TooMany { limit: l, .. } if l == limit),
        "{error}"
    );
    assert!(error.to_string().contains(what), "{error}");
}

#[test]
fn fifty_million_empty_initializers_are_refused_before_decoding() {
    fifty_million_empty(5, size_of::<TensorProto>(), MAX_TENSORS, "initializers");
}

#[test]
fn fifty_million_nodes_are_refused_before_decoding() {
    fifty_million_empty(1, size_of::<NodeProto>(), MAX_NODES, "nodes");
}

#[test]
fn long_lists_inside_a_node_or_a_tensor_are_refused_before_decoding() {
    // A million inputs of one node, and a million dimensions of one tensor.
    let node = field(1, &field(1, b"x").repeat(1_000_000));
    let error = refusal(|| from_onnx(&model_with_graph(&node)));
    assert!(
        matches!(error, ExportError::TooMany { limit, .. } if limit == MAX_LIST),
        "{error}"
    );
    let mut dims = Vec::new();
    encode_key(1, WireType::LengthDelimited, &mut dims);
    encode_varint(1_000_000, &mut dims);
    dims.extend(std::iter::repeat_n(1u8, 1_000_000));
    let error = refusal(|| from_onnx(&model_with_graph(&field(5, &dims))));
    assert!(
        error.to_string().contains("dimensions of a tensor"),
        "{error}"
    );
}

#[test]
fn structure_beyond_its_memory_limit_is_refused_before_decoding() {
    // A Reshape's shape of 10 million integers: 10 MB in the file, 80 MB decoded.
    let mut shape = field(8, b"shape");
    let integers = 10_000_000;
    encode_key(7, WireType::LengthDelimited, &mut shape);
    encode_varint(integers as u64, &mut shape);
    shape.extend(std::iter::repeat_n(1u8, integers));
    assert!(integers * 8 > MAX_STRUCTURE_BYTES);
    let error = refusal(|| from_onnx(&model_with_graph(&field(5, &shape))));
    assert!(
        matches!(error, ExportError::TooMuchStructure { .. }),
        "{error}"
    );
    // As many initializers as allowed, each with a name of 30 KB: 90 MB of names.
    let named = field(5, &field(8, &[b'n'; 30_000]));
    let error = refusal(|| from_onnx(&model_with_graph(&named.repeat(MAX_TENSORS))));
    assert!(
        matches!(error, ExportError::TooMuchStructure { .. }),
        "{error}"
    );
    // Weights are not structure: a layer of 200,000 weights is read.
    let wide = Network::sigmoid(&[20_000, 10], Initializer::Default, 1).unwrap();
    from_onnx(&to_onnx(&wide, "QuadraticCost").unwrap()).unwrap();
}

#[test]
fn a_message_given_twice_is_refused() {
    // Decoding would merge the two graphs into one.
    let mut bytes = good().encode_to_vec();
    let graph = good().graph.unwrap().encode_to_vec();
    bytes.extend(field(7, &graph));
    let error = refusal(|| from_onnx(&bytes));
    assert!(matches!(error, ExportError::FieldTwice { .. }), "{error}");
    assert!(
        error
            .to_string()
            .contains("ModelProto.graph is given twice")
    );
}

#[test]
fn lying_dimensions_are_refused() {
    for (dims, expected) in [
        (vec![i64::MAX, 6], "more than the"),
        (vec![1 << 16, 1 << 16], "too many elements"),
        (vec![-5, 6], "dimension -5"),
        (vec![i64::MIN, 6], "dimension -9223372036854775808"),
        (vec![10, 6], "need 60 floats"),
        (vec![5, 6, 1], "weights of shape [5, 6, 1]"),
    ] {
        let mut model = good();
        tensor(&mut model, "layer0.weight").dims = dims;
        refused(&model, expected);
    }
    let mut short = good();
    tensor(&mut short, "layer0.weight").raw_data.pop();
    refused(&short, "119 bytes of raw data");
    // The input's own shape: dimensions that overflow, are negative, or disagree.
    for (dims, expected) in [
        (
            vec![i64::MAX, i64::MAX],
            "more features per example than can be counted",
        ),
        (vec![-1], "a dimension -1"),
        (
            vec![7],
            "the input has 7 features but the first layer takes 6",
        ),
    ] {
        let mut model = good();
        let input = &mut graph(&mut model).input[0];
        let shape = input.r#type.as_mut().unwrap().tensor_type.as_mut().unwrap();
        let dim = &mut shape.shape.as_mut().unwrap().dim;
        dim.truncate(1);
        dim.extend(dims.into_iter().map(|d| Dimension {
            dim_value: Some(d),
            dim_param: None,
        }));
        refused(&model, expected);
    }
}

/// Makes a named pipe at `path`, which nothing ever writes into: opening it to read blocks.
#[cfg(unix)]
fn named_pipe(path: &Path) {
    let made = std::process::Command::new("mkfifo").arg(path).status();
    assert!(made.is_ok_and(|s| s.success()), "mkfifo {}", path.display());
}

#[cfg(unix)]
#[test]
fn external_data_is_refused_and_the_path_it_names_never_opened() {
    let dir = TempDir::new().unwrap();
    // Opening the named pipe would block the reader: the test would time out.
    named_pipe(&dir.path().join("weights.bin"));
    let location = |t: &mut TensorProto| {
        t.external_data = vec![StringStringEntryProto {
            key: "location".into(),
            value: "weights.bin".into(),
        }];
    };
    let mut both = good();
    tensor(&mut both, "layer0.weight").data_location = Some(1);
    location(tensor(&mut both, "layer0.weight"));
    let mut location_only = good();
    location(tensor(&mut location_only, "layer1.bias"));
    let mut external_only = good();
    tensor(&mut external_only, "layer1.weight").data_location = Some(1);
    for model in [both, location_only, external_only] {
        let path = dir.path().join("external.onnx");
        std::fs::write(&path, model.encode_to_vec()).unwrap();
        let (send, receive) = std::sync::mpsc::channel();
        std::thread::spawn(move || send.send(load_any(&path).map(|_| ())));
        let result = receive
            .recv_timeout(Duration::from_secs(10))
            .expect("the reader blocked: it opened the path the model names");
        let error = result.unwrap_err().to_string();
        assert!(error.contains("external file"), "{error}");
    }
}

#[test]
fn unsupported_operators_and_domains_are_refused() {
    let mut conv = good();
    node(&mut conv, "Relu").op_type = "Conv".into();
    refused(&conv, "unsupported: operator Conv (node 'Relu_layer0.a')");
    let mut custom = good();
    node(&mut custom, "Relu").domain = "com.microsoft".into();
    refused(&custom, "of domain 'com.microsoft'");
    let mut two_outputs = good();
    node(&mut two_outputs, "Relu").output.push("more".into());
    refused(&two_outputs, "with 2 outputs, not one");
    let mut extra_input = good();
    node(&mut extra_input, "Relu").input.push("input".into());
    refused(&extra_input, "with 2 inputs, not 1");
    let mut attribute = good();
    node(&mut attribute, "Relu").attribute.push(AttributeProto {
        name: "alpha".into(),
        r#type: attribute_type::FLOAT,
        f: Some(0.1),
        ..Default::default()
    });
    refused(&attribute, "with the attribute 'alpha'");
    let mut graph_bytes = good().graph.unwrap().encode_to_vec();
    graph_bytes.extend(field(15, &[]));
    let sparse = model_with_graph(&graph_bytes);
    let error = refusal(|| from_onnx(&sparse)).to_string();
    assert!(error.contains("sparse initializers"), "{error}");
}

#[test]
fn operator_sets_7_to_24_of_the_default_domain_are_read_and_others_refused() {
    assert_eq!((MIN_OPSET, MAX_OPSET), (7, 24));
    for version in 1..=30 {
        let mut model = good();
        model.opset_import[0].version = version;
        if (7..=24).contains(&version) {
            read(&model);
        } else {
            refused(
                &model,
                &format!("unsupported: operator set {version} of the default domain"),
            );
        }
    }
    let mut named = good();
    named.opset_import[0].domain = "ai.onnx".into();
    read(&named);
    // Sets of other domains may be listed unused, as exporters do.
    let mut listed = good();
    listed.opset_import.push(OperatorSetIdProto {
        domain: "pkg.onnxscript.torch_lib.common".into(),
        version: 1,
    });
    read(&listed);
    let mut none = good();
    none.opset_import.clear();
    refused(&none, "no operator set of the default domain");
    let mut two = good();
    two.opset_import.push(OperatorSetIdProto {
        domain: "ai.onnx".into(),
        version: 17,
    });
    refused(&two, "two operator sets of the default domain");
}

#[test]
fn gemm_is_read_only_with_alpha_and_beta_1_and_no_transposed_input() {
    let with = |attributes: Vec<AttributeProto>| {
        let mut model = good();
        node(&mut model, "Gemm").attribute = attributes;
        model
    };
    let reference = read(&good()).network;
    // Explicit ones and a zero transA are what nn reads anyway.
    let explicit = with(vec![
        AttributeProto::float("alpha", 1.0),
        AttributeProto::float("beta", 1.0),
        AttributeProto::int("transA", 0),
        AttributeProto::int("transB", 1),
    ]);
    assert_eq!(read(&explicit).network.params(), reference.params());
    // transB 0: the weights stored [in, out].
    let mut untransposed = with(Vec::new());
    let w = tensor(&mut untransposed, "layer0.weight");
    let rows: Vec<f32> = w
        .raw_data
        .chunks_exact(4)
        .map(|b| f32::from_le_bytes(b.try_into().unwrap()))
        .collect();
    let (out, inputs) = (w.dims[0] as usize, w.dims[1] as usize);
    let columns: Vec<f32> = (0..inputs * out)
        .map(|k| rows[(k % out) * inputs + k / out])
        .collect();
    w.raw_data = columns.iter().flat_map(|v| v.to_le_bytes()).collect();
    w.dims = vec![inputs as i64, out as i64];
    assert_eq!(read(&untransposed).network.params(), reference.params());
    for (attributes, expected) in [
        (vec![AttributeProto::float("alpha", 2.0)], "alpha 2"),
        (vec![AttributeProto::float("beta", 0.5)], "beta 0.5"),
        (vec![AttributeProto::int("transA", 1)], "transA 1"),
        (vec![AttributeProto::int("transB", 2)], "transB 2"),
        // An alpha given as an integer is not a float 1.
        (
            vec![AttributeProto::int("alpha", 2)],
            "'alpha' is not a float",
        ),
        (
            vec![AttributeProto::float("transB", 1.0)],
            "'transB' is not an integer",
        ),
        (
            vec![
                AttributeProto::int("transB", 1),
                AttributeProto::int("transB", 1),
            ],
            "the attribute 'transB' twice",
        ),
    ] {
        refused(&with(attributes), expected);
    }
}

#[test]
fn every_value_is_named_once() {
    let initializer = changed(|g| g.initializer.push(g.initializer[0].clone()));
    refused(&initializer, "'layer0.weight' is an initializer twice");
    let mut shadowing = good();
    node(&mut shadowing, "Relu").output[0] = "layer1.weight".into();
    refused(&shadowing, "'layer1.weight' is defined twice");
    let mut output_twice = good();
    node(&mut output_twice, "Relu").output[0] = "layer0.z".into();
    refused(&output_twice, "'layer0.z' is defined twice");
    let input_twice = changed(|g| g.input.push(g.input[0].clone()));
    refused(&input_twice, "'input' is listed as a graph input twice");
    let listed_twice = changed(|g| g.output.push(g.output[0].clone()));
    refused(&listed_twice, "'output' is listed as a graph output twice");
    // Files of IR version 3 list the initializers among the inputs: that is one name.
    let mut ir3 = good();
    let g = graph(&mut ir3);
    let mut listed = g.input[0].clone();
    listed.name = "layer0.weight".into();
    g.input.push(listed);
    read(&ir3);
}

/// A [784, 10] network's ONNX file with an input of `[N, 1, 28, 28]` reshaped to `shape`
/// before the first layer.
fn reshaped(shape: &[i64]) -> ModelProto {
    let wide = Network::sigmoid(&[784, 10], Initializer::Default, 2).unwrap();
    let mut model =
        ModelProto::decode(to_onnx(&wide, "QuadraticCost").unwrap().as_slice()).unwrap();
    let g = graph(&mut model);
    let tensor_type = g.input[0].r#type.as_mut().unwrap().tensor_type.as_mut();
    let dim = &mut tensor_type.unwrap().shape.as_mut().unwrap().dim;
    dim.truncate(1);
    dim.extend([1, 28, 28].map(|d| Dimension {
        dim_value: Some(d),
        dim_param: None,
    }));
    g.initializer.push(TensorProto {
        dims: vec![shape.len() as i64],
        data_type: data_type::INT64,
        name: "shape".into(),
        int64_data: shape.to_vec(),
        ..Default::default()
    });
    g.node[0].input[0] = "flat".into();
    g.node.insert(
        0,
        NodeProto {
            input: vec!["input".into(), "shape".into()],
            output: vec!["flat".into()],
            name: "flatten".into(),
            op_type: "Reshape".into(),
            ..Default::default()
        },
    );
    model
}

#[test]
fn a_reshape_is_read_only_as_a_flatten_to_the_input_width() {
    for shape in [[-1, 784], [0, 784], [0, -1]] {
        read(&reshaped(&shape));
    }
    for shape in [
        &[1, -1][..],
        &[784, -1],
        &[-1, 392],
        &[28, 28],
        &[-1, 28, 28],
        &[-1],
        &[-1, -1],
        &[0, 0],
    ] {
        refused(
            &reshaped(shape),
            "unsupported: operator Reshape (node 'flatten')",
        );
    }
    // allowzero 1 (torch.onnx.export's dynamo exporter) changes only what a 0 means.
    let allowing = |shape: &[i64], allowzero: i64| {
        let mut model = reshaped(shape);
        node(&mut model, "Reshape")
            .attribute
            .push(AttributeProto::int("allowzero", allowzero));
        model
    };
    read(&allowing(&[-1, 784], 1));
    refused(
        &allowing(&[0, 784], 1),
        "with allowzero 1 to a shape with a 0",
    );
    refused(&allowing(&[-1, 784], 2), "with allowzero 2");
    // Without a Reshape (or Flatten), a Gemm of the [N, 1, 28, 28] input is refused.
    let mut unflattened = reshaped(&[-1, 784]);
    let g = graph(&mut unflattened);
    g.node.remove(0);
    g.node[0].input[0] = "input".into();
    refused(&unflattened, "of values of rank 4");
    // A Reshape after the first layer is not a flatten of the input.
    let mut later = good();
    let g = graph(&mut later);
    g.initializer.push(TensorProto {
        dims: vec![2],
        data_type: data_type::INT64,
        name: "shape".into(),
        int64_data: vec![-1, 5],
        ..Default::default()
    });
    let relu = g.node.iter().position(|n| n.op_type == "Relu").unwrap();
    g.node[relu + 1].input[0] = "flat".into();
    g.node.insert(
        relu + 1,
        NodeProto {
            input: vec!["layer0.a".into(), "shape".into()],
            output: vec!["flat".into()],
            op_type: "Reshape".into(),
            ..Default::default()
        },
    );
    refused(&later, "at this place in the graph");
}

#[test]
fn argmax_is_read_only_as_the_last_node_giving_label() {
    let mut middle = good();
    let g = graph(&mut middle);
    let mut argmax = g.node.pop().unwrap();
    argmax.input[0] = "layer0.a".into();
    g.node.insert(2, argmax);
    refused(&middle, "nn reads an ArgMax only as the last node");
    let mut renamed = good();
    graph(&mut renamed).node.last_mut().unwrap().output[0] = "class".into();
    graph(&mut renamed).output[1].name = "class".into();
    refused(&renamed, "giving 'class'");
    let mut unlisted = good();
    graph(&mut unlisted).output.truncate(1);
    refused(&unlisted, "only as the graph output 'label'");
    let mut columns = good();
    node(&mut columns, "ArgMax").attribute[0] = AttributeProto::int("axis", 0);
    refused(&columns, "axis 0");
    // Without its ArgMax, the network is the same.
    let mut without = good();
    let g = graph(&mut without);
    g.node.pop();
    g.output.truncate(1);
    assert_eq!(
        read(&without).network.params(),
        read(&good()).network.params()
    );
}

#[test]
fn softmax_is_read_only_on_the_last_axis() {
    for axis in [Some(1), Some(-1), None] {
        let mut model = good();
        node(&mut model, "Softmax").attribute = axis
            .map(|a| AttributeProto::int("axis", a))
            .into_iter()
            .collect();
        read(&model);
    }
    for axis in [0, 2, -2] {
        let mut model = good();
        node(&mut model, "Softmax").attribute = vec![AttributeProto::int("axis", axis)];
        refused(&model, &format!("on axis {axis}"));
    }
}

#[test]
fn non_finite_weights_and_layers_that_do_not_chain_are_refused() {
    for (name, at, value) in [
        ("layer0.weight", 0, f32::NAN),
        ("layer1.weight", 7, f32::INFINITY),
        ("layer1.bias", 2, f32::NEG_INFINITY),
    ] {
        let mut model = good();
        let t = tensor(&mut model, name);
        t.raw_data[4 * at..4 * at + 4].copy_from_slice(&value.to_le_bytes());
        refused(&model, "not a finite number");
    }
    let mut unchained = good();
    let w = tensor(&mut unchained, "layer1.weight");
    w.dims = vec![3, 4];
    w.raw_data.truncate(48);
    refused(
        &unchained,
        "layer 1 takes 4 inputs but the layer before gives 5",
    );
    let mut bias = good();
    let b = tensor(&mut bias, "layer0.bias");
    b.dims = vec![4];
    b.raw_data.truncate(16);
    refused(&bias, "bias of shape [4], not [5]");
}

#[test]
fn weights_of_another_element_type_or_missing_are_refused() {
    // DOUBLE is 11: refused, not read as float32.
    let mut double = good();
    tensor(&mut double, "layer0.weight").data_type = 11;
    refused(&double, "unsupported element type 11, not float32");
    let mut input = good();
    let value = &mut graph(&mut input).input[0];
    value
        .r#type
        .as_mut()
        .unwrap()
        .tensor_type
        .as_mut()
        .unwrap()
        .elem_type = 11;
    refused(
        &input,
        "input 'input': unsupported: element type 11, not float32",
    );
    let missing = changed(|g| g.initializer.retain(|t| t.name != "layer1.bias"));
    refused(&missing, "input 'layer1.bias' is not a constant");
    let mut both = good();
    tensor(&mut both, "layer1.bias").float_data = vec![0.0; 3];
    refused(&both, "both raw_data and float_data");
}

#[test]
fn text_from_the_file_cannot_break_the_error_line() {
    let mut model = good();
    let relu = node(&mut model, "Relu");
    relu.op_type = "Conv\nerror: forged".into();
    relu.name = "x".repeat(10_000);
    let bytes = model.encode_to_vec();
    let error = refusal(|| from_onnx(&bytes)).to_string();
    assert!(error.contains("Conv\\nerror: forged"), "{error}");
    assert!(error.len() < 400, "{} bytes", error.len());
}

/// A safetensors file of `header` (JSON) and `data`.
fn safetensors(header: &str, data: &[u8]) -> Vec<u8> {
    let mut out = (header.len() as u64).to_le_bytes().to_vec();
    out.extend_from_slice(header.as_bytes());
    out.extend_from_slice(data);
    out
}

/// nn's safetensors file of [`network`], as its header's JSON and its data.
fn good_safetensors() -> (serde_json::Value, Vec<u8>) {
    let bytes = to_safetensors(&network(), "CrossEntropyCost").unwrap();
    let length = u64::from_le_bytes(bytes[..8].try_into().unwrap()) as usize;
    let header = serde_json::from_slice(&bytes[8..8 + length]).unwrap();
    (header, bytes[8 + length..].to_vec())
}

/// [`good_safetensors`] with its header changed by `change`.
fn changed_safetensors(change: impl FnOnce(&mut serde_json::Value)) -> Vec<u8> {
    let (mut header, data) = good_safetensors();
    change(&mut header);
    safetensors(&header.to_string(), &data)
}

#[test]
fn safetensors_lengths_and_offsets_past_the_end_are_refused() {
    let dir = TempDir::new().unwrap();
    let good = to_safetensors(&network(), "CrossEntropyCost").unwrap();
    for claimed in [u64::MAX, u64::MAX - 7, 1 << 40, good.len() as u64] {
        let mut lying = good.clone();
        lying[..8].copy_from_slice(&claimed.to_le_bytes());
        let error = refused_file(dir.path(), "m.safetensors", &lying, &["a header of"]);
        assert!(
            matches!(error, ExportError::Refused { ref source, .. }
                if matches!(**source, ExportError::HeaderPastEnd { .. })),
            "{error}"
        );
    }
    for offsets in [
        [0, u64::MAX],
        [u64::MAX - 3, u64::MAX],
        [8, 4],
        [0, 1 << 20],
    ] {
        let bytes = changed_safetensors(|h| h["0.bias"]["data_offsets"] = offsets.into());
        refused_file(dir.path(), "m.safetensors", &bytes, &["tensor '0.bias'"]);
    }
}

#[test]
fn a_safetensors_header_larger_than_its_limit_is_refused_unread() {
    // A header of 100 MB and a byte within the file: refused from its length alone.
    let claimed = MAX_HEADER_BYTES + 1;
    let mut bytes = (claimed as u64).to_le_bytes().to_vec();
    bytes.push(b'{');
    bytes.resize(8 + claimed, b' ');
    let error = refusal(|| from_safetensors(&bytes));
    assert!(
        matches!(error, ExportError::HeaderTooLarge { .. }),
        "{error}"
    );
}

#[test]
fn overlapping_or_misplaced_safetensors_offsets_are_refused() {
    // 0.bias holds 5 floats: over the start of 0.weight's, 2 bytes off its place, or at the
    // end over the last tensor's, leaving a gap.
    let (header, data) = good_safetensors();
    let offsets = |name: &str| -> [u64; 2] {
        serde_json::from_value(header[name]["data_offsets"].clone()).unwrap()
    };
    let ([bias, _], [weight, _]) = (offsets("0.bias"), offsets("0.weight"));
    let end = data.len() as u64;
    for offsets in [
        [weight, weight + 20],
        [bias + 2, bias + 22],
        [end - 20, end],
    ] {
        let bytes = changed_safetensors(|h| h["0.bias"]["data_offsets"] = offsets.into());
        let error = refusal(|| from_safetensors(&bytes)).to_string();
        assert!(error.contains("where the tensors before end at"), "{error}");
    }
    // Bytes after the last tensor.
    let mut longer = data.clone();
    longer.extend_from_slice(&[0; 4]);
    let error = refusal(|| from_safetensors(&safetensors(&header.to_string(), &longer)));
    assert!(error.to_string().contains("4 bytes after"), "{error}");
}

#[test]
fn safetensors_of_another_dtype_shape_or_set_of_tensors_are_refused() {
    for dtype in ["F16", "BF16", "F64", "I32", "U8"] {
        let bytes = changed_safetensors(|h| h["2.weight"]["dtype"] = dtype.into());
        let error = refusal(|| from_safetensors(&bytes)).to_string();
        assert!(
            error.contains(&format!("'2.weight' is '{dtype}', not F32")),
            "{error}"
        );
    }
    for (shape, expected) in [
        (serde_json::json!([5, 5]), "needs 100"),
        (
            serde_json::json!([u64::MAX, 2]),
            "more elements than can be counted",
        ),
        (serde_json::json!([-5, 6]), "invalid value: integer `-5`"),
        (
            serde_json::json!([6, 5]),
            "has the shape [6, 5], not [5, 6]",
        ),
        (
            serde_json::json!([1, 1, 1, 1, 1, 1, 1, 1, 30]),
            "more than 8 entries",
        ),
    ] {
        let bytes = changed_safetensors(|h| h["0.weight"]["shape"] = shape);
        let error = refusal(|| from_safetensors(&bytes)).to_string();
        assert!(error.contains(expected), "'{error}' lacks '{expected}'");
    }
    // The tensor whose data comes last, removed with its data.
    let (mut missing, data) = good_safetensors();
    let tensors = missing.as_object_mut().unwrap();
    let (last, start) = tensors
        .iter()
        .filter_map(|(name, t)| Some((name.clone(), t["data_offsets"][0].as_u64()?)))
        .max_by_key(|(_, start)| *start)
        .unwrap();
    tensors.remove(&last);
    let bytes = safetensors(&missing.to_string(), &data[..start as usize]);
    let error = refusal(|| from_safetensors(&bytes)).to_string();
    assert!(error.contains(&format!("no tensor '{last}'")), "{error}");
    let renamed = changed_safetensors(|h| {
        let bias = h.as_object_mut().unwrap().remove("2.bias").unwrap();
        h["3.bias"] = bias;
    });
    let error = refusal(|| from_safetensors(&renamed)).to_string();
    assert!(
        error.contains("tensor '3.bias' is none of the weights"),
        "{error}"
    );
    // The sizes the metadata gives must be those of the tensors, and within nn's limits.
    for (sizes, expected) in [
        ("[6,4,3]", "not [4, 6]"),
        ("[18446744073709551615,5,3]", "more than the limit of"),
        ("[6]", "give at least an input and an output layer"),
    ] {
        let bytes = changed_safetensors(|h| h["__metadata__"]["sizes"] = sizes.into());
        let error = refusal(|| from_safetensors(&bytes)).to_string();
        assert!(error.contains(expected), "'{error}' lacks '{expected}'");
    }
    let nameless = changed_safetensors(|h| {
        h["__metadata__"]
            .as_object_mut()
            .unwrap()
            .remove("activations");
    });
    let error = refusal(|| from_safetensors(&nameless)).to_string();
    assert!(error.contains("no 'activations'"), "{error}");
}

#[test]
fn safetensors_headers_of_too_many_entries_are_refused() {
    let (mut header, data) = good_safetensors();
    let object = header.as_object_mut().unwrap();
    for i in 0..MAX_TENSORS {
        object.insert(
            format!("extra{i}"),
            serde_json::json!({"dtype": "F32", "shape": [0], "data_offsets": [0, 0]}),
        );
    }
    let error = refusal(|| from_safetensors(&safetensors(&header.to_string(), &data)));
    assert!(
        error.to_string().contains("more than 3000 tensors"),
        "{error}"
    );
    let metadata = changed_safetensors(|h| {
        for i in 0..=MAX_LIST {
            h["__metadata__"][format!("key{i}")] = "value".into();
        }
    });
    let error = refusal(|| from_safetensors(&metadata)).to_string();
    assert!(
        error.contains("__metadata__ of more than 64 entries"),
        "{error}"
    );
}

#[test]
fn a_safetensors_header_length_that_reads_as_text_is_still_safetensors() {
    // A header of 0x7b20 bytes: its length starts with a space and a `{`, as JSON does.
    let (header, data) = good_safetensors();
    let mut text = header.to_string();
    let length = 0x7b20;
    text.extend(std::iter::repeat_n(' ', length - text.len()));
    let bytes = safetensors(&text, &data);
    assert_eq!(&bytes[..2], b" {");
    let dir = TempDir::new().unwrap();
    let path = dir.path().join("m.safetensors");
    std::fs::write(&path, &bytes).unwrap();
    assert_eq!(
        load_any(&path).unwrap().network.params(),
        network().params()
    );
}

/// A directory with nn's JSON model `model.json` in it.
fn with_model() -> (TempDir, PathBuf) {
    let dir = TempDir::new().unwrap();
    let input = dir.path().join("model.json");
    export(&model(), None, &input).unwrap();
    (dir, input)
}

#[cfg(unix)]
#[test]
fn export_refuses_the_input_itself_under_another_name() {
    let (dir, input) = with_model();
    let before = std::fs::read(&input).unwrap();
    let hard = dir.path().join("hard.json");
    std::fs::hard_link(&input, &hard).unwrap();
    let soft = dir.path().join("soft.JSON");
    std::os::unix::fs::symlink(&input, &soft).unwrap();
    let dotted = dir.path().join(".").join("model.json");
    for out in [&input, &hard, &soft, &dotted] {
        let error = refusal(|| export(&model(), Some(&input), out));
        assert!(matches!(error, ExportError::SameAsInput(_)), "{error}");
        assert!(
            error
                .to_string()
                .contains("the output is the input model itself")
        );
    }
    assert_eq!(std::fs::read(&input).unwrap(), before);
}

#[cfg(unix)]
#[test]
fn export_refuses_an_output_that_is_not_a_regular_file() {
    let dir = TempDir::new().unwrap();
    let folder = dir.path().join("folder.onnx");
    std::fs::create_dir(&folder).unwrap();
    let pipe = dir.path().join("pipe.onnx");
    named_pipe(&pipe);
    let socket = dir.path().join("socket.safetensors");
    let _listener = std::os::unix::net::UnixListener::bind(&socket).unwrap();
    let device = dir.path().join("null.onnx");
    std::os::unix::fs::symlink("/dev/null", &device).unwrap();
    for (out, kind) in [
        (&folder, "a directory"),
        (&pipe, "a named pipe"),
        (&socket, "a socket"),
        (&device, "a device"),
    ] {
        let error = refusal(|| export(&model(), None, out));
        let text = error.to_string();
        assert!(text.starts_with(&out.display().to_string()), "{text}");
        assert!(
            text.contains(&format!("{kind}, not a regular file")),
            "{text}"
        );
    }
    let missing = dir.path().join("no such folder").join("m.onnx");
    let error = refusal(|| export(&model(), None, &missing));
    assert!(
        matches!(error, ExportError::MissingFolder { .. }),
        "{error}"
    );
    assert!(
        error.to_string().contains("no such folder does not exist"),
        "{error}"
    );
    let unknown = dir.path().join("m.txt");
    let error = refusal(|| export(&model(), None, &unknown));
    assert!(matches!(error, ExportError::UnknownFormat(_)), "{error}");
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 4);
}

#[test]
fn export_reads_extensions_in_any_case() {
    let dir = TempDir::new().unwrap();
    for (name, first) in [
        ("m.ONNX", None),
        ("m.SafeTensors", Some(b'{')),
        ("m.Json", None),
    ] {
        let out = dir.path().join(name);
        export(&model(), None, &out).unwrap();
        let bytes = std::fs::read(&out).unwrap();
        if let Some(first) = first {
            assert_eq!(bytes[8], first, "{name}");
        }
        assert_eq!(load_any(&out).unwrap().network.params(), network().params());
    }
    let onnx = std::fs::read(dir.path().join("m.ONNX")).unwrap();
    assert_eq!(onnx, to_onnx(&network(), "CrossEntropyCost").unwrap());
}

#[test]
fn export_refuses_a_network_that_is_not_finite_before_writing() {
    let (dir, input) = with_model();
    let mut broken = model();
    broken.network.params_mut()[3] = f32::NAN;
    let existing = dir.path().join("old.onnx");
    std::fs::write(&existing, b"earlier").unwrap();
    for name in ["new.onnx", "new.safetensors", "new.json", "old.onnx"] {
        let out = dir.path().join(name);
        let error = refusal(|| export(&broken, Some(&input), &out));
        assert!(matches!(error, ExportError::NotFinite), "{error}");
    }
    let mut names: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    names.sort();
    assert_eq!(names, ["model.json", "old.onnx"]);
    assert_eq!(std::fs::read(&existing).unwrap(), b"earlier");
}

#[test]
fn export_replaces_an_output_whole_by_a_rename() {
    let (dir, input) = with_model();
    // An output that is a hard link to another file: written in place, the other file would
    // change too; renamed over, the link is replaced and the other file stays.
    let other = dir.path().join("other.onnx");
    std::fs::write(&other, b"another file").unwrap();
    let out = dir.path().join("out.onnx");
    std::fs::hard_link(&other, &out).unwrap();
    export(&model(), Some(&input), &out).unwrap();
    assert_eq!(std::fs::read(&other).unwrap(), b"another file");
    assert_eq!(load_any(&out).unwrap().network.params(), network().params());
    // Nothing else is left in the folder: no temporary file.
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 3);
}

#[test]
fn files_larger_than_the_limit_are_refused_from_their_length_unread() {
    let dir = TempDir::new().unwrap();
    // Sparse files of 64 GiB that start as ONNX and as safetensors do.
    let length = 64 << 30;
    let mut safetensors_start = 100u64.to_le_bytes().to_vec();
    safetensors_start.push(b'{');
    for (name, start) in [
        ("big.onnx", vec![0x08, 0x08]),
        ("big.safetensors", safetensors_start),
    ] {
        let path = dir.path().join(name);
        std::fs::write(&path, &start).unwrap();
        std::fs::File::options()
            .write(true)
            .open(&path)
            .unwrap()
            .set_len(length)
            .unwrap();
        let error = refusal(|| load_any(&path));
        assert!(
            matches!(error, ExportError::TooLarge { bytes, limit, .. }
                if bytes == length && limit == MAX_FILE_BYTES),
            "{error}"
        );
        assert!(
            error
                .to_string()
                .contains("68719476736 bytes, more than the 536870912 bytes"),
            "{error}"
        );
    }
}
