"""mnist_loader.py of *Neural Networks and Deep Learning*, reading MNIST's IDX files.

The files are found as ``nn`` finds them: ``$MNIST_DIR``, ``./data/mnist``,
``../shared/data/mnist``, the user cache (``$XDG_CACHE_HOME/nn/mnist``, else
``~/.cache/nn/mnist``), else a download into the cache (from ``$NN_MNIST_MIRROR`` when set);
no ``mnist.pkl.gz`` is needed. The split is the book's: the first 50,000 training images for
training, the last 10,000 for validation, the 10,000 test images for testing. A missing or
corrupt file raises ``OSError`` with ``nn``'s one-line message.
"""

import numpy as np

from . import _engine


def load_data():
    """Return the MNIST data as a tuple (training_data, validation_data, test_data), each a
    tuple (images, labels): images a numpy array of one row of 784 float32 pixels in [0, 1] per
    image, labels a numpy array of the digits (0...9)."""
    return tuple(_split(*split) for split in _engine.load_mnist())


def load_data_wrapper():
    """Return (training_data, validation_data, test_data) as network2 takes them: lists of
    (x, y) tuples, x a 784x1 numpy array; y the 10x1 unit vector of the digit for
    training_data, the digit itself (an integer) for validation_data and test_data."""
    tr_d, va_d, te_d = load_data()
    training_inputs = [np.reshape(x, (784, 1)) for x in tr_d[0]]
    training_results = [vectorized_result(y) for y in tr_d[1]]
    training_data = list(zip(training_inputs, training_results))
    validation_inputs = [np.reshape(x, (784, 1)) for x in va_d[0]]
    validation_data = list(zip(validation_inputs, [int(y) for y in va_d[1]]))
    test_inputs = [np.reshape(x, (784, 1)) for x in te_d[0]]
    test_data = list(zip(test_inputs, [int(y) for y in te_d[1]]))
    return (training_data, validation_data, test_data)


def vectorized_result(j):
    """Return a 10-dimensional unit vector with a 1.0 in the jth position and zeroes
    elsewhere."""
    e = np.zeros((10, 1))
    e[j] = 1.0
    return e


def _split(pixels, labels, image_len):
    """One split's bytes as numpy arrays: images in [0, 1] (x/255, as nn sees them), labels."""
    images = np.frombuffer(pixels, dtype=np.uint8).reshape(-1, image_len)
    return (images.astype(np.float32) / np.float32(255.0),
            np.frombuffer(labels, dtype=np.uint8).astype(np.int64))
