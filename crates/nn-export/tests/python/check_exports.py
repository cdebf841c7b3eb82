#!/usr/bin/env python3
"""The files `nn export` writes, checked by the Python ecosystem's own readers.

Small models are trained with the real `nn` binary, one per activation, cost and input
standardization (accuracy does not matter here, agreement does), and exported to ONNX and
safetensors. Then, on all 10,000 MNIST test images (read here from the IDX files: pixels / 255
as float32, as nn-data scales them):

ONNX
    `onnx.checker.check_model(full_check=True)` accepts the file; its input is `input`
    float32 [N, n_in] with N symbolic, its outputs `output` float32 [N, k] and `label` int64
    [N]; `metadata_props` hold the sizes, activations, cost, nn version, framing and (with
    --normalize) the folded standardization. onnxruntime's labels equal nn's for every image
    and its outputs are within 1e-5 of nn's.
safetensors
    `safetensors.numpy.load_file` reads `0.weight` [out, in], `0.bias`, `2.weight`, ... (the
    names of a PyTorch `nn.Sequential` of `Linear` and activation modules) in float32, the
    rest in `__metadata__`; a forward pass written here in numpy, standardizing the inputs as
    the metadata says, gives nn's labels for every image.
Reading back
    ONNX graphs such as `torch.onnx.export` writes for an `nn.Sequential` of `Linear` layers
    (Gemm with transB = 1, MatMul + Add, Flatten, Reshape and Identity of the input, opset 17),
    built here with `onnx.helper` from the exported weights, are read by `nn eval` (the same
    accuracy and confusion matrix as the JSON model), `nn predict` and `nn export` (back to
    nn's JSON, the same weights); a graph with a Conv is refused with one `error:` line
    naming it.

nn's per-image reference is the `nn` Python package (nn-py), whose `feedforward` runs nn's
engine on one image as `nn eval` does; `nn eval --confusion` of the binary must then give the
correct count and confusion matrix of onnxruntime's labels. A numpy forward pass of the JSON
model's weights (in float64) is a second witness.

    python check_exports.py --nn target/release/nn --data ../shared/data/mnist

Prints a summary; exits with status 1, naming every mismatch, when anything disagrees.
"""

import argparse
import gzip
import json
import pathlib
import re
import struct
import subprocess
import sys
import tempfile
import time
import zlib

import numpy as np
import onnx
import onnxruntime
import safetensors
from onnx import TensorProto, helper, numpy_helper
from safetensors import safe_open
from safetensors.numpy import load_file

import nn.network2

# Outputs of two engines computing in float32 may differ by this much, no more.
TOLERANCE = 1e-5
# The opset of the torch-style graphs built here (what a recent torch.onnx.export writes).
TORCH_OPSET = 17
TRAIN = ["--train-size", "2000", "--epochs", "1", "--quiet"]

# (name, flags of `nn train`, output activation written into the saved model, whether the
# torch-style graphs are made from it): every hidden activation, every cost, both
# standardizations, two hidden layers, and (by editing the saved model, as no training flag
# makes them) a softmax with a temperature and an identity output layer. The torch-style
# graphs are made from models without a standardization (another tool would have none to
# fold), one per operator: Sigmoid, Tanh, Relu with Softmax, and no activation.
MODELS = [
    ("sigmoid, cross-entropy", [], None, True),
    ("sigmoid, quadratic", ["--cost", "quadratic"], None, False),
    ("tanh hidden", ["--activation", "tanh"], None, True),
    ("relu 784,30,20,10, log-likelihood",
     ["--activation", "relu", "--layers", "784,30,20,10", "--cost", "log-likelihood",
      "--eta", "0.1"], None, True),
    ("softmax, log-likelihood", ["--cost", "log-likelihood"], None, False),
    ("--normalize pixel", ["--normalize", "pixel"], None, False),
    ("--normalize global, tanh", ["--normalize", "global", "--activation", "tanh"], None, False),
    ("softmax:2.5 output", ["--cost", "log-likelihood"], "softmax:2.5", False),
    ("identity output", ["--cost", "quadratic", "--eta", "0.1"], "identity", True),
]


