"""The chapter's experiments, the catalogue ``nn reproduce`` runs, from Python.

    from nn import chapter
    [e["name"] for e in chapter.experiments()]       # 'slowdown', 'cross-entropy', ...
    summary = chapter.run("regularized", out="runs/reproduce", quick=True)
    summary["runs"][0]["measures"]                   # the book's figures beside ours
    summary["network2"]                              # network2.py's spread here beside ours

``run`` trains exactly as ``nn reproduce NAME`` does (MNIST found as ``nn`` finds it), writes
``NAME.json``, ``NAME.md`` and the figures into ``out``, and returns the summary ``NAME.json``
holds as a dict (its ``command`` fields, ``nn`` command lines, are empty here). Ctrl-C raises
``KeyboardInterrupt``; the runs finished before it are kept in ``out`` and not trained again.
"""

import json

from . import _engine


def experiments():
    """Every experiment: a list of dicts with its ``name``, ``title`` and ``book`` (the book's
    figures in words)."""
    return [dict(name=name, title=title, book=book)
            for name, title, book in _engine.experiments()]


def run(name, out="runs/reproduce", quick=False):
    """Runs the experiment ``name`` (a smoke test of a few epochs on 1,000 images and one seed
    with ``quick``) and returns its summary as a dict; an unknown name raises ``ValueError``."""
    return json.loads(_engine.run_experiment(name, str(out), quick))
