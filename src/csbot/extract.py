"""The answer span: the part of a passage that answers the question, verbatim.

* a list question (有哪些 / 包括 / 几个 / 哪几类 / 步骤) gets the whole enumerated list, from
  its lead sentence to the last item;
* a definition question (什么是X / X是指 / X的含义) gets the defining sentence(s);
* a fact question (哪一年 / 多少 / 谁提出) gets the sentence that holds the fact;
* an exam item answers as a whole (stem, options and its key).
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable
from dataclasses import dataclass

from .segment import words
from .textnorm import normalize

LIST_Q = re.compile(
    r"有哪些|哪几|哪些|包括|包含|几个|几种|几类|几项|几点|步骤|分为|分哪|构成|组成|内容|要素|原则|特[点征性]|方法|措施|技巧|六步|五大|\d+[大个项种点步]"
)
# The list cues that ask for every item (a question with only 特点 / 原则 / 方法 … may be
# about one item of a list: 管理型职业锚的特点).
ASKS_ALL = re.compile(
    r"有哪些|哪几|哪些|包括|包含|几个|几种|几类|几项|几点|分为|分哪|构成|组成|六步|五大|\d+[大个项种点步]"
)
ITEM_STANDOUT = 1.5  # an item scoring this many times every other numbered sentence is the one asked about
DEFINITION_Q = re.compile(r"什么是|是指|含义|涵义|定义|意思|何谓|概念|指的是|是什么")
FACT_Q = re.compile(r"哪一年|哪年|多少|谁|何时|什么时候|哪个国家|几年|几月|第几|多长|多久")
# The sentence window the question's vector is closest to (the dense retriever's pick)
# gets a quarter of the best sentence's lexical score on top of its own: it settles a
# paraphrase that shares few words with the answering sentence.
NEAR_LIFT = 0.25
SHORT_SENTENCE = 25  # characters; a sentence this short is read with the next one (unless noted)
LABEL_CHARS = 6  # the longest label of a list run into a sentence (``售中服务:``)
DEFINES = re.compile(r"是指|就是|即|定义[:：]|是[^,，。]{2,}")
# A sentence opening with a connective or a pronoun (而…, 因此…, 例如…, 这些…) leans on the
# one before it; the answer starts where the thought does (at most BACK_CHARS back).
LEANS_BACK = re.compile(
    r"^(?:而|因为|因此|所以|因而|从而|于是|例如|比如|譬如|但|然而|不过|同时|此外|另外|并且|而且|这|此|其|它|他们|则|故|总之|可见|由此)"
)
BACK_CHARS = 300
# English questions (the multilingual model answers them) are typed by their own words.
FACT_EN = re.compile(r"\b(?:who|when|which year|how (?:many|much|long))\b")
DEFINITION_EN = re.compile(r"\b(?:what is (?:a|an)|what does .+ mean|meaning|define|definition|stand for)\b")
LIST_EN = re.compile(r"\b(?:what are|which|list|steps|kinds|types|principles|characteristics|features)\b")

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


def question_type(question: str) -> str:
    """``fact``, ``definition``, ``list`` or ``general`` (checked in that order), for a
    question in either script or in English.

    >>> question_type("職業錨有哪幾種?"), question_type("Who proposed career anchors?")
    ('list', 'fact')
    """
    q = normalize(question)
    if FACT_Q.search(q) or FACT_EN.search(q):
        return "fact"
    is_list = bool(LIST_Q.search(q) or LIST_EN.search(q))
    if (DEFINITION_Q.search(q) or DEFINITION_EN.search(q)) and not is_list:
        return "definition"
    return "list" if is_list else "general"


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
    """Sentence spans, whitespace trimmed: a sentence ends at 。！？!?；; or a line break,
    but not inside parentheses (``(“术”:…;“能”:沟通能力)`` stays whole); a new numbered
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
        if c == "\n" or (depth == 0 and c in "。！？!?；;"):
            end = i if c == "\n" else i + 1
            _add(out, text, start, end)
            start, depth = i + 1, (0 if c == "\n" else depth)
    _add(out, text, start, len(text))
    return _with_notes([part for span in out for part in _split_run_together(text, span)], text)


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


def _back_to_the_thought(text: str, sents: list[Span], i: int, best: Span) -> tuple[int, Span]:
    """While the span opens with a sentence that leans on the one before it (``而…``,
    ``因此…``, ``例如…``) on the same line, start one sentence earlier (at most
    :data:`BACK_CHARS` before the span's end)."""
    while (
        i > 0
        and LEANS_BACK.match(normalize(text[sents[i].start : sents[i].start + 4]))
        and "\n" not in text[sents[i - 1].end : sents[i].start]
        and best.end - sents[i - 1].start <= BACK_CHARS
    ):
        i -= 1
        best = Span(sents[i].start, best.end)
    return i, best


def _list_span(text: str, sents: list[Span], best: Span) -> Span | None:
    """From the list's lead sentence to the end of its last item, if a list is there."""
    markers = [m.start() for m in ENUM.finditer(text) if m.start() >= best.start or m.start() == 0]
    following = [m for m in markers if m >= best.start]
    if len(markers) < 2 or not following:
        return None
    first = following[0]
    if first - best.end > 40:  # the list is not attached to the best sentence
        return None
    start = min(best.start, next(s.start for s in sents if s.end > first))
    later_lists = restarts(text, first)  # a restart needs items before it, so never ``first``
    if later_lists:  # the list ends where the next one starts
        following = [m for m in following if m < later_lists[0]]
    last_item = following[-1]
    end = next((s.end for s in sents if s.end > last_item), len(text))
    # an item ending in ";" continues the list to the next sentence end
    while end < len(text) and text[end - 1] in ";；,，":
        end = next((s.end for s in sents if s.end > end), len(text))
    return Span(start, end)


