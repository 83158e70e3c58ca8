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

The trees are stored as plain arrays (no pickles) and walked here with numpy, every row
and tree at once: the same probabilities as scikit-learn's ``predict_proba`` (a test
checks). As with the query adapter (:mod:`csbot.search.adapter`), the file holds one model
fitted on all labelled questions (what ``ask`` uses) and one per fold fitted without it
(what ``csbot eval`` and ``csbot calibrate`` use for a development question of that fold).
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np

from csbot.datafiles import model_file, read_shipped
from csbot.errors import CsbotError
from csbot.records import Hit
from csbot.search.asked import VOTES

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
_ARRAYS = ("feature", "threshold", "missing_left", "left", "right", "leaf", "value", "roots", "baseline")
_NODE_ARRAYS = ("threshold", "missing_left", "left", "right", "leaf", "value")


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


@dataclass(frozen=True)
class Reranker:
    """Tree ensembles as arrays: nodes of every tree of every map side by side.

    ``feature``/``threshold``/``missing_left``/``left``/``right``/``leaf``/``value`` are
    per node (``left`` and ``right`` index that same array; ``missing_left``: a missing
    value goes left); ``roots[m]`` are map ``m``'s tree roots (-1 pads a
    map with fewer trees); ``baseline[m]`` its raw score before any tree. Map 0 is fitted on
    every labelled question, map ``k + 1`` without fold ``k``.
    """

    model: str
    feature: np.ndarray
    threshold: np.ndarray
    missing_left: np.ndarray
    left: np.ndarray
    right: np.ndarray
    leaf: np.ndarray
    value: np.ndarray
    roots: np.ndarray
    baseline: np.ndarray
    report: dict[str, Any] = field(default_factory=dict)

    def raw(self, x: np.ndarray, held_out: int | None = None) -> np.ndarray:
        """The log-odds for each row of ``x`` (n × len(FEATURES)); with ``held_out``, from
        the map fitted without that fold."""
        m = 0 if held_out is None else held_out + 1
        roots = self.roots[m][self.roots[m] >= 0]
        trees = len(roots)
        node = np.tile(roots, len(x))  # row r's node in tree t at r * trees + t
        row = np.repeat(np.arange(len(x)), trees)
        missing = bool(np.isnan(x).any())
        walking = np.flatnonzero(~self.leaf[node])  # only the (row, tree) pairs not at a leaf yet
        while len(walking):
            at = node[walking]
            value = x[row[walking], self.feature[at]]
            goes_left = value <= self.threshold[at]
            if missing:  # a missing value goes where scikit-learn sends it
                goes_left = np.where(np.isnan(value), self.missing_left[at], goes_left)
            at = np.where(goes_left, self.left[at], self.right[at])
            node[walking] = at
            walking = walking[~self.leaf[at]]
        node = node.reshape(len(x), trees)
        return self.baseline[m] + self.value[node].sum(axis=1)

    def probabilities(self, x: np.ndarray, held_out: int | None = None) -> np.ndarray:
        """P(the passage holds the answer) for each row of ``x``."""
        return 1.0 / (1.0 + np.exp(-self.raw(x, held_out)))

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

    def save(self, path: Path) -> None:
        """Write the re-ranker as an ``.npz`` (read with ``allow_pickle=False``), whole or not
        at all."""
        meta = json.dumps(
            {"model": self.model, "features": FEATURES, "report": self.report}, ensure_ascii=False
        )
        part = path.with_name(path.name + ".part.npz")
        np.savez_compressed(part, meta=np.array(meta), **{name: getattr(self, name) for name in _ARRAYS})
        os.replace(part, path)


def read_reranker(path: Path) -> Reranker:
    """A re-ranker file, or :class:`RerankError` saying what is wrong with it."""
    try:
        with np.load(path, allow_pickle=False) as data:
            meta = json.loads(str(data["meta"]))
            arrays = {name: data[name] for name in _ARRAYS}
        if tuple(meta.get("features", ())) != FEATURES:
            raise RerankError(f"the re-ranker file {path} was fitted on other features; {REMEDY}")
        reranker = Reranker(meta["model"], report=meta.get("report", {}), **arrays)
        n = len(reranker.feature)
        ok = (
            reranker.leaf.dtype == np.bool_
            and reranker.missing_left.dtype == np.bool_
            and all(len(getattr(reranker, a)) == n for a in _NODE_ARRAYS)
            and reranker.roots.ndim == 2
            and len(reranker.baseline) == len(reranker.roots)
            and ((reranker.roots >= -1) & (reranker.roots < n)).all()
            and ((reranker.feature >= 0) & (reranker.feature < len(FEATURES)) | reranker.leaf).all()
            and (
                (reranker.left >= 0) & (reranker.left < n) & (reranker.right >= 0) & (reranker.right < n)
                | reranker.leaf
            ).all()
            and np.isfinite(reranker.value).all()
            and np.isfinite(reranker.baseline).all()
        )
    except RerankError:
        raise
    except Exception as exc:  # zip, numpy, json and key errors alike: the file is not usable
        raise RerankError(
            f"the re-ranker file {path} cannot be read ({exc.__class__.__name__}); {REMEDY}"
        ) from exc
    if not ok:
        raise RerankError(f"the re-ranker file {path} does not hold a valid tree ensemble; {REMEDY}")
    return reranker


def from_sklearn(model: str, fitted: Sequence[Any], report: dict[str, Any] | None = None) -> Reranker:
    """A :class:`Reranker` from fitted ``HistGradientBoostingClassifier`` s (map 0 first)."""
    parts: dict[str, list[np.ndarray]] = {name: [] for name in ("feature", *_NODE_ARRAYS)}
    roots: list[list[int]] = []
    offset = 0
    for clf in fitted:
        trees = []
        for (predictor,) in clf._predictors:  # one tree per boosting step (binary: one class)
            nodes = predictor.nodes
            if nodes["is_categorical"].any():
                raise CsbotError("categorical splits are not supported by the re-ranker")
            parts["feature"].append(nodes["feature_idx"].astype(np.int64))
            parts["threshold"].append(nodes["num_threshold"].astype(np.float64))
            parts["missing_left"].append(nodes["missing_go_to_left"].astype(np.bool_))
            parts["left"].append(nodes["left"].astype(np.int64) + offset)
            parts["right"].append(nodes["right"].astype(np.int64) + offset)
            parts["leaf"].append(nodes["is_leaf"].astype(np.bool_))
            parts["value"].append(nodes["value"].astype(np.float64))
            trees.append(offset)
            offset += len(nodes)
        roots.append(trees)
    width = max(len(t) for t in roots)
    return Reranker(
        model,
        **{name: np.concatenate(arrays) for name, arrays in parts.items()},
        roots=np.array([t + [-1] * (width - len(t)) for t in roots], dtype=np.int64),
        baseline=np.array([float(np.ravel(clf._baseline_prediction)[0]) for clf in fitted]),
        report=report or {},
    )


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