class Checks:
    """Collects failed checks, so that one run reports every mismatch."""

    def __init__(self):
        self.failures = []
        self.count = 0

    def expect(self, condition, what):
        self.count += 1
        if not condition:
            what = what if len(what) <= 300 else what[:300] + "..."
            self.failures.append(what)
            print("  MISMATCH: " + what, flush=True)
        return bool(condition)

    def finish(self, disagreeing):
        """Prints the counts; exits with status 1, naming every failure, if any failed."""
        failed = len(self.failures)
        print("{} passed, {} failed".format(self.count - failed, failed))
        if self.failures:
            print("error: {}:".format(disagreeing), file=sys.stderr)
            for failure in self.failures:
                print("  " + failure, file=sys.stderr)
            sys.exit(1)


def read_idx(path):
    """An IDX file (gzipped or not) as a numpy array of uint8."""
    opener = gzip.open if str(path).endswith(".gz") else open
    with opener(path, "rb") as f:
        data = f.read()
    zero, kind, rank = struct.unpack(">HBB", data[:4])
    if zero != 0 or kind != 0x08:
        raise ValueError("{}: not an IDX file of unsigned bytes".format(path))
    dims = struct.unpack(">" + "I" * rank, data[4:4 + 4 * rank])
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * rank).reshape(dims)


def find(data_dir, stem):
    """The IDX file `stem` in data_dir, gzipped or not."""
    for name in (stem + ".gz", stem):
        if (data_dir / name).exists():
            return data_dir / name
    raise FileNotFoundError("{}: no {} (gzipped or not)".format(data_dir, stem))


def test_set(data_dir):
    """MNIST's test images as float32 rows of pixels / 255 (nn-data's scaling), and labels."""
    images = read_idx(find(data_dir, "t10k-images-idx3-ubyte"))
    labels = read_idx(find(data_dir, "t10k-labels-idx1-ubyte")).astype(np.int64)
    x = images.reshape(len(images), -1).astype(np.float32) / np.float32(255.0)
    return x, labels


def run(command, expect_success=True):
    """Runs a command, its output captured; exits naming it when it fails unexpectedly."""
    done = subprocess.run([str(c) for c in command], capture_output=True, text=True)
    if expect_success and done.returncode != 0:
        sys.exit("error: `{}` failed (status {}):\n{}{}".format(
            " ".join(map(str, command)), done.returncode, done.stdout, done.stderr))
    return done


def arguments(doc):
    """The nn binary and the MNIST folder given as --nn and --data, resolved."""
    parser = argparse.ArgumentParser(description=doc.split("\n\n")[0])
    parser.add_argument("--nn", required=True, help="the nn binary (target/release/nn)")
    parser.add_argument("--data", required=True, help="the directory of MNIST's IDX files")
    args = parser.parse_args()
    return pathlib.Path(args.nn).resolve(), pathlib.Path(args.data).resolve()


def trained(binary, data_dir, path, flags, output_activation):
    """A model of MODELS trained by `nn train` into path (its output activation then
    replaced when one is given); returns path and the model's JSON."""
    run([binary, "train", "--data", data_dir, *TRAIN, *flags, "--save", path])
    model = json.loads(path.read_text())
    if output_activation:
        model["activations"][-1] = output_activation
        path.write_text(json.dumps(model))
    return path, model


