"""Sentences of a passage as character spans: where a sentence, a list item or a run-together
list begins and ends. Chunking, the index's sentence vectors and answer spans all read them."""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass

from csbot.text.normalise import is_cjk
from csbot.text.segmenter import words

# A hard-wrapped line (plain-text scrapes wrap at a fixed width) is this long; shorter lines
# are headings or list titles, much longer ones paragraphs whose break is meant.
WRAP_CHARS = (30, 120)
MID_CLAUSE_END = re.compile(r"[\u4e00-\u9fff、,，]$")
SHORT_SENTENCE = 25  # characters; a sentence this short is read with the next one (unless noted)
LABEL_CHARS = 6  # the longest label of a list run into a sentence (``售中服务:``)
# An item of an enumeration: ①, (1), 1. 1、 (not 1.5), 一、
ENUM = re.compile(
    r"(?:^|(?<=[\s;；。,，:：.!?]))(?:[①-⑳]|[(（]\d{1,2}[)）]|\d{1,2}(?:[.、．](?!\d)|(?=[\u4e00-\u9fff]))|[一二三四五六七八九十]{1,2}、)"
)
# Any list number, also one glued to the item before it (``…宣传2.销售…``): for counting items.
NUMBERED = re.compile(r"[①-⑳]|[(（]\d{1,2}[)）]|(?<![\d.．])\d{1,2}[.、．](?!\d)")
# ``1.7 鉴定要求`` / ``2.1.1 客户服务管理师…`` after a space: a heading a PDF scrape ran inline.
OUTLINE_HEADING = re.compile(r"(?<=\s)\d{1,2}\.\d{1,2}(?:\.\d{1,2})?\s+(?=[\u4e00-\u9fff])")
ITEM_START = re.compile(r"^(?:[①-⑳]|[(（]\d{1,2}[)）]|\d{1,2}[.、．](?!\d)|[一二三四五六七八九十]{1,2}、)")


@dataclass(frozen=True)
class Span:
    start: int
    end: int


def _item_key(marker: str) -> tuple[str, int]:
    """The numbering style of a :data:`NUMBERED` marker and its number (``2.`` → ``("dot", 2)``)."""
    if marker[0] in "(（":
        return "paren", int(marker[1:-1])
    if len(marker) == 1:  # ① … ⑳ (which str.isdigit() also counts as digits)
        return "circled", ord(marker) - ord("①") + 1
    return ("dun" if marker[-1] == "、" else "dot"), int(marker[:-1])


def restarts(text: str, start: int = 0, end: int | None = None) -> list[int]:
    """Offsets of list markers that start a new list: a ``1.`` (or ``①``, ``(1)``…) after
    at least two items of the same style in ``text[start:end]``. Scraped text runs lists
    together (``售前服务:1.…6.…售中服务:1.…``); the restart is where the next one begins.
    A numbered lead over its own items (``(2)要点:(1)…(2)…``) is not a restart.
    """
    run: dict[str, int] = {}  # items of each style since its list began
    out: list[int] = []
    for m in NUMBERED.finditer(text, start, len(text) if end is None else end):
        style, number = _item_key(m.group())
        if number == 1 and run.get(style, 0) >= 2:
            out.append(m.start())
            run[style] = 0
        run[style] = run.get(style, 0) + 1
    return out


def _label_start(text: str, colon: int, floor: int) -> int:
    """Where the label before a colon begins (``…捐物资)售中服务:`` → at ``售``): the last
    words of the CJK run before the colon, until they make four characters
    (``…的技巧培训内容:`` → ``培训内容``), at most :data:`LABEL_CHARS`."""
    a = colon
    while a > floor and re.match(r"[\u4e00-\u9fff]", text[a - 1]):
        a -= 1
    label = ""
    for word in reversed(words(text[a:colon])):  # whole words, until the label has 4 characters
        label = word + label
        if len(label) >= 4:
            break
    return colon - min(len(label), LABEL_CHARS)


def _split_run_together(text: str, span: Span) -> list[Span]:
    """``span`` cut before each ``label:`` that opens a new numbered list inside it, and
    before each outline heading a flattened PDF runs into the text (``… 1.7 鉴定要求 …``)."""
    cuts = [m.start() for m in OUTLINE_HEADING.finditer(text, span.start, span.end) if m.start() > span.start]
    for r in restarts(text, span.start, span.end):
        colon = r - 1
        while colon > span.start and text[colon].isspace():
            colon -= 1
        if text[colon] in ":：":
            cut = _label_start(text, colon, span.start)
            if span.start < cut < colon:
                cuts.append(cut)
    bounds = [span.start, *sorted(set(cuts)), span.end]
    out: list[Span] = []
    for a, b in itertools.pairwise(bounds):
        _add(out, text, a, b)
    return out


