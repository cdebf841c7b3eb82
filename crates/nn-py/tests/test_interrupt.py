"""Ctrl-C as Python users meet it: a real SIGINT sent to a child Python process that trains or
evaluates, which must raise KeyboardInterrupt within a second, lose no printed line, and leave
the network as after its last completed epoch."""

import json
import os
import signal
import subprocess
import sys
import time

import pytest

pytestmark = pytest.mark.skipif(os.name != "posix", reason="POSIX signals")

# The child: SIGINT reset to Python's default handler (a background job ignores it), a long run,
# and on KeyboardInterrupt the time it arrived, the epochs it completed and the network saved.
TRAIN = """
import json, signal, sys, time
signal.signal(signal.SIGINT, signal.default_int_handler)
import numpy as np
from nn import mnist_loader, network2
training_data, validation_data, _ = mnist_loader.load_data_wrapper()
np.random.seed(3)
net = network2.Network([784, 100, 10])
print("ready", flush=True)
try:
    net.SGD(training_data[:20000], 1000, 10, 0.5, lmbda=5.0,
            evaluation_data=validation_data[:1000], monitor_evaluation_accuracy=True, seed=4)
except KeyboardInterrupt:
    caught = time.time()
    net.save(sys.argv[1])
    print(json.dumps({"caught": caught}), flush=True)
"""

# A fresh run of the same network and seed for `epochs` epochs, saved.
AGAIN = """
import sys
import numpy as np
from nn import mnist_loader, network2
training_data, validation_data, _ = mnist_loader.load_data_wrapper()
np.random.seed(3)
net = network2.Network([784, 100, 10])
net.SGD(training_data[:20000], int(sys.argv[2]), 10, 0.5, lmbda=5.0,
        evaluation_data=validation_data[:1000], monitor_evaluation_accuracy=True, seed=4)
net.save(sys.argv[1])
"""

# A long evaluation: the 50,000 training images, four times over, through a wide network, as
# `accuracy` and `total_cost` call the engine, with the data converted once beforehand so that
# the signal arrives in the engine's evaluation, not in the conversion.
EVALUATE = """
import json, signal, time
import numpy as np
signal.signal(signal.SIGINT, signal.default_int_handler)
from nn import _engine, mnist_loader, network2
training_data, _, _ = mnist_loader.load_data_wrapper()
net = network2.Network([784, 800, 800, 10])
inputs, targets, classes = network2._examples(training_data, 10, "data")
inputs, targets, classes = np.tile(inputs, 4), np.tile(targets, 4), np.tile(classes, 4)
print("ready", flush=True)
try:
    while True:
        print("started", flush=True)
        _engine.evaluate(net._network(), "CrossEntropyCost", inputs, targets, classes, 0.0)
        print("evaluated", flush=True)
except KeyboardInterrupt:
    print(json.dumps({"caught": time.time()}), flush=True)
"""


def child(script, *args):
    return subprocess.Popen([sys.executable, "-c", script, *args], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


def read_until(process, predicate):
    lines = []
    for line in process.stdout:
        lines.append(line)
        if predicate(line):
            return lines
    raise AssertionError("child ended early: " + "".join(lines) + process.stderr.read())


def interrupt(process):
    sent = time.time()
    os.kill(process.pid, signal.SIGINT)
    out, err = process.communicate(timeout=60)
    assert process.returncode == 0, err
    caught = json.loads(out.strip().splitlines()[-1])["caught"]
    return out, caught - sent


def test_ctrl_c_stops_sgd_within_a_second_with_every_line_and_the_last_epochs_network(
        workspace_root, tmp_path):
    saved = tmp_path / "interrupted.json"
    process = child(TRAIN, str(saved))
    read_until(process, lambda l: l.startswith("ready"))
    before = read_until(process, lambda l: l.startswith("Accuracy on evaluation data"))
    out, delay = interrupt(process)
    assert delay < 1.0, "KeyboardInterrupt came {:.2f} s after the signal".format(delay)
    printed = "".join(before) + out
    completed = printed.count("training complete")
    assert completed >= 1
    # No line lost or cut: every completed epoch printed both its lines, whole.
    assert printed.count("Accuracy on evaluation data: ") == completed, printed
    for k in range(completed):
        assert "Epoch {} training complete\n".format(k) in printed, printed
    # The network is the one a run of exactly that many epochs ends with.
    again = tmp_path / "again.json"
    subprocess.run([sys.executable, "-c", AGAIN, str(again), str(completed)], check=True,
                   capture_output=True)
    interrupted = json.loads(saved.read_text())
    uninterrupted = json.loads(again.read_text())
    assert interrupted["weights"] == uninterrupted["weights"]
    assert interrupted["biases"] == uninterrupted["biases"]
    # Negative control: one epoch more is another network.
    more = tmp_path / "more.json"
    subprocess.run([sys.executable, "-c", AGAIN, str(more), str(completed + 1)], check=True,
                   capture_output=True)
    assert json.loads(more.read_text())["weights"] != interrupted["weights"]


def test_ctrl_c_stops_a_large_accuracy_within_a_second(workspace_root):
    process = child(EVALUATE)
    read_until(process, lambda l: l.startswith("ready"))
    read_until(process, lambda l: l.startswith("evaluated"))
    started = time.time()
    read_until(process, lambda l: l.startswith("started"))
    time.sleep(0.3)
    out, delay = interrupt(process)
    assert delay < 1.0, "KeyboardInterrupt came {:.2f} s after the signal".format(delay)
    # The evaluation it interrupted was one that takes longer than the wait for it.
    assert "evaluated" not in out, out
    assert time.time() - started > 0.3
