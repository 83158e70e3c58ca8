"""The learned span picker: which of a passage's candidate spans answers the question.

The hand rules of :mod:`csbot.answer.spans` pick one best sentence by its words and widen it
as the question type says. Any sentence could have been the best one: each gives a
candidate span (:func:`csbot.answer.spans.span_candidates`). ``csbot calibrate`` fits
gradient-boosted trees (:mod:`csbot.reports.span_fit`) on the development questions whose
first passage holds the evidence, each candidate labelled by whether it holds it. The trees
read :data:`FEATURES`: the sentence's word score (as the rule scores it) and its rank, the
model's cosine of the question with the sentence's and the span's sentence windows (the
index's unit vectors, which the dense search has already compared), the span's length,
place and word overlap, the question type, and whether the rule picks the same span.

The answer is the candidate with the highest probability less ``length_penalty`` × log of
its length: ``csbot calibrate`` sets the penalty, on the development split out of fold, to
the smallest one whose answers are on average no longer than the rule's (a picker that
simply preferred long spans would hold the evidence more often and answer less precisely).
Without a fitted picker (another model, ``CSBOT_SPAN_MODEL=0``, a BM25-only search: no unit
cosines) the rule picks alone.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from functools import cache
from pathlib import Path

import numpy as np

from csbot.answer.qtypes import QuestionType, question_type
from csbot.answer.spans import Candidates
from csbot.datafiles import model_file, read_shipped
from csbot.errors import CsbotError
from csbot.text.sentences import ITEM_START, Span, ends_lead
from csbot.trees import Trees, read_trees

SPAN_FILE = "spans-{model}.npz"
REMEDY = "run csbot calibrate to fit it again, or set CSBOT_SPAN_MODEL=0 to pick spans by the rules"
QUESTION_TYPES = tuple(QuestionType)
FEATURES = (
    "score",  # the sentence's word score as a share of the passage's best
    "score_raw",  # … as it is
    "log_score_rank",  # log(1 + its rank among the passage's sentences by that score)
    "near",  # 1 when the sentence overlaps the unit the question's vector is closest to
    "span_near",  # … when the span does
    "cosine_sentence",  # the question's best cosine with a unit overlapping the sentence
    "cosine_span",  # … with a unit overlapping the span
    "cosine_gap",  # the passage's best sentence-window cosine less the span's
    "cosine_sentence_gap",  # … less the sentence's
    "log_length",  # log(1 + the span's length in characters)
    "share",  # the span's share of the passage
    "span_sentences",  # sentences in the span
    "position",  # the sentence's place in the passage, 0 … 1
    "first",  # 1 for the passage's first sentence
    "question_type",  # fact, definition, list, general: 0 … 3
    "rule",  # 1 when the rule picks this span
    "span_overlap",  # IDF-weighted share of the question's words the span holds
    "item",  # 1 when the sentence is a numbered item
    "lead",  # 1 when the sentence announces a list (ends in a colon)
    "sentences",  # the passage's sentences
    "span_score",  # the word scores of the span's sentences, summed, as a share of the best
)


class SpanModelError(CsbotError):
    """A shipped span-picker file that cannot be read."""


class SpanModel(Trees):
    """The span picker's trees (:class:`csbot.trees.Trees` over :data:`FEATURES`)."""

    FEATURES = FEATURES

    @property
    def length_penalty(self) -> float:
        return float(self.params.get("length_penalty", 0.0))

    def pick(self, x: np.ndarray, lengths: Sequence[int], held_out: int | None = None) -> int:
        """The index of the candidate to answer with (first of equals)."""
        return best_index(self.probabilities(x, held_out), lengths, self.length_penalty)


def best_index(p: np.ndarray, lengths: Sequence[int] | np.ndarray, penalty: float) -> int:
    """The candidate with the highest ``p`` less ``penalty`` × log(1 + length)."""
    return int(np.argmax(p - penalty * np.log1p(np.asarray(lengths, dtype=np.float64))))


def features(
    question: str,
    text: str,
    found: Candidates,
    near: tuple[int, int] | None,
    units: Sequence[tuple[int, int, float]],
    rule_span: Span,
    overlap: Callable[[str], float],
) -> tuple[list[Span], np.ndarray]:
    """The distinct candidate spans (in the order their sentences come) and their
    :data:`FEATURES`. A span two sentences give is described by the higher-scoring one.

    ``near``: the unit the question's vector is closest to (None when that is the whole
    passage); ``units``: ``(start, end, cosine)`` of the passage's units the dense search
    found; ``rule_span``: the rule's pick; ``overlap``: a text's share of the question's words.
    """
    sents, base = found.sentences, found.scores
    whole = next((c for s, e, c in units if (s, e) == (0, len(text))), None)
    windows = [(s, e, c) for s, e, c in units if (s, e) != (0, len(text))]
    fallback = whole if whole is not None else max((c for _, _, c in windows), default=0.0)
    best_window = max((c for _, _, c in windows), default=fallback)
    top = max(base) or 1.0
    rank = {i: r for r, i in enumerate(sorted(range(len(base)), key=lambda i: -base[i]))}
    qtype = float(QUESTION_TYPES.index(question_type(question)))
    chosen: dict[tuple[int, int], tuple[int, list[float]]] = {}
    for i, span in enumerate(found.spans):
        key = (span.start, span.end)
        if key in chosen and base[i] <= base[chosen[key][0]]:
            continue
        sent = sents[i]
        sentence = text[sent.start : sent.end]
        in_span = max((c for s, e, c in windows if s < span.end and span.start < e), default=fallback)
        at_sentence = max((c for s, e, c in windows if s < sent.end and sent.start < e), default=fallback)
        inside = [j for j, s in enumerate(sents) if s.start >= span.start and s.end <= span.end]
        row = [
            base[i] / top,
            base[i],
            math.log(1 + rank[i]),
            float(bool(near and sent.start < near[1] and near[0] < sent.end)),
            float(bool(near and span.start < near[1] and near[0] < span.end)),
            at_sentence,
            in_span,
            best_window - in_span,
            best_window - at_sentence,
            math.log(1 + span.end - span.start),
            (span.end - span.start) / max(1, len(text)),
            float(len(inside)),
            i / len(sents),
            float(i == 0),
            qtype,
            float(key == (rule_span.start, rule_span.end)),
            overlap(text[span.start : span.end]),
            float(bool(ITEM_START.match(sentence))),
            float(ends_lead(sentence)),
            float(len(sents)),
            sum(base[j] for j in inside) / top,
        ]
        chosen[key] = (i, row)
    spans = [Span(*key) for key in chosen]
    return spans, np.array([row for _, row in chosen.values()], dtype=np.float64).reshape(-1, len(FEATURES))


def read_span_model(path: Path) -> SpanModel:
    """A span-picker file, or :class:`SpanModelError` saying what is wrong with it."""
    model = read_trees(SpanModel, path, SpanModelError, "span-picker", REMEDY)
    if not (0.0 <= model.length_penalty < 10.0):
        raise SpanModelError(f"the span-picker file {path} holds a length penalty out of range; {REMEDY}")
    return model


def span_file(model: str) -> str:
    """The file name of ``model``'s span picker.

    >>> span_file("multilingual-e5-small")
    'spans-multilingual-e5-small.npz'
    """
    return model_file(SPAN_FILE, model)


@cache
def span_model_for(model: str) -> SpanModel | None:
    """The span picker shipped in ``csbot/data`` for ``model``, or None when there is none."""
    return read_shipped(span_file(model), read_span_model)
