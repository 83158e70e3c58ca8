"""How far a figure of ``csbot eval`` could move by chance: bootstrap intervals.

A split's figures are shares of a few hundred questions, and the wordings of one question
(a wording group) succeed or fail together more often than separate questions do. So the
interval resamples *clusters* — a wording group, or a question without one — with
replacement (the cluster bootstrap), :data:`RESAMPLES` times from a fixed seed, and reports
the middle :data:`LEVEL` of the resampled shares (percentile interval). Two figures whose
intervals overlap widely, or a change smaller than the interval's half-width, say nothing
about which code is better. Two versions asked the *same* questions are compared more
sharply by counting the questions that moved each way than by comparing their intervals.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

RESAMPLES = 1000
LEVEL = 0.95
SEED = 0


def wording_group(outcome: Any) -> str:
    """An eval outcome's cluster: its question's wording group, or the question alone."""
    return str(outcome.question.group or f"id:{outcome.question.qid}")


def clusters(results: Sequence[Any], key: Callable[[Any], str] = wording_group) -> list[list[Any]]:
    """The results by ``key`` (by default the wording group), in first-seen order."""
    by_key: dict[str, list[Any]] = {}
    for o in results:
        by_key.setdefault(key(o), []).append(o)
    return list(by_key.values())


def interval(
    results: Sequence[Any], success: Callable[[Any], bool], key: Callable[[Any], str] = wording_group
) -> tuple[float, float] | None:
    """The :data:`LEVEL` percentile interval of the share of ``results`` for which
    ``success`` holds, by the cluster bootstrap over ``key``; None without results."""
    import numpy as np

    groups = clusters(results, key)
    if not groups:
        return None
    hits = np.array([sum(1 for o in g if success(o)) for g in groups], dtype=np.float64)
    sizes = np.array([len(g) for g in groups], dtype=np.float64)
    rng = np.random.default_rng(SEED)
    picks = rng.integers(0, len(groups), size=(RESAMPLES, len(groups)))
    shares = hits[picks].sum(axis=1) / sizes[picks].sum(axis=1)
    tail = (1 - LEVEL) / 2
    low, high = np.quantile(shares, [tail, 1 - tail])
    return round(float(low), 3), round(float(high), 3)
