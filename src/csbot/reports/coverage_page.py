"""The trainer's coverage report as a page, in Chinese: knowledge points grouped by chapter ×
documents, cells shaded by strength and linked to the excerpt, a summary per chapter and per
document, printable. Every text from the corpus is escaped.

Served at ``/coverage`` (built on the first request for each index, then kept) with its styles
from ``web/coverage.css`` — the page's security policy allows no inline style; the copy
``csbot coverage`` writes to disk carries the same styles inline, to open as a file.
"""

from __future__ import annotations

import html
import json
import threading
import weakref
from collections.abc import Iterable
from dataclasses import asdict, dataclass, replace
from itertools import groupby
from pathlib import Path
from typing import Any

from csbot.answer.confidence import COVER_DENSE, COVER_OVERLAP
from csbot.errors import CsbotError
from csbot.reports.cover_model import CoverModel, features, fit, load, split_of, write
from csbot.reports.intervals import LEVEL, interval
from csbot.reports.syllabus import (
    REQUIREMENT_KINDS,
    CoverageRow,
    Found,
    candidate_hits,
    coverage,
    load_syllabus,
    to_csv,
)
from csbot.serve.assistant import Assistant

CSS_FILE = "coverage.css"


@dataclass(frozen=True)
class Report:
    """The coverage of one index: rows, and the documents as columns."""

    rows: list[CoverageRow]
    titles: dict[str, str]  # doc_id → title, in column order
    material: set[str]  # study material; the other documents only name points
    cut_off: float | None = None  # the cover model's, when one decided
    # how right it was on the labelled points it was not fitted on (LabelCheck's fields)
    checked: dict[str, Any] | None = None

    @property
    def gaps(self) -> list[CoverageRow]:
        return [r for r in self.rows if r.gap]

    def html(self, css: str | Path = "/static/coverage.css") -> str:
        return render(self.rows, self.titles, self.material, css, self.cut_off, self.checked)

    def csv(self) -> str:
        return to_csv(self.rows, list(self.titles), self.material)


def build(assistant: Assistant, model: CoverModel | None = None) -> Report:
    """The report by ``model`` (the shipped cover model of the embedding model by default)."""
    docs = assistant.documents
    material = {d for d, info in docs.items() if info.kind not in REQUIREMENT_KINDS}
    model = model or load(assistant.settings.model, assistant.retriever.asked is not None)
    titles = {d: info.title for d, info in docs.items()}
    return Report(
        coverage(assistant, model),
        titles,
        material,
        model.threshold if model else None,
        model.report.get("test") if model else None,
    )


_built: weakref.WeakKeyDictionary[Assistant, Report] = weakref.WeakKeyDictionary()
_lock = threading.Lock()


def report_for(assistant: Assistant) -> Report:
    """The report of the index ``assistant`` serves, built once (a new index, after a
    reload, is a new assistant and gets its own)."""
    with _lock:
        if assistant not in _built:
            _built[assistant] = build(assistant)
        return _built[assistant]


def _shade(strength: float) -> int:
    """Shade class 1–4 for a covering cell (strength runs from the cover cut-off to 1)."""
    span = (strength - COVER_OVERLAP) / (1 - COVER_OVERLAP)
    return max(1, min(4, 1 + int(span * 4)))


def _rule(cut_off: float | None, checked: dict[str, Any] | None = None) -> str:
    """How "covers" was decided, and how often it is right, in sentences a trainer reads."""
    if cut_off is not None:
        rule = (
            "由一个根据人工标注拟合的模型判断：它主要看学员就相近内容提问时，读者是在哪份材料里找到答案的，"
            "再结合语义相似度、段落类型等信号，"
            f"给出“这份材料讲解了这个知识点”的概率，≥ {cut_off:.2f} 算覆盖。"
        )
        if checked:
            rule += (
                f"拿它没有学过的 {checked['points']} 个人工标注的知识点检验：判为“缺口”的，"
                f"{checked['gap_precision']:.0%} 确实没有材料讲；判为“覆盖”的，"
                f"{checked['covered_precision']:.0%} 确实讲了——拿不准时请点开原文摘录核对。"
            )
        return rule
    return (
        f"判断规则：它与知识点语义相近（向量余弦 ≥ {COVER_DENSE:.2f}），并且含有知识点中至少 "
        f"{COVER_OVERLAP:.0%} 的关键词（越少见的词分量越重）。"
    )