def sentences(text: str) -> list[Span]:
    """Sentence spans, whitespace trimmed: a sentence ends at 。！？!?；; or a line break
    (unless the line was hard-wrapped mid-sentence, :func:`wraps_at`), but not inside
    parentheses (``(“术”:…;“能”:沟通能力)`` stays whole); a new numbered
    list run into the sentence (``…6.社会公关服务售中服务:1.…``) starts a new one, and so
    does an outline heading run inline (``1.6 基本文化程度 大学专科 1.7 鉴定要求``).

    >>> t = "售前服务:1.广告2.布置售中服务:1.传授知识"
    >>> [t[s.start : s.end] for s in sentences(t)]
    ['售前服务:1.广告2.布置', '售中服务:1.传授知识']
    """
    out: list[Span] = []
    start, depth = 0, 0
    for i, c in enumerate(text):
        if c in "(（":
            depth += 1
        elif c in ")）":
            depth = max(0, depth - 1)
        if c == "\n" and wraps_at(text, i):
            continue
        if c == "\n" or (depth == 0 and c in "。！？!?；;"):
            end = i if c == "\n" else i + 1
            _add(out, text, start, end)
            start, depth = i + 1, (0 if c == "\n" else depth)
    _add(out, text, start, len(text))
    return _with_notes([part for span in out for part in _split_run_together(text, span)], text)


def wraps_at(text: str, newline: int) -> bool:
    """Whether the line break at ``newline`` was put in mid-sentence by a hard wrap
    (``…是靠社会舆⏎论、传统习惯…``): the line is a full one (:data:`WRAP_CHARS`), it ends
    in the middle of a clause (a Chinese character or a comma) and the next line goes on
    with a Chinese character, not with a list number or a heading.

    >>> wrapped = "道德是人类社会所特有的调节个人与自我、他人、社会和自然界之间关系的行为规范的总和,是靠社会舆"
    >>> len(sentences(wrapped + chr(10) + "论、传统习惯来维持的。"))
    1
    """
    line_start = text.rfind("\n", 0, newline) + 1
    line = text[line_start:newline].rstrip()
    after = text[newline + 1 : newline + 8].lstrip()
    return (
        WRAP_CHARS[0] <= len(line) <= WRAP_CHARS[1]
        and bool(MID_CLAUSE_END.search(line))
        and bool(after)
        and is_cjk(after[0])
        and not ITEM_START.match(after)
    )


def _with_notes(sents: list[Span], text: str) -> list[Span]:
    """A sentence that is one parenthetical note (``(指服务不能被储存…的特性)``) joins the
    sentence before it, which it explains; an item marker (``(1)``, ``(二)``) is no note."""
    out: list[Span] = []
    for s in sents:
        body = text[s.start : s.end]
        if (
            out
            and body[0] in "(（"
            and body[-1] in ")）"
            and not ITEM_START.match(body)
            and _closes_at_end(body)
        ):
            out[-1] = Span(out[-1].start, s.end)
        else:
            out.append(s)
    return out


def _closes_at_end(body: str) -> bool:
    """Whether the parenthesis opening ``body`` is the one its last character closes."""
    depth = 0
    for i, c in enumerate(body):
        depth += 1 if c in "(（" else -1 if c in ")）" else 0
        if depth == 0:
            return i == len(body) - 1
    return False


def _add(out: list[Span], text: str, a: int, b: int) -> None:
    while a < b and text[a].isspace():
        a += 1
    while b > a and text[b - 1].isspace():
        b -= 1
    if b > a:
        out.append(Span(a, b))


def is_short(sentence: str) -> bool:
    """A sentence too short to stand alone (``①服务的无形性;``): its explanation follows,
    unless it already carries it as a note (``…;(由一系列活动组成的过程)``)."""
    return len(sentence) < SHORT_SENTENCE and not sentence.endswith((")", "）"))


def windows(text: str) -> list[Span]:
    """Every sentence, and a short one (under 25 characters, e.g. ``①服务的无形性;``) also
    together with the next, which often carries its explanation."""
    sents = sentences(text)
    out: list[Span] = []
    for i, s in enumerate(sents):
        out.append(s)
        if is_short(text[s.start : s.end]) and i + 1 < len(sents):
            out.append(Span(s.start, sents[i + 1].end))
    return out


def ends_lead(sentence: str) -> bool:
    """A sentence ending in a colon (a star mark aside) announces what follows it."""
    return sentence.rstrip("★☆ ").endswith((":", "："))
