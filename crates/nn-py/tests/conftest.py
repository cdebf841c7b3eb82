"""Shared fixtures: the workspace root as the working directory (so MNIST is found as `nn`
finds it from there), MNIST loaded once, and the `nn` binary."""

import os
import pathlib
import subprocess

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[3]


@pytest.fixture(scope="session", autouse=True)
def workspace_root():
    previous = os.getcwd()
    os.chdir(ROOT)
    yield ROOT
    os.chdir(previous)


@pytest.fixture(scope="session")
def mnist(workspace_root):
    from nn import mnist_loader
    return mnist_loader.load_data_wrapper()


@pytest.fixture(scope="session")
def nn_binary(workspace_root):
    """The `nn` command of this workspace, built if needed (`NN_BIN` names another)."""
    if "NN_BIN" in os.environ:
        return os.environ["NN_BIN"]
    subprocess.run(["cargo", "build", "--release", "-q", "-p", "nn-cli"], check=True,
                   cwd=ROOT)
    return str(ROOT / "target" / "release" / "nn")


def cli_error(nn_binary, *args):
    """The message `nn` prints after `error: ` for these arguments."""
    done = subprocess.run([nn_binary, *args], capture_output=True, text=True)
    assert done.returncode != 0
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), done.stderr
    return lines[0][len("error: "):]
