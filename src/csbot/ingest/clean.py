"""Cleaning: raw scraped text → a :class:`Document` with a map back to raw line numbers.

Whole lines are dropped for spam, site chrome, HTML residue, mojibake and link lists;
tables of contents and in-line navigation are cut out of lines; page markers that split
words are repaired. Every removal is recorded with its raw line and reason.
"""

from __future__ import annotations

import bisect
import functools
import html
import re
from collections import Counter
from dataclasses import dataclass

from csbot.ingest import rules
from csbot.records import Document, DocumentInfo, Removal
from csbot.text.normalise import fold_width, is_cjk, normalize, normalize_folded, to_simplified

LINK_LINE_MAX_CHARS = 30
LINK_RUN_MIN_LINES = 4
TOC_MIN_MARKERS = 8
TOC_MAX_GAP = 30


@dataclass
class _Line:
    number: int
    text: str
    link_like: bool  # short, no sentence end: a candidate for a link list


def strip_html(text: str) -> str:
    """Remove tags and decode entities (``&nbsp;`` → a space), until neither is left: a tag
    written with entities (``&lt;script&gt;``) is decoded and then removed too, so no passage
    carries markup to a client, however the scrape escaped it.

    >>> strip_html("&lt;script&gt;x()&lt;/script&gt;客户&amp;lt;b&amp;gt;")
    'x()客户'
    """
    for _ in range(4):  # each round peels one level of escaping
        stripped = html.unescape(rules.HTML_TAG.sub("", text)).replace("\xa0", " ")
        if stripped == text:
            break
        text = stripped
    return rules.HTML_TAG.sub("", text)  # deeper escaping than that: still no live tag


def mojibake_run(text: str, min_chars: int = 4) -> str | None:
    """A run of CJK that is UTF-8 bytes decoded as GBK (``缃戠珯鍏充簬``), or None.

    Real Chinese text re-encoded as GBK is almost never valid UTF-8, so a run that
    round-trips to valid UTF-8 Chinese is a decoding accident, not content.
    """
    for match in re.finditer(r"[^\x00-\x7f\s,，。:：;；!?！？()（）]{" + str(min_chars) + ",}", text):
        run = match.group()
        try:
            decoded = run.encode("gbk").decode("utf-8")
        except (UnicodeEncodeError, UnicodeDecodeError):
            continue
        if any(is_cjk(c) for c in decoded):
            return run
    return None


def line_reason(text: str, title: str) -> str | None:
    """Why a whole line should go, or None to keep it."""
    folded = to_simplified(fold_width(text))
    return _line_reason(text, title, folded, normalize_folded(folded))


def _line_reason(text: str, title: str, folded: str, norm: str) -> str | None:
    if not norm:
        return None
    if mojibake_run(text):
        return "mojibake"
    for reason, terms in rules.SPAM_TERMS.items():
        if any(term in norm for term in terms):
            return reason
    for reason, pattern in rules.CHROME_PATTERNS:
        if pattern.search(norm):
            return reason
    if not any(c.isalnum() for c in norm):
        return "symbols only"
    if norm.removesuffix(".docx") == _normal_title(title):
        return "document title (shown from the manifest)"
    if _is_keyword_list(folded):
        return "keyword tags"
    return None


@functools.lru_cache(maxsize=64)
def _normal_title(title: str) -> str:
    return normalize(title)  # once per document, not once per line


def _is_keyword_list(norm: str) -> bool:
    """``- 国家 职业技能 鉴定 培训 教程`` — space-separated tags with no sentence."""
    words = norm.lstrip("- ").split(" ")
    return len(words) >= 5 and all(0 < len(w) <= 4 for w in words)


def _is_link_like(norm: str) -> bool:
    return (
        len(norm) <= LINK_LINE_MAX_CHARS
        and not norm.endswith(("。", ";", "；", ":", "："))
        and not rules.STRUCTURE_START.match(norm)
    )


