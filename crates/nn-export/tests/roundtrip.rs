//! Exporting and reading back gives the same outputs; hostile files are refused, never a panic.

use nn_core::{
    DenseExamples, Framing, Initializer, Model, Network, Standardization, StandardizationKind,
    activation_from_spec,
};
use nn_export::onnx_proto::{
    AttributeProto, GraphProto, ModelProto, NodeProto, TensorProto, attribute_type,
};
use nn_export::{export, from_onnx, from_safetensors, load_any, to_onnx, to_safetensors};
use prost::Message;

fn network(hidden: &str, output: &str, seed: u64) -> Network {
    let activations = vec![
        activation_from_spec(hidden).unwrap(),
        activation_from_spec(output).unwrap(),
    ];
    Network::new(&[6, 5, 3], activations, Initializer::Default, seed).unwrap()
}

fn inputs() -> Vec<Vec<f32>> {
    (0..20)
        .map(|i| {
            (0..6)
                .map(|j| ((i * 7 + j * 3) % 11) as f32 / 10.0)
                .collect()
        })
        .collect()
}

fn max_difference(a: &Network, b: &Network) -> f32 {
    let mut worst = 0.0f32;
    for x in inputs() {
        let (p, q) = (a.feedforward(&x), b.feedforward(&x));
        for (p, q) in p.iter().zip(&q) {
            worst = worst.max((p - q).abs());
        }
    }
    worst
}

fn assert_same(a: &Network, b: &Network) {
    let worst = max_difference(a, b);
    assert!(worst <= 1e-6, "outputs differ by {worst}");
}

#[test]
fn every_activation_round_trips_through_both_formats() {
    for (hidden, output) in [
        ("sigmoid", "sigmoid"),
        ("tanh", "sigmoid"),
        ("relu", "softmax"),
        ("sigmoid", "softmax:2"),
        ("tanh", "identity"),
    ] {
        let n = network(hidden, output, 3);
        let onnx = from_onnx(&to_onnx(&n, "QuadraticCost").unwrap()).unwrap();
        assert_same(&n, &onnx.network);
        assert_eq!(onnx.cost, "QuadraticCost");
        let st = from_safetensors(&to_safetensors(&n, "QuadraticCost").unwrap()).unwrap();
        assert_eq!(st.network.params(), n.params());
        assert_same(&n, &st.network);
    }
}

#[test]
fn a_changed_weight_is_noticed() {
    // The negative control of the comparison above.
    let n = network("sigmoid", "sigmoid", 3);
    let mut other = n.clone();
    other.params_mut()[0] += 0.5;
    assert!(max_difference(&n, &other) > 1e-3);
}

fn standardized(kind: StandardizationKind) -> Network {
    let mut rows = inputs();
    // Input 5 never varies: its deviation is raised to the floor.
    rows.iter_mut().for_each(|r| r[5] = 0.25);
    let labels = (0..rows.len()).map(|i| i % 3).collect();
    let data = DenseExamples::classification(rows, labels, 3);
    let mut n = network("relu", "softmax", 9);
    n.set_standardization(Standardization::fit(kind, &data).unwrap())
        .unwrap();
    n.set_framing(Some(Framing::MNIST));
    n
}

#[test]
fn standardization_is_folded_into_onnx_and_kept_in_safetensors() {
    for kind in [StandardizationKind::Pixel, StandardizationKind::Global] {
        let n = standardized(kind);
        let onnx = from_onnx(&to_onnx(&n, "LogLikelihoodCost").unwrap()).unwrap();
        assert!(onnx.network.standardization().is_none());
        assert_same(&n, &onnx.network);
        assert_eq!(onnx.network.framing(), Some(Framing::MNIST));
        let st = from_safetensors(&to_safetensors(&n, "LogLikelihoodCost").unwrap()).unwrap();
        assert_eq!(st.network.standardization(), n.standardization());
        assert_eq!(st.network.framing(), Some(Framing::MNIST));
        assert_same(&n, &st.network);
    }
}

#[test]
fn files_are_told_apart_by_content_and_written_atomically() {
    let dir = tempfile::tempdir().unwrap();
    let model = Model {
        network: standardized(StandardizationKind::Pixel),
        cost: "CrossEntropyCost".into(),
    };
    let json = dir.path().join("m.json");
    export(&model, None, &json).unwrap();
    for name in ["m.onnx", "m.safetensors"] {
        let out = dir.path().join(name);
        export(&model, Some(&json), &out).unwrap();
        // A misleading extension does not matter: the content decides.
        let renamed = dir.path().join(format!("{name}.bin"));
        std::fs::rename(&out, &renamed).unwrap();
        let back = load_any(&renamed).unwrap();
        assert_same(&model.network, &back.network);
        assert_eq!(back.cost, "CrossEntropyCost");
    }
    assert_same(&model.network, &load_any(&json).unwrap().network);
    let error = export(&model, Some(&json), &json).unwrap_err().to_string();
    assert!(error.contains("the input model itself"), "{error}");
    assert!(export(&model, None, &dir.path().join("m.txt")).is_err());
    let mut bad = model.clone();
    bad.network.params_mut()[3] = f32::NAN;
    for name in ["n.onnx", "n.safetensors", "n.json"] {
        assert!(export(&bad, None, &dir.path().join(name)).is_err());
        assert!(!dir.path().join(name).exists());
    }
}

