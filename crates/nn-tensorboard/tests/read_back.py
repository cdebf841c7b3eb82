#!/usr/bin/env python3
"""TensorBoard reads back what `nn train --tensorboard` and `nn reproduce --tensorboard` write.

Trains short runs on a subset of MNIST with `--tensorboard DIR --metrics FILE`, then reads DIR
with TensorBoard's own `EventAccumulator` and checks that every scalar series is the metrics
file's history (as float32, the precision of TensorBoard's scalars) at step = epoch, with every
epoch there and nothing else, and that the hparams plugin finds the run's options and how the
run ended. A resumed run's series continues its first part. A quick reproduction writes one
run per training run, each the metrics file the reproduction keeps of it; a run it trains
again shows the new attempt alone; and the HParams dashboard shows them all. Negative controls: the same check must fail on a metrics file with
one figure changed, and on an event file with one flipped bit.

    python crates/nn-tensorboard/tests/read_back.py --nn target/release/nn --data DIR

Needs the `tensorboard` and `numpy` packages. Prints `N passed, 0 failed` and exits 0 when
every check passes.
"""

import argparse
import json
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import numpy as np
from tensorboard.backend.event_processing import event_accumulator
from tensorboard.plugins.hparams import api_pb2, metadata

MEASURES = ("training_cost", "training_accuracy", "evaluation_cost", "evaluation_accuracy")
SMALL = [
    "--train-size", "600", "--validation-size", "300", "--batch-size", "20",
    "--monitor", "training-cost,training-accuracy,evaluation-cost,evaluation-accuracy",
    "--lr-schedule", "exp:0.9", "--eta", "0.3", "--seed", "5", "--quiet",
]


def train(nn, data, *flags):
    command = [nn, "train", "--data", data, *SMALL, *flags]
    done = subprocess.run(command, capture_output=True, text=True)
    if done.returncode != 0:
        raise AssertionError(f"{' '.join(command)} failed:\n{done.stderr}")


def reproduce(nn, data, experiment, out, logs):
    """Runs `nn reproduce EXPERIMENT --quick --tensorboard LOGS`; returns each TensorBoard run
    folder with the metrics file the reproduction kept of its run (`NAME-NNN-seedS.json` for
    the folder `NAME-NNN-LABEL-seedS-quick`)."""
    command = [nn, "reproduce", experiment, "--quick", "--data", data, "--out", str(out),
               "--tensorboard", str(logs)]
    done = subprocess.run(command, capture_output=True, text=True)
    if done.returncode != 0:
        raise AssertionError(f"{' '.join(command)} failed:\n{done.stderr}")
    runs = {}
    for folder in sorted(logs.iterdir()):
        number = folder.name[len(experiment) + 1:].split("-")[0]
        seed = folder.name.split("-")[-2]
        runs[folder] = out / f"{experiment}-runs" / f"{experiment}-{number}-{seed}.json"
    return runs


def load(run_dir):
    accumulator = event_accumulator.EventAccumulator(
        str(run_dir),
        size_guidance={event_accumulator.SCALARS: 0, event_accumulator.TENSORS: 0},
    )
    accumulator.Reload()
    return accumulator


def expected_hparam(value):
    """An option's value as nn records it: lists joined by commas (`none` when empty), other
    structures as compact JSON."""
    if isinstance(value, list):
        return ",".join(str(v) for v in value) if value else "none"
    if isinstance(value, dict):
        return json.dumps(value, separators=(",", ":"))
    return value