def _drop_link_runs(lines: list[_Line], removed: list[Removal]) -> list[_Line]:
    """Drop runs of short link-text lines (news-site link farms, navigation menus).

    A single short line whose neighbours were both removed as chrome is a leftover of the
    same menu (``首頁 >`` / ``自考`` / ``> 廣東``) and goes too.
    """
    gone = sorted({r.line for r in removed})
    keep = [True] * len(lines)
    for k, line in enumerate(lines):
        at = bisect.bisect_left(gone, line.number)  # the nearest removed lines either side
        before = gone[at - 1] if at else 0
        after_at = at + (at < len(gone) and gone[at] == line.number)
        after = gone[after_at] if after_at < len(gone) else 0
        prev_kept = lines[k - 1].number if k else 0
        next_kept = lines[k + 1].number if k + 1 < len(lines) else 10**9
        if line.link_like and prev_kept < before < line.number < after < next_kept:
            keep[k] = False
            removed.append(Removal(line.number, "navigation fragment", line.text))
    i = 0
    while i < len(lines):
        j = i
        while j < len(lines) and lines[j].link_like:
            j += 1
        if j - i >= LINK_RUN_MIN_LINES:
            for k in range(i, j):
                keep[k] = False
                removed.append(
                    Removal(lines[k].number, f"link list ({j - i} short lines in a row)", lines[k].text)
                )
        i = max(j, i + 1)
    return [line for line, k in zip(lines, keep, strict=False) if k]


def toc_spans(text: str) -> list[tuple[int, int]]:
    """Spans of ``text`` that are a table of contents.

    Two forms occur: entries with page numbers (``第一节客户服务环境分析 1一、宏观环境分析 2``)
    and a bare run of headings with no sentence in between
    (``第一章客戶服務概述一、學習目的與要求二、考試內容…``).
    """
    spans = [m.span() for m in rules.TOC_WITH_PAGES.finditer(text)]
    markers = [m.start() for m in rules.TOC_MARKER.finditer(text)]
    start = 0
    for k in range(1, len(markers) + 1):
        if k < len(markers):
            gap_text = rules.TOC_MARKER.sub("", text[markers[k - 1] : markers[k]], count=1)
            titled = len(rules.CJK_CHAR.findall(gap_text)) >= 2
            if (
                markers[k] - markers[k - 1] <= TOC_MAX_GAP
                and titled
                and "\n" not in gap_text
                and not rules.SENTENCE_END.search(gap_text)
            ):
                continue
        # A bare run of headings counts only when it fills the rest of the line.
        line_end = text.find("\n", markers[k - 1])
        line_end = len(text) if line_end < 0 else line_end
        if k - start >= TOC_MIN_MARKERS and line_end - markers[k - 1] <= TOC_MAX_GAP:
            spans.append((markers[start], line_end))
        start = k
    return _merge(spans)


def _merge(spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    merged: list[tuple[int, int]] = []
    for a, b in sorted(spans):
        if merged and a <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(b, merged[-1][1]))
        else:
            merged.append((a, b))
    return merged


def _cut_spans(doc_text: str, starts: list[int], spans: list[tuple[int, int]]) -> tuple[str, list[int]]:
    """Remove ``spans`` from ``doc_text``, shifting the line-start offsets to match: an offset
    after a span moves back by its length, one inside a span moves to where the span was.
    Linear in text, spans and lines (a 16 MB document has tens of thousands of each).

    >>> _cut_spans("ab[x]cd[yy]e", [0, 3, 5, 8, 11], [(2, 5), (7, 11)])
    ('abcde', [0, 2, 2, 4, 4])
    """
    merged = _merge(spans)
    kept: list[str] = []
    cut_before = [0]  # characters removed by the spans before each span
    pos = 0
    for a, b in merged:
        kept.append(doc_text[pos:a])
        cut_before.append(cut_before[-1] + b - a)
        pos = b
    kept.append(doc_text[pos:])
    ends = [b for _, b in merged]
    shifted = []
    for s in starts:
        i = bisect.bisect_right(ends, s)  # spans that end at or before s
        inside = i < len(merged) and merged[i][0] < s
        shifted.append((merged[i][0] if inside else s) - cut_before[i])
    return "".join(kept), shifted


def _inline_spans(text: str) -> list[tuple[int, int, str]]:
    """Spans inside content lines to cut: tables of contents and page navigation."""
    found = [(a, b, "table of contents") for a, b in toc_spans(text)]
    for reason, pattern in rules.INLINE_CHROME:
        for m in pattern.finditer(text):
            if not any(a <= m.start() and m.end() <= b for a, b, _ in found):
                found.append((m.start(), m.end(), reason))
    return found