/// A torch-like graph: Flatten, Gemm, Relu, MatMul + Add, Softmax, with float_data weights.
fn torch_like() -> ModelProto {
    let mut model = ModelProto::decode(
        to_onnx(&network("relu", "softmax", 4), "QuadraticCost")
            .unwrap()
            .as_slice(),
    )
    .unwrap();
    let graph = model.graph.as_mut().unwrap();
    for t in &mut graph.initializer {
        t.float_data = t
            .raw_data
            .chunks_exact(4)
            .map(|b| f32::from_le_bytes(b.try_into().unwrap()))
            .collect();
        t.raw_data.clear();
    }
    graph.node.insert(
        0,
        NodeProto {
            input: vec!["input".into()],
            output: vec!["flat".into()],
            op_type: "Flatten".into(),
            ..Default::default()
        },
    );
    graph.node[1].input[0] = "flat".into();
    model
}

fn bytes(model: &ModelProto) -> Vec<u8> {
    model.encode_to_vec()
}

fn graph(model: &mut ModelProto) -> &mut GraphProto {
    model.graph.as_mut().unwrap()
}

#[test]
fn torch_style_graphs_are_read() {
    let reference = network("relu", "softmax", 4);
    let model = torch_like();
    assert_same(&reference, &from_onnx(&bytes(&model)).unwrap().network);
    // The second layer as MatMul ([in, out] weights) and Add.
    let mut matmul = model.clone();
    let g = graph(&mut matmul);
    let w = g
        .initializer
        .iter_mut()
        .find(|t| t.name == "layer1.weight")
        .unwrap();
    let (out, inp) = (w.dims[0] as usize, w.dims[1] as usize);
    let mut t = vec![0.0; out * inp];
    for o in 0..out {
        for i in 0..inp {
            t[i * out + o] = w.float_data[o * inp + i];
        }
    }
    w.float_data = t;
    w.dims = vec![inp as i64, out as i64];
    let gemm = g
        .node
        .iter()
        .position(|n| n.input.get(1).is_some_and(|w| w == "layer1.weight"))
        .unwrap();
    let z = g.node[gemm].output[0].clone();
    g.node[gemm] = NodeProto {
        input: vec![g.node[gemm].input[0].clone(), "layer1.weight".into()],
        output: vec!["mm".into()],
        op_type: "MatMul".into(),
        ..Default::default()
    };
    g.node.insert(
        gemm + 1,
        NodeProto {
            input: vec!["mm".into(), "layer1.bias".into()],
            output: vec![z],
            op_type: "Add".into(),
            ..Default::default()
        },
    );
    assert_same(&reference, &from_onnx(&bytes(&matmul)).unwrap().network);
}

fn refused(model: &ModelProto, expected: &str) {
    let error = from_onnx(&bytes(model)).unwrap_err().to_string();
    assert!(error.contains(expected), "'{error}' lacks '{expected}'");
}

#[test]
fn hostile_onnx_files_are_refused() {
    // Truncated files and random bytes: tests/hostile.rs.
    fn weight(m: &mut ModelProto) -> &mut TensorProto {
        graph(m)
            .initializer
            .iter_mut()
            .find(|t| t.name == "layer0.weight")
            .unwrap()
    }
    let mut lying = torch_like();
    weight(&mut lying).dims = vec![1 << 20, 1 << 20];
    refused(&lying, "too many elements");
    let mut lying = torch_like();
    weight(&mut lying).dims[0] += 1;
    refused(&lying, "need");
    let mut negative = torch_like();
    weight(&mut negative).dims[0] = -5;
    refused(&negative, "dimension -5");
    let mut external = torch_like();
    weight(&mut external).data_location = Some(1);
    refused(&external, "external file");
    let mut nan = torch_like();
    weight(&mut nan).float_data[2] = f32::NAN;
    refused(&nan, "not a finite number");
    let mut conv = torch_like();
    graph(&mut conv).node[2].op_type = "Conv".into();
    refused(&conv, "unsupported: operator Conv");
    let mut alpha = torch_like();
    graph(&mut alpha).node[1].attribute.push(AttributeProto {
        name: "alpha".into(),
        r#type: attribute_type::FLOAT,
        f: Some(2.0),
        ..Default::default()
    });
    refused(&alpha, "alpha");
    // Layers that do not chain: the second layer's weights for 4 inputs instead of 5.
    let mut unchained = torch_like();
    let w = graph(&mut unchained)
        .initializer
        .iter_mut()
        .find(|t| t.name == "layer1.weight")
        .unwrap();
    w.dims = vec![3, 4];
    w.float_data.truncate(12);
    refused(&unchained, "do not chain");
    let mut branch = torch_like();
    graph(&mut branch).node[2].input[0] = "input".into();
    refused(&branch, "previous node's output");
}

#[test]
fn hostile_safetensors_files_are_refused() {
    let good = to_safetensors(&network("tanh", "sigmoid", 2), "QuadraticCost").unwrap();
    for len in 0..good.len() {
        assert!(from_safetensors(&good[..len]).is_err());
    }
    // A lying header length.
    let mut lying = good.clone();
    lying[..8].copy_from_slice(&u64::MAX.to_le_bytes());
    assert!(from_safetensors(&lying).is_err());
    // A NaN weight: the last 4 bytes are the last bias.
    let mut nan = good.clone();
    let n = nan.len();
    nan[n - 4..].copy_from_slice(&f32::NAN.to_le_bytes());
    let error = from_safetensors(&nan).unwrap_err().to_string();
    assert!(error.contains("not a finite number"), "{error}");
    // Sizes that disagree with the tensors.
    let header_len = u64::from_le_bytes(good[..8].try_into().unwrap()) as usize;
    let header = String::from_utf8(good[8..8 + header_len].to_vec()).unwrap();
    let changed = header.replace("[6,5,3]", "[6,4,3]");
    assert_ne!(changed, header);
    let mut wrong = (changed.len() as u64).to_le_bytes().to_vec();
    wrong.extend_from_slice(changed.as_bytes());
    wrong.extend_from_slice(&good[8 + header_len..]);
    assert!(from_safetensors(&wrong).is_err());
}
