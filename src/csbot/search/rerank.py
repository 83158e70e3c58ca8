"""A learned re-ranker: the first passages put in order by how right passages looked.

Hybrid search fuses BM25 and the dense search by a fixed weighted sum. ``csbot calibrate``
fits, on the development split's labelled questions (:mod:`csbot.reports.rerank_fit`),
gradient-boosted trees (scikit-learn's ``HistGradientBoostingClassifier``) that read
:data:`FEATURES` of each of the first :data:`DEPTH` fused passages — its fused score and
rank, its BM25 and dense scores and ranks, how far it trails the first, and what the
labelled questions nearest the question say of it (:meth:`csbot.search.asked.AskedQuestions.votes`:
whether the passage answers them) — and give the probability that it holds the answer.
Search then orders those passages by it (ties keep the fused order); the rest follow in
fused order. A passage no labelled question near this one was answered by gets no votes,
and is judged by how the two searches saw it, so the trees carry to points nobody asked
about; without the asked questions (``CSBOT_ASKED=0``) the votes are missing, and each tree
sends a missing value the way scikit-learn does.

The trees are stored as plain arrays (:mod:`csbot.trees`). As with the query adapter
(:mod:`csbot.search.adapter`), the file holds one model fitted on all labelled questions
(what ``ask`` uses) and one per fold fitted without it (what ``csbot eval`` and
``csbot calibrate`` use for a development question of that fold).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import replace
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np

from csbot.datafiles import model_file, read_shipped
from csbot.errors import CsbotError
from csbot.records import Hit
from csbot.search.asked import VOTES
from csbot.trees import Trees, read_trees
from csbot.trees import from_sklearn as trees_from_sklearn

RERANK_FILE = "rerank-{model}.npz"
DEPTH = 20  # the fused passages it orders
FEATURES = (
    "fused",  # the fused score
    "fused_share",  # … as a share of the first passage's
    "log_rank",  # log of the fused rank
    "first",  # 1 for the fused first passage
    "bm25_share",  # BM25 score as a share of the best among the candidates
    "log_bm25_rank",  # log of the BM25 rank (1000 when BM25 did not rank it)
    "dense",  # the closest unit's cosine (the model's own query vector)
    "log_dense_rank",  # log of the dense rank (1000 when the dense search did not rank it)
    "fused_gap",  # the first passage's fused score less this one's
    "log_length",  # log of the passage's length in characters
    "asked_vote",  # the cosine of the nearest labelled question it answers (0: none)
    "asked_vote_gap",  # the nearest answered labelled question's cosine less that
    "asked_vote_share",  # the share of the 10 nearest labelled questions it answers
    "asked_vote_weight",  # … weighted by their cosines
)
REMEDY = "run csbot calibrate to fit it again, or set CSBOT_RERANK=0 to search without it"


class RerankError(CsbotError):
    """A shipped re-ranker file that cannot be read."""


def features(hits: Sequence[Hit], votes: np.ndarray | None = None) -> np.ndarray:
    """The :data:`FEATURES` of each hit, in the order given (the fused order); ``votes`` are
    the asked questions' (one row per hit), missing (NaN) when not given."""
    if not hits:
        return np.zeros((0, len(FEATURES)))
    if votes is None:
        votes = np.full((len(hits), VOTES), np.nan)
    first = hits[0].score
    best_bm25 = max(h.bm25_score for h in hits) or 1.0
    rows = [
        (
            h.score,
            h.score / first if first else 0.0,
            math.log(rank),
            1.0 if rank == 1 else 0.0,
            h.bm25_score / best_bm25,
            math.log(h.bm25_rank or 1000),
            h.dense_score,
            math.log(h.dense_rank or 1000),
            first - h.score,
            math.log(len(h.passage.text) + 1),
        )
        for rank, h in enumerate(hits, start=1)
    ]
    return np.hstack([np.array(rows, dtype=np.float64), np.asarray(votes, dtype=np.float64)])


class Reranker(Trees):
    """The re-ranker's trees (:class:`csbot.trees.Trees` over :data:`FEATURES`)."""

    FEATURES = FEATURES

    def order(
        self,
        hits: Sequence[Hit],
        held_out: int | None = None,
        votes: np.ndarray | None = None,
        k: int | None = None,
    ) -> list[Hit]:
        """``hits`` (fused order) with the first :data:`DEPTH` re-ordered, each carrying its
        probability in ``rerank``; ties keep the fused order. ``votes``: the asked questions'
        of the first :data:`DEPTH` (:func:`features`); ``k``: only the first ``k`` wanted."""
        head, tail = list(hits[:DEPTH]), list(hits[DEPTH:])
        if len(head) < 2:
            return list(hits[:k])
        p = self.probabilities(features(head, None if votes is None else votes[: len(head)]), held_out)
        ranked = sorted(range(len(head)), key=lambda i: (-round(float(p[i]), 9), i))[:k]
        return ([replace(head[i], rerank=round(float(p[i]), 6)) for i in ranked] + tail)[:k]


def read_reranker(path: Path) -> Reranker:
    """A re-ranker file, or :class:`RerankError` saying what is wrong with it."""
    return read_trees(Reranker, path, RerankError, "re-ranker", REMEDY)


def from_sklearn(model: str, fitted: Sequence[Any], report: dict[str, Any] | None = None) -> Reranker:
    """A :class:`Reranker` from fitted ``HistGradientBoostingClassifier`` s (map 0 first)."""
    return trees_from_sklearn(Reranker, model, fitted, report)


def rerank_file(model: str) -> str:
    """The file name of ``model``'s re-ranker (a model path's slashes become underscores).

    >>> rerank_file("multilingual-e5-small")
    'rerank-multilingual-e5-small.npz'
    """
    return model_file(RERANK_FILE, model)


@cache
def reranker_for(model: str) -> Reranker | None:
    """The re-ranker shipped in ``csbot/data`` for ``model``, or None when there is none."""
    return read_shipped(rerank_file(model), read_reranker)
