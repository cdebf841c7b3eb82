"""The chapter's session runs with only the imports changed and gives the book's results."""

import numpy as np

from nn import network2


def test_the_main_run_reaches_the_books_validation_accuracy(mnist, capsys):
    training_data, validation_data, test_data = mnist
    np.random.seed(12345678)
    net = network2.Network([784, 30, 10], cost=network2.CrossEntropyCost)
    evaluation_cost, evaluation_accuracy, training_cost, training_accuracy = net.SGD(
        training_data, 30, 10, 0.5, lmbda=5.0, evaluation_data=validation_data,
        monitor_evaluation_accuracy=True, seed=1)
    # The book: 96.49 percent at best on the validation data; with lambda 5.0 and eta 0.5 the
    # accuracy swings by about a point from epoch to epoch, so the last epoch's may be lower.
    assert len(evaluation_accuracy) == 30
    assert 9600 <= max(evaluation_accuracy) <= 9800
    assert evaluation_cost == training_cost == training_accuracy == []
    assert net.accuracy(test_data) >= 9450
    printed = capsys.readouterr().out.splitlines()
    assert printed[0] == "Epoch 0 training complete"
    assert printed[1] == "Accuracy on evaluation data: {} / 10000".format(evaluation_accuracy[0])
    assert printed[2] == ""
    assert "Epoch 29 training complete" in printed


def test_a_short_run_returns_the_books_four_lists(mnist):
    training_data, validation_data, _ = mnist
    net = network2.Network([784, 30, 10])
    lists = net.SGD(training_data[:1000], 2, 10, 0.5, lmbda=0.1,
                    evaluation_data=validation_data[:500],
                    monitor_evaluation_cost=True, monitor_evaluation_accuracy=True,
                    monitor_training_cost=True, monitor_training_accuracy=True)
    assert isinstance(lists, tuple) and len(lists) == 4
    evaluation_cost, evaluation_accuracy, training_cost, training_accuracy = lists
    for costs in (evaluation_cost, training_cost):
        assert isinstance(costs, list) and len(costs) == 2
        assert all(isinstance(c, float) and c > 0 for c in costs)
    for counts, n in ((evaluation_accuracy, 500), (training_accuracy, 1000)):
        assert isinstance(counts, list) and len(counts) == 2
        assert all(isinstance(c, int) and 0 <= c <= n for c in counts)
    # The returned figures are the ones the methods give on the trained network.
    assert training_accuracy[-1] == net.accuracy(training_data[:1000], convert=True)
    assert np.isclose(evaluation_cost[-1],
                      net.total_cost(validation_data[:500], 0.1, convert=True), rtol=1e-5)


def test_the_attributes_are_the_books_lists_of_numpy_arrays():
    net = network2.Network([784, 30, 10])
    assert net.sizes == [784, 30, 10] and net.num_layers == 3
    assert [w.shape for w in net.weights] == [(30, 784), (10, 30)]
    assert [b.shape for b in net.biases] == [(30, 1), (10, 1)]
    assert net.cost is network2.CrossEntropyCost
    net.large_weight_initializer()
    assert 0.8 < np.std(net.weights[0]) < 1.2


def test_writing_the_weights_from_python_changes_what_feedforward_returns():
    net = network2.Network([4, 3, 2])
    x = np.ones((4, 1))
    before = net.feedforward(x)
    assert before.shape == (2, 1)
    net.weights[0][:] = 0.0
    net.biases[0][:] = 0.0
    net.weights[1][:] = np.array([[1.0, 1.0, 1.0], [-1.0, -1.0, -1.0]])
    net.biases[1][:] = 0.0
    after = net.feedforward(x)
    # Hidden outputs are sigmoid(0) = 0.5, so the outputs are sigmoid(+-1.5).
    assert np.allclose(after.ravel(), [network2.sigmoid(1.5), network2.sigmoid(-1.5)], atol=1e-6)
    assert not np.allclose(before, after)