def nn_eval(binary, data_dir, model):
    """`nn eval MODEL --confusion`: the correct count and the confusion matrix it prints."""
    out = run([binary, "eval", model, "--data", data_dir, "--confusion"]).stdout
    match = re.search(r"Accuracy on the test set: (\d+) / (\d+)", out)
    if not match:
        sys.exit("error: no accuracy line in `nn eval {}`:\n{}".format(model, out))
    rows = [line.split("|")[0].split() for line in out.splitlines()
            if re.match(r"^\s+\d+(\s+\d+)+\s+\|", line)]
    confusion = np.array([[int(v) for v in row[1:]] for row in rows], dtype=np.int64)
    if confusion.shape != (10, 10):
        sys.exit("error: no 10 x 10 confusion matrix in `nn eval {}`:\n{}".format(model, out))
    return int(match.group(1)), confusion


def confusion_of(labels, predicted, classes=10):
    """Rows: true digit, columns: predicted digit, as nn eval prints it."""
    matrix = np.zeros((classes, classes), dtype=np.int64)
    np.add.at(matrix, (labels, predicted), 1)
    return matrix


# numpy forward passes.

def activate(spec, z):
    """The activation nn's specification names (nn-core's activation_from_spec)."""
    if spec == "sigmoid":
        return 1.0 / (1.0 + np.exp(-z))
    if spec == "tanh":
        return np.tanh(z)
    if spec == "relu":
        return np.maximum(z, 0.0)
    if spec in ("identity", "linear"):
        return z
    if spec == "softmax" or spec.startswith("softmax:"):
        c = float(spec.split(":")[1]) if ":" in spec else 1.0
        e = np.exp(c * z - np.max(c * z, axis=1, keepdims=True))
        return e / np.sum(e, axis=1, keepdims=True)
    raise ValueError("activation {!r} has no numpy forward pass here".format(spec))


def standardize(x, standardization):
    """(x - mean) * (1 / std) in float32, as nn-core applies the stored standardization."""
    if not standardization or standardization["kind"] == "none":
        return x
    mean = np.asarray(standardization["mean"], dtype=np.float32)
    scale = np.float32(1.0) / np.asarray(standardization["std"], dtype=np.float32)
    return (x - mean) * scale


def forward(x, layers, activations, standardization):
    """The network's outputs for the rows of x, in float64 after the standardization;
    layers: (weights [out, in], biases [out]) pairs."""
    a = standardize(x, standardization).astype(np.float64)
    for (w, b), spec in zip(layers, activations):
        a = activate(spec, a @ w.astype(np.float64).T + b.astype(np.float64))
    return a


def json_layers(model):
    """The (weights [out, in], biases [out]) of nn's JSON model, as float32."""
    return [(np.array(w, dtype=np.float32), np.array(b, dtype=np.float32).reshape(-1))
            for w, b in zip(model["weights"], model["biases"])]


def module_indices(activations):
    """The nn.Sequential index of each Linear: every activation but the identity is a module."""
    indices, next_index = [], 0
    for spec in activations:
        indices.append(next_index)
        next_index += 1 if spec in ("identity", "linear") else 2
    return indices


def compare(checks, what, outputs, labels, reference, reference_labels):
    """Labels equal for every image, outputs within TOLERANCE; returns the largest difference."""
    difference = float(np.max(np.abs(outputs - reference)))
    differing = np.nonzero(labels != reference_labels)[0]
    checks.expect(len(differing) == 0, "{}: labels differ on {} of {} images (first: {})".format(
        what, len(differing), len(labels), differing[:5].tolist()))
    checks.expect(difference <= TOLERANCE, "{}: outputs differ by up to {:.3g} > {}".format(
        what, difference, TOLERANCE))
    return difference


# The exported files.

