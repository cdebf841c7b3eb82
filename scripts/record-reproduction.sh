#!/bin/sh
# Keeps the figures of `nn reproduce` summaries as small records in docs/records/, which the
# test `every_tagged_figure_in_the_docs_matches_its_measured_record` (crates/nn-cli/tests/
# reproduce.rs) compares with the figures tagged in docs/reproduction.md and README.md.
#
#   nn reproduce cross-entropy --out runs/reproduce
#   scripts/record-reproduction.sh runs/reproduce/cross-entropy.json ...
#
# A record is the summary without the per-epoch histories and the full options (the command
# of every run stays). Quick runs are refused: their figures are not the book's comparison.
set -eu
[ "$#" -ge 1 ] || { echo "usage: $0 SUMMARY.json..." >&2; exit 2; }
records="$(dirname "$0")/../docs/records"
for summary in "$@"; do
    if [ "$(jq -r .quick "$summary")" != "false" ]; then
        echo "error: $summary is a quick run (or not a summary of nn reproduce)" >&2
        exit 1
    fi
    name=$(jq -r .name "$summary")
    record=$(jq '{name: .name, title: .title, book: .book, command: .command,
        total_seconds: .total_seconds, checks: .checks,
        runs: [.runs[] | {label: .label, command: .command, seeds: .seeds,
                          measures: .measures, test_accuracy: .test_accuracy,
                          seconds: .seconds}]}' "$summary")
    printf '%s\n' "$record" > "$records/$name.json"
    echo "recorded $records/$name.json"
done
