"""Seconds per epoch of the chapter's training in numpy, matrix-based, float32.

    python benches/numpy/train_numpy.py MNIST_DIR --layers 784,30,10 --batch-size 10 --epochs 2

The same run as `nn train --layers ... --batch-size ...` with the book's other settings: sigmoid
neurons, the cross-entropy cost (eq. 63, delta = a - y), L2 regularization with lambda = 5.0 on
n = 50,000 images (eq. 93), eta = 0.5, the first 50,000 training images. Each mini-batch is one
matrix (784 x m) and every layer's forward pass, weight gradient and back-propagated error is
one matrix product (the chapter's fully matrix-based approach). Only the training loop is
timed; the script prints one line per epoch, `epoch E: S s`, then the validation accuracy.
"""

import argparse
import gzip
import pathlib
import time

import numpy as np


def idx(path, offset):
    with gzip.open(path, "rb") as f:
        return np.frombuffer(f.read(), dtype=np.uint8, offset=offset)


def load(folder):
    folder = pathlib.Path(folder)
    images = idx(folder / "train-images-idx3-ubyte.gz", 16).reshape(-1, 784)
    labels = idx(folder / "train-labels-idx1-ubyte.gz", 8)
    scaled = images.astype(np.float32) / np.float32(255.0)
    return scaled[:50000], labels[:50000], scaled[50000:], labels[50000:]


def sigmoid(z):
    return np.float32(1.0) / (np.float32(1.0) + np.exp(-z))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("mnist")
    parser.add_argument("--layers", default="784,30,10")
    parser.add_argument("--batch-size", type=int, default=10)
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--eta", type=float, default=0.5)
    parser.add_argument("--lmbda", type=float, default=5.0)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    sizes = [int(s) for s in args.layers.split(",")]
    x_train, y_train, x_valid, y_valid = load(args.mnist)
    n, m = len(x_train), args.batch_size
    targets = np.eye(10, dtype=np.float32)[y_train]
    rng = np.random.default_rng(args.seed)
    weights = [(rng.standard_normal((rows, cols)) / np.sqrt(cols)).astype(np.float32)
               for cols, rows in zip(sizes[:-1], sizes[1:])]
    biases = [rng.standard_normal((rows, 1)).astype(np.float32) for rows in sizes[1:]]
    decay = np.float32(1.0 - args.eta * args.lmbda / n)
    step = np.float32(args.eta / m)
    np.seterr(over="ignore")
    for epoch in range(1, args.epochs + 1):
        order = rng.permutation(n)
        started = time.perf_counter()
        for start in range(0, n, m):
            batch = order[start:start + m]
            activations = [np.ascontiguousarray(x_train[batch].T)]
            for w, b in zip(weights, biases):
                activations.append(sigmoid(w @ activations[-1] + b))
            delta = activations[-1] - targets[batch].T
            for layer in range(len(weights) - 1, -1, -1):
                gradient_w = delta @ activations[layer].T
                gradient_b = delta.sum(axis=1, keepdims=True)
                if layer > 0:
                    a = activations[layer]
                    below = (weights[layer].T @ delta) * a * (np.float32(1.0) - a)
                weights[layer] *= decay
                weights[layer] -= step * gradient_w
                biases[layer] -= step * gradient_b
                if layer > 0:
                    delta = below
        print("epoch {}: {:.4f} s".format(epoch, time.perf_counter() - started), flush=True)
    a = x_valid.T
    for w, b in zip(weights, biases):
        a = sigmoid(w @ a + b)
    print("validation accuracy {:.2%}".format(np.mean(a.argmax(axis=0) == y_valid)))


if __name__ == "__main__":
    main()
