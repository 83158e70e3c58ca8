"""Whether a document covers a syllabus point, by a fitted model — the approach of answering
confidence (:mod:`csbot.reports.calibrate`) applied to (point, document) pairs.

For a point and a document the features read, first, what the labelled students' questions
nearest the point say of the document (:meth:`csbot.search.asked.AskedQuestions.document_votes`:
readers found the answers to questions asked about the point in its passages, or not): the
cosine of the nearest question the document answers, how far it trails the nearest
answered question, and the document's share of the 10 and 30 nearest questions and of the
answered ones among the 10. Then, from the document's passages among the point's search
hits (question lists and the line the point was taken from left out), the best dense cosine
of a passage that could teach the point (no outline or exam item, not naming it verbatim),
and how the document stands among the documents: whether its closest passage is the
closest of all, and by how much it trails the closest. A logistic regression over the
standardised features is fitted on the labelled pairs of the ``dev`` points of
``eval/coverage_labels.jsonl`` (the regularisation chosen by cross-validated Brier score),
and its cut-off is the one whose cross-validated decisions score best on covered and gap F1
together; ``test`` points are never seen. ``csbot coverage --fit`` writes it to
``data/cover.json`` under the embedding model's name; without a model for the embedding
model in use, or without the asked questions (``CSBOT_ASKED=0``), the rule of
:func:`csbot.answer.confidence.covers` decides.
"""

from __future__ import annotations

import hashlib
from dataclasses import asdict
from pathlib import Path

from csbot.answer.confidence import FittedLogistic, shipped_models
from csbot.records import Hit
from csbot.reports.calibrate import REPEATS, fit_logistic, write_model
from csbot.search.query import Query
from csbot.text.normalise import squash

COVER_FILE = "cover.json"
FEATURES = (
    "asked_near",
    "asked_behind",
    "asked_share",
    "asked_share_wide",
    "asked_share_answered",
    "teach_dense",
    "closest",
    "behind_closest",
)
NAMING = ("outline", "exam-item")  # passage kinds that name points rather than teach them
NO_HITS_BEHIND = -0.1  # how far a document without hits trails the closest (cosines differ by < 0.1)
C_GRID = (0.03, 0.1, 0.3, 1.0, 3.0, 10.0)


def split_of(point: str) -> str:
    """``dev`` or ``test`` for a point, fixed by its text (as eval questions are split)."""
    return "test" if hashlib.sha256(point.encode("utf-8")).digest()[0] % 2 else "dev"


def features(query: Query, votes: tuple[float, ...], hits: list[Hit], every: list[Hit]) -> tuple[float, ...]:
    """The features of one document for the point ``query``: its ``votes``
    (:meth:`csbot.search.retriever.Retriever.document_votes`), its ``hits`` among ``every``
    hit of the point in all documents."""
    if not hits:
        return (*votes, 0.0, 0.0, NO_HITS_BEHIND)
    point = squash(query.text)
    teaching = [
        h.dense_score for h in hits if h.passage.kind not in NAMING and point not in squash(h.passage.text)
    ]
    best = max(h.dense_score for h in hits)
    closest = max(h.dense_score for h in every)
    return (*votes, max(teaching, default=0.0), float(best >= closest), best - closest)


CoverModel = FittedLogistic  # a fitted logistic regression over a document's features, and its cut-off


def load(model: str, asked: bool = True) -> CoverModel | None:
    """The shipped cover model for the embedding ``model``, or None (also without the asked
    questions, whose votes it reads)."""
    if not asked:
        return None
    rows = [row for row in shipped_models(COVER_FILE, FEATURES) if row["model"] == model]
    return CoverModel(**rows[0]) if rows else None


def fit(x: list[tuple[float, ...]], y: list[bool], model: str) -> CoverModel:
    """The cross-validated logistic regression (as :func:`csbot.reports.calibrate.fit_logistic`
    fits answering confidence; classes balanced, since few pairs are covered) and its cut-off,
    read, as confidence's are, from each pair's mean probability over
    :data:`csbot.reports.calibrate.REPEATS` splits into folds."""
    import numpy as np

    ya = np.array(y, dtype=int)
    lr = fit_logistic(x, [int(v) for v in y], C_GRID, class_weight="balanced", repeats=REPEATS)
    cv_p = np.array(lr.cv_p)

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
        mean=lr.mean,
        scale=lr.scale,
        coef=lr.coef,
        intercept=lr.intercept,
        threshold=float(threshold),
        report={"trained_on": len(y), "positives": int(ya.sum()), "C": lr.c, "cv_brier": round(lr.brier, 4)},
    )


def write(cover: CoverModel, path: Path) -> None:
    """Put ``cover`` into the cover-model file, replacing the one for the same model."""
    write_model(asdict(cover), path)