def problems(run_dir, metrics):
    """Everything in which the events of `run_dir` differ from the metrics file `metrics`."""
    found = []
    history = metrics["history"]
    accumulator = load(run_dir)
    epochs = [record["epoch"] for record in history]
    tags = set(accumulator.Tags()["scalars"])
    wanted = {m for m in MEASURES if m in history[0]} | {"eta", "seconds"}
    if tags != wanted:
        found.append(f"scalar tags {sorted(tags)}, expected {sorted(wanted)}")
    for tag in sorted(tags & wanted):
        events = accumulator.Scalars(tag)
        steps = [e.step for e in events]
        if steps != epochs:
            found.append(f"{tag}: steps {steps}, expected epochs {epochs}")
            continue
        for event, record in zip(events, history):
            want = float(np.float32(record[tag]))
            if event.value != want:
                found.append(f"{tag} epoch {event.step}: {event.value!r}, metrics file {want!r}")

    content = accumulator.PluginTagToContent(metadata.PLUGIN_NAME)
    start = content.get(metadata.SESSION_START_INFO_TAG)
    if start is None:
        found.append("no hyper-parameters")
    else:
        recorded = metadata.parse_session_start_info_plugin_data(start).hparams
        options = {k: v for k, v in metrics["options"].items() if v is not None}
        if set(recorded) != set(options):
            found.append(f"hyper-parameters {sorted(recorded)}, options {sorted(options)}")
        for name, value in options.items():
            if name not in recorded:
                continue
            kind = recorded[name].WhichOneof("kind")
            got = getattr(recorded[name], kind)
            if got != expected_hparam(value) or (kind == "bool_value") != isinstance(value, bool):
                found.append(f"hyper-parameter {name}: {got!r}, options say {value!r}")
    end = content.get(metadata.SESSION_END_INFO_TAG)
    if end is None:
        found.append("no session end")
    elif metadata.parse_session_end_info_plugin_data(end).status != api_pb2.STATUS_SUCCESS:
        found.append("the session did not end in success")
    return found


