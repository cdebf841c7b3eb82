"""network2.py of *Neural Networks and Deep Learning*, chapter 3, trained by the nn engine.

The names, signatures, defaults and return values are the book's module's::

    from nn import mnist_loader, network2
    training_data, validation_data, test_data = mnist_loader.load_data_wrapper()
    net = network2.Network([784, 30, 10], cost=network2.CrossEntropyCost)
    net.SGD(training_data, 30, 10, 0.5, lmbda=5.0, evaluation_data=validation_data,
            monitor_evaluation_accuracy=True)

``sizes``, ``num_layers``, ``weights`` and ``biases`` (lists of numpy arrays of the book's
shapes) and ``cost`` are plain attributes: code that reads or changes them works as with the
book's module, and every call reads them afresh. ``SGD`` converts its data once, then trains in
Rust with the GIL released; it prints the book's lines after each epoch.

``SGD`` also takes, as keywords, what the chapter teaches but network2.py lacks: the fields of
the run options ``nn train`` runs (nn-train's ``RunOptions``; each is also a flag of
``nn train``, ``--input-dropout`` for ``input_dropout``), composed by the same library code:

``l1``
    λ of L1 regularization, C = C0 + (λ/n) Σ|w| (eq. 95); 0 turns it off.
``dropout``, ``input_dropout``, ``max_norm``
    The probability of dropping each hidden neuron (the chapter's 0.5) or input in each
    mini-batch, and a bound on each neuron's incoming weight norm; 0 / ``None`` turn them off.
``optimizer``
    ``"sgd"`` (the book's), ``"momentum"`` (eqs. 107-108), ``"nesterov"``, ``"adam"`` or
    ``"newton"`` (the damped Hessian technique of eq. 106, small networks only).
``momentum``
    The momentum coefficient μ (e.g. 0.9); given without ``optimizer``, it turns plain SGD
    into momentum-based gradient descent, as ``nn train --momentum`` does.
``early_stopping``
    Stop after this many epochs without a better evaluation accuracy (no-improvement-in-n) and
    keep the best weights; needs ``evaluation_data``. ``None`` trains every epoch.
``lr_schedule``
    ``"constant"``, ``"halve:N"`` (halve η after N epochs without a better evaluation accuracy,
    stop at η/128: the chapter's schedule; needs ``evaluation_data``), ``"exp:F"`` (multiply
    η by F after every epoch) or ``"steps:K=X,..."`` (η = X from epoch K on, e.g.
    ``"steps:21=0.025"``), as ``nn train --lr-schedule``.
``average_weights``
    β of the Polyak average of the weights over epochs; the averaged weights are the result.
``seed``
    Seeds the shuffles and dropout masks; ``None`` draws it from numpy's global generator, so
    ``np.random.seed`` makes a whole session repeatable.

``cost=LogLikelihoodCost`` gives the network a softmax output layer (eqs. 78-80).
"""

import json

import numpy as np

from . import _engine


#### Define the quadratic, cross-entropy and log-likelihood cost functions

class QuadraticCost(object):

    @staticmethod
    def fn(a, y):
        """Return the cost associated with an output ``a`` and desired output ``y``."""
        return 0.5*np.linalg.norm(a-y)**2

    @staticmethod
    def delta(z, a, y):
        """Return the error delta from the output layer."""
        return (a-y) * sigmoid_prime(z)


class CrossEntropyCost(object):

    @staticmethod
    def fn(a, y):
        """Return the cost associated with an output ``a`` and desired output ``y``.
        ``np.nan_to_num`` turns the 0*log(0) of a saturated neuron into 0."""
        return np.sum(np.nan_to_num(-y*np.log(a)-(1-y)*np.log(1-a)))

    @staticmethod
    def delta(z, a, y):
        """Return the error delta from the output layer; ``z`` is not used."""
        return (a-y)


class LogLikelihoodCost(object):
    """The log-likelihood cost of a softmax output layer, C = -ln a_y (eq. 80)."""

    @staticmethod
    def fn(a, y):
        """Return -ln of the output for the desired class (``y`` one-hot)."""
        return float(-np.log(np.ravel(a)[np.argmax(y)]))

    @staticmethod
    def delta(z, a, y):
        """Return the error delta from the softmax output layer, a - y (eq. 84)."""
        return (a-y)


_COSTS = {c.__name__: c for c in (QuadraticCost, CrossEntropyCost, LogLikelihoodCost)}


#### Main Network class

