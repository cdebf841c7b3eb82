#!/usr/bin/env python3
"""The files `nn export` writes, and the files PyTorch writes, checked with PyTorch itself.

For each model of check_exports.py (every activation, cost and standardization; trained with
the real `nn` binary on 2,000 images for one epoch), on all 10,000 MNIST test images:

safetensors into PyTorch
    An `nn.Sequential` of `Linear` and activation modules is built from the file's
    `__metadata__` (its `activations`), and
    `model.load_state_dict(safetensors.torch.load_file(path), strict=True)` loads the file
    (no key missing, none left over, every shape right). Its outputs, after the inputs are
    standardized as the metadata says, give the same confusion matrix as `nn eval` of the
    JSON model and lie within 1e-5 of a float64 numpy forward pass of the JSON weights.
ONNX from PyTorch into nn
    For the models without a standardization or a softmax with a temperature (PyTorch writes
    its c as a `Mul`, which nn refuses), `torch.onnx.export` of that Sequential (the
    TorchScript exporter, opset 17, input `input` with a symbolic batch size) is read by
    `nn eval` (the same confusion matrix as the JSON model's) and by `nn export` (back to
    nn's JSON: the same weights, bit for bit).

    python check_torch.py --nn target/release/nn --data ../shared/data/mnist

Needs torch, safetensors, onnx and numpy. Prints a summary; exits with status 1, naming every
mismatch, when anything disagrees.
"""

import json
import pathlib
import sys
import tempfile
import time
import warnings

import numpy as np
import torch
from safetensors import safe_open
from safetensors.torch import load_file

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
from check_exports import (  # noqa: E402
    MODELS, TORCH_OPSET, Checks, arguments, compare, confusion_of, forward, json_layers,
    nn_eval, run, standardize, test_set, trained)


class ScaledSoftmax(torch.nn.Module):
    """nn's `softmax:c`: softmax(c z) over each row (torch has no module with a c)."""

    def __init__(self, c):
        super().__init__()
        self.c = c

    def forward(self, z):
        return torch.softmax(self.c * z, dim=1)


def activation_module(spec):
    """The torch module of nn's activation, or None for the identity (no module)."""
    if spec in ("identity", "linear"):
        return None
    if spec == "softmax":
        return torch.nn.Softmax(dim=1)
    if spec.startswith("softmax:"):
        return ScaledSoftmax(float(spec.split(":")[1]))
    return {"sigmoid": torch.nn.Sigmoid, "tanh": torch.nn.Tanh, "relu": torch.nn.ReLU}[spec]()


def sequential(sizes, activations):
    """Linear and activation modules in turn, as a PyTorch user writes the network."""
    modules = []
    for n_in, n_out, spec in zip(sizes, sizes[1:], activations):
        modules.append(torch.nn.Linear(n_in, n_out))
        module = activation_module(spec)
        if module is not None:
            modules.append(module)
    return torch.nn.Sequential(*modules)


def check_load_state_dict(checks, name, path, model, x, reference):
    """Loads the safetensors file into a matching Sequential; returns it and its outputs."""
    with safe_open(str(path), framework="pt") as f:
        meta = f.metadata() or {}
    sizes, activations = json.loads(meta["sizes"]), json.loads(meta["activations"])
    net = sequential(sizes, activations)
    try:
        net.load_state_dict(load_file(str(path)), strict=True)
    except RuntimeError as e:
        checks.expect(False, "{}: load_state_dict refused the file: {}".format(name, e))
        return None, None
    standardization = json.loads(meta["standardization"]) if "standardization" in meta \
        else None
    inputs = torch.from_numpy(np.ascontiguousarray(standardize(x, standardization)))
    with torch.no_grad():
        outputs = net(inputs).numpy().astype(np.float64)
    compare(checks, name + ", PyTorch against numpy f64", outputs, np.argmax(outputs, axis=1),
            reference, np.argmax(reference, axis=1))
    return net, outputs


def check_torch_onnx(checks, binary, data_dir, work, name, net, model, confusion):
    """torch.onnx.export of the Sequential, read by nn eval and nn export."""
    path = work / "torch.onnx"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(net, torch.zeros(1, model["sizes"][0]), str(path), dynamo=False,
                          input_names=["input"], output_names=["output"],
                          dynamic_axes={"input": {0: "N"}, "output": {0: "N"}},
                          opset_version=TORCH_OPSET)
    _, torch_confusion = nn_eval(binary, data_dir, path)
    checks.expect(np.array_equal(torch_confusion, confusion),
                  "{}: nn eval of PyTorch's ONNX file gives another confusion matrix".format(name))
    back = work / "from-torch.json"
    run([binary, "export", path, back])
    restored = json.loads(back.read_text())
    same = all(np.array_equal(w, w2) and np.array_equal(b, b2) for (w, b), (w2, b2) in
               zip(json_layers(model), json_layers(restored)))
    checks.expect(same and restored["activations"] == model["activations"],
                  "{}: nn export of PyTorch's ONNX file gives other weights or activations: {}"
                  .format(name, restored["activations"]))
    back.unlink()
    path.unlink()


def main():
    binary, data_dir = arguments(__doc__)
    started = time.monotonic()
    torch.set_num_threads(1)
    checks = Checks()
    x, y = test_set(data_dir)
    print("torch {}; {} test images".format(torch.__version__, len(x)))
    with tempfile.TemporaryDirectory() as tmp:
        work = pathlib.Path(tmp)
        for i, (name, flags, output_activation, _) in enumerate(MODELS):
            path, model = trained(binary, data_dir, work / "m{}.json".format(i), flags,
                                  output_activation)
            run([binary, "export", path, path.with_suffix(".safetensors")])
            _, confusion = nn_eval(binary, data_dir, path)
            reference = forward(x, json_layers(model), model["activations"],
                                model.get("standardization"))
            net, outputs = check_load_state_dict(checks, name, path.with_suffix(".safetensors"),
                                                 model, x, reference)
            if net is None:
                continue
            checks.expect(np.array_equal(confusion_of(y, np.argmax(outputs, axis=1)), confusion),
                          "{}: PyTorch's labels give another confusion matrix than nn eval"
                          .format(name))
            # PyTorch writes a Mul for ScaledSoftmax's c, which nn's ONNX import refuses.
            read_back = (not model.get("standardization")
                         or model["standardization"]["kind"] == "none") \
                and not model["activations"][-1].startswith("softmax:")
            if read_back:
                check_torch_onnx(checks, binary, data_dir, work, name, net, model, confusion)
            print("{}: load_state_dict and labels checked{}".format(
                name, ", PyTorch's ONNX read back" if read_back else ""), flush=True)
    print("{:.1f} s".format(time.monotonic() - started))
    checks.finish("PyTorch and nn disagree")


if __name__ == "__main__":
    main()
