"""Rewrites the tagged figures of docs/reproduction.md and README.md from docs/records/.

    python3 scripts/refresh-figures.py [--only RECORD]... [--dry-run]

A figure is tagged `95.17<!--fig RECORD|RUN LABEL|METRIC|FIELD-->` (FIELD: ours, seedN,
spread or book), as the test `every_tagged_figure_in_the_docs_matches_its_measured_record`
(crates/nn-cli/tests/reproduce.rs) reads it. After re-recording an experiment
(scripts/record-reproduction.sh), this puts each of its figures' new value in place with the
same number of decimals and lists every change, so that the sentences around them can be
read again: a figure that moved may no longer say what the text says about it.
"""

import argparse
import json
import pathlib
import re

ROOT = pathlib.Path(__file__).resolve().parent.parent
FIGURE = re.compile(r"(-?[0-9.]+)(%?)<!--fig ([^|>]*)\|([^|>]*)\|([^|>]*)\|([^|>]*)-->")


def value(record, label, metric, field):
    """The recorded value a tag names."""
    run = next(r for r in record["runs"] if r["label"] == label)
    measure = next(m for m in run["measures"] if m["metric"] == metric)
    if field.startswith("seed"):
        return measure["per_seed"][int(field[4:])]
    return measure[field]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", action="append", metavar="RECORD")
    parser.add_argument("--dry-run", action="store_true")
    args = parser.parse_args()
    records = {}
    for doc in [ROOT / "docs" / "reproduction.md", ROOT / "README.md"]:
        text = doc.read_text()

        def refresh(match):
            number, percent, name, label, metric, field = match.groups()
            if args.only and name not in args.only:
                return match.group(0)
            if name not in records:
                records[name] = json.loads((ROOT / "docs" / "records" / (name + ".json"))
                                           .read_text())
            decimals = len(number.split(".")[1]) if "." in number else 0
            new = "{:.{}f}".format(value(records[name], label, metric, field), decimals)
            if new != number:
                print("{}: {}|{}|{}|{}: {} -> {}".format(doc.name, name, label, metric, field,
                                                         number, new))
            return new + match.group(0)[len(number):]

        refreshed = FIGURE.sub(refresh, text)
        if not args.dry_run:
            doc.write_text(refreshed)


if __name__ == "__main__":
    main()