class Network(object):

    def __init__(self, sizes, cost=CrossEntropyCost):
        """``sizes`` lists the neurons of each layer, input first; e.g. [784, 30, 10]. Weights
        and biases are initialized by ``default_weight_initializer``."""
        sizes = list(sizes)
        self._activations = _activations(len(sizes) - 1, cost)
        _engine.check_network(sizes, self._activations)
        self.num_layers = len(sizes)
        self.sizes = sizes
        self.default_weight_initializer()
        self.cost = cost
        self._standardization = None

    def default_weight_initializer(self):
        """Weights from N(0, 1/n_in), biases from N(0, 1) (numpy's global generator)."""
        self.biases = [np.random.randn(y, 1) for y in self.sizes[1:]]
        self.weights = [np.random.randn(y, x)/np.sqrt(x)
                        for x, y in zip(self.sizes[:-1], self.sizes[1:])]

    def large_weight_initializer(self):
        """Weights and biases from N(0, 1), chapter 1's initialization."""
        self.biases = [np.random.randn(y, 1) for y in self.sizes[1:]]
        self.weights = [np.random.randn(y, x)
                        for x, y in zip(self.sizes[:-1], self.sizes[1:])]

    def feedforward(self, a):
        """Return the output of the network if ``a`` is input (the book's (n, 1) column, or a
        flat vector, which gives a flat output)."""
        a = np.asarray(a)
        out = np.array(_engine.feedforward(self._network(), _floats(a)))
        return out if a.ndim == 1 else out.reshape(-1, 1)

    def SGD(self, training_data, epochs, mini_batch_size, eta,
            lmbda=0.0,
            evaluation_data=None,
            monitor_evaluation_cost=False,
            monitor_evaluation_accuracy=False,
            monitor_training_cost=False,
            monitor_training_accuracy=False,
            *, seed=None, **keywords):
        """Train by mini-batch stochastic gradient descent; return the per-epoch evaluation
        costs, evaluation accuracies, training costs and training accuracies (each empty
        unless monitored). See the module's documentation for the keywords beyond the book.

        Ctrl-C (or any signal whose Python handler raises) stops training within about a
        tenth of a second, at the end of the current mini-batch: ``SGD`` raises that exception
        (``KeyboardInterrupt``) with the network's weights and biases as the last completed
        epoch left them (its trained weights, before any early-stopping or averaging choice),
        so the network can still be saved or evaluated; every line of the completed epochs has
        been printed."""
        if seed is None:
            seed = int(np.random.randint(0, 2**63 - 1, dtype=np.int64))
        elif not 0 <= seed < 2**64:
            raise ValueError("seed = {} must lie in [0, 2^64)".format(seed))
        training = _examples(training_data, self.sizes[-1], "training_data")
        evaluation = (None if not evaluation_data
                      else _examples(evaluation_data, self.sizes[-1], "evaluation_data"))
        weights, biases, lists, interrupt = _engine.sgd(
            self._network(), _cost_name(self.cost), training, evaluation,
            epochs, mini_batch_size, eta, lmbda,
            (bool(monitor_evaluation_cost), bool(monitor_evaluation_accuracy),
             bool(monitor_training_cost), bool(monitor_training_accuracy)),
            json.dumps(dict(keywords, seed=seed), default=_plain), print)
        self._set_parameters(weights, biases)
        if interrupt is not None:
            raise interrupt
        return tuple(list(l) for l in lists)

    def accuracy(self, data, convert=False):
        """Return the number of inputs in ``data`` the network classifies right: the index of
        the most active output neuron. ``convert`` is the book's flag (True for training data,
        whose ``y`` are vectors); both representations are recognized either way. Ctrl-C
        interrupts it on a large set within a fraction of a second."""
        if not data:
            return 0
        return self._evaluate(data, 0.0)[1]

    def total_cost(self, data, lmbda, convert=False):
        """Return the average cost on ``data`` plus the L2 term (λ/2n) Σ w²; ``convert`` is the
        book's flag (True for validation or test data, whose ``y`` are integers)."""
        if not data:
            return 0.0
        return self._evaluate(data, lmbda)[0]

    def save(self, filename):
        """Save the neural network to ``filename`` as network2.py's JSON (written to a
        temporary file and renamed, so a failed save leaves no half-written file)."""
        _engine.save(self._network(), _cost_name(self.cost), filename)

    def _network(self):
        """The network's attributes as the engine takes them."""
        return (list(self.sizes), self._activations,
                [_doubles(w, "weights") for w in self.weights],
                [_doubles(b, "biases") for b in self.biases],
                self._standardization)

    def _evaluate(self, data, lmbda):
        inputs, targets, classes = _examples(data, self.sizes[-1], "data")
        return _engine.evaluate(self._network(), _cost_name(self.cost),
                                inputs, targets, classes, lmbda)

    def _set_parameters(self, weights, biases):
        self.weights = [np.array(w).reshape(y, x)
                        for w, x, y in zip(weights, self.sizes[:-1], self.sizes[1:])]
        self.biases = [np.array(b).reshape(y, 1) for b, y in zip(biases, self.sizes[1:])]


