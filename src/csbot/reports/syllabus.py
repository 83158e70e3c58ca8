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
import html
import io
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from csbot.answer.confidence import COVER_DENSE, COVER_OVERLAP, covers
from csbot.errors import CorpusError
from csbot.records import Hit
from csbot.serve.assistant import Assistant
from csbot.text.normalise import squash

REQUIREMENT_KINDS = ("exam-syllabus", "occupational-standard")
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

    def to_dict(self) -> dict[str, object]:
        return {
            "doc_id": self.doc_id,
            "title": self.title,
            "strength": self.strength,
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


def covering_hits(
    assistant: Assistant, point: str, exclude: tuple[str, int] | None = None
) -> list[tuple[Hit, float]]:
    """The passages that cover ``point``, with their strength (IDF-weighted term coverage).

    ``exclude`` is a (doc_id, raw line) whose passage does not count (where a point was taken from).
    """
    text = assistant.check_question(point)
    query = assistant.retriever.analyse(text)
    out = []
    for hit in assistant.retriever.search(query, k=SEARCH_DEPTH):
        p = hit.passage
        if p.kind == "questions":  # a question list names a point without teaching it
            continue
        if (
            exclude
            and p.doc_id == exclude[0]
            and p.line_start <= exclude[1] <= p.line_end
            and _names(p.text, text)
        ):
            continue
        strength = assistant.retriever.overlap(query, hit.passage.text)
        if covers(hit, strength):
            out.append((hit, round(strength, 3)))
    return out


def _names(passage_text: str, point: str) -> bool:
    """Whether the passage states the point itself (the line a syllabus point was taken from)."""
    return squash(point) in squash(passage_text)


def sources(
    assistant: Assistant, point: str, exclude: tuple[str, int] | None = None
) -> list[DocumentCoverage]:
    """Every document that covers ``point``, grouped, strongest first; each section once."""
    grouped: dict[str, list[SectionHit]] = {}
    for hit, strength in covering_hits(assistant, point, exclude):
        p = hit.passage
        grouped.setdefault(p.doc_id, []).append(
            SectionHit(p.section, p.text, p.line_start, p.line_end, strength)
        )
    result = []
    for doc_id, hits in grouped.items():
        hits.sort(key=lambda s: (-s.strength, s.line_start))
        info = assistant.documents.get(doc_id)
        result.append(DocumentCoverage(doc_id, info.title if info else doc_id, hits[0].strength, tuple(hits)))
    return sorted(result, key=lambda d: (-d.strength, d.doc_id))


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


def coverage(assistant: Assistant) -> list[CoverageRow]:
    """For every syllabus point, the documents that cover it."""
    rows = []
    for point in load_syllabus(assistant.settings.corpus_dir):
        row = CoverageRow(point)
        for doc in sources(assistant, point.point, exclude=(point.source, point.line)):
            row.documents[doc.doc_id] = doc
            info = assistant.documents.get(doc.doc_id)
            if info is not None and info.kind not in REQUIREMENT_KINDS:
                row.material.add(doc.doc_id)
        rows.append(row)
    return rows


def to_csv(rows: list[CoverageRow], doc_ids: list[str]) -> str:
    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow(["point", "group", "level", "source", "line", *doc_ids, "gap"])
    for r in rows:
        cells = [f"{r.documents[d].strength:.2f}" if d in r.documents else "" for d in doc_ids]
        writer.writerow(
            [
                r.point.point,
                r.point.group,
                r.point.level,
                r.point.source,
                r.point.line,
                *cells,
                "yes" if r.gap else "",
            ]
        )
    return buf.getvalue()


def to_html(rows: list[CoverageRow], titles: dict[str, str]) -> str:
    """A self-contained report: points × documents, cells shaded by strength, linked to the
    excerpt; uncovered points flagged as gaps. Every corpus text is escaped."""
    doc_ids = list(titles)
    e = html.escape
    head = "".join(f"<th>{e(titles[d])}<br><code>{e(d)}</code></th>" for d in doc_ids)
    body, details = [], []
    for i, r in enumerate(rows):
        cells = []
        for d in doc_ids:
            cov = r.documents.get(d)
            if cov is None:
                cells.append("<td></td>")
                continue
            anchor = f"p{i}-{d}"
            shade = int(40 + 60 * cov.strength)
            cells.append(
                f'<td style="background:hsl(150 55% {100 - shade // 2}%)"><a href="#{anchor}">{cov.strength:.2f}</a></td>'
            )
            best = cov.sections[0]
            details.append(
                f'<section id="{anchor}"><h3>{e(r.point.point)} — {e(cov.title)}</h3>'
                f"<p class=meta>{e(best.section)} · lines {best.line_start}–{best.line_end} · strength {best.strength:.2f}</p>"
                f"<blockquote>{e(best.text)}</blockquote></section>"
            )
        flag = '<td class="gap">gap</td>' if r.gap else "<td></td>"
        body.append(
            f"<tr><th>{e(r.point.point)}<br><small>{e(r.point.group)} · {e(r.point.source)}:{r.point.line}</small></th>"
            f"{''.join(cells)}{flag}</tr>"
        )
    gaps = sum(1 for r in rows if r.gap)
    return f"""<!doctype html><html lang="zh-CN"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1"><title>csbot · syllabus coverage</title>
<style>body{{font-family:"PingFang SC","Noto Sans CJK SC","Microsoft YaHei",sans-serif;line-height:1.6;margin:1rem}}
table{{border-collapse:collapse}}td,th{{border:1px solid #ccd;padding:.25rem .5rem;vertical-align:top}}
th{{text-align:left;font-weight:normal}}td{{text-align:center}}td.gap{{background:#fde2e1;color:#a01b12;font-weight:bold}}
blockquote{{white-space:pre-wrap;background:#f6f7f9;margin:.25rem 0 1rem;padding:.5rem}}.meta{{color:#567}}</style></head>
<body><h1>Syllabus coverage</h1>
<p>{len(rows)} points, {gaps} gaps (no study material covers the point; only the exam syllabus or the
occupational standard names it). A cell is the best covering passage's strength:
the IDF-weighted share of the point's words it holds (≥ {COVER_OVERLAP:.2f}, with cosine ≥ {COVER_DENSE:.2f}).</p>
<table><thead><tr><th>point</th>{head}<th>gap</th></tr></thead><tbody>{"".join(body)}</tbody></table>
<h2>Excerpts</h2>{"".join(details)}</body></html>"""
