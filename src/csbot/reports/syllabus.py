"""For trainers: which documents cover a point, and how well the syllabus is covered.

A passage *covers* a point by :func:`csbot.answer.confidence.covers` (dense cosine and the
IDF-weighted term overlap, stricter than an answer's rule). A document's strength for the
point is its best passage's term overlap.

In the syllabus report a point is a *gap* when no study material covers it — only the
requirement documents (the exam syllabus, the occupational standard) name it — and the
passage a point was taken from does not count as covering it.
"""

from __future__ import annotations

import csv
import io
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from csbot.answer.confidence import covers
from csbot.errors import CorpusError
from csbot.records import Hit
from csbot.reports import cover_model
from csbot.search.query import Query
from csbot.serve.assistant import Assistant
from csbot.text.normalise import squash

REQUIREMENT_KINDS = ("exam-syllabus", "occupational-standard")  # documents that name points
NAMING_KINDS = ("questions",)  # passages that name points without teaching them
SEARCH_DEPTH = 40
SYLLABUS = "syllabus.toml"


@dataclass(frozen=True)
class SectionHit:
    section: str
    text: str
    line_start: int
    line_end: int
    strength: float


@dataclass(frozen=True)
class DocumentCoverage:
    """One document's passages that cover a point, strongest first."""

    doc_id: str
    title: str
    strength: float
    sections: tuple[SectionHit, ...]
    teaches: bool = True  # False: a requirement document, which names the point (提及)

    def to_dict(self) -> dict[str, object]:
        return {
            "doc_id": self.doc_id,
            "title": self.title,
            "strength": self.strength,
            "teaches": self.teaches,
            "sections": [s.__dict__ for s in self.sections],
        }


@dataclass(frozen=True)
class SyllabusPoint:
    point: str
    group: str
    level: str
    source: str
    line: int


@dataclass
class CoverageRow:
    point: SyllabusPoint
    documents: dict[str, DocumentCoverage] = field(default_factory=dict)
    material: set[str] = field(default_factory=set)  # covering documents that are study material

    @property
    def gap(self) -> bool:
        return not self.material


Found = tuple[Query, list[Hit]]


def candidate_hits(assistant: Assistant, point: str, exclude: tuple[str, int] | None = None) -> Found:
    """``point`` read as a query, and its search hits that could cover it: not question lists,
    nor the passage ``exclude`` (doc_id, raw line) points at when it states the point itself."""
    text = assistant.check_question(point)
    query = assistant.retriever.analyse(text)
    hits = [
        hit
        # the query adapter learned how students word questions; a point is the syllabus's words
        for hit in assistant.retriever.search(query, k=SEARCH_DEPTH, adapted=False)
        if hit.passage.kind not in NAMING_KINDS
        and not (
            exclude
            and hit.passage.doc_id == exclude[0]
            and hit.passage.line_start <= exclude[1] <= hit.passage.line_end
            and _names(hit.passage.text, text)
        )
    ]
    return query, hits


def covering_hits(
    assistant: Assistant, point: str, exclude: tuple[str, int] | None = None, found: Found | None = None
) -> list[tuple[Hit, float]]:
    """The passages that cover ``point`` by :func:`covers`, with their strength (IDF-weighted
    term coverage)."""
    query, hits = found or candidate_hits(assistant, point, exclude)
    out = []
    for hit in hits:
        strength = assistant.retriever.overlap(query, hit.passage.text)
        if covers(hit, strength):
            out.append((hit, round(strength, 3)))
    return out


def _names(passage_text: str, point: str) -> bool:
    """Whether the passage states the point itself (the line a syllabus point was taken from)."""
    return squash(point) in squash(passage_text)