def pdf_spacing(text: str) -> list[tuple[int, int]]:
    """The spaces a PDF extraction put between Chinese characters, if the document has them
    often enough to be such an extraction (``rules.PDF_SPACED_SHARE``); else none.

    >>> len(pdf_spacing("客户 服务管理 师。" * 20)), pdf_spacing("第一节 客户服务" + "概述" * 200)
    (40, [])
    """
    found = [(m.start(), m.end()) for m in rules.PDF_SPACE.finditer(text)]
    chinese = len(rules.CJK_CHAR.findall(text))
    dense = chinese and len(found) / chinese >= rules.PDF_SPACED_SHARE
    return found if dense and len(found) >= rules.PDF_SPACED_MIN else []


def _page_marked(lines: list[_Line]) -> bool:
    """True when lines start with page numbers 1、2、3、… in order (a paged scrape)."""
    expected, found = 1, 0
    for line in lines:
        m = rules.PAGE_MARKER.match(line.text)
        if m and int(m.group(1)) == expected:
            expected, found = expected + 1, found + 1
    return found >= 3


def _assemble(info: DocumentInfo, lines: list[_Line], removed: list[Removal]) -> Document:
    """Join lines into the cleaned text, repairing page breaks and broken item numbers."""
    paged = _page_marked(lines)
    parts: list[str] = []
    starts: list[int] = []
    numbers: list[int] = []
    length = 0
    expected_page = 1
    for line in lines:
        text = line.text
        join = False
        m = rules.PAGE_MARKER.match(text) if paged else None
        if m and int(m.group(1)) == expected_page:
            removed.append(Removal(line.number, "page marker", m.group()))
            text = text[m.end() :]
            join = expected_page > 1 and bool(parts) and not parts[-1].endswith(tuple(rules.TERMINAL))
            expected_page += 1
        elif parts and rules.DANGLING_ITEM_NUMBER.search(parts[-1]) and not re.match(r"\d", text):
            parts[-1] = parts[-1][:-1] + "."
            join = True
        if parts and not join:
            parts[-1] += "\n"
            length += 1
        starts.append(length)
        numbers.append(line.number)
        if join:
            parts[-1] += text
        else:
            parts.append(text)
        length += len(text)
    text = "".join(parts)
    spans = _inline_spans(text)
    draft = Document(info=info, text=text, line_starts=tuple(starts), line_numbers=tuple(numbers))
    removed += [Removal(draft.raw_line_at(a), reason, text[a:b]) for a, b, reason in spans]
    pdf = pdf_spacing(text)
    per_line = Counter(draft.raw_line_at(a) for a, _ in pdf)
    removed += [
        Removal(n, "pdf spacing between Chinese characters", f"{c} spaces")
        for n, c in sorted(per_line.items())
    ]
    text, starts = _cut_spans(text, starts, [(a, b) for a, b, _ in spans] + pdf)
    return Document(
        info=info,
        text=text,
        line_starts=tuple(starts),
        line_numbers=tuple(numbers),
        removed=tuple(sorted(removed, key=lambda r: r.line)),
    )


def clean_document(info: DocumentInfo, raw_lines: list[str]) -> Document:
    """Clean one document.

    Args:
        info: its manifest entry (the title is used to drop the repeated title line).
        raw_lines: the raw file's lines, line N at index N-1.

    Returns:
        The cleaned :class:`Document`; ``removed`` says what went and why.
    """
    removed: list[Removal] = []
    lines: list[_Line] = []
    for number, raw in enumerate(raw_lines, start=1):
        text = strip_html(raw).strip()
        if not text:
            if raw.strip() and rules.HTML_TAG.search(raw):
                removed.append(Removal(number, "html markup", raw))
            continue
        folded = to_simplified(fold_width(text))  # once per line: the costliest step
        norm = normalize_folded(folded)
        reason = _line_reason(text, info.title, folded, norm)
        if reason:
            removed.append(Removal(number, reason, raw))
            continue
        lines.append(_Line(number, text, _is_link_like(norm)))
    lines = _drop_link_runs(lines, removed)
    return _assemble(info, lines, removed)