def extract_span(
    question: str,
    text: str,
    kind: str,
    weight: Callable[[str], float],
    allow_list: bool = True,
    near: tuple[int, int] | None = None,
) -> Span:
    """Pick the answering span of ``text``.

    Args:
        question: the student's question.
        text: the passage as written.
        kind: the passage kind (an ``exam-item`` answers whole).
        weight: the score of a sentence for the question (e.g. IDF-weighted term overlap).
        allow_list: whether a list following the best sentence may be returned whole.
        near: ``(start, end)`` of the window the question's vector is closest to, if any.
    """
    if kind == "exam-item":
        return Span(0, len(text))
    sents = sentences(text)
    if not sents:
        return Span(0, len(text))
    qtype = question_type(question)
    base = [weight(text[s.start : s.end]) + _bonus(qtype, text[s.start : s.end]) for s in sents]
    lift = NEAR_LIFT * max(base) if near and max(base) > 0 else 0.0
    scored = [
        (b + (lift if near and s.start < near[1] and near[0] < s.end else 0.0), -i, s)
        for i, (b, s) in enumerate(zip(base, sents, strict=True))
    ]
    best = max(scored)[2]
    i = sents.index(best)
    if qtype == "list" and not ASKS_ALL.search(normalize(question)) and _stands_out(text, sents, base, i):
        return best  # 管理型职业锚的特点: the item that names it, not the whole list
    if text[best.start] in "(（" and not ITEM_START.match(text[best.start : best.end]) and i > 0:
        i -= 1  # a parenthetical note explains the sentence before it
        best = Span(sents[i].start, best.end)
    if qtype != "list" and not ends_lead(text[best.start : best.end]):  # a list starts at its lead
        i, best = _back_to_the_thought(text, sents, i, best)
    if qtype in ("list", "general"):  # an item matched best: the answer is its whole list, from the lead
        lead = i
        while (
            lead > 0
            and (
                ITEM_START.match(text[sents[lead].start : sents[lead].end])
                or text[sents[lead].start] in "(（"
            )
            and not ends_lead(text[sents[lead].start : sents[lead].end])  # ``1.原因有5个方面:`` leads
        ):
            lead -= 1
        # a general question (为什么…) goes back only to a sentence that announces the list
        if qtype == "list" or _is_lead(text[sents[lead].start : sents[lead].end]):
            i = lead
            best = Span(sents[i].start, best.end)
    as_list = _list_span(text, sents, best) if allow_list else None
    best_text = text[best.start : best.end]
    names_list = qtype == "definition" and _is_heading(best_text)  # 什么是职业生涯规划? → its steps
    if as_list and (qtype in ("list", "general") or _is_lead(best_text) or names_list):
        return as_list
    if allow_list and ends_lead(text[best.start : best.end]):
        return Span(best.start, len(text))  # a lead without numbered items: what follows it
    end = best.end
    following = [s for s in sents if s.start >= best.end]
    short = _short(text[best.start : end])
    if following and (qtype in ("definition", "general", "list") or short):
        nxt = following[0]
        same_line = "\n" not in text[best.end : nxt.start]
        if (
            short or text[best.end - 1] in ",，;；" or (qtype == "list") or (qtype == "general" and same_line)
        ) and nxt.end - best.start <= 250:
            end = nxt.end
    return Span(best.start, end)


def _stands_out(text: str, sents: list[Span], base: list[float], i: int) -> bool:
    """Whether sentence ``i`` is a list item scoring :data:`ITEM_STANDOUT` times every
    other numbered sentence of the passage."""
    sentence = text[sents[i].start : sents[i].end]
    if not ITEM_START.match(sentence) or _is_heading(sentence) or _is_lead(sentence):
        return False  # a title or a lead over items is not one of them
    others = [
        b
        for j, (b, s) in enumerate(zip(base, sents, strict=True))
        if j != i and ITEM_START.match(text[s.start : s.end])
    ]
    return bool(others) and base[i] > 0 and base[i] >= ITEM_STANDOUT * max(others)


def _short(sentence: str) -> bool:
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
        if _short(text[s.start : s.end]) and i + 1 < len(sents):
            out.append(Span(s.start, sents[i + 1].end))
    return out


def ends_lead(sentence: str) -> bool:
    """A sentence ending in a colon (a star mark aside) announces what follows it."""
    return sentence.rstrip("★☆ ").endswith((":", "："))


def _is_lead(sentence: str) -> bool:
    return ends_lead(sentence) or bool(re.search(r"简述|有哪些|包括|如下|以下", sentence))


def _is_heading(sentence: str) -> bool:
    """A numbered title line (``3.客户服务管理师职业生涯规划(单选/多选)★(背)``): short, with
    no sentence or item end in it; the list under it is what it names."""
    body = re.sub(r"[★☆\s]|[(（]背[)）]", "", sentence)
    return bool(ITEM_START.match(body)) and len(body) <= 40 and not re.search(r"[。;；!?！？]", body)


def _bonus(qtype: str, sentence: str) -> float:
    if qtype == "definition" and DEFINES.search(sentence):
        return 0.5
    if qtype == "fact" and re.search(r"\d", sentence):
        return 0.3
    return 0.0