def dashboard_problems(logdir, runs):
    """What TensorBoard's HParams dashboard misses of `runs` (run name -> options) when a
    TensorBoard server on this machine's loopback serves `logdir`."""
    from tensorboard import program

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    board = program.TensorBoard()
    board.configure(argv=[None, "--logdir", str(logdir), "--host", "127.0.0.1",
                          "--port", str(port), "--reload_interval", "1"])
    url = board.launch()
    request = {"experimentName": "", "startIndex": 0, "sliceSize": 100, "colParams": [],
               "allowedStatuses": ["STATUS_UNKNOWN", "STATUS_SUCCESS", "STATUS_FAILURE",
                                   "STATUS_RUNNING"]}
    groups = {}
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        post = urllib.request.Request(
            url + "data/plugin/hparams/session_groups", data=json.dumps(request).encode(),
            headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(post, timeout=30) as answer:
            groups = {g["name"]: g for g in json.load(answer).get("sessionGroups", [])}
        if set(groups) >= set(runs):
            break
        time.sleep(1)
    found = []
    for run, options in runs.items():
        group = groups.get(run)
        if group is None:
            found.append(f"the dashboard shows no run {run} (it has {sorted(groups)})")
            continue
        if group["hparams"].get("eta") != options["eta"]:
            found.append(f"{run}: eta {group['hparams'].get('eta')}, options {options['eta']}")
        metrics = {m["name"]["tag"] for m in group["metricValues"]}
        if "evaluation_accuracy" not in metrics:
            found.append(f"{run}: no evaluation_accuracy among {sorted(metrics)}")
    return found


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nn", required=True, help="the nn binary")
    parser.add_argument("--data", required=True, help="the MNIST folder")
    args = parser.parse_args()
    passed, failed = 0, 0

    def check(name, found, expect_problems=False):
        nonlocal passed, failed
        ok = bool(found) == expect_problems
        if ok:
            passed += 1
            print(f"ok: {name}")
        else:
            failed += 1
            print(f"FAILED: {name}: " + ("; ".join(found) or "no difference found"))

    with tempfile.TemporaryDirectory() as work:
        work = Path(work)
        run, metrics_path = work / "logs" / "run", work / "run.json"
        train(args.nn, args.data, "--epochs", "4", "--tensorboard", str(run),
              "--metrics", str(metrics_path))
        metrics = json.loads(metrics_path.read_text())
        check("every epoch's figures, eta, seconds and the options", problems(run, metrics))

        # Negative controls: a changed figure, and a flipped bit in the event file.
        changed = json.loads(json.dumps(metrics))
        changed["history"][2]["evaluation_accuracy"] += 1e-3
        check("a changed figure is caught", problems(run, changed), expect_problems=True)
        corrupt = work / "corrupt"
        shutil.copytree(run, corrupt)
        event_file = next(corrupt.iterdir())
        data = bytearray(event_file.read_bytes())
        data[len(data) // 2] ^= 0x10
        event_file.write_bytes(bytes(data))
        check("a flipped bit is caught", problems(corrupt, metrics), expect_problems=True)

        # A run interrupted after epoch 2 and resumed to epoch 5 is one series.
        resumed, checkpoint = work / "logs" / "resumed", work / "checkpoint"
        resumed_metrics = work / "resumed.json"
        train(args.nn, args.data, "--epochs", "2", "--tensorboard", str(resumed),
              "--checkpoint", str(checkpoint))
        train(args.nn, args.data, "--epochs", "5", "--tensorboard", str(resumed),
              "--resume", str(checkpoint), "--metrics", str(resumed_metrics))
        metrics = json.loads(resumed_metrics.read_text())
        found = problems(resumed, metrics)
        # The first part recorded the options with its own number of epochs.
        found = [p for p in found if not p.startswith("hyper-parameter epochs")]
        check("a resumed run continues its series", found)
        if len(list(resumed.iterdir())) != 2:
            check("a resumed run adds an event file", ["not two event files"])

        # A run resumed from an older checkpoint than its event files reached: TensorBoard
        # keeps the epochs of the branch that went on, once each (the epochs' `seconds`
        # differ between the branches, so a doubled epoch shows).
        branched, older = work / "logs" / "branched", work / "older"
        branched_metrics = work / "branched.json"
        first = work / "first"
        train(args.nn, args.data, "--epochs", "2", "--tensorboard", str(branched),
              "--checkpoint", str(first))
        shutil.copytree(first, older)
        train(args.nn, args.data, "--epochs", "3", "--tensorboard", str(branched),
              "--resume", str(first))
        train(args.nn, args.data, "--epochs", "4", "--tensorboard", str(branched),
              "--resume", str(older), "--metrics", str(branched_metrics))
        found = problems(branched, json.loads(branched_metrics.read_text()))
        found = [p for p in found if not p.startswith("hyper-parameter epochs")]
        check("a resumed run replaces the epochs its checkpoint did not keep", found)

        # A reproduction: a run per training run, each its kept metrics file.
        reproduced = reproduce(args.nn, args.data, "init", work / "out",
                               work / "logs" / "reproduce")
        found = [] if len(reproduced) == 4 else [f"{len(reproduced)} runs, not 4"]
        for folder, kept in reproduced.items():
            found += [f"{folder.name}: {p}" for p in problems(folder, json.loads(kept.read_text()))]
        check("a reproduction's runs are its metrics files", found)

        # Run again without one run's metrics file: that run trains again and TensorBoard shows
        # the new attempt's series alone (its `seconds` differ from the first attempt's).
        folder, kept = next(iter(reproduced.items()))
        kept.unlink()
        reproduce(args.nn, args.data, "init", work / "out", work / "logs" / "reproduce")
        found = problems(folder, json.loads(kept.read_text()))
        if len(list(folder.iterdir())) != 2:
            found.append("not two event files")
        check("a run trained again restarts its series", found)

        # The runs under one parent, as TensorBoard's HParams dashboard shows them.
        runs = {"run": json.loads(metrics_path.read_text())["options"],
                "resumed": metrics["options"]}
        for folder, kept in reproduced.items():
            runs[f"reproduce/{folder.name}"] = json.loads(kept.read_text())["options"]
        check("the HParams dashboard shows every run", dashboard_problems(work / "logs", runs))

    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