def check_onnx(checks, name, path, model, x, version):
    """The ONNX file's structure and metadata; onnxruntime's outputs and labels."""
    proto = onnx.load(str(path))
    try:
        onnx.checker.check_model(proto, full_check=True)
        checks.count += 1
    except onnx.checker.ValidationError as e:
        checks.expect(False, "{}: onnx.checker refuses the file: {}".format(name, e))

    def shape(value):
        t = value.type.tensor_type
        return t.elem_type, [d.dim_param or d.dim_value for d in t.shape.dim], \
            [d.HasField("dim_param") for d in t.shape.dim]

    graph = proto.graph
    n_in, k = model["sizes"][0], model["sizes"][-1]
    inputs = [i for i in graph.input if i.name not in {t.name for t in graph.initializer}]
    checks.expect([i.name for i in inputs] == ["input"], "{}: graph inputs {}, not ['input']"
                  .format(name, [i.name for i in inputs]))
    if inputs:
        elem, dims, symbolic = shape(inputs[0])
        checks.expect(elem == TensorProto.FLOAT and len(dims) == 2 and symbolic[0]
                      and dims[1] == n_in,
                      "{}: input is {} {}, not float32 [N, {}]".format(name, elem, dims, n_in))
    outputs = {o.name: shape(o) for o in graph.output}
    checks.expect(sorted(outputs) == ["label", "output"],
                  "{}: graph outputs {}, not output and label".format(name, sorted(outputs)))
    if "output" in outputs:
        elem, dims, symbolic = outputs["output"]
        checks.expect(elem == TensorProto.FLOAT and len(dims) == 2 and symbolic[0]
                      and dims[1] == k,
                      "{}: output is {} {}, not float32 [N, {}]".format(name, elem, dims, k))
    if "label" in outputs:
        elem, dims, symbolic = outputs["label"]
        checks.expect(elem == TensorProto.INT64 and len(dims) == 1 and symbolic[0],
                      "{}: label is {} {}, not int64 [N]".format(name, elem, dims))
    meta = {p.key: p.value for p in proto.metadata_props}
    expected = {"sizes": model["sizes"], "activations": model["activations"]}
    for key, value in expected.items():
        checks.expect(key in meta and json.loads(meta[key]) == value,
                      "{}: metadata {} is {!r}, not {!r}".format(name, key, meta.get(key), value))
    checks.expect(meta.get("cost") == model["cost"], "{}: metadata cost {!r}, not {!r}".format(
        name, meta.get("cost"), model["cost"]))
    checks.expect(meta.get("nn_version") == version, "{}: metadata nn_version {!r}, not {!r}"
                  .format(name, meta.get("nn_version"), version))
    if model.get("framing") is not None:
        checks.expect("framing" in meta and json.loads(meta["framing"]) == model["framing"],
                      "{}: metadata framing {!r}, not {!r}".format(
                          name, meta.get("framing"), model["framing"]))
    standardization = model.get("standardization")
    if standardization:
        folded = json.loads(meta.get("standardization_folded", "null"))
        checks.expect(folded == standardization,
                      "{}: metadata standardization_folded {!r} is not the model's".format(
                          name, folded))
    else:
        checks.expect("standardization_folded" not in meta,
                      "{}: metadata standardization_folded without a standardization".format(
                          name))
    session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    output, label = session.run(["output", "label"], {"input": x})
    checks.expect(output.dtype == np.float32 and output.shape == (len(x), k),
                  "{}: onnxruntime's output is {} {}".format(name, output.dtype, output.shape))
    checks.expect(label.dtype == np.int64 and np.array_equal(label, np.argmax(output, axis=1)),
                  "{}: the label output is not the most active output".format(name))
    return output, label


