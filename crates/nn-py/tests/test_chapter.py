"""nn.chapter: the catalogue `nn reproduce` runs, listed and run from Python with the same
results."""

import json
import subprocess

import pytest

from nn import chapter


def without_seconds(history):
    """The per-epoch figures without the timings, which vary from run to run."""
    return [{k: v for k, v in record.items() if k != "seconds"} for record in history]


def test_the_list_is_nn_reproduces_list(nn_binary):
    names = [e["name"] for e in chapter.experiments()]
    out = subprocess.run([nn_binary, "reproduce", "--list"], capture_output=True, text=True,
                         check=True).stdout
    listed = [line.split()[0] for line in out.splitlines() if line and not line.startswith(" ")]
    assert names == listed
    assert names[0] == "slowdown" and "momentum-range" in names
    assert all(e["title"] and e["book"] for e in chapter.experiments())


def test_a_quick_experiment_gives_the_figures_nn_reproduce_gives(tmp_path, nn_binary):
    summary = chapter.run("regularized", out=tmp_path / "py", quick=True)
    assert summary["name"] == "regularized" and summary["quick"] is True
    (run,) = summary["runs"]
    assert (run["options"]["train_size"], run["options"]["epochs"]) == (1000, 3)
    assert len(run["history"]) == 3 and run["seeds"] == [0]
    assert (tmp_path / "py" / "regularized.json").is_file()
    assert (tmp_path / "py" / "regularized-test-accuracy.png").is_file()
    # network2.py's spread is set beside ours, with the comparison stated.
    spread = {c["metric"]: c for c in summary["network2"]}
    peak = spread["peak evaluation accuracy (%)"]
    assert peak["network2"]["seeds"] == 5 and peak["ours"]["seeds"] == 1
    assert peak["book_position"] is not None
    # The same experiment through `nn` trains the same networks, bit for bit.
    subprocess.run([nn_binary, "reproduce", "regularized", "--quick", "--out",
                    str(tmp_path / "cli")], check=True, capture_output=True)
    cli = json.loads((tmp_path / "cli" / "regularized.json").read_text())
    (cli_run,) = cli["runs"]
    assert [m["per_seed"] for m in cli_run["measures"]] == [m["per_seed"] for m in run["measures"]]
    assert without_seconds(cli_run["history"]) == without_seconds(run["history"])
    # Negative control: another experiment's figures differ.
    other = chapter.run("overfitting", out=tmp_path / "py", quick=True)
    assert without_seconds(other["runs"][0]["history"]) != without_seconds(run["history"])


def test_an_unknown_name_is_a_value_error_naming_the_choices():
    with pytest.raises(ValueError, match="no experiment named 'nope'; choose one of slowdown"):
        chapter.run("nope")