def render(
    rows: list[CoverageRow],
    titles: dict[str, str],
    material: set[str],
    css: str | Path = "/static/coverage.css",
    cut_off: float | None = None,
    checked: dict[str, Any] | None = None,
) -> str:
    """The report. ``titles``: doc_id → title, in column order; ``material``: the doc_ids that
    are study material (the others — exam syllabus, occupational standard — only name points);
    ``css``: a URL to link, or a file whose text is inlined; ``checked``: how right the cover
    model was on the labelled test points (said on the page)."""
    e = html.escape
    doc_ids = list(titles)
    covered = sum(1 for r in rows if not r.gap)
    head = "".join(
        f'<th class="doc">{e(titles[d])}<br><small>{"学习材料" if d in material else "要求文件（只提及）"}</small></th>'
        for d in doc_ids
    )
    body: list[str] = []
    excerpts: list[str] = []
    for chapter, grouped in groupby(enumerate(rows), key=lambda ir: ir[1].point.group or "其他"):
        members = list(grouped)
        done = sum(1 for _, r in members if not r.gap)
        body.append(
            f'<tr class="chapter"><th colspan="{len(doc_ids) + 2}">{e(chapter)}'
            f"<span>覆盖 {done} / {len(members)}</span></th></tr>"
        )
        for i, row in members:
            cells = []
            for d in doc_ids:
                cov = row.documents.get(d)
                if cov is None:
                    cells.append("<td></td>")
                    continue
                anchor = f"p{i}-{d}"
                if d in material:
                    cells.append(
                        f'<td class="c{_shade(cov.strength)}"><a href="#{anchor}">{cov.strength:.2f}</a></td>'
                    )
                else:
                    cells.append(f'<td class="named"><a href="#{anchor}">提及</a></td>')
                best = cov.sections[0]
                excerpts.append(
                    f'<section id="{anchor}"><h3>{e(row.point.point)} — {e(cov.title)}</h3>'
                    f'<p class="meta">{e(best.section)} · 第 {best.line_start}–{best.line_end} 行 · '
                    f"强度 {best.strength:.2f}</p><blockquote>{e(best.text)}</blockquote></section>"
                )
            status = '<td class="gap">缺口</td>' if row.gap else '<td class="ok">已覆盖</td>'
            body.append(
                f'<tr><th class="point">{e(row.point.point)}'
                f"<small>{e(row.point.source)} 第 {row.point.line} 行</small></th>{''.join(cells)}{status}</tr>"
            )
    per_doc = "".join(
        f"<td>{sum(1 for r in rows if d in r.documents)}</td>"
        if d not in material
        else f"<td><b>{sum(1 for r in rows if d in r.material)}</b></td>"
        for d in doc_ids
    )
    style = (
        f"<style>{Path(css).read_text(encoding='utf-8')}</style>"
        if isinstance(css, Path)
        else f'<link rel="stylesheet" href="{e(css)}">'
    )
    return f"""<!doctype html><html lang="zh-CN"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1"><title>大纲覆盖报告 · csbot</title>{style}</head>
<body><header><h1>大纲覆盖报告</h1>
<p class="lead">共 {len(rows)} 个知识点：<b>{covered}</b> 个有学习材料讲解，<b class="gapword">{len(rows) - covered}</b> 个是缺口。</p>
<p class="nav"><a href="/coverage.csv">下载 CSV</a> · <a href="/">返回问答</a> · 打印本页即得打印版（已按纸张排版）</p>
</header>
<details open><summary>怎么读这张表</summary><ul>
<li><b>覆盖</b>：某份学习材料里有一段真正讲解了这个知识点。{_rule(cut_off, checked)}</li>
<li>格子里的数字是这份材料中最好的一段的<b>强度</b>：它含有知识点关键词的比例，1.00 表示全部都有；颜色越深越强。点数字可看原文摘录和行号。</li>
<li><b>提及</b>：考试大纲、职业标准这类要求文件只列出知识点，不讲解，所以不算覆盖；题库（只有题目的列表）也不算。</li>
<li><b>缺口</b>：没有任何学习材料讲解这个知识点——需要补充材料，或在课上讲。</li>
</ul></details>
<table><thead><tr><th>知识点</th>{head}<th>状态</th></tr></thead>
<tbody>{"".join(body)}</tbody>
<tfoot><tr><th>覆盖的知识点数</th>{per_doc}<td>{covered} / {len(rows)}</td></tr></tfoot></table>
<h2>原文摘录</h2>{"".join(excerpts)}</body></html>"""


