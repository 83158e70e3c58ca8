"""Confidence: how likely the answer shown is right, and what the student is told.

One calibrated model decides. It reads the :class:`Signals` csbot already has about the top
passage — the dense cosine, its margin over the next passage, the term overlap with the
question (how much of the question's vocabulary the passage holds, bridged words included),
the overlap of the answer span itself, whether BM25 ranks the same passage first, how much of
the question's vocabulary the corpus never uses, the passage kind, the re-ranker's
probability, and whether the material answered the labelled questions nearest this one
(:mod:`csbot.search.asked`) — and returns a
probability (logistic regression, ``csbot calibrate`` fits it on the development split;
``data/confidence.json``). Two cut-offs turn it into an :class:`Outcome`:

* ``confident`` — the answer, stated as such;
* ``likely`` — the span is shown, marked as uncertain;
* ``not-covered`` — no span: the material does not seem to cover the question.

A model with no calibration (the test embedder, another sentence-transformers model) falls
back to the hand rule :func:`rule_probability`. The rule for a passage covering a syllabus
point (:func:`covers`) lives here too.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass, fields
from enum import StrEnum
from importlib import resources
from typing import Any

from csbot.lazy import load_once
from csbot.records import Hit

# The fallback rule (a model without calibration): e5 cosines bunch between 0.75 and 0.95,
# so the dense score alone only vouches for very close passages; otherwise the passage must
# also hold a fair share of the question's informative words. A question with no Chinese
# (English) needs DENSE_CROSS_LINGUAL and OVERLAP_MIN: cross-lingual cosines run lower.
DENSE_ALONE = 0.92
DENSE_FLOOR = 0.82
OVERLAP_MIN = 0.30
OVERLAP_BM25_ONLY = 0.50
DENSE_CROSS_LINGUAL = 0.75
RULE_CONFIDENT, RULE_NOT = 0.9, 0.1  # the probabilities the rule's two verdicts stand for
# A passage covers a syllabus point when it is close for the dense model and holds most of
# the point's words: stricter than an answer's rule, because a point is a short list of key
# words that a covering passage should actually contain.
COVER_DENSE = 0.85
COVER_OVERLAP = 0.60
CALIBRATION_FILE = "confidence.json"


class Outcome(StrEnum):
    CONFIDENT = "confident"
    LIKELY = "likely"
    NOT_COVERED = "not-covered"


@dataclass(frozen=True)
class Signals:
    """What is known about the top passage of one question (the model's features)."""

    dense: float  # cosine of question and the top passage's closest unit
    dense_margin: float  # … minus the next passage's
    fused_margin: float  # the top passage's fused score minus the next one's
    overlap: float  # IDF-weighted share of the question's words the passage holds
    span_overlap: float  # … that the answer span holds
    unseen: float  # IDF-weighted share of the question's words the corpus never uses
    bm25_first: float  # 1 when BM25 ranks the same passage first
    cross_lingual: float  # 1 for a question without Chinese
    names_only: float  # 1 when the top passage only names topics (a question list, an outline)
    # the re-ranker's probability that the top passage holds the answer; NaN when no
    # re-ranker ordered the passages (BM25 or dense alone, none fitted, CSBOT_RERANK=0): a
    # missing signal pushes neither way (log_odds_terms)
    rerank: float = math.nan
    # the labelled questions nearest this one (csbot.search.asked): the share of the nearest
    # that the material answers, and the cosine of the nearest answered and unanswered one;
    # NaN without them (none fitted, CSBOT_ASKED=0)
    asked_share: float = math.nan
    asked_answered: float = math.nan
    asked_unanswered: float = math.nan

    def vector(self) -> list[float]:
        return [float(getattr(self, f.name)) for f in fields(self)]


FEATURES = tuple(f.name for f in fields(Signals))


@dataclass(frozen=True)
class Calibration:
    """A fitted logistic regression over standardised :class:`Signals`, and its cut-offs."""

    model: str  # the embedding model it was fitted for
    features: tuple[str, ...]
    mean: tuple[float, ...]
    scale: tuple[float, ...]
    coef: tuple[float, ...]
    intercept: float
    likely: float  # p at or above: the span is shown, marked uncertain
    confident: float  # p at or above: the answer
    report: dict[str, Any]

    def probability(self, signals: Signals) -> float:
        return logistic(signals.vector(), self.mean, self.scale, self.coef, self.intercept)

    def outcome(self, p: float) -> Outcome:
        if p >= self.confident:
            return Outcome.CONFIDENT
        return Outcome.LIKELY if p >= self.likely else Outcome.NOT_COVERED

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def contributions(self, signals: Signals) -> dict[str, float]:
        """Each signal's push on the log-odds, ``wᵢ·(xᵢ − μᵢ)/sᵢ`` (positive: towards showing
        the span), so ``--explain`` can say which signals held an answer back."""
        terms = log_odds_terms(signals.vector(), self.mean, self.scale, self.coef)
        return {name: round(t, 3) for name, t in zip(self.features, terms, strict=True)}


def explain(model: str, signals: Signals, mode: str = "hybrid") -> dict[str, Any]:
    """What decided the answer's confidence, for ``--explain``: the signals, and — when the
    model has a calibration — the cut-offs and each signal's push on the log-odds."""
    calibration = calibration_in(model, mode)
    out: dict[str, Any] = {
        "signals": {
            k: None if math.isnan(v) else round(v, 4) for k, v in zip(FEATURES, signals.vector(), strict=True)
        }
    }
    if calibration is None:
        out["rule"] = True  # no calibration for this model or mode: the hand rule decided
        return out
    out.update(
        cut_offs={"likely": calibration.likely, "confident": calibration.confident},
        contributions=calibration.contributions(signals),
    )
    return out


def log_odds_terms(
    x: Sequence[float], mean: Sequence[float], scale: Sequence[float], coef: Sequence[float]
) -> list[float]:
    """Each feature's term ``wᵢ·(xᵢ − μᵢ)/sᵢ`` of a logistic regression's log-odds; 0 for a
    feature that is missing (NaN), as if it had its mean."""
    return [
        0.0 if math.isnan(v) else w * (v - m) / s for w, v, m, s in zip(coef, x, mean, scale, strict=True)
    ]


def logistic(
    x: Sequence[float],
    mean: Sequence[float],
    scale: Sequence[float],
    coef: Sequence[float],
    intercept: float,
) -> float:
    """``σ(b + Σ wᵢ·(xᵢ − μᵢ)/sᵢ)`` — a logistic regression over standardised features, as
    ``csbot calibrate`` and ``csbot coverage --fit`` store them — rounded to 4 places so
    answers are byte-stable."""
    z = intercept + sum(log_odds_terms(x, mean, scale, coef))
    return round(1.0 / (1.0 + math.exp(-z)), 4)


@dataclass(frozen=True)
class FittedLogistic:
    """A logistic regression over standardised features with one cut-off, as a model file
    stores it (the cover model, the off-topic detector)."""

    model: str
    features: tuple[str, ...]
    mean: tuple[float, ...]
    scale: tuple[float, ...]
    coef: tuple[float, ...]
    intercept: float
    threshold: float
    report: dict[str, Any]

    def probability(self, x: Sequence[float]) -> float:
        return logistic([float(v) for v in x], self.mean, self.scale, self.coef, self.intercept)


def shipped_models(file: str, features: tuple[str, ...]) -> list[dict[str, Any]]:
    """The rows of a model file in ``csbot/data`` fitted on ``features`` (a row fitted on
    other features is not usable), list fields as tuples; none when the file is absent."""
    try:
        text = resources.files("csbot.data").joinpath(file).read_text(encoding="utf-8")
    except FileNotFoundError:
        return []
    rows = [
        {**row, **{k: tuple(row[k]) for k in ("features", "mean", "scale", "coef")}}
        for row in json.loads(text).get("models", [])
    ]
    return [row for row in rows if row["features"] == features]


@load_once
def _calibrations() -> dict[str, Calibration]:
    """Every calibration shipped in ``data/confidence.json``, by model."""
    return {row["model"]: Calibration(**row) for row in shipped_models(CALIBRATION_FILE, FEATURES)}


def calibration_in(model: str, mode: str) -> Calibration | None:
    """The calibration that decides in retrieval ``mode``: the model's, for hybrid retrieval
    only (BM25- or dense-only answers use the rule)."""
    return calibration_for(model) if mode == "hybrid" else None


def calibration_for(model: str) -> Calibration | None:
    """The shipped calibration of ``model``, or None (then :func:`rule_probability` decides)."""
    return _calibrations().get(model)


def rule_probability(top: Hit | None, signals: Signals, mode: str = "hybrid") -> float:
    """The hand rule for a model without calibration, as a probability: trust the top hit
    when ``dense ≥ 0.92``, or ``dense ≥ 0.82`` and ``overlap ≥ 0.30``; BM25-only retrieval
    has no cosine and trusts ``overlap ≥ 0.50``; a question without Chinese needs
    ``dense ≥ 0.75`` and ``overlap ≥ 0.30``."""
    if top is None:
        return 0.0
    if mode == "bm25":
        ok = signals.overlap >= OVERLAP_BM25_ONLY
    elif signals.cross_lingual:
        ok = top.dense_score >= DENSE_CROSS_LINGUAL and signals.overlap >= OVERLAP_MIN
    else:
        ok = top.dense_score >= DENSE_ALONE or (
            top.dense_score >= DENSE_FLOOR and signals.overlap >= OVERLAP_MIN
        )
    return RULE_CONFIDENT if ok else RULE_NOT


def assess(model: str, top: Hit | None, signals: Signals, mode: str = "hybrid") -> tuple[float, Outcome]:
    """The probability that the answer shown is right, and what to tell the student.

    BM25-only retrieval has no cosine to calibrate on and uses the rule; so does a model
    without calibration.
    """
    calibration = calibration_in(model, mode)
    if top is None:
        return 0.0, Outcome.NOT_COVERED
    if calibration is None:
        p = rule_probability(top, signals, mode)
        return p, Outcome.CONFIDENT if p >= RULE_CONFIDENT else Outcome.NOT_COVERED
    p = calibration.probability(signals)
    return p, calibration.outcome(p)


def covers(hit: Hit, overlap: float) -> bool:
    """Whether a passage covers a syllabus point: ``dense ≥ 0.85`` and ``overlap ≥ 0.60``."""
    return hit.dense_score >= COVER_DENSE and overlap >= COVER_OVERLAP
