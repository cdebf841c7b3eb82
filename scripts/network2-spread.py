"""Runs the book's network2.py over seeds and keeps the summaries in docs/records/network2.json.

    MNIST_DIR=path/to/mnist python scripts/network2-spread.py --network2 path/to/network2.py \
        [--seeds 3 | --seeds 0,1,2] [--only RECORD[/LABEL]]... [--out FILE] [--quick]

network2.py is not part of this repository: give the path of the book's file (Python 2 as
published, or already Python 3); book_module of crates/nn-py/bench/versus_network2.py copies
it into a temporary folder, converts it to Python 3 there when needed and imports it. The data
are nn.mnist_loader.load_data_wrapper()'s: network2.py's format and the book's split (50,000
training, 10,000 validation, 10,000 test images), read from the IDX files of MNIST_DIR.

The runs are the chapter's runs that report a number, with the settings of the `nn train`
commands of docs/records/<record>.json and the same labels and metric strings: all sigmoid,
mini-batch 10, "large" init is `net.large_weight_initializer()` after construction, a training
size N is the first N training images (network2.py's lambda term then uses n = N). Before each
network, `random.seed(s)` (network2.py shuffles with Python's random) and `np.random.seed(s)`
(weights). Every measure comes from the lists SGD returns; accuracies are in % of the data
set; "epoch of lowest evaluation cost" counts from 1. The run "100 hidden, quadratic, eta 3.0
(Chapter 1)" also keeps, per seed, its per-epoch evaluation accuracy, the final network's
accuracy on each digit of the test set, and the fraction of its hidden neurons whose activation
is above 0.99 or below 0.01 on at least 99% of the first 1,000 test images (saturation).

--seeds N means seeds 0...N-1; a list with commas means those seeds. For each seed in turn the
selected runs go cheapest first, and (record, label, seed) triples already in the output are
skipped: the file is rewritten atomically after every seed, so an interrupted run loses at most
the seed it was on. --quick trains 2 epochs on 200 images and evaluates on 200, to test this
script only; its output goes elsewhere and is refused into docs/records.
"""

import argparse
import contextlib
import hashlib
import json
import os
import pathlib
import platform
import random
import sys
import tempfile
import time

import numpy as np

ROOT = pathlib.Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "crates" / "nn-py" / "bench"))
from versus_network2 import book_module  # noqa: E402
from nn import mnist_loader  # noqa: E402

PEAK = "peak evaluation accuracy (%)"
FIRST = "evaluation accuracy after epoch 1 (%)"
FINAL_TRAINING = "final training accuracy (%)"
LOWEST_COST = "epoch of lowest evaluation cost"
EVIDENCE = ("cross-entropy", "100 hidden, quadratic, eta 3.0 (Chapter 1)")


def run(record, label, measures, hidden=30, cost="cross-entropy", init="large", eta=0.5,
        lmbda=0.0, epochs=30, train_size=50000, evaluation="test"):
    """One run of the table: its settings and {metric: the book's figure}."""
    settings = {"layers": [784, hidden, 10], "cost": cost, "init": init, "eta": eta,
                "lambda": lmbda, "epochs": epochs, "batch_size": 10, "train_size": train_size,
                "eval": evaluation}
    return {"record": record, "label": label, "settings": settings, "measures": measures}


RUNS = [  # cheapest first
    run("init", "large initialization", {FIRST: 87, PEAK: None}, eta=0.1, lmbda=5.0,
        evaluation="validation"),
    run("init", "default initialization", {FIRST: 93, PEAK: None}, init="default", eta=0.1,
        lmbda=5.0, evaluation="validation"),
    run("cross-entropy", "30 hidden", {PEAK: 95.49}),
    run("cross-entropy", "30 hidden, quadratic, eta 3.0 (Chapter 1)", {PEAK: 95.42},
        cost="quadratic", eta=3.0),
    run("full-regularized", "30 hidden (test)", {PEAK: 96.49}, lmbda=5.0),
    run("cross-entropy", "100 hidden", {PEAK: 96.82}, hidden=100),
    run(*EVIDENCE, {PEAK: 96.59}, hidden=100, cost="quadratic", eta=3.0),
    run("full-regularized", "100 hidden (validation)", {PEAK: 97.92}, hidden=100, lmbda=5.0,
        evaluation="validation"),
    run("overfitting", "1,000 images, lambda 0",
        {PEAK: 82.27, FINAL_TRAINING: 100, LOWEST_COST: 15}, epochs=400, train_size=1000),
    run("regularized", "1,000 images, lambda 0.1",
        {PEAK: 87.1, FINAL_TRAINING: None, LOWEST_COST: None}, lmbda=0.1, epochs=400,
        train_size=1000),
    run("full-regularized", "100 hidden, 60 epochs, eta 0.1 (validation)", {PEAK: 98.04},
        hidden=100, eta=0.1, lmbda=5.0, epochs=60, evaluation="validation"),
]


def percent(count, total):
    return round(100 * count / total, 2)


