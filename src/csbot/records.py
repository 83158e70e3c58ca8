"""Typed records that flow through the pipeline: documents, passages, hits, answers."""

from __future__ import annotations

import bisect
import copy
from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass(frozen=True)
class DocumentInfo:
    """One entry of the corpus manifest (``corpus/corpus.toml``)."""

    doc_id: str
    file: str
    title: str
    kind: str
    level: str
    script: str
    url: str = ""
    notes: str = ""


@dataclass(frozen=True)
class Removal:
    """Something cleaning removed, with the raw line it came from and why."""

    line: int
    reason: str
    text: str


@dataclass(frozen=True)
class Document:
    """A cleaned document.

    ``text`` is the cleaned text; ``line_starts[i]`` is the offset in ``text`` where the
    content of raw line ``line_numbers[i]`` begins, so any offset maps back to a raw line.
    """

    info: DocumentInfo
    text: str
    line_starts: tuple[int, ...]
    line_numbers: tuple[int, ...]
    removed: tuple[Removal, ...] = ()

    def raw_line_at(self, offset: int) -> int:
        """The 1-based raw line number that the cleaned character at ``offset`` came from."""
        i = bisect.bisect_right(self.line_starts, offset) - 1
        return self.line_numbers[max(i, 0)]


@dataclass(frozen=True)
class Passage:
    """A retrievable piece of one document, as the source writes it (after cleaning)."""

    passage_id: int
    doc_id: str
    section: str
    text: str
    line_start: int
    line_end: int
    kind: str = "text"  # text | list | exam-item | questions | outline
    # (offset in text, raw line) wherever the raw line changes: maps any span back to lines
    line_map: tuple[tuple[int, int], ...] = ()

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> Passage:
        """A passage from its JSON form (``asdict``; the stores keep it so): lists back to tuples."""
        return cls(**{**row, "line_map": tuple(tuple(pair) for pair in row.get("line_map", ()))})

    def raw_line_at(self, offset: int) -> int:
        """The raw line number of the character at ``offset`` in :attr:`text`."""
        if not self.line_map:
            return self.line_start
        i = bisect.bisect_right([o for o, _ in self.line_map], offset) - 1
        return self.line_map[max(i, 0)][1]


@dataclass(frozen=True)
class Hit:
    """A passage found by retrieval, with the scores and ranks that put it there."""

    passage: Passage
    score: float
    bm25_rank: int | None = None
    dense_rank: int | None = None
    bm25_score: float = 0.0
    dense_score: float = 0.0
    dense_span: tuple[int, int] | None = None  # the part of the text the dense score is for
    rerank: float | None = None  # the re-ranker's probability, when it ordered this passage
    # the dense search's cosine of each of the passage's units it found, ``(start, end,
    # cosine)`` (the model's own query vector): the span picker reads them
    units: tuple[tuple[int, int, float], ...] = ()


@dataclass(frozen=True)
class Citation:
    """A hit as every interface shows it."""

    rank: int
    doc_id: str
    title: str
    section: str
    text: str
    line_start: int
    line_end: int
    score: float


@dataclass(frozen=True)
class Answer:
    """The answer to one question: the extract, how far to trust it, and the citations.

    ``outcome`` is ``confident`` (the answer), ``likely`` (``answer`` is shown, marked as
    uncertain) or ``not-covered`` (no ``answer``); ``confidence`` is the calibrated
    probability behind it and ``confident`` means the first. ``off_topic``: the off-topic
    detector flagged the question (then ``not-covered``, and ``message`` says it is outside
    the material).

    ``answer`` is verbatim from citation ``answer_citation`` (1-based rank), raw lines
    ``answer_lines``; ``highlights[i]`` are ``(start, end)`` offsets of matched question
    terms in ``citations[i].text``. ``choice`` is set for exam questions, ``explain`` on
    request.
    """

    question: str
    answer: str | None
    confident: bool
    citations: tuple[Citation, ...] = field(default_factory=tuple)
    answer_citation: int | None = None
    answer_lines: tuple[int, int] | None = None
    highlights: tuple[tuple[tuple[int, int], ...], ...] = ()
    message: str | None = None
    choice: dict[str, Any] | None = None
    explain: dict[str, Any] | None = None
    confidence: float = 0.0  # the probability that ``answer`` is right (answer/confidence.py)
    outcome: str = "not-covered"  # confident | likely (the span, marked uncertain) | not-covered
    off_topic: bool = False  # the off-topic detector flagged the question: no answer, and says so

    def to_dict(self) -> dict[str, Any]:
        """The JSON shape every interface returns."""
        out: dict[str, Any] = {
            "question": self.question,
            "answer": self.answer,
            "confident": self.confident,
            "confidence": self.confidence,
            "outcome": self.outcome,
            "citations": [asdict(c) for c in self.citations],
            "answer_citation": self.answer_citation,
            "answer_lines": list(self.answer_lines) if self.answer_lines else None,
            "highlights": [[list(span) for span in spans] for spans in self.highlights],
            "message": self.message,
            "off_topic": self.off_topic,
        }
        if self.choice is not None:
            out["choice"] = copy.deepcopy(self.choice)  # answers are cached: no caller edits the original
        if self.explain is not None:
            out["explain"] = copy.deepcopy(self.explain)
        return out