def check_safetensors(checks, name, path, model, x, version):
    """The safetensors file's tensors and metadata, and a numpy forward pass from them."""
    tensors = load_file(str(path))
    with safe_open(str(path), framework="np") as f:
        meta = f.metadata() or {}
    sizes, activations = model["sizes"], model["activations"]
    expected = {}
    for layer, index in enumerate(module_indices(activations)):
        expected["{}.weight".format(index)] = (sizes[layer + 1], sizes[layer])
        expected["{}.bias".format(index)] = (sizes[layer + 1],)
    found = {key: tuple(t.shape) for key, t in tensors.items()}
    checks.expect(found == expected, "{}: tensors {}, not {}".format(name, found, expected))
    checks.expect(all(t.dtype == np.float32 for t in tensors.values()),
                  "{}: tensors not all float32: {}".format(
                      name, sorted({str(t.dtype) for t in tensors.values()})))
    want = {"format": "nn", "nn_version": version, "cost": model["cost"]}
    for key, value in want.items():
        checks.expect(meta.get(key) == value, "{}: __metadata__ {} is {!r}, not {!r}".format(
            name, key, meta.get(key), value))
    for key in ("sizes", "activations", "standardization", "framing"):
        value = model.get(key)
        if value is None:
            checks.expect(key not in meta, "{}: __metadata__ has {} the model lacks".format(
                name, key))
        else:
            checks.expect(key in meta and json.loads(meta[key]) == value,
                          "{}: __metadata__ {} is {!r}, not {!r}".format(
                              name, key, meta.get(key), value))
    # The weights are the JSON model's, bit for bit.
    for (w, b), index in zip(json_layers(model), module_indices(activations)):
        weight, bias = tensors.get("{}.weight".format(index)), tensors.get("{}.bias".format(index))
        checks.expect(weight is not None and np.array_equal(weight, w)
                      and bias is not None and np.array_equal(bias, b),
                      "{}: layer {} differs from the JSON model's".format(name, index))
    # The forward pass takes everything from the file: its tensors and its metadata.
    try:
        file_activations = json.loads(meta["activations"])
        layers = [(tensors["{}.weight".format(i)], tensors["{}.bias".format(i)])
                  for i in module_indices(file_activations)]
    except (KeyError, ValueError):
        return None
    standardization = json.loads(meta["standardization"]) if "standardization" in meta \
        else None
    return forward(x, layers, file_activations, standardization)


# Graphs as torch.onnx.export writes them, made from a model's weights.

def tensor(name, array, raw=True):
    """An ONNX tensor of the array: raw_data, or the typed field (float_data) as some tools
    write it."""
    array = np.ascontiguousarray(array)
    if raw:
        return numpy_helper.from_array(array, name)
    return helper.make_tensor(name, helper.np_dtype_to_tensor_dtype(array.dtype), array.shape,
                              array.reshape(-1).tolist())


