"""Questions asked before: whether the material answered the labelled questions nearest a new one.

Students ask about the same finite material, and what it lacks (fees, exam dates, how to
register) is asked about again and again in new words. ``csbot calibrate`` keeps the model's
vector of every labelled development question (exam items aside) and whether the material
answers it (:mod:`csbot.reports.asked_fit`). For a new question, :meth:`AskedQuestions.near`
gives three signals the confidence model reads (:class:`csbot.answer.confidence.Signals`):
the share of its :data:`NEAREST` nearest labelled questions that the material answers, and
the cosine of the nearest answered and of the nearest unanswered one.

It also keeps which passages answer each answered question (those holding its evidence,
by :func:`passage_key`, so an index built again maps them to its own rows), and
:meth:`AskedQuestions.votes` gives the re-ranker (:mod:`csbot.search.rerank`) what the
labelled questions nearest a new one say of each candidate passage: the nearest question it
answers, and its share of the nearest. Nothing else is kept: not the questions' text nor
their evidence. A point nobody asked about gets no votes, and the re-ranker then reads how
the searches saw its passages, as before.

As with the query adapter (:mod:`csbot.search.adapter`), a development question of a
cross-validation fold is compared only with the questions of the other folds (``held_out``):
its own wordings are never its neighbours, and development figures stay out of sample.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cache, cached_property
from pathlib import Path
from typing import Any

import numpy as np

from csbot.datafiles import model_file, read_shipped
from csbot.errors import CsbotError
from csbot.records import Passage
from csbot.search.cosines import QUANTISE_FROM, Cosines, Quantised

ASKED_FILE = "asked-{model}.npz"
NEAREST = 10
REMEDY = "run csbot calibrate to fit it again, or set CSBOT_ASKED=0 to answer without it"
MISSING = (math.nan, math.nan, math.nan)
VOTES = 4  # the columns of AskedQuestions.votes
# The circles of nearest questions a document's votes count (the syllabus report): 10 and 30
# while the bank held the questions written for the set; 15 and 30 once it also held the 3612
# labelled from eval/unlabelled.jsonl (grouped cross-validation on the dev points, README),
# kept with the w… questions (cross-validation no longer told 30 from 50 apart)
COVER_NEAREST = 15
WIDE = 30


def passage_key(passage: Passage) -> str:
    """A passage's name in the asked questions file: its document and a digest of its text,
    the same in every index built from the same material whatever its row."""
    digest = hashlib.sha1(f"{passage.doc_id}\n{passage.text}".encode()).hexdigest()[:16]
    return f"{passage.doc_id}:{digest}"


class AskedError(CsbotError):
    """A shipped file of asked questions that cannot be read."""


@dataclass(frozen=True)
class AskedQuestions:
    """``vectors`` (n × d, unit length) of labelled questions, ``answered[i]`` whether the
    material answers question ``i``, ``fold[i]`` its cross-validation fold; ``keys`` the
    passages that answer any of them (:func:`passage_key`), and pairs ``(pair_question[j],
    pair_passage[j])``: question ``pair_question[j]`` is answered by ``keys[pair_passage[j]]``."""

    model: str
    vectors: np.ndarray
    answered: np.ndarray
    fold: np.ndarray
    report: dict[str, Any] = field(default_factory=dict)
    keys: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=str))
    pair_question: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    pair_passage: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))

    def __post_init__(self) -> None:
        n = len(self.vectors)
        if self.vectors.ndim != 2 or self.answered.shape != (n,) or self.fold.shape != (n,):
            raise AskedError(f"asked questions for {self.model}: the arrays' shapes disagree")
        pairs = len(self.pair_question)
        if (
            self.pair_passage.shape != (pairs,)
            or ((self.pair_question < 0) | (self.pair_question >= n)).any()
            or ((self.pair_passage < 0) | (self.pair_passage >= len(self.keys))).any()
            or not self.answered[self.pair_question].all()
        ):
            raise AskedError(f"asked questions for {self.model}: the passages answering them disagree")

    @property
    def dim(self) -> int:
        return int(self.vectors.shape[1])

    @cached_property
    def quantised(self) -> Quantised | None:
        """The bank in 8 bits (:mod:`csbot.search.cosines`); None for a small one, read whole."""
        return Quantised(self.vectors) if len(self.vectors) >= QUANTISE_FROM else None

    def cosines(self, vector: np.ndarray) -> Cosines:
        """The cosines of a question's vector (1 × d or d, unit length) with every labelled one."""
        return Cosines(self.vectors, vector, self.quantised)

    def near(self, vector: np.ndarray, held_out: int | None = None) -> tuple[float, float, float]:
        """``(answered share of the nearest, nearest answered cosine, nearest unanswered
        cosine)`` for a question's vector; with ``held_out``, the questions of that fold are
        left out. NaN where there is nothing to compare with."""
        return self.near_by(self.cosines(vector), held_out)

    def near_by(self, cos: Cosines, held_out: int | None = None) -> tuple[float, float, float]:
        """:meth:`near` from the question's :meth:`cosines`."""
        allowed = self._allowed(held_out)
        if allowed is not None and not allowed.any():
            return MISSING
        nearest, _ = cos.top(allowed, NEAREST)
        return (
            round(float(self.answered[nearest].mean()), 6),
            round(self._best(cos, _both(allowed, self.answered), math.nan), 6),
            round(self._best(cos, _both(allowed, ~self.answered), math.nan), 6),
        )

    def votes(
        self, cos: Cosines, rows: Sequence[int], answers: Sequence[np.ndarray], held_out: int | None = None
    ) -> np.ndarray:
        """What the labelled questions nearest a new one say of each candidate passage
        (``rows``: passage rows of the index; ``answers[row]``: the labelled questions that
        passage answers, :meth:`answered_by`), from the question's :meth:`cosines`; with
        ``held_out``, the questions of that fold are left out. Per row, :data:`VOTES`
        columns: the cosine of the nearest question it answers (0 when none), the nearest
        answered question's cosine less that, and the plain and cosine-weighted share of the
        :data:`NEAREST` nearest questions it answers."""
        out = np.zeros((len(rows), VOTES))
        allowed = self._allowed(held_out)
        if allowed is not None and not allowed.any():
            return out
        nearest, nearest_cos = cos.top(allowed, NEAREST)
        out[:, 1] = self._best(cos, _both(allowed, self.answered), 0.0)
        # every (candidate, question it answers) pair at once: no loop over the candidates
        lists = [answers[row] if row < len(answers) else _NONE for row in rows]
        askers = np.concatenate([_NONE, *lists])
        owner = np.repeat(np.arange(len(rows)), [len(a) for a in lists])
        if allowed is not None:
            keep = allowed[askers]
            askers, owner = askers[keep], owner[keep]
        if len(askers):
            vote = cos.group_max(askers, owner, len(rows))
            voted = np.isfinite(vote)
            out[voted, 0] = vote[voted]
            out[:, 1] -= out[:, 0]
            near = np.zeros(len(cos))
            near[nearest] = 1.0
            near_cos = np.zeros(len(cos))
            near_cos[nearest] = nearest_cos
            out[:, 2] = np.bincount(owner, weights=near[askers], minlength=len(rows)) / len(nearest)
            out[:, 3] = np.bincount(owner, weights=near_cos[askers], minlength=len(rows)) / near_cos.sum()
        return np.round(out, 6)

    def document_votes(self, cos: Cosines, doc_id: str) -> tuple[float, ...]:
        """What the labelled questions nearest a text (its :meth:`cosines`) say of one
        document, for the syllabus report (:mod:`csbot.reports.cover_model`): the cosine of the
        nearest question a passage of the document answers (0 when none), the nearest
        answered question's cosine less that, and the share of the :data:`COVER_NEAREST` nearest
        questions, of the :data:`WIDE` nearest and of the answered ones among the
        :data:`COVER_NEAREST` that the document answers."""
        if not len(cos):
            return (0.0,) * 5
        mine = self._answered_in(doc_id)
        wide, _ = cos.top(None, WIDE)
        nearest = wide[:COVER_NEAREST]
        answered = nearest[self.answered[nearest]]
        marked = np.zeros(len(cos), dtype=np.bool_)
        marked[mine] = True
        near = self._best(cos, marked, 0.0)
        best = self._best(cos, self.answered, 0.0)
        return tuple(
            round(v, 6)
            for v in (
                near,
                near - best,
                float(np.isin(nearest, mine).mean()),
                float(np.isin(wide, mine).mean()),
                float(np.isin(answered, mine).mean()) if len(answered) else 0.0,
            )
        )

    @staticmethod
    def _best(cos: Cosines, among: np.ndarray, none: float) -> float:
        """The highest cosine among the rows marked in ``among``, ``none`` when none is."""
        return float(cos.top(among, 1)[1][0]) if among.any() else none

    def _answered_in(self, doc_id: str) -> np.ndarray:
        """The labelled questions some passage of ``doc_id`` answers (its keys name it)."""
        doc_of = np.array([str(k).rsplit(":", 1)[0] for k in self.keys])
        return np.unique(self.pair_question[doc_of[self.pair_passage] == doc_id])

    def answered_by(self, keys: Sequence[str]) -> list[np.ndarray]:
        """For each passage of an index (its :func:`passage_key`, by row), the labelled
        questions it answers, as an array of their rows (empty for a passage the file does
        not name: a point nobody asked about, or one whose text has changed)."""
        where = {str(k): n for n, k in enumerate(self.keys)}
        by_key: dict[int, list[int]] = {}
        for q, p in zip(self.pair_question.tolist(), self.pair_passage.tolist(), strict=True):
            by_key.setdefault(p, []).append(q)
        return [np.array(sorted(set(by_key.get(where.get(k, -1), ()))), dtype=np.int64) for k in keys]

    def _allowed(self, held_out: int | None) -> np.ndarray | None:
        """Which labelled questions a question may be compared with: all but ``held_out``'s
        fold (None: every one)."""
        return None if held_out is None else self.fold != held_out

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
            keys=self.keys.astype(str),
            pair_question=self.pair_question.astype(np.int32),
            pair_passage=self.pair_passage.astype(np.int32),
        )
        os.replace(part, path)


_NONE = np.zeros(0, dtype=np.int64)


def _both(mask: np.ndarray | None, other: np.ndarray) -> np.ndarray:
    """``mask & other``, with None for a mask marking every row."""
    return other if mask is None else mask & other


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
                data["keys"].astype(str),
                data["pair_question"].astype(np.int64),
                data["pair_passage"].astype(np.int64),
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
