"""Training gives the same numbers on one thread or two."""

import json
import os
import subprocess
import sys

SESSION = """
import json, numpy as np
from nn import mnist_loader, network2
training_data, validation_data, _ = mnist_loader.load_data_wrapper()
np.random.seed(5)
net = network2.Network([784, 100, 10])
lists = net.SGD(training_data[:2000], 2, 100, 0.5, lmbda=1.0,
                evaluation_data=validation_data[:1000], monitor_evaluation_cost=True,
                monitor_evaluation_accuracy=True, dropout=0.2, seed=9)
print(json.dumps([lists, float(net.weights[0].sum())]))
"""


def run_with_threads(threads):
    environment = dict(os.environ, RAYON_NUM_THREADS=str(threads))
    done = subprocess.run([sys.executable, "-c", SESSION], capture_output=True, text=True,
                          env=environment, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_one_thread_and_two_threads_train_the_same_network(workspace_root):
    # Mini-batches of 100 through 784x100 weights are products large enough to be split.
    assert run_with_threads(1) == run_with_threads(2)
