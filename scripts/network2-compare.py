"""Sets the book's single runs, network2.py's spread over seeds and ours side by side.

    python3 scripts/network2-compare.py [--records docs/records] [--check]

Reads network2.py's runs from docs/records/network2.json (written by scripts/network2-spread.py)
and ours from docs/records/<record>.json (written by scripts/record-reproduction.sh), matched
by record, run label and metric, and prints a Markdown table: the book's figure; network2.py's
mean, range and number of seeds; ours the same; where the book's figure lies in network2.py's
spread; and an exact two-sided permutation test of the difference of the two means (every way
of splitting the pooled seeds into groups of the two sizes). With n and m seeds the smallest
possible p is 2 / C(n + m, n): 0.1 for 3 and 3 seeds, so a p of 1 says the two programs'
runs are interleaved, and a small p with few seeds is a finding to look into, not a verdict.

--check exits with status 1 when ours stall far more often than network2.py: the share of
seeds of Chapter 1's 784,100,10 quadratic run whose peak stays under 90% (network2.py's own
runs stall there, a digit's output neuron never learning) may exceed network2.py's share by
at most one seed's worth of ours. It also exits with status 1 when the replay of
docs/records/network2-replay.json (our engine given network2.py's initial weights and
shuffles) and network2.py's own runs of the 1,000-image overfitting run differ by more than
REPLAY_TOLERANCE points on a seed both ran: docs/reproduction.md takes the replay's 60 seeds
as network2.py's distribution.
"""

import argparse
import itertools
import json
import pathlib
import statistics

ROOT = pathlib.Path(__file__).resolve().parent.parent
# Peaks of network2.py and of its replay by our engine on one seed differ by float rounding only.
REPLAY_TOLERANCE = 0.1


def permutation_p(a, b):
    """Two-sided exact permutation p-value of mean(a) - mean(b)."""
    pooled = a + b
    observed = abs(statistics.fmean(a) - statistics.fmean(b))
    total = sum(pooled)
    hits = count = 0
    for group in itertools.combinations(range(len(pooled)), len(a)):
        first = sum(pooled[i] for i in group)
        difference = abs(first / len(a) - (total - first) / len(b))
        hits += difference >= observed - 1e-9
        count += 1
    return hits / count


def spread(values):
    """`mean (min-max, n)`."""
    if len(values) == 1:
        return "{:.2f} (1 seed)".format(values[0])
    return "{:.2f} ({:.2f}-{:.2f}, {} seeds)".format(
        statistics.fmean(values), min(values), max(values), len(values))


def where(book, values):
    """Where the book's single run lies among network2.py's runs."""
    if book is None:
        return "-"
    below = sum(v < book for v in values)
    above = sum(v > book for v in values)
    if below == len(values):
        return "above all {}".format(len(values))
    if above == len(values):
        return "below all {}".format(len(values))
    return "within ({} of {} below it)".format(below, len(values))


STALL = ("cross-entropy", "100 hidden, quadratic, eta 3.0 (Chapter 1)",
         "peak evaluation accuracy (%)", 90.0)


def stall_shares(network2, records):
    """The shares of network2.py's and our seeds of the quadratic 100-hidden run under 90%."""
    record, label, metric, threshold = STALL
    theirs = next(r for r in network2["runs"] if (r["record"], r["label"]) == (record, label))
    ours_record = json.loads((records / (record + ".json")).read_text())
    ours = next(r for r in ours_record["runs"] if r["label"] == label)
    values = [next(m["per_seed"] for m in run["measures"] if m["metric"] == metric)
              for run in (theirs, ours)]
    return [(sum(v < threshold for v in vs), len(vs)) for vs in values]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=pathlib.Path, default=ROOT / "docs" / "records")
    parser.add_argument("--check", action="store_true",
                        help="fail when ours stall far more often than network2.py")
    args = parser.parse_args()
    network2 = json.loads((args.records / "network2.json").read_text())
    print("| run | measure | book | network2.py here | ours | book in network2.py's spread "
          "| permutation p |")
    print("|---|---|---|---|---|---|---|")
    for theirs in network2["runs"]:
        ours_record = json.loads((args.records / (theirs["record"] + ".json")).read_text())
        ours_run = next((r for r in ours_record["runs"] if r["label"] == theirs["label"]), None)
        for measure in theirs["measures"]:
            ours = ours_run and next(
                (m for m in ours_run["measures"] if m["metric"] == measure["metric"]), None)
            a = measure["per_seed"]
            b = ours["per_seed"] if ours else []
            p = permutation_p(a, b) if len(a) > 1 and len(b) > 1 else None
            book = measure.get("book")
            print("| {}: {} | {} | {} | {} | {} | {} | {} |".format(
                theirs["record"], theirs["label"], measure["metric"],
                "-" if book is None else book, spread(a), spread(b) if b else "-",
                where(book, a), "-" if p is None else "{:.2f}".format(p)))
    print()
    print("network2.py: sha256 {}, Python {}, numpy {}; ours: docs/records/<record>.json."
          .format(network2["network2_sha256"][:12], network2["python"], network2["numpy"]))
    (theirs_stalled, theirs_n), (ours_stalled, ours_n) = stall_shares(network2, args.records)
    print("784,100,10 quadratic, eta 3.0: peak under 90% in {} of {} network2.py seeds, {} of {} "
          "of ours.".format(theirs_stalled, theirs_n, ours_stalled, ours_n))
    if args.check and ours_stalled / ours_n > theirs_stalled / theirs_n + 1 / ours_n:
        raise SystemExit("ours stall far more often than network2.py")
    common, largest = replay_difference(network2, args.records)
    print("1,000-image overfitting peak: network2.py and its replay by our engine differ by at "
          "most {:.2f} points on the {} seeds both ran.".format(largest, common))
    if args.check and largest > REPLAY_TOLERANCE:
        raise SystemExit("the replay of network2.py's overfitting run no longer matches it")


def replay_difference(network2, records):
    """(seeds in common, largest |difference|) of network2.py's overfitting peaks and the
    replay's."""
    run = next(r for r in network2["runs"]
               if (r["record"], r["label"]) == ("overfitting", "1,000 images, lambda 0"))
    peaks = next(m["per_seed"] for m in run["measures"] if m["metric"].startswith("peak"))
    theirs = dict(zip(run["seeds"], peaks))
    replay = json.loads((records / "network2-replay.json").read_text())["series"]["replay"]
    ours = dict(zip(replay["seeds"], replay["peak_test_accuracy"]))
    common = sorted(set(theirs) & set(ours))
    return len(common), max(abs(theirs[s] - ours[s]) for s in common)


if __name__ == "__main__":
    main()