def sources(
    assistant: Assistant,
    point: str,
    exclude: tuple[str, int] | None = None,
    found: Found | None = None,
    model: cover_model.CoverModel | None = None,
) -> list[DocumentCoverage]:
    """Every document that covers ``point``, grouped: the study material that teaches it,
    strongest first, then the requirement documents that name it.

    :func:`covers` decides, passage by passage. With a cover model (``model``: the syllabus
    report passes the fitted one, :mod:`csbot.reports.cover_model`) it decides the study
    material instead, each document shown by its passages :func:`covers` accepts or else its
    closest one. The model learned from syllabus points — phrases such as 客户服务的地位与作用,
    which a passage holding them verbatim only names — so a trainer's free-text query (职业锚,
    which the passage teaching it holds verbatim) is left to the rule."""
    found = found or candidate_hits(assistant, point, exclude)
    grouped: dict[str, list[SectionHit]] = {}
    for hit, strength in covering_hits(assistant, point, exclude, found):
        p = hit.passage
        grouped.setdefault(p.doc_id, []).append(
            SectionHit(p.section, p.text, p.line_start, p.line_end, strength)
        )
    result: dict[str, DocumentCoverage] = {}
    for doc_id, hits in grouped.items():
        hits.sort(key=lambda s: (-s.strength, s.line_start))
        info = assistant.documents.get(doc_id)
        naming = info is not None and info.kind in REQUIREMENT_KINDS
        title = info.title if info else doc_id
        result[doc_id] = DocumentCoverage(doc_id, title, hits[0].strength, tuple(hits), teaches=not naming)
    if model is not None:
        query, every = found
        for doc_id, info in assistant.documents.items():
            if info.kind in REQUIREMENT_KINDS:
                continue
            mine = [h for h in every if h.passage.doc_id == doc_id]
            votes = assistant.retriever.document_votes(query, doc_id)
            if (
                not mine
                or votes is None
                or model.probability(cover_model.features(query, votes, mine, every)) < model.threshold
            ):
                result.pop(doc_id, None)
            elif doc_id not in result:
                result[doc_id] = _best_passage(assistant, query, mine)
    return sorted(result.values(), key=lambda d: (not d.teaches, -d.strength, d.doc_id))


def load_syllabus(corpus_dir: Path) -> list[SyllabusPoint]:
    path = corpus_dir / SYLLABUS
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
        return [
            SyllabusPoint(p["point"], p.get("group", ""), p.get("level", ""), p["source"], int(p["line"]))
            for p in data.get("points", [])
        ]
    except FileNotFoundError as exc:
        raise CorpusError(f"no syllabus at {path}") from exc
    except (tomllib.TOMLDecodeError, KeyError, ValueError) as exc:
        raise CorpusError(f"{path} is not a valid syllabus file: {exc}") from exc


def coverage(assistant: Assistant, model: cover_model.CoverModel | None = None) -> list[CoverageRow]:
    """For every syllabus point, the documents that cover it (:func:`sources`; the passage a
    point was taken from does not count)."""
    model = model or cover_model.load(assistant.settings.model, assistant.retriever.asked is not None)
    rows = []
    for point in load_syllabus(assistant.settings.corpus_dir):
        row = CoverageRow(point)
        for doc in sources(assistant, point.point, exclude=(point.source, point.line), model=model):
            row.documents[doc.doc_id] = doc
            if doc.teaches:
                row.material.add(doc.doc_id)
        rows.append(row)
    return rows


def _best_passage(assistant: Assistant, query: Query, hits: list[Hit]) -> DocumentCoverage:
    """A document the cover model says covers the point, shown by its closest passage."""
    best = max(hits, key=lambda h: h.dense_score)
    p = best.passage
    strength = round(assistant.retriever.overlap(query, p.text), 3)
    title = assistant.documents[p.doc_id].title
    return DocumentCoverage(
        p.doc_id, title, strength, (SectionHit(p.section, p.text, p.line_start, p.line_end, strength),)
    )


def to_csv(rows: list[CoverageRow], doc_ids: list[str], material: set[str]) -> str:
    """The matrix as CSV: a strength for study material that covers a point, 提及 for a
    requirement document that names it, 缺口 in the last column for a gap."""
    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow(["知识点", "章节", "级别", "来源", "行", *doc_ids, "缺口"])
    for r in rows:
        cells = [
            ("" if d not in r.documents else f"{r.documents[d].strength:.2f}" if d in material else "提及")
            for d in doc_ids
        ]
        writer.writerow(
            [
                r.point.point,
                r.point.group,
                r.point.level,
                r.point.source,
                r.point.line,
                *cells,
                "缺口" if r.gap else "",
            ]
        )
    return buf.getvalue()