def test_feedforward_agrees_with_the_books_formula():
    np.random.seed(3)
    net = network2.Network([5, 4, 3])
    a = np.random.rand(5, 1)
    expected = a
    for b, w in zip(net.biases, net.weights):
        expected = network2.sigmoid(np.dot(w, expected) + b)
    assert np.allclose(net.feedforward(a), expected, atol=1e-5)


def test_the_same_seed_gives_the_same_run(mnist):
    training_data, validation_data, _ = mnist
    results = []
    for _ in range(2):
        np.random.seed(7)
        net = network2.Network([784, 10, 10])
        results.append(net.SGD(training_data[:500], 2, 10, 0.5, evaluation_data=validation_data[:200],
                               monitor_evaluation_cost=True))
    assert results[0] == results[1]


def test_the_keywords_beyond_the_book_train(mnist):
    training_data, validation_data, _ = mnist
    net = network2.Network([784, 30, 10], cost=network2.LogLikelihoodCost)
    _, accuracy, _, _ = net.SGD(training_data[:2000], 20, 10, 0.1, lmbda=0.1,
                                evaluation_data=validation_data[:500],
                                monitor_evaluation_accuracy=True, l1=0.1, dropout=0.2,
                                momentum=0.5, early_stopping=2, lr_schedule="exp:0.95", seed=3)
    assert 1 <= len(accuracy) <= 20 and max(accuracy) > 400
    output = net.feedforward(validation_data[0][0])
    assert np.isclose(output.sum(), 1.0, atol=1e-5)  # softmax


def test_the_cost_functions_are_the_books():
    a = np.array([[0.8], [0.1]])
    y = np.array([[1.0], [0.0]])
    z = np.array([[1.0], [-2.0]])
    assert np.isclose(network2.QuadraticCost.fn(a, y), 0.5 * (0.04 + 0.01))
    assert np.allclose(network2.QuadraticCost.delta(z, a, y), (a - y) * network2.sigmoid_prime(z))
    assert np.isclose(network2.CrossEntropyCost.fn(a, y), -np.log(0.8) - np.log(0.9))
    assert np.allclose(network2.CrossEntropyCost.delta(z, a, y), a - y)
    assert np.isclose(network2.LogLikelihoodCost.fn(a, y), -np.log(0.8))
    assert network2.vectorized_result(3).shape == (10, 1)


def test_load_data_has_the_books_structure(mnist):
    from nn import mnist_loader
    training_data, validation_data, test_data = mnist
    assert (len(training_data), len(validation_data), len(test_data)) == (50000, 10000, 10000)
    x, y = training_data[0]
    assert x.shape == (784, 1) and y.shape == (10, 1) and y[5, 0] == 1.0  # the first is a 5
    assert 0.0 <= x.min() and x.max() <= 1.0
    assert isinstance(validation_data[0][1], int) and isinstance(test_data[0][1], int)
    (images, labels), _, _ = mnist_loader.load_data()
    assert images.shape == (50000, 784) and labels.shape == (50000,) and labels[0] == 5


def test_every_run_option_is_a_keyword_with_nn_trains_rules(mnist):
    """SGD's keywords are nn-train's run options: momentum alone means momentum-based SGD (as
    ``nn train --momentum``), Nesterov, Adam and weight averaging each change the result."""
    training_data, validation_data, _ = mnist

    def weights(**keywords):
        np.random.seed(4)
        net = network2.Network([784, 20, 10])
        _, accuracy, _, _ = net.SGD(training_data[:1000], 2, 10, 0.1, lmbda=1.0,
                                    evaluation_data=validation_data[:300],
                                    monitor_evaluation_accuracy=True, seed=5, **keywords)
        assert max(accuracy) > 150, (keywords, accuracy)  # well above chance (30)
        return np.concatenate([w.ravel() for w in net.weights])

    momentum = weights(momentum=0.9)
    assert np.array_equal(momentum, weights(optimizer="momentum", momentum=0.9))
    plain = weights()
    for other in [plain, weights(optimizer="nesterov", momentum=0.9),
                  weights(optimizer="adam"), weights(momentum=0.9, average_weights=0.5),
                  weights(momentum=0.9, input_dropout=0.2, max_norm=3.0)]:
        assert not np.array_equal(momentum, other)