def train(book, spec, seed, data):
    """Trains one network2.py network; returns (seconds, {metric: value}, extra fields)."""
    s = spec["settings"]
    training_data = list(data["training"][:s["train_size"]])
    evaluation_data = data[s["eval"]]
    random.seed(seed)
    np.random.seed(seed)
    cost = book.QuadraticCost if s["cost"] == "quadratic" else book.CrossEntropyCost
    net = book.Network(s["layers"], cost=cost)
    if s["init"] == "large":
        net.large_weight_initializer()
    started = time.perf_counter()
    with open(os.devnull, "w") as quiet, contextlib.redirect_stdout(quiet):
        evaluation_cost, evaluation_accuracy, _, training_accuracy = net.SGD(
            training_data, s["epochs"], s["batch_size"], s["eta"], lmbda=s["lambda"],
            evaluation_data=evaluation_data, monitor_evaluation_accuracy=True,
            monitor_evaluation_cost=LOWEST_COST in spec["measures"],
            monitor_training_accuracy=FINAL_TRAINING in spec["measures"])
    seconds = time.perf_counter() - started
    values = {
        PEAK: lambda: percent(max(evaluation_accuracy), len(evaluation_data)),
        FIRST: lambda: percent(evaluation_accuracy[0], len(evaluation_data)),
        FINAL_TRAINING: lambda: percent(training_accuracy[-1], len(training_data)),
        LOWEST_COST: lambda: int(np.argmin(evaluation_cost)) + 1,
    }
    measures = {metric: values[metric]() for metric in spec["measures"]}
    extra = {}
    if (spec["record"], spec["label"]) == EVIDENCE:
        extra["per_epoch_accuracy"] = [percent(a, len(evaluation_data))
                                       for a in evaluation_accuracy]
        test = data["test"]
        digits = np.array([y for _, y in test])
        right = np.array([np.argmax(net.feedforward(x)) for x, _ in test]) == digits
        extra["per_class_accuracy"] = [round(100 * right[digits == d].mean(), 2)
                                       for d in range(10)]
        images = np.hstack([x for x, _ in test[:1000]])
        hidden = book.sigmoid(np.dot(net.weights[0], images) + net.biases[0])
        saturated = ((hidden > 0.99) | (hidden < 0.01)).mean(axis=1) >= 0.99
        extra["saturated_fraction"] = float(saturated.mean())
    return seconds, measures, extra


def write(path, document):
    """Replaces `path` by `document` atomically."""
    with tempfile.NamedTemporaryFile("w", dir=path.parent, prefix="." + path.name, suffix=".tmp",
                                     delete=False) as f:
        json.dump(document, f, indent=1)
        f.write("\n")
        f.flush()
        os.fsync(f.fileno())
    os.replace(f.name, path)


def entry(document, spec):
    """The document's entry for `spec`, added empty if missing."""
    for e in document["runs"]:
        if (e["record"], e["label"]) == (spec["record"], spec["label"]):
            if e["settings"] != spec["settings"]:
                sys.exit("error: {}/{} has other settings in the output".format(
                    spec["record"], spec["label"]))
            return e
    e = {"record": spec["record"], "label": spec["label"], "settings": spec["settings"],
         "seeds": [], "seconds": [],
         "measures": [{"metric": m, "book": book, "per_seed": []}
                      for m, book in spec["measures"].items()]}
    if (spec["record"], spec["label"]) == EVIDENCE:
        e.update(per_epoch_accuracy=[], per_class_accuracy=[], saturated_fraction=[])
    document["runs"].append(e)
    order = [(r["record"], r["label"]) for r in RUNS]
    document["runs"].sort(key=lambda r: order.index((r["record"], r["label"])))
    return e


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--network2", required=True, help="the book's network2.py")
    parser.add_argument("--seeds", default="3", help="N (seeds 0...N-1) or a list: 0,1,2")
    parser.add_argument("--only", action="append", metavar="RECORD[/LABEL]",
                        help="only these runs (repeatable)")
    parser.add_argument("--out", type=pathlib.Path,
                        help="default docs/records/network2.json, or a temporary file if --quick")
    parser.add_argument("--quick", action="store_true", help="tiny sizes, to test the script")
    args = parser.parse_args()
    seeds = ([int(s) for s in args.seeds.split(",") if s] if "," in args.seeds
             else list(range(int(args.seeds))))
    out = args.out or (pathlib.Path(tempfile.gettempdir()) / "network2-quick.json" if args.quick
                       else ROOT / "docs" / "records" / "network2.json")
    if args.quick and out.resolve().parent == (ROOT / "docs" / "records").resolve():
        parser.error("--quick output is refused into docs/records")
    runs = [spec for spec in RUNS
            if not args.only or any(o in (spec["record"], spec["record"] + "/" + spec["label"])
                                    for o in args.only)]
    if not runs:
        parser.error("--only selects no run")
    if args.quick:
        for spec in runs:
            spec["settings"].update(epochs=2, train_size=200)

    digest = hashlib.sha256(pathlib.Path(args.network2).read_bytes()).hexdigest()
    header = {"network2_sha256": digest, "python": platform.python_version(),
              "numpy": np.__version__}
    document = json.loads(out.read_text()) if out.exists() else dict(header, runs=[])
    if {k: document[k] for k in header} != header:
        sys.exit("error: {} was made by another network2.py, Python or numpy".format(out))

    training, validation, test = mnist_loader.load_data_wrapper()
    if args.quick:
        validation, test = validation[:200], test[:200]
    data = {"training": training, "validation": validation, "test": test}
    with tempfile.TemporaryDirectory() as folder:
        book = book_module(args.network2, folder)
        for seed in seeds:
            for spec in runs:
                e = entry(document, spec)
                if seed in e["seeds"]:
                    continue
                seconds, measures, extra = train(book, spec, seed, data)
                e["seeds"].append(seed)
                e["seconds"].append(round(seconds, 1))
                for m in e["measures"]:
                    m["per_seed"].append(measures[m["metric"]])
                for key, value in extra.items():
                    e[key].append(value)
                write(out, document)
                print("{}/{} seed {}: {:.0f} s, {}".format(
                    spec["record"], spec["label"], seed, seconds, ", ".join(
                        "{} {} (book {})".format(m, v, spec["measures"][m])
                        for m, v in measures.items())), flush=True)


if __name__ == "__main__":
    main()
