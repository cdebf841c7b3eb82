"""Where ours and network2.py differ on the chapter's 1,000-image overfitting run (lambda 0).

    MNIST_DIR=path/to/mnist python scripts/overfitting-investigation.py same-steps \
        --network2 path/to/network2.py
    MNIST_DIR=... python scripts/overfitting-investigation.py float32 --network2 PATH --seeds 0,1,2
    MNIST_DIR=... python scripts/overfitting-investigation.py seeds --seeds 0-67
    MNIST_DIR=... python scripts/overfitting-investigation.py replay --seeds 0-10

same-steps: network2.py and our engine (nn.network2) from the same initial weights, trained
with one mini-batch of all 1,000 images per epoch (so no shuffle can differ) for 50 epochs at
eta 0.5: the largest difference of their parameters, and both test accuracies.

float32: network2.py as published (float64) and with every array in float32 (its np.zeros
made float32), on the same seeds: the peak test accuracy over 400 epochs of each.

seeds: our engine through nn.network2, with network2.py's initial weights (numpy's generator
seeded as network2-spread.py seeds it): the peak test accuracy over 400 epochs per seed.

replay: our engine with network2.py's initial weights and network2.py's own shuffles: the list
of 1,000 examples is shuffled in place by Python's random.shuffle before each epoch, as
network2.py's SGD does under network2-spread.py's seeding, and each of its mini-batches of 10 is
given to our engine as a one-epoch SGD call of its own (our shuffle of those 10 changes only
the order of a sum). Its seeds' peaks can then be set beside network2-spread.py's, seed by seed.

The network is [784, 30, 10] with sigmoid neurons, the cross-entropy cost, "large" N(0, 1)
initial weights and mini-batches of 10, as in docs/records/overfitting.json. Evaluation is a
whole-matrix forward pass (the same values as network2.py's per-image loop).
"""

import argparse
import contextlib
import os
import pathlib
import random
import sys
import tempfile
import types

import numpy as np

ROOT = pathlib.Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "crates" / "nn-py" / "bench"))
from versus_network2 import book_module  # noqa: E402
import nn.network2 as ours  # noqa: E402
from nn import mnist_loader  # noqa: E402


def seeds(text):
    if "-" in text:
        first, last = text.split("-")
        return list(range(int(first), int(last) + 1))
    return [int(s) for s in text.split(",")]


def test_accuracy(net, images, labels):
    a = images
    for b, w in zip(net.biases, net.weights):
        a = 1.0 / (1.0 + np.exp(-(np.dot(w, a) + b)))
    return 100.0 * float((a.argmax(axis=0) == labels).mean())


def quiet():
    return contextlib.redirect_stdout(open(os.devnull, "w"))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("mode", choices=["same-steps", "float32", "seeds", "replay"])
    parser.add_argument("--network2", help="the book's network2.py (same-steps, float32)")
    parser.add_argument("--seeds", default="0,1,2", help="a list 0,1,2 or a range 0-67")
    args = parser.parse_args()
    if args.mode in ("same-steps", "float32") and not args.network2:
        parser.error("{} needs --network2".format(args.mode))
    training, _, test = mnist_loader.load_data_wrapper()
    train = list(training[:1000])
    images = np.hstack([x for x, _ in test])
    labels = np.array([y for _, y in test])

    if args.mode == "same-steps":
        book = book_module(args.network2, tempfile.mkdtemp())
        np.random.seed(0)
        mine = ours.Network([784, 30, 10], cost=ours.CrossEntropyCost)
        mine.large_weight_initializer()
        theirs = book.Network([784, 30, 10], cost=book.CrossEntropyCost)
        theirs.weights = [w.copy() for w in mine.weights]
        theirs.biases = [b.copy() for b in mine.biases]
        with quiet():
            theirs.SGD(list(train), 50, 1000, 0.5, lmbda=0.0)
            mine.SGD(list(train), 50, 1000, 0.5, lmbda=0.0, seed=1)
        worst = max(float(np.abs(a - b).max() / np.abs(a).max())
                    for a, b in zip(theirs.weights + theirs.biases, mine.weights + mine.biases))
        print("largest parameter difference, relative to the layer's largest: {:.1e}".format(worst))
        print("test accuracy: network2.py {:.2f}%, ours {:.2f}%".format(
            test_accuracy(theirs, images, labels), test_accuracy(mine, images, labels)))
        return

    if args.mode == "float32":
        for dtype in (np.float64, np.float32):
            book = book_module(args.network2, tempfile.mkdtemp())
            if dtype is np.float32:
                shim = types.ModuleType("numpy_float32")
                shim.__dict__.update(np.__dict__)
                shim.zeros = lambda shape, dtype=np.float32: np.zeros(shape, dtype=dtype)
                book.np = shim
            data = [(x.astype(dtype), y.astype(dtype)) for x, y in train]
            for seed in seeds(args.seeds):
                random.seed(seed)
                np.random.seed(seed)
                net = book.Network([784, 30, 10], cost=book.CrossEntropyCost)
                net.large_weight_initializer()
                net.weights = [w.astype(dtype) for w in net.weights]
                net.biases = [b.astype(dtype) for b in net.biases]
                peak = 0.0
                for _ in range(400):
                    with quiet():
                        net.SGD(data, 1, 10, 0.5, lmbda=0.0)
                    peak = max(peak, test_accuracy(net, images.astype(dtype), labels))
                assert net.weights[0].dtype == dtype
                print("{} seed {}: peak test accuracy {:.2f}%".format(
                    np.dtype(dtype).name, seed, peak), flush=True)
        return

    if args.mode == "replay":
        for seed in seeds(args.seeds):
            random.seed(seed)
            np.random.seed(seed)
            net = ours.Network([784, 30, 10], cost=ours.CrossEntropyCost)
            net.large_weight_initializer()
            data = list(train)
            peak = 0.0
            for _ in range(400):
                random.shuffle(data)
                with quiet():
                    for k in range(0, len(data), 10):
                        net.SGD(data[k:k + 10], 1, 10, 0.5, lmbda=0.0, seed=0)
                peak = max(peak, test_accuracy(net, images, labels))
            print("seed {}: peak test accuracy {:.2f}%".format(seed, peak), flush=True)
        return

    for seed in seeds(args.seeds):
        random.seed(seed)
        np.random.seed(seed)
        net = ours.Network([784, 30, 10], cost=ours.CrossEntropyCost)
        net.large_weight_initializer()
        with quiet():
            _, accuracy, _, _ = net.SGD(train, 400, 10, 0.5, lmbda=0.0, evaluation_data=test,
                                        monitor_evaluation_accuracy=True)
        print("seed {}: peak test accuracy {:.2f}%".format(seed, 100 * max(accuracy) / len(test)),
              flush=True)


if __name__ == "__main__":
    main()