@dataclass(frozen=True)
class LabelCheck:
    """The report against labelled (point, document, covers?) pairs."""

    pairs: int
    covered_precision: float  # of the pairs the report calls covered, the share labelled so
    covered_recall: float  # of the pairs labelled covered, the share the report calls covered
    points: int
    gap_precision: float  # of the points the report calls gaps, the share labelled gaps
    gap_recall: float  # of the points labelled gaps, the share the report calls gaps

    def __str__(self) -> str:
        return (
            f"against {self.pairs} labelled pairs: covered precision {self.covered_precision:.3f} "
            f"recall {self.covered_recall:.3f}; over {self.points} points: gap precision "
            f"{self.gap_precision:.3f} recall {self.gap_recall:.3f}"
        )


@dataclass(frozen=True)
class CoverLabel:
    """One labelled pair of ``eval/coverage_labels.jsonl``."""

    point_no: int  # 1-based, in the order of syllabus.toml
    doc_id: str
    covers: bool


def load_labels(path: Path, points: int, doc_ids: set[str]) -> list[CoverLabel]:
    """The labelled pairs in ``path``; a one-line error for a file that cannot be read or a
    row that is not a pair of this syllabus (``points`` points) and corpus."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise CsbotError(f"cannot read labels {path}: {exc.strerror}") from exc
    out = []
    for n, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
            label = CoverLabel(int(row["point_no"]), str(row["doc_id"]), row["covers"])
        except (ValueError, KeyError, TypeError) as exc:
            raise CsbotError(f"{path}:{n}: not a labelled pair ({exc})") from exc
        if not (1 <= label.point_no <= points and label.doc_id in doc_ids and isinstance(label.covers, bool)):
            raise CsbotError(
                f"{path}:{n}: point_no must be 1–{points}, doc_id one of the corpus, covers true or false"
            )
        out.append(label)
    return out


@dataclass(frozen=True)
class Judged:
    """One labelled pair (covered?) or point (a gap?), and what the report says of it."""

    point_no: int
    gold: bool
    said: bool

    def point(self) -> str:  # the bootstrap's cluster: a point's pairs are drawn together
        return str(self.point_no)


def _gaps(covers: Iterable[tuple[int, bool]]) -> dict[int, bool]:
    """For each point of the (point_no, covered?) pairs, whether no document covers it."""
    gap: dict[int, bool] = {}
    for point_no, covered in covers:
        gap[point_no] = gap.get(point_no, True) and not covered
    return gap


def reader_says(labels: list[CoverLabel], reader: list[CoverLabel]) -> dict[tuple[int, str], bool]:
    """Another reader's covers? by (point_no, doc_id); a one-line error unless it labels every
    pair of ``labels``."""
    says = {(lb.point_no, lb.doc_id): lb.covers for lb in reader}
    missing = sum((lb.point_no, lb.doc_id) not in says for lb in labels)
    if missing:
        raise CsbotError(f"the reader's labels lack {missing} of the {len(labels)} labelled pairs")
    return says


def judged(
    report: Report, labels: list[CoverLabel], reader: list[CoverLabel] | None = None
) -> tuple[list[Judged], list[Judged]]:
    """The labelled pairs and the labelled points (a point is labelled a gap when no
    document covers it), each with what the report says — or, given ``reader``, what
    another reader's labels of the same pairs say (how far people agree)."""
    if reader is None:
        pairs = [
            Judged(lb.point_no, lb.covers, lb.doc_id in report.rows[lb.point_no - 1].material)
            for lb in labels
        ]
        gold_gap = _gaps((j.point_no, j.gold) for j in pairs)
        return pairs, [Judged(i, gold, report.rows[i - 1].gap) for i, gold in gold_gap.items()]
    says = reader_says(labels, reader)
    pairs = [Judged(lb.point_no, lb.covers, says[(lb.point_no, lb.doc_id)]) for lb in labels]
    said_gap = _gaps((j.point_no, j.said) for j in pairs)
    return pairs, [
        Judged(i, gold, said_gap[i]) for i, gold in _gaps((j.point_no, j.gold) for j in pairs).items()
    ]


