"""Gradient-boosted trees as plain arrays: fitted by scikit-learn, walked with numpy.

``csbot calibrate`` fits scikit-learn's ``HistGradientBoostingClassifier`` s (the re-ranker,
:mod:`csbot.search.rerank`; the span picker, :mod:`csbot.answer.span_model`) and stores
their trees as arrays in an ``.npz`` (no pickles). :class:`Trees` walks every row and tree at
once and gives the same probabilities as ``predict_proba`` (a test checks). A file holds one
map fitted on all labelled questions (what ``ask`` uses) and one per fold fitted without it
(what ``csbot eval`` and ``csbot calibrate`` use for a development question of that fold).
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar, TypeVar

import numpy as np

from csbot.errors import CsbotError

# The ensembles csbot fits (the re-ranker, the span picker): scikit-learn's defaults otherwise
# (20 rows a leaf at least), no early stopping, so a refit is the same trees.
TREES = 200
LEARNING_RATE = 0.05
LEAVES = 15
SEED = 0
_ARRAYS = ("feature", "threshold", "missing_left", "left", "right", "leaf", "value", "roots", "baseline")
_NODE_ARRAYS = ("threshold", "missing_left", "left", "right", "leaf", "value")
T = TypeVar("T", bound="Trees")


@dataclass(frozen=True)
class Trees:
    """Tree ensembles as arrays: nodes of every tree of every map side by side.

    ``feature``/``threshold``/``missing_left``/``left``/``right``/``leaf``/``value`` are
    per node (``left`` and ``right`` index that same array; ``missing_left``: a missing
    value goes left); ``roots[m]`` are map ``m``'s tree roots (-1 pads a map with fewer
    trees); ``baseline[m]`` its raw score before any tree. Map 0 is fitted on every labelled
    question, map ``k + 1`` without fold ``k``. ``params``: numbers the user of the trees
    reads with them (stored in the file). A subclass names its :attr:`FEATURES`.
    """

    FEATURES: ClassVar[tuple[str, ...]] = ()

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
    params: dict[str, float] = field(default_factory=dict)

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
        """P(positive) for each row of ``x``."""
        return 1.0 / (1.0 + np.exp(-self.raw(x, held_out)))

    def save(self, path: Path) -> None:
        """Write the trees as an ``.npz`` (read with ``allow_pickle=False``), whole or not at all."""
        meta = json.dumps(
            {"model": self.model, "features": self.FEATURES, "report": self.report, "params": self.params},
            ensure_ascii=False,
        )
        part = path.with_name(path.name + ".part.npz")
        np.savez_compressed(part, meta=np.array(meta), **{name: getattr(self, name) for name in _ARRAYS})
        os.replace(part, path)


def read_trees(cls: type[T], path: Path, error: type[CsbotError], what: str, remedy: str) -> T:
    """A ``cls`` trees file, or ``error`` saying what is wrong with it (``what`` names the
    model in the message, ``remedy`` what to do)."""
    try:
        with np.load(path, allow_pickle=False) as data:
            meta = json.loads(str(data["meta"]))
            arrays = {name: data[name] for name in _ARRAYS}
        if tuple(meta.get("features", ())) != cls.FEATURES:
            raise error(f"the {what} file {path} was fitted on other features; {remedy}")
        trees = cls(meta["model"], report=meta.get("report", {}), params=meta.get("params", {}), **arrays)
        n = len(trees.feature)
        ok = (
            trees.leaf.dtype == np.bool_
            and trees.missing_left.dtype == np.bool_
            and all(len(getattr(trees, a)) == n for a in _NODE_ARRAYS)
            and trees.roots.ndim == 2
            and len(trees.baseline) == len(trees.roots)
            and ((trees.roots >= -1) & (trees.roots < n)).all()
            and ((trees.feature >= 0) & (trees.feature < len(cls.FEATURES)) | trees.leaf).all()
            and (
                (trees.left >= 0) & (trees.left < n) & (trees.right >= 0) & (trees.right < n) | trees.leaf
            ).all()
            and np.isfinite(trees.value).all()
            and np.isfinite(trees.baseline).all()
            and all(isinstance(v, int | float) for v in trees.params.values())
        )
    except error:
        raise
    except Exception as exc:  # zip, numpy, json and key errors alike: the file is not usable
        raise error(f"the {what} file {path} cannot be read ({exc.__class__.__name__}); {remedy}") from exc
    if not ok:
        raise error(f"the {what} file {path} does not hold a valid tree ensemble; {remedy}")
    return trees


def from_sklearn(
    cls: type[T],
    model: str,
    fitted: Sequence[Any],
    report: dict[str, Any] | None = None,
    params: dict[str, float] | None = None,
) -> T:
    """``cls`` trees from fitted ``HistGradientBoostingClassifier`` s (map 0 first)."""
    parts: dict[str, list[np.ndarray]] = {name: [] for name in ("feature", *_NODE_ARRAYS)}
    roots: list[list[int]] = []
    offset = 0
    for clf in fitted:
        trees = []
        for (predictor,) in clf._predictors:  # one tree per boosting step (binary: one class)
            nodes = predictor.nodes
            if nodes["is_categorical"].any():
                raise CsbotError("categorical splits are not supported by the tree arrays")
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
    return cls(
        model,
        **{name: np.concatenate(arrays) for name, arrays in parts.items()},
        roots=np.array([t + [-1] * (width - len(t)) for t in roots], dtype=np.int64),
        baseline=np.array([float(np.ravel(clf._baseline_prediction)[0]) for clf in fitted]),
        report=report or {},
        params=params or {},
    )


def fit_maps(x: np.ndarray, y: np.ndarray, fold: np.ndarray, folds: int) -> list[Any]:
    """``HistGradientBoostingClassifier`` s fitted on all rows (map 0) and on all rows but
    each fold's (map ``k + 1``), ready for :func:`from_sklearn`."""
    from sklearn.ensemble import HistGradientBoostingClassifier

    def trees() -> Any:
        return HistGradientBoostingClassifier(
            max_iter=TREES,
            learning_rate=LEARNING_RATE,
            max_leaf_nodes=LEAVES,
            early_stopping=False,
            random_state=SEED,
        )

    return [trees().fit(x, y)] + [trees().fit(x[fold != k], y[fold != k]) for k in range(folds)]
