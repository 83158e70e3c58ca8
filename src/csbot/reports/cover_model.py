"""Whether a document covers a syllabus point, by a fitted model — the approach of answering
confidence (:mod:`csbot.reports.calibrate`) applied to (point, document) pairs.

For a point and a document, the features read the document's passages among the point's
search hits (question lists and the line the point was taken from left out): the best dense
cosine, that passage's and the best weighted term overlap, whether the best passage is an
outline or exam item, whether it holds the point's words verbatim (naming, not teaching),
its length, whether it is a list. A logistic regression over the standardised features is
fitted on the labelled pairs of the ``dev`` points of ``eval/coverage_labels.jsonl`` (the
regularisation chosen by cross-validated Brier score), and its cut-off is the one whose
cross-validated decisions score best on covered and gap F1 together; ``test`` points are
never seen. ``csbot coverage --fit`` writes it to ``data/cover.json`` under the embedding
model's name; without a model for the embedding model in use, the rule of
:func:`csbot.answer.confidence.covers` decides.
"""

from __future__ import annotations

import hashlib
import json
import math
from dataclasses import asdict, dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from csbot.records import Hit
from csbot.search.query import Query
from csbot.serve.assistant import Assistant
from csbot.text.normalise import squash

COVER_FILE = "cover.json"
FEATURES = ("dense", "overlap", "best_overlap", "outline", "names", "length", "list")
C_GRID = (0.03, 0.1, 0.3, 1.0, 3.0, 10.0)


def split_of(point: str) -> str:
    """``dev`` or ``test`` for a point, fixed by its text (as eval questions are split)."""
    return "test" if hashlib.sha256(point.encode("utf-8")).digest()[0] % 2 else "dev"


def features(assistant: Assistant, query: Query, hits: list[Hit]) -> tuple[float, ...]:
    """The features of one document's ``hits`` for the point ``query`` (zeros without any)."""
    if not hits:
        return (0.0,) * len(FEATURES)
    best = max(hits, key=lambda h: h.dense_score)
    overlap = assistant.retriever.overlap
    return (
        best.dense_score,
        overlap(query, best.passage.text),
        max(overlap(query, h.passage.text) for h in hits),
        float(best.passage.kind in ("outline", "exam-item")),
        float(squash(query.text) in squash(best.passage.text)),
        min(len(best.passage.text), 600) / 600,
        float(best.passage.kind == "list"),
    )


@dataclass(frozen=True)
class CoverModel:
    model: str
    features: tuple[str, ...]
    mean: tuple[float, ...]
    scale: tuple[float, ...]
    coef: tuple[float, ...]
    intercept: float
    threshold: float
    report: dict[str, Any]

    def probability(self, x: tuple[float, ...]) -> float:
        z = self.intercept + sum(
            w * (v - m) / s for w, v, m, s in zip(self.coef, x, self.mean, self.scale, strict=True)
        )
        return round(1.0 / (1.0 + math.exp(-z)), 4)


def load(model: str) -> CoverModel | None:
    """The shipped cover model for the embedding ``model``, or None."""
    try:
        text = resources.files("csbot.data").joinpath(COVER_FILE).read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    for row in json.loads(text).get("models", []):
        row = {**row, **{k: tuple(row[k]) for k in ("features", "mean", "scale", "coef")}}
        if row["model"] == model and row["features"] == FEATURES:
            return CoverModel(**row)
    return None


def fit(x: list[tuple[float, ...]], y: list[bool], model: str) -> CoverModel:
    """The cross-validated logistic regression and its cut-off (module docstring)."""
    import numpy as np
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import StratifiedKFold, cross_val_predict

    xa, ya = np.array(x, dtype=np.float64), np.array(y, dtype=int)
    mean, scale = xa.mean(axis=0), xa.std(axis=0)
    scale[scale < 1e-6] = 1.0
    z = (xa - mean) / scale
    folds = StratifiedKFold(n_splits=5, shuffle=True, random_state=0)
    scored = []
    for c in C_GRID:
        clf = LogisticRegression(C=c, class_weight="balanced", max_iter=1000)
        p = cross_val_predict(clf, z, ya, cv=folds, method="predict_proba")[:, 1]
        scored.append((float(np.mean((p - ya) ** 2)), c, p))
    brier, c, cv_p = min(scored, key=lambda s: s[0])
    final = LogisticRegression(C=c, class_weight="balanced", max_iter=1000).fit(z, ya)

    def f1_both(t: float) -> float:
        said = cv_p >= t
        tp, fp, fn = (
            int((said & (ya == 1)).sum()),
            int((said & (ya == 0)).sum()),
            int((~said & (ya == 1)).sum()),
        )
        tn = len(ya) - tp - fp - fn
        f_cov = 2 * tp / (2 * tp + fp + fn) if tp else 0.0
        f_not = 2 * tn / (2 * tn + fn + fp) if tn else 0.0
        return f_cov + f_not

    threshold = max((round(t, 2) for t in np.arange(0.3, 0.96, 0.05)), key=f1_both)
    return CoverModel(
        model=model,
        features=FEATURES,
        mean=tuple(round(float(v), 6) for v in mean),
        scale=tuple(round(float(v), 6) for v in scale),
        coef=tuple(round(float(v), 6) for v in final.coef_[0]),
        intercept=round(float(final.intercept_[0]), 6),
        threshold=float(threshold),
        report={"trained_on": len(y), "positives": int(ya.sum()), "C": c, "cv_brier": round(brier, 4)},
    )


def write(cover: CoverModel, path: Path) -> None:
    """Put ``cover`` into the cover-model file, replacing the one for the same model."""
    data = json.loads(path.read_text(encoding="utf-8")) if path.exists() else {"models": []}
    models = [m for m in data.get("models", []) if m.get("model") != cover.model]
    data["models"] = [*models, asdict(cover)]
    path.write_text(json.dumps(data, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
