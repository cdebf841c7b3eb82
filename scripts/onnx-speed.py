#!/usr/bin/env python3
"""Inference on MNIST's 10,000 test images: onnxruntime against nn's engine, in one run.

For each network (random weights: the time does not depend on them) the model is written by
the `nn` Python package (nn-py) and exported to ONNX by `nn export`. Three ways of computing
the outputs of all 10,000 images are timed, in alternating blocks of rounds:

nn
    nn-core's batch evaluation, `Network::evaluate` (the outputs of every image in chunks of
    500, their cost and the count of correct labels; what `nn train` monitors), timed inside
    Rust by `benches/examples/evaluate_test_set.rs` on the test images as nn loads them;
nn-py
    the same evaluation called from Python on a numpy array (`_engine.evaluate`, what
    `Network.accuracy` calls), which also rebuilds the network from its numpy arrays and
    copies the 31 MB of inputs into the engine on every call;
onnxruntime
    `InferenceSession.run` of the exported model on the whole batch ([10000, 784] float32),
    giving `output` and `label`, CPU execution provider.

Each runs on the machine's cores by default (rayon's pool, onnxruntime's intra-op threads),
then on one thread (RAYON_NUM_THREADS=1; intra_op_num_threads=1). Each round's wall-clock
time and processor time (of all the process's threads: on two threads it includes the time
the engines' idle threads spin waiting for work) are kept; the figures are medians of all
rounds, the ratios onnxruntime's median over nn's and over nn-py's. On a machine shared with
other work the processor times on one thread move least.

    python scripts/onnx-speed.py --nn target/release/nn --data ../shared/data/mnist \\
        [--rounds 10] [--blocks 3] [--sizes 784,30,10 784,100,10 784,800,10 784,800,800,10]

Needs numpy, onnxruntime and the nn package (`pip install ./crates/nn-py`); builds the
example with cargo when target/release/examples/evaluate_test_set is missing.
"""

import argparse
import json
import os
import pathlib
import statistics
import subprocess
import sys
import tempfile
import time

import numpy as np

ROOT = pathlib.Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "target" / "release" / "examples" / "evaluate_test_set"