def torch_style(layers, activations, style, cost=None):
    """An ONNX model of the network in one of the ways other tools write it:

    gemm      input [batch, 1, 28, 28], Flatten, Gemm (transB = 1, alpha = beta = 1.0 written
              out, weights [out, in] named as the module's parameters) and activations, as
              torch.onnx.export writes an nn.Sequential(Flatten, Linear, ...);
    matmul    input [batch, 28, 28], Reshape to [-1, 784] by a Constant shape, MatMul by
              weights [in, out] then Add, softmax with its axis left to the default;
    identity  input [batch, 784], Identity, Gemm with transB = 0 (weights [in, out]) and
              biases of shape [1, out], the weights as float_data in Constant nodes, and the
              cost in the metadata.
    """
    nodes, initializers = [], []
    if style == "gemm":
        graph_input = helper.make_tensor_value_info("x", TensorProto.FLOAT,
                                                    ["batch", 1, 28, 28])
        nodes.append(helper.make_node("Flatten", ["x"], ["flat"], name="/0/Flatten", axis=1))
    elif style == "matmul":
        graph_input = helper.make_tensor_value_info("pixels", TensorProto.FLOAT,
                                                    ["batch", 28, 28])
        shape = tensor("shape_value", np.array([-1, 784], dtype=np.int64))
        nodes.append(helper.make_node("Constant", [], ["shape"], name="/Constant", value=shape))
        nodes.append(helper.make_node("Reshape", ["pixels", "shape"], ["flat"], name="/Reshape"))
    else:
        graph_input = helper.make_tensor_value_info("input.1", TensorProto.FLOAT, ["batch", 784])
        nodes.append(helper.make_node("Identity", ["input.1"], ["flat"], name="/Identity"))
    current = "flat"
    module = 1 if style == "gemm" else 0
    for (w, b), spec in zip(layers, activations):
        prefix = "/{}".format(module)
        weight, bias = "{}.weight".format(module), "{}.bias".format(module)
        z = "{}/z".format(prefix)
        if style == "gemm":
            initializers += [tensor(weight, w), tensor(bias, b)]
            nodes.append(helper.make_node("Gemm", [current, weight, bias], [z],
                                          name=prefix + "/Gemm", alpha=1.0, beta=1.0, transB=1))
        elif style == "matmul":
            initializers += [tensor(weight, w.T), tensor(bias, b)]
            nodes.append(helper.make_node("MatMul", [current, weight], [z + "mm"],
                                          name=prefix + "/MatMul"))
            nodes.append(helper.make_node("Add", [z + "mm", bias], [z], name=prefix + "/Add"))
        else:
            nodes.append(helper.make_node("Constant", [], [weight], name=prefix + "/Wconst",
                                          value=tensor(weight + ".value", w.T, raw=False)))
            nodes.append(helper.make_node("Constant", [], [bias], name=prefix + "/Bconst",
                                          value=tensor(bias + ".value", b.reshape(1, -1),
                                                       raw=False)))
            nodes.append(helper.make_node("Gemm", [current, weight, bias], [z],
                                          name=prefix + "/Gemm", transB=0))
        current = z
        module += 1
        if spec != "identity":
            op = {"sigmoid": "Sigmoid", "tanh": "Tanh", "relu": "Relu", "softmax": "Softmax"}[spec]
            attributes = {"axis": 1} if op == "Softmax" and style != "matmul" else {}
            a = "/{}/{}".format(module, op)
            nodes.append(helper.make_node(op, [current], [a], name=a, **attributes))
            current = a
            module += 1
    # The last node's output is the graph's.
    nodes[-1].output[0] = "logits"
    classes = layers[-1][0].shape[0]
    graph = helper.make_graph(
        nodes, "torch_jit", [graph_input],
        [helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["batch", classes])],
        initializers)
    proto = helper.make_model(graph, producer_name="pytorch", producer_version="2.5.0",
                              opset_imports=[helper.make_opsetid("", TORCH_OPSET)])
    proto.ir_version = 8
    if cost:
        helper.set_model_props(proto, {"cost": cost})
    return proto


def conv_graph():
    """A small convolutional network: what nn does not read."""
    rng = np.random.default_rng(0)
    nodes = [
        helper.make_node("Conv", ["x", "conv.weight", "conv.bias"], ["c"], name="/conv/Conv",
                         kernel_shape=[3, 3]),
        helper.make_node("Relu", ["c"], ["r"], name="/Relu"),
        helper.make_node("Flatten", ["r"], ["f"], name="/Flatten", axis=1),
        helper.make_node("Gemm", ["f", "fc.weight", "fc.bias"], ["y"], name="/fc/Gemm",
                         transB=1),
    ]
    initializers = [
        tensor("conv.weight", rng.standard_normal((2, 1, 3, 3)).astype(np.float32)),
        tensor("conv.bias", np.zeros(2, dtype=np.float32)),
        tensor("fc.weight", rng.standard_normal((10, 2 * 26 * 26)).astype(np.float32)),
        tensor("fc.bias", np.zeros(10, dtype=np.float32)),
    ]
    graph = helper.make_graph(
        nodes, "conv", [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 1, 28, 28])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["N", 10])], initializers)
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", TORCH_OPSET)])


def png(path, image):
    """A grayscale PNG of a 2-D uint8 array (white digit on black, as MNIST's)."""
    rows = b"".join(b"\x00" + bytes(row) for row in image)

    def chunk(kind, data):
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))
    header = struct.pack(">IIBBBBB", image.shape[1], image.shape[0], 8, 0, 0, 0, 0)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header)
                     + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b""))