def check_labels(
    report: Report, labels: list[CoverLabel], reader: list[CoverLabel] | None = None
) -> LabelCheck:
    """Compare with ``labels`` (``eval/coverage_labels.jsonl``: point_no 1-based in
    syllabus order, doc_id, covers) what the report says, or ``reader`` (:func:`judged`).
    A point is labelled a gap when no document covers it."""
    pairs, points = judged(report, labels, reader)

    def precision_recall(items: list[Judged]) -> tuple[float, float]:
        tp = sum(j.gold and j.said for j in items)
        fp, fn = sum(j.said and not j.gold for j in items), sum(j.gold and not j.said for j in items)
        return (round(tp / (tp + fp), 3) if tp + fp else 0.0), (round(tp / (tp + fn), 3) if tp + fn else 0.0)

    return LabelCheck(len(labels), *precision_recall(pairs), len(points), *precision_recall(points))


def fit_labels(assistant: Assistant, labels: list[CoverLabel], path: Path) -> str:
    """Fit the cover model on the labelled pairs of the ``dev`` points (study material only:
    requirement documents never cover) and write it to ``path``; a line saying what was fitted."""
    points = load_syllabus(assistant.settings.corpus_dir)
    found: dict[int, Found] = {}
    x, y = [], []
    for label in labels:
        i, doc_id = label.point_no, label.doc_id
        point = points[i - 1]
        if split_of(point.point) != "dev" or assistant.documents[doc_id].kind in REQUIREMENT_KINDS:
            continue
        if i not in found:
            found[i] = candidate_hits(assistant, point.point, exclude=(point.source, point.line))
        query, hits = found[i]
        votes = assistant.retriever.document_votes(query, doc_id)
        if votes is None:
            raise CsbotError("the cover model reads the asked questions: fit it with them (CSBOT_ASKED=1)")
        x.append(features(query, votes, [h for h in hits if h.passage.doc_id == doc_id], hits))
        y.append(label.covers)
    model = fit(x, y, assistant.settings.model)
    # how right it is on the test points, which it never saw: what the report tells trainers
    test = [label for label in labels if split_of(points[label.point_no - 1].point) == "test"]
    checked = check_labels(build(assistant, model), test) if test else None
    if checked is not None:
        model = replace(model, report={**model.report, "test": asdict(checked)})
    write(model, path)
    return (
        f"cover model for {model.model}: {len(y)} dev pairs ({sum(y)} covered), C {model.report['C']}, "
        f"cross-validated Brier {model.report['cv_brier']}, cut-off {model.threshold} -> {path}"
        + (f"; test {checked}" if checked else "")
    )


def label_intervals(
    report: Report, labels: list[CoverLabel], reader: list[CoverLabel] | None = None
) -> dict[str, tuple[float, float] | None]:
    """The :data:`~csbot.reports.intervals.LEVEL` intervals of :func:`check_labels`'s four
    figures, by a bootstrap over the points (a point's pairs are drawn together)."""
    pairs, points = judged(report, labels, reader)
    return {
        "covered_precision": interval([j for j in pairs if j.said], lambda j: j.gold, Judged.point),
        "covered_recall": interval([j for j in pairs if j.gold], lambda j: j.said, Judged.point),
        "gap_precision": interval([j for j in points if j.said], lambda j: j.gold, Judged.point),
        "gap_recall": interval([j for j in points if j.gold], lambda j: j.said, Judged.point),
    }


def check_split(
    report: Report, labels: list[CoverLabel], reader: list[CoverLabel] | None = None
) -> list[str]:
    """:func:`check_labels` on the ``dev`` points, the ``test`` points and all of them, each
    with :func:`label_intervals` (of the report, or of ``reader``: :func:`judged`)."""
    by_split: dict[str, list[CoverLabel]] = {"dev": [], "test": []}
    for label in labels:
        by_split[split_of(report.rows[label.point_no - 1].point.point)].append(label)
    out = []
    for name, rows in (*by_split.items(), ("all", labels)):
        said = [
            f"{key.replace('_', ' ')} {iv[0]:.2f}–{iv[1]:.2f}"
            for key, iv in label_intervals(report, rows, reader).items()
            if iv
        ]
        out += [
            f"{name:4} {check_labels(report, rows, reader)}",
            f"     {LEVEL:.0%} intervals (bootstrap over points): {', '.join(said) or '–'}",
        ]
    return out
