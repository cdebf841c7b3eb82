"""Models move between Python and `nn` in network2.py's JSON format."""

import json
import subprocess

import numpy as np

from nn import network2


def test_a_model_saved_from_python_loads_in_nn_eval(mnist, nn_binary, tmp_path):
    training_data, _, test_data = mnist
    net = network2.Network([784, 30, 10])
    net.SGD(training_data[:5000], 1, 10, 0.5, seed=2)
    path = tmp_path / "model.json"
    net.save(str(path))
    saved = json.loads(path.read_text())
    assert saved["sizes"] == [784, 30, 10] and saved["cost"] == "CrossEntropyCost"
    assert np.array(saved["weights"][0]).shape == (30, 784)
    assert np.array(saved["biases"][1]).shape == (10, 1)
    done = subprocess.run([nn_binary, "eval", str(path)], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    correct = net.accuracy(test_data)
    assert "{} / 10000".format(correct) in done.stdout, done.stdout


def test_a_model_saved_by_nn_train_loads_in_network2(mnist, nn_binary, tmp_path):
    _, _, test_data = mnist
    path = tmp_path / "trained.json"
    done = subprocess.run([nn_binary, "train", "--layers", "784,20,10", "--epochs", "1",
                           "--save", str(path)], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    net = network2.load(str(path))
    assert net.sizes == [784, 20, 10] and net.num_layers == 3
    assert net.cost is network2.CrossEntropyCost
    assert [w.shape for w in net.weights] == [(20, 784), (10, 20)]
    assert net.accuracy(test_data) > 8500


def test_a_loaded_model_is_the_saved_one(tmp_path):
    net = network2.Network([6, 5, 4], cost=network2.QuadraticCost)
    path = str(tmp_path / "m.json")
    net.save(path)
    again = network2.load(path)
    assert again.cost is network2.QuadraticCost
    for a, b in zip(net.weights + net.biases, again.weights + again.biases):
        assert a.shape == b.shape and np.allclose(a, b, atol=1e-6)
    x = np.linspace(0, 1, 6).reshape(6, 1)
    assert np.allclose(net.feedforward(x), again.feedforward(x))


def test_a_file_in_network2s_own_format_loads(tmp_path):
    # What network2.py's save writes: four keys, float64 numbers, no activations.
    path = tmp_path / "book.json"
    path.write_text(json.dumps({"sizes": [2, 1], "weights": [[[1.0, -1.0]]],
                                "biases": [[[0.5]]], "cost": "CrossEntropyCost"}))
    net = network2.load(str(path))
    assert np.allclose(net.feedforward(np.array([[2.0], [1.0]])), network2.sigmoid(1.5))