def predict(binary, model, picture):
    """`nn predict --json` of one picture, framed as MNIST's digits whatever the model says
    (a graph from another tool records no framing)."""
    out = run([binary, "predict", model, picture, "--json", "--framing", "mnist"]).stdout
    return json.loads(out.strip().splitlines()[0])


def check_read_back(checks, binary, data_dir, work, name, path, model, x, picture):
    """Torch-style graphs of the model's weights through nn eval, nn predict and nn export."""
    layers = json_layers(model)
    activations = model["activations"]
    expected_correct, expected_confusion = nn_eval(binary, data_dir, path)
    expected_prediction = predict(binary, path, picture)
    for style in ("gemm", "matmul", "identity"):
        what = "{}, {}-style ONNX".format(name, style)
        proto = torch_style(layers, activations, style,
                            cost=model["cost"] if style == "identity" else None)
        onnx.checker.check_model(proto, full_check=True)
        graph_path = work / "{}-{}.onnx".format(path.stem, style)
        onnx.save(proto, str(graph_path))
        # The graph computes what the model does (onnxruntime's view of it).
        session = onnxruntime.InferenceSession(str(graph_path),
                                               providers=["CPUExecutionProvider"])
        shaped = {"gemm": (-1, 1, 28, 28), "matmul": (-1, 28, 28), "identity": (-1, 784)}[style]
        (output,) = session.run(None, {session.get_inputs()[0].name: x.reshape(shaped)})
        checks.expect(float(np.max(np.abs(output - forward(x, layers, activations, None))))
                      <= TOLERANCE, "{}: onnxruntime's outputs are not the model's".format(what))
        correct, confusion = nn_eval(binary, data_dir, graph_path)
        checks.expect(correct == expected_correct and np.array_equal(confusion,
                                                                     expected_confusion),
                      "{}: nn eval finds {} correct, {} for the JSON model".format(
                          what, correct, expected_correct))
        prediction = predict(binary, graph_path, picture)
        checks.expect(prediction["digit"] == expected_prediction["digit"]
                      and np.allclose(prediction["probabilities"],
                                      expected_prediction["probabilities"], atol=1e-6),
                      "{}: nn predict gives {}, {} for the JSON model".format(
                          what, prediction, expected_prediction))
        back = work / "{}-{}.json".format(path.stem, style)
        run([binary, "export", graph_path, back])
        read = json.loads(back.read_text())
        same = read["sizes"] == model["sizes"] and read["activations"] == activations and all(
            np.array_equal(w, rw) and np.array_equal(b, rb)
            for (w, b), (rw, rb) in zip(layers, json_layers(read)))
        checks.expect(same, "{}: nn export to JSON changes the network".format(what))
        checks.expect(read["cost"] == (model["cost"] if style == "identity" else "unknown"),
                      "{}: nn export to JSON gives the cost {!r}".format(what, read["cost"]))
        correct, confusion = nn_eval(binary, data_dir, back)
        checks.expect(correct == expected_correct and np.array_equal(confusion,
                                                                     expected_confusion),
                      "{}: nn eval of its JSON finds {} correct, not {}".format(
                          what, correct, expected_correct))
    return expected_correct


def check_refused(checks, binary, data_dir, work):
    """A graph with a Conv: nn eval and nn export refuse it with one error line naming Conv."""
    path = work / "conv.onnx"
    onnx.save(conv_graph(), str(path))
    errors = []
    for command in ([binary, "eval", path, "--data", data_dir],
                    [binary, "export", path, work / "conv.json"]):
        done = run(command, expect_success=False)
        errors = [line for line in done.stderr.splitlines() if line.startswith("error:")]
        checks.expect(done.returncode != 0 and len(errors) == 1 and "Conv" in errors[0],
                      "`nn {}` of a Conv graph: status {}, standard error {!r}".format(
                          command[1], done.returncode, done.stderr))
    checks.expect(not (work / "conv.json").exists(), "nn export of a Conv graph wrote a file")
    return errors[0] if errors else ""


