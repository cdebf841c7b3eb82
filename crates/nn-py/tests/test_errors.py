"""Bad arguments raise ValueError, TypeError or OSError with `nn`'s one-line messages, never a
Rust panic."""

import json

import numpy as np
import pytest

from conftest import cli_error
from nn import network2


def one_line(error):
    message = str(error.value)
    assert message and "\n" not in message and "panicked" not in message
    return message


def small_data(n=20, inputs=4, outputs=3):
    rng = np.random.default_rng(0)
    return [(rng.random((inputs, 1)), network2.vectorized_result(i % outputs)[:outputs])
            for i in range(n)]


@pytest.mark.parametrize("flag, keyword, value", [
    ("--eta", "eta", -1.0),
    ("--batch-size", "mini_batch_size", 0),
    ("--epochs", "epochs", 0),
    ("--lambda", "lmbda", -1.0),
    ("--l1", "l1", -1.0),
    ("--dropout", "dropout", 1.5),
    ("--momentum", "momentum", 2.0),
])
def test_a_bad_hyper_parameter_gives_the_message_of_nn_train(nn_binary, flag, keyword, value):
    arguments = {"epochs": 1, "mini_batch_size": 10, "eta": 0.5}
    arguments[keyword] = value
    net = network2.Network([4, 3, 3])
    with pytest.raises(ValueError) as error:
        net.SGD(small_data(), **arguments)
    message = one_line(error)
    # nn train says the same, naming its flag where Python names the keyword.
    cli = cli_error(nn_binary, "train", flag, str(value), "--data", "/nonexistent")
    assert cli.replace(flag, keyword).endswith(message), (cli, message)
    assert "--" not in message, message


def test_keywords_are_the_run_options_and_a_wrong_one_is_named():
    net = network2.Network([4, 3, 3])
    for keywords, expected in [
        ({"optimiser": "adam"}, "unexpected keyword optimiser"),
        ({"batch_size": 5}, "batch_size is not a keyword of SGD: it is mini_batch_size"),
        ({"expand": ["shift"]}, "expand is not a keyword of SGD"),
        ({"optimizer": "adamw"}, "unknown variant `adamw`"),
        ({"max_norm": -1.0}, "max_norm"),
        ({"momentum": 1.5, "optimizer": "nesterov"}, "momentum 1.5"),
    ]:
        with pytest.raises(ValueError) as error:
            net.SGD(small_data(), 1, 10, 0.5, **keywords)
        assert expected in one_line(error), (keywords, one_line(error))


def test_a_corrupt_model_file_gives_the_message_of_nn_eval(nn_binary, tmp_path):
    path = tmp_path / "bad.json"
    path.write_text(json.dumps({"sizes": [2, 2]}))
    with pytest.raises(ValueError) as error:
        network2.load(str(path))
    assert one_line(error) == cli_error(nn_binary, "eval", str(path))


def test_a_missing_model_file_is_an_os_error(nn_binary, tmp_path):
    path = tmp_path / "none.json"
    with pytest.raises(OSError) as error:
        network2.load(str(path))
    assert one_line(error) == cli_error(nn_binary, "eval", str(path))


@pytest.mark.parametrize("sizes", [[784, 0, 10], [784], [], [784, -5, 10],
                                   [784, 2**62, 10], [2**40, 2**40]])
def test_impossible_layer_sizes_are_a_value_error(sizes):
    with pytest.raises(ValueError) as error:
        network2.Network(sizes)
    one_line(error)


@pytest.mark.parametrize("sizes", [[784, 30.5, 10], ["784", 10], None])
def test_layer_sizes_that_are_not_integers_are_a_type_error(sizes):
    with pytest.raises(TypeError):
        network2.Network(sizes)


def test_data_of_another_shape_than_the_network_is_a_value_error():
    net = network2.Network([5, 3, 3])
    with pytest.raises(ValueError) as error:
        net.SGD(small_data(inputs=4), 1, 10, 0.5)
    assert "784" not in one_line(error)
    with pytest.raises(ValueError):
        net.accuracy([(np.zeros((5, 1)), 7)])
    with pytest.raises(ValueError):
        net.feedforward(np.zeros((4, 1)))


def test_data_that_is_not_a_list_of_pairs_is_an_error():
    net = network2.Network([4, 3, 3])
    with pytest.raises(TypeError):
        net.SGD([1, 2, 3], 1, 10, 0.5)
    with pytest.raises(ValueError):
        net.SGD([(np.zeros((4, 1)), np.zeros((3, 1))), (np.zeros((2, 1)), np.zeros((3, 1)))],
                1, 10, 0.5)


def test_weights_of_the_wrong_shape_are_a_value_error():
    net = network2.Network([4, 3, 2])
    net.weights[0] = np.zeros((4, 3))
    with pytest.raises(ValueError) as error:
        net.feedforward(np.zeros((4, 1)))
    assert "weights[0]" in one_line(error)
    net.weights = [np.zeros((3, 4))]
    with pytest.raises(ValueError):
        net.feedforward(np.zeros((4, 1)))


def test_monitoring_evaluation_without_evaluation_data_is_a_value_error():
    net = network2.Network([4, 3, 3])
    with pytest.raises(ValueError) as error:
        net.SGD(small_data(), 1, 10, 0.5, monitor_evaluation_accuracy=True)
    one_line(error)


def test_a_bad_schedule_or_seed_is_a_value_error():
    net = network2.Network([4, 3, 3])
    with pytest.raises(ValueError):
        net.SGD(small_data(), 1, 10, 0.5, lr_schedule="sometimes")
    with pytest.raises(ValueError):
        net.SGD(small_data(), 1, 10, 0.5, seed=-1)
    with pytest.raises(ValueError):
        net.SGD(small_data(), 1, 10, 0.5, early_stopping=-3)


def test_an_unknown_cost_is_a_type_error():
    with pytest.raises(TypeError):
        network2.Network([4, 3, 3], cost=object).SGD(small_data(), 1, 10, 0.5)


def test_a_huge_eta_is_reported_not_trained_into_nan():
    net = network2.Network([4, 3, 3])
    with pytest.raises(ValueError) as error:
        net.SGD(small_data(), 1, 10, 1e39)
    one_line(error)


def test_saving_into_a_missing_folder_is_an_os_error(tmp_path):
    with pytest.raises(OSError) as error:
        network2.Network([4, 3, 3]).save(str(tmp_path / "no" / "such" / "m.json"))
    one_line(error)
