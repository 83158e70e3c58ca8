"""Questions asked before: whether the material answered the labelled questions nearest a new one.

Students ask about the same finite material, and what it lacks (fees, exam dates, how to
register) is asked about again and again in new words. ``csbot calibrate`` keeps the model's
vector of every labelled development question (exam items aside) and whether the material
answers it (:mod:`csbot.reports.asked_fit`). For a new question, :meth:`AskedQuestions.near`
gives three signals the confidence model reads (:class:`csbot.answer.confidence.Signals`):
the share of its :data:`NEAREST` nearest labelled questions that the material answers, and
the cosine of the nearest answered and of the nearest unanswered one. Only those labels are
kept — not the questions' text, their passages or their evidence — so the signals say how
far the material goes near a question, never which passage answers it.

As with the query adapter (:mod:`csbot.search.adapter`), a development question of a
cross-validation fold is compared only with the questions of the other folds (``held_out``):
its own wordings are never its neighbours, and development figures stay out of sample.
"""

from __future__ import annotations

import json
import math
import os
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np

from csbot.datafiles import model_file, read_shipped
from csbot.errors import CsbotError

ASKED_FILE = "asked-{model}.npz"
NEAREST = 10
REMEDY = "run csbot calibrate to fit it again, or set CSBOT_ASKED=0 to answer without it"
MISSING = (math.nan, math.nan, math.nan)


class AskedError(CsbotError):
    """A shipped file of asked questions that cannot be read."""


@dataclass(frozen=True)
class AskedQuestions:
    """``vectors`` (n × d, unit length) of labelled questions, ``answered[i]`` whether the
    material answers question ``i``, ``fold[i]`` its cross-validation fold."""

    model: str
    vectors: np.ndarray
    answered: np.ndarray
    fold: np.ndarray
    report: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        n = len(self.vectors)
        if self.vectors.ndim != 2 or self.answered.shape != (n,) or self.fold.shape != (n,):
            raise AskedError(f"asked questions for {self.model}: the arrays' shapes disagree")

    @property
    def dim(self) -> int:
        return int(self.vectors.shape[1])

    def near(self, vector: np.ndarray, held_out: int | None = None) -> tuple[float, float, float]:
        """``(answered share of the nearest, nearest answered cosine, nearest unanswered
        cosine)`` for a question's vector (1 × d or d, unit length); with ``held_out``, the
        questions of that fold are left out. NaN where there is nothing to compare with."""
        # einsum, not BLAS: a matrix–vector product on BLAS threads fights the model's threads
        # (warm ask p50 +5 ms in make bench); einsum's own loop takes 0.3 ms on one core
        cos = np.einsum("ij,j->i", self.vectors, np.asarray(vector, dtype=np.float32).reshape(-1))
        answered = self.answered
        if held_out is not None:  # (a copy of the scores, not of the vectors)
            keep = self.fold != held_out
            cos, answered = cos[keep], answered[keep]
        if not len(cos):
            return MISSING
        k = min(NEAREST, len(cos))
        # the k highest (and any tied with the k-th), then ordered with ties by row: stable answers
        top = np.flatnonzero(cos >= np.partition(cos, len(cos) - k)[len(cos) - k])
        nearest = top[np.lexsort((top, -cos[top]))][:k]
        return (
            round(float(answered[nearest].mean()), 6),
            round(float(cos[answered].max()), 6) if answered.any() else math.nan,
            round(float(cos[~answered].max()), 6) if (~answered).any() else math.nan,
        )

    def save(self, path: Path) -> None:
        """Write them as an ``.npz`` (read with ``allow_pickle=False``), whole or not at all;
        the vectors as 16-bit floats."""
        meta = json.dumps({"model": self.model, "report": self.report}, ensure_ascii=False)
        part = path.with_name(path.name + ".part.npz")
        np.savez_compressed(
            part,
            meta=np.array(meta),
            vectors=self.vectors.astype(np.float16),
            answered=self.answered.astype(np.bool_),
            fold=self.fold.astype(np.int8),
        )
        os.replace(part, path)


def read_asked(path: Path) -> AskedQuestions:
    """A file of asked questions, or :class:`AskedError` saying what is wrong with it."""
    try:
        with np.load(path, allow_pickle=False) as data:
            meta = json.loads(str(data["meta"]))
            asked = AskedQuestions(
                meta["model"],
                np.ascontiguousarray(data["vectors"], dtype=np.float32),
                data["answered"].astype(np.bool_),
                data["fold"].astype(np.int64),
                meta.get("report", {}),
            )
    except AskedError:
        raise
    except Exception as exc:  # zip, numpy, json and key errors alike: the file is not usable
        raise AskedError(
            f"the asked questions file {path} cannot be read ({exc.__class__.__name__}); {REMEDY}"
        ) from exc
    if not np.isfinite(asked.vectors).all() or not len(asked.vectors):
        raise AskedError(f"the asked questions file {path} holds no usable vectors; {REMEDY}")
    return asked


def asked_file(model: str) -> str:
    """The file name of ``model``'s asked questions (a model path's slashes become underscores).

    >>> asked_file("multilingual-e5-small")
    'asked-multilingual-e5-small.npz'
    """
    return model_file(ASKED_FILE, model)


@cache
def asked_for(model: str) -> AskedQuestions | None:
    """The asked questions shipped in ``csbot/data`` for ``model``, or None when there are none."""
    return read_shipped(asked_file(model), read_asked)