def main():
    binary, data_dir = arguments(__doc__)
    started = time.monotonic()
    checks = Checks()
    version = run([binary, "--version"]).stdout.split()[-1]
    x, y = test_set(data_dir)
    print("onnx {}, onnxruntime {}, safetensors {}, numpy {}; nn {}; {} test images".format(
        onnx.__version__, onnxruntime.__version__, safetensors.__version__, np.__version__,
        version, len(x)))
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        work = pathlib.Path(tmp)
        picture = work / "digit.png"
        png(picture, (x[0].reshape(28, 28) * 255).round().astype(np.uint8))
        for i, (name, flags, output_activation, read_back) in enumerate(MODELS):
            print("{}:".format(name), flush=True)
            path, model = trained(binary, data_dir, work / "m{}.json".format(i), flags,
                                  output_activation)
            run([binary, "export", path, path.with_suffix(".onnx")])
            run([binary, "export", path, path.with_suffix(".safetensors")])

            # nn's own figures: per image from nn-py's engine, counts from nn eval.
            net = nn.network2.load(str(path))
            reference = np.array([net.feedforward(row) for row in x])
            reference_labels = np.argmax(reference, axis=1)
            correct, confusion = nn_eval(binary, data_dir, path)
            checks.expect(correct == int(np.sum(reference_labels == y)),
                          "{}: nn eval finds {} correct, nn-py {}".format(
                              name, correct, int(np.sum(reference_labels == y))))
            witness = forward(x, json_layers(model), model["activations"],
                              model.get("standardization"))
            numpy_difference = compare(checks, name + ", numpy against nn-py", witness,
                                       np.argmax(witness, axis=1), reference, reference_labels)

            output, label = check_onnx(checks, name, path.with_suffix(".onnx"), model, x,
                                       version)
            onnx_difference = compare(checks, name + ", onnxruntime against nn-py", output,
                                      label, reference, reference_labels)
            onnx_correct = int(np.sum(label == y))
            checks.expect(onnx_correct == correct
                          and np.array_equal(confusion_of(y, label), confusion),
                          "{}: onnxruntime's labels give {} correct, nn eval {} (or another "
                          "confusion matrix)".format(name, onnx_correct, correct))

            st_output = check_safetensors(checks, name, path.with_suffix(".safetensors"),
                                          model, x, version)
            st_difference = float("nan")
            if st_output is not None:
                st_difference = compare(checks, name + ", safetensors in numpy against nn-py",
                                        st_output, np.argmax(st_output, axis=1), reference,
                                        reference_labels)
            st_correct, st_confusion = nn_eval(binary, data_dir, path.with_suffix(".safetensors"))
            checks.expect(st_correct == correct and np.array_equal(st_confusion, confusion),
                          "{}: nn eval of the safetensors file finds {} correct, not {}".format(
                              name, st_correct, correct))

            if read_back:
                check_read_back(checks, binary, data_dir, work, name, path, model, x, picture)
            rows.append((name, read_back, correct, onnx_difference, st_difference,
                         numpy_difference))
        refusal = check_refused(checks, binary, data_dir, work)

    print("\nLabels compared with nn's on all {} test images; the largest output difference:"
          .format(len(x)))
    line = "{:<36} {:>9} {:>8} {:>12} {:>12} {:>10}"
    print(line.format("model", "read-back", "correct", "onnxruntime", "safetensors", "numpy f64"))
    for name, read_back, correct, a, b, c in rows:
        print(line.format(name, "yes" if read_back else "", correct, "{:.2e}".format(a),
                          "{:.2e}".format(b), "{:.2e}".format(c)))
    print("Conv graph refused: {}".format(refusal))
    print("{:.1f} s".format(time.monotonic() - started))
    checks.finish("the exported files disagree with nn")


if __name__ == "__main__":
    main()