def measure(args):
    """One thread setting (RAYON_NUM_THREADS set by the parent; --threads for onnxruntime):
    alternating blocks of rounds of the three engines; prints every time as JSON."""
    import onnxruntime
    import nn.network2
    from nn import _engine, mnist_loader

    # MNIST's test images as nn loads them (pixels / 255, float32), from --data.
    os.environ["MNIST_DIR"] = args.data
    x, y = mnist_loader.load_data()[2]
    n, k = x.shape[0], 10
    targets = np.zeros((n, k), dtype=np.float32)
    targets[np.arange(n), y] = 1.0
    inputs, targets = x.reshape(-1), targets.reshape(-1)
    options = onnxruntime.SessionOptions()
    if args.threads:
        options.intra_op_num_threads = args.threads
        options.inter_op_num_threads = 1
    engines = {}
    for model in args.models:
        net = nn.network2.load(model + ".json")
        attributes, cost = net._network(), net.cost.__name__
        session = onnxruntime.InferenceSession(model + ".onnx", options,
                                               providers=["CPUExecutionProvider"])

        def nn_py(attributes=attributes, cost=cost):
            return _engine.evaluate(attributes, cost, inputs, targets, y, 0.0)[1]

        def ort(session=session):
            _, label = session.run(["output", "label"], {"input": x})
            return int(np.sum(label == y))

        engines[model] = {"nn-py": nn_py, "onnxruntime": ort}
    names = ("nn", "nn-py", "onnxruntime")
    times = {model: {name: [] for name in names} for model in args.models}
    processor = {model: {name: [] for name in names} for model in args.models}
    correct = {model: {} for model in args.models}
    for _ in range(args.blocks):
        done = subprocess.run([str(args.example), args.data, str(args.rounds), *[
            m + ".json" for m in args.models]], check=True, capture_output=True, text=True)
        for line in done.stdout.splitlines():
            record = json.loads(line)
            model = record["model"][:-len(".json")]
            times[model]["nn"] += record["seconds"]
            processor[model]["nn"] += record["processor_seconds"]
            correct[model]["nn"] = record["correct"]
        for model, calls in engines.items():
            for name, call in calls.items():
                correct[model][name] = call()  # a warm-up round, not timed
                for _ in range(args.rounds):
                    start, start_processor = time.perf_counter(), time.process_time()
                    call()
                    times[model][name].append(time.perf_counter() - start)
                    processor[model][name].append(time.process_time() - start_processor)
    print(json.dumps({"times": times, "processor": processor, "correct": correct}))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--nn", required=True, help="the nn binary, for `nn export`")
    parser.add_argument("--data", required=True, help="the directory of MNIST's IDX files")
    parser.add_argument("--rounds", type=int, default=10, help="timed rounds per block")
    parser.add_argument("--blocks", type=int, default=3, help="alternating blocks of rounds")
    parser.add_argument("--sizes", nargs="+", default=["784,30,10", "784,100,10", "784,800,10", "784,800,800,10"],
                        help="networks to time")
    parser.add_argument("--threads", type=int, default=0, help=argparse.SUPPRESS)
    parser.add_argument("--models", nargs="+", help=argparse.SUPPRESS)
    parser.add_argument("--example", default=str(EXAMPLE), help=argparse.SUPPRESS)
    args = parser.parse_args()
    args.data = str(pathlib.Path(args.data).resolve())
    if args.models:
        return measure(args)

    import nn.network2
    import onnxruntime

    if not EXAMPLE.exists():
        subprocess.run(["cargo", "build", "--release", "-q", "-p", "nn-benches", "--example",
                        "evaluate_test_set"], check=True, cwd=ROOT)
    load_before = os.getloadavg()[0]
    with tempfile.TemporaryDirectory() as tmp:
        models = []
        for sizes in args.sizes:
            model = str(pathlib.Path(tmp) / sizes.replace(",", "-"))
            nn.network2.Network([int(s) for s in sizes.split(",")]).save(model + ".json")
            subprocess.run([args.nn, "export", model + ".json", model + ".onnx"], check=True,
                           stdout=subprocess.DEVNULL)
            models.append(model)
        results = {}
        for threads in (0, 1):
            environment = dict(os.environ)
            if threads:
                environment["RAYON_NUM_THREADS"] = str(threads)
            command = [sys.executable, __file__, "--nn", args.nn, "--data", args.data,
                       "--rounds", str(args.rounds), "--blocks", str(args.blocks),
                       "--threads", str(threads), "--models", *models]
            done = subprocess.run(command, env=environment, check=True, capture_output=True,
                                  text=True)
            results[threads] = json.loads(done.stdout.strip().splitlines()[-1])

    print("onnxruntime {}, numpy {}, {} cores, load average {:.1f} before and {:.1f} after "
          "(1 min); medians of {} rounds each".format(
              onnxruntime.__version__, np.__version__, os.cpu_count(), load_before,
              os.getloadavg()[0], args.rounds * args.blocks))
    line = "{:<12} {:<8} {:<10} {:>8} {:>9} {:>12} {:>9} {:>12}"
    print(line.format("network", "threads", "time", "nn ms", "nn-py ms", "onnxruntime ms",
                      "ort / nn", "ort / nn-py"))
    disagree = False
    for threads, result in results.items():
        for sizes, model in zip(args.sizes, models):
            for kind, key in (("wall", "times"), ("processor", "processor")):
                median = {name: statistics.median(t) for name, t in result[key][model].items()}
                print(line.format(sizes, threads or "default", kind,
                                  "{:.2f}".format(1e3 * median["nn"]),
                                  "{:.2f}".format(1e3 * median["nn-py"]),
                                  "{:.2f}".format(1e3 * median["onnxruntime"]),
                                  "{:.2f}".format(median["onnxruntime"] / median["nn"]),
                                  "{:.2f}".format(median["onnxruntime"] / median["nn-py"])))
            if len(set(result["correct"][model].values())) != 1:
                disagree = True
                print("  the engines' correct counts differ: {}".format(result["correct"][model]))
    if disagree:
        sys.exit(1)


if __name__ == "__main__":
    main()
