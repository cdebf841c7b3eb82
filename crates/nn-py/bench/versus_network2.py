"""Times the chapter's main run in the book's network2.py and in nn.network2, on this machine.

    python crates/nn-py/bench/versus_network2.py --network2 path/to/network2.py [--epochs 30]

network2.py is not part of this repository: give the path of the book's file (Python 2 as
published, or already Python 3). It is copied into a temporary folder, converted mechanically
to Python 3 there with lib2to3 when needed (Python <= 3.12), and imported. Both networks train
the session `Network([784, H, 10]).SGD(training_data, EPOCHS, 10, 0.5, lmbda=5.0,
evaluation_data=validation_data, monitor_evaluation_accuracy=True)` on the same data, loaded
once by nn.mnist_loader from the IDX files (run from the workspace root, or set MNIST_DIR).
The time of nn.network2 includes the conversion of the list of tuples. The per-epoch lines of
both are discarded; the script prints the seconds, the best validation accuracy and the ratio.
"""

import argparse
import contextlib
import importlib.util
import io
import pathlib
import shutil
import subprocess
import sys
import tempfile
import time

import numpy as np

from nn import mnist_loader, network2


def book_module(path, folder):
    """The book's network2.py as a Python 3 module imported from `folder`."""
    target = pathlib.Path(folder) / "book_network2.py"
    shutil.copyfile(path, target)
    source = target.read_text()
    if "xrange" in source or "print \"" in source:
        subprocess.run([sys.executable, "-W", "ignore", "-m", "lib2to3", "-w", "-n", "-f",
                        "print", "-f", "xrange", "-f", "zip", str(target)],
                       check=True, capture_output=True)
    spec = importlib.util.spec_from_file_location("book_network2", target)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def session(module, training_data, validation_data, epochs, hidden, seed):
    """Runs the chapter's main session; returns (seconds, best validation accuracy)."""
    np.random.seed(seed)
    net = module.Network([784, hidden, 10], cost=module.CrossEntropyCost)
    started = time.perf_counter()
    with contextlib.redirect_stdout(io.StringIO()):
        _, accuracy, _, _ = net.SGD(list(training_data), epochs, 10, 0.5, lmbda=5.0,
                                    evaluation_data=validation_data,
                                    monitor_evaluation_accuracy=True)
    return time.perf_counter() - started, max(accuracy)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--network2", required=True, help="the book's network2.py")
    parser.add_argument("--epochs", type=int, default=30)
    parser.add_argument("--hidden", type=int, default=30)
    parser.add_argument("--seed", type=int, default=12345678)
    args = parser.parse_args()
    training_data, validation_data, _ = mnist_loader.load_data_wrapper()
    with tempfile.TemporaryDirectory() as folder:
        book = book_module(args.network2, folder)
        ours_s, ours_acc = session(network2, training_data, validation_data, args.epochs,
                                   args.hidden, args.seed)
        print("nn.network2: {:.1f} s ({:.2f} s/epoch), best validation {:.2%}".format(
            ours_s, ours_s / args.epochs, ours_acc / len(validation_data)), flush=True)
        book_s, book_acc = session(book, training_data, validation_data, args.epochs,
                                   args.hidden, args.seed)
        print("network2.py: {:.1f} s ({:.2f} s/epoch), best validation {:.2%}".format(
            book_s, book_s / args.epochs, book_acc / len(validation_data)), flush=True)
    print("[784, {}, 10], {} epochs: nn.network2 is {:.1f}x faster".format(
        args.hidden, args.epochs, book_s / ours_s))


if __name__ == "__main__":
    main()