#### Loading a Network

def load(filename):
    """Load a neural network from ``filename``: saved by ``save``, by network2.py or by
    ``nn train --save``. Returns an instance of Network."""
    sizes, activations, weights, biases, standardization, cost = _engine.load(filename)
    net = Network.__new__(Network)
    net.sizes = list(sizes)
    net.num_layers = len(sizes)
    net.cost = _COSTS[cost]
    net._activations = list(activations)
    net._standardization = standardization
    net._set_parameters(weights, biases)
    return net


#### Miscellaneous functions

def vectorized_result(j):
    """Return a 10-dimensional unit vector with a 1.0 in the j'th position and zeroes
    elsewhere."""
    e = np.zeros((10, 1))
    e[j] = 1.0
    return e


def sigmoid(z):
    """The sigmoid function."""
    return 1.0/(1.0+np.exp(-z))


def sigmoid_prime(z):
    """Derivative of the sigmoid function."""
    return sigmoid(z)*(1-sigmoid(z))


#### Conversions for the engine

def _activations(weighted_layers, cost):
    """Sigmoid neurons throughout, as network2.py; a softmax output for the log-likelihood."""
    output = "softmax" if cost is LogLikelihoodCost else "sigmoid"
    return ["sigmoid"] * max(weighted_layers - 1, 0) + [output] * min(weighted_layers, 1)


def _cost_name(cost):
    name = getattr(cost, "__name__", None)
    if _COSTS.get(name) is not cost:
        raise TypeError("cost must be QuadraticCost, CrossEntropyCost or LogLikelihoodCost, "
                        "not {!r}".format(cost))
    return name


def _doubles(array, what):
    if not isinstance(array, np.ndarray):
        raise TypeError("{} must be numpy arrays, not {}".format(what, type(array).__name__))
    return np.ascontiguousarray(array, dtype=np.float64)


def _floats(array):
    return np.ascontiguousarray(array, dtype=np.float32).reshape(-1)


def _examples(data, outputs, what):
    """A list of ``(x, y)`` tuples as three contiguous arrays: the inputs, the desired outputs
    and the classes. ``y`` is either a vector (the training data's one-hot vectors) or an
    integer class (the validation and test data's)."""
    try:
        data = list(data)
        xs = [x for x, _ in data]
        ys = [y for _, y in data]
    except (TypeError, ValueError):
        raise TypeError("{} must be a list of (x, y) tuples".format(what)) from None
    if not data:
        empty = np.zeros(0, dtype=np.float32)
        return empty, empty, np.zeros(0, dtype=np.int64)
    try:
        inputs = _stack(xs)
        if np.ndim(ys[0]) == 0:
            classes = np.array(ys, dtype=np.int64)
            if classes.ndim != 1:
                raise ValueError
            targets = np.zeros((len(data), outputs), dtype=np.float32)
            valid = (classes >= 0) & (classes < outputs)
            targets[np.nonzero(valid)[0], classes[valid]] = 1.0
        else:
            targets = _stack(ys)
            classes = np.argmax(targets, axis=1).astype(np.int64)
    except (TypeError, ValueError):
        raise ValueError("{}: every x must be an array of one shape and every y an integer "
                         "class or an array of one shape".format(what)) from None
    return inputs.reshape(-1), targets.reshape(-1), classes


def _stack(arrays):
    """Arrays of one shape as the rows of one float32 matrix."""
    arrays = [np.asarray(a) for a in arrays]
    shape = arrays[0].shape
    if any(a.shape != shape for a in arrays):
        raise ValueError
    flat = np.concatenate([a.reshape(-1) for a in arrays]) if shape else np.array(arrays)
    return np.ascontiguousarray(flat, dtype=np.float32).reshape(len(arrays), -1)


def _plain(value):
    """A numpy scalar as the Python number it holds, for the keywords' JSON."""
    if hasattr(value, "item"):
        return value.item()
    raise TypeError("{!r} is not a number, a string or a list".format(value))
