"""The answer span: the part of a passage that answers the question, verbatim.

* a list question (有哪些 / 包括 / 几个 / 哪几类 / 步骤) gets the whole enumerated list, from
  its lead sentence to the last item;
* a definition question (什么是X / X是指 / X的含义) gets the defining sentence(s);
* a fact question (哪一年 / 多少 / 谁提出) gets the sentence that holds the fact;
* an exam item answers as a whole (stem, options and its key).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache

from csbot.answer.qtypes import Next, SpanRule, asks_every_item, bonus, rule_for
from csbot.text.normalise import normalize
from csbot.text.sentences import ENUM, ITEM_START, Span, ends_lead, is_short, restarts, sentences

PASSAGE_CACHE = 4096  # passages whose sentences are remembered
WIDENED_CACHE = 32768  # (passage, sentence, rule) spans remembered
ITEM_STANDOUT = 1.5  # an item scoring this many times every other numbered sentence is the one asked about
# The sentence window the question's vector is closest to (the dense retriever's pick)
# gets a quarter of the best sentence's lexical score on top of its own: it settles a
# paraphrase that shares few words with the answering sentence.
NEAR_LIFT = 0.25
# A sentence opening with a connective or a pronoun (而…, 因此…, 例如…, 这些…) leans on the
# one before it; the answer starts where the thought does (at most BACK_CHARS back).
LEANS_BACK = re.compile(
    r"^(?:而|因为|因此|所以|因而|从而|于是|例如|比如|譬如|但|然而|不过|同时|此外|另外|并且|而且|这|此|其|它|他们|则|故|总之|可见|由此)"
)
BACK_CHARS = 300
# ``(二)服务的构成要素…``: a section number in parentheses opens a section, not a note
SECTION_NUMBER = re.compile(r"^[(（][一二三四五六七八九十]{1,3}[)）]")
# A sentence opening a section (``(二)``, ``二、``, ``第一章``) has the section's title run into
# it where the scrape lost the line break (``(二)客我关系服务工作开始于客户的要求…``): as an
# answer it is half a title, so the span goes on to the next sentence of its section.
SECTION_OPENING = re.compile(
    rf"{SECTION_NUMBER.pattern}|^[一二三四五六七八九十]{{1,2}}、|^第[一二三四五六七八九十]+章"
)


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
    # a lead's own number (``(2)理解客户内涵的几个要点:``) is not the first item of the list it announces
    opens_after = best.end if ends_lead(text[best.start : best.end]) else best.start
    following = [m for m in markers if m >= opens_after]
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
    last = next((s for s in sents if s.end > last_item), None)
    end = last.end if last else len(text)
    if last is not None and last.start > best.start and ends_lead(text[last.start : last.end]):
        # the last item announces a list of its own (``(2)理解客户内涵的几个要点:``): it goes on
        announced = _list_span(text, sents, last)
        end = max(end, announced.end) if announced else end
    # an item ending in ";" continues the list to the next sentence end
    while end < len(text) and text[end - 1] in ";；,，":
        end = next((s.end for s in sents if s.end > end), len(text))
    return Span(start, end)


@dataclass(frozen=True)
class Candidates:
    """A passage's sentences, each one's score for the question, and the span each would
    give as the best sentence (:func:`span_candidates`)."""

    sentences: list[Span]
    scores: list[float]
    spans: list[Span]
    rule: int  # the sentence the rules pick: their span is ``spans[rule]``


def _scored(
    question: str, text: str, weight: Callable[[str], float]
) -> tuple[list[Span], list[float], SpanRule]:
    sents = list(_sentences_of(text))
    rule = rule_for(question)
    return sents, [weight(text[s.start : s.end]) + bonus(rule, text[s.start : s.end]) for s in sents], rule


def extract_span(
    question: str,
    text: str,
    kind: str,
    weight: Callable[[str], float],
    allow_list: bool = True,
    near: tuple[int, int] | None = None,
) -> Span:
    """Pick the answering span of ``text``: the best sentence for the question, widened as
    the question type's :class:`~csbot.answer.qtypes.SpanRule` says.

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
    sents, base, rule = _scored(question, text, weight)
    if not sents:
        return Span(0, len(text))
    return _around(question, text, sents, base, _best(sents, base, near), rule, allow_list)


def _best(sents: list[Span], base: list[float], near: tuple[int, int] | None) -> int:
    """The rules' best sentence: the highest score, the one in the ``near`` window lifted by
    :data:`NEAR_LIFT` of the best score; the first of equals."""
    lift = NEAR_LIFT * max(base) if near and max(base) > 0 else 0.0
    scored = [
        (b + (lift if near and s.start < near[1] and near[0] < s.end else 0.0), -i)
        for i, (b, s) in enumerate(zip(base, sents, strict=True))
    ]
    return -max(scored)[1]


def span_candidates(
    question: str, text: str, kind: str, weight: Callable[[str], float], near: tuple[int, int] | None = None
) -> Candidates | None:
    """Every sentence of ``text`` as the best one, and the span :func:`extract_span` would
    widen it to (the learned span picker chooses among them), and which one the rules pick
    (``near`` as for :func:`extract_span`); None for an exam item or a text without
    sentences, which :func:`extract_span` answers whole."""
    if kind == "exam-item":
        return None
    sents, base, rule = _scored(question, text, weight)
    if not sents:
        return None
    spans = [_around(question, text, sents, base, i, rule, True) for i in range(len(sents))]
    return Candidates(sents, base, spans, _best(sents, base, near))


def _around(
    question: str, text: str, sents: list[Span], base: list[float], i: int, rule: SpanRule, allow_list: bool
) -> Span:
    """The span around best sentence ``i``: the item alone when it stands out, else widened."""
    if rule.one_item and not asks_every_item(question) and _stands_out(text, sents, base, i):
        return sents[i]  # 管理型职业锚的特点: the item that names it, not the whole list
    return _widened(text, i, rule, allow_list)


@lru_cache(maxsize=PASSAGE_CACHE)
def _sentences_of(text: str) -> tuple[Span, ...]:
    """The sentences of a passage (remembered: the same passages answer again and again)."""
    return tuple(sentences(text))


@lru_cache(maxsize=WIDENED_CACHE)
def _widened(text: str, i: int, rule: SpanRule, allow_list: bool) -> Span:
    """Sentence ``i`` of ``text`` widened back and forward as ``rule`` says (remembered: it
    depends on the passage and the rule alone, and the span picker asks it of every sentence)."""
    sents = list(_sentences_of(text))
    best = _widen_back(text, sents, i, sents[i], rule)
    return _widen_forward(text, sents, best, rule, allow_list)


def _widen_back(text: str, sents: list[Span], i: int, best: Span, rule: SpanRule) -> Span:
    """Start the span where its thought starts: before a note's sentence, a connective's
    antecedent (if the rule says so), or a list's lead (as the rule says)."""
    opening = text[best.start : best.end]
    if (
        text[best.start] in "(（"
        and not ITEM_START.match(opening)
        and not SECTION_NUMBER.match(opening)
        and i > 0
    ):
        i -= 1  # a parenthetical note explains the sentence before it
        best = Span(sents[i].start, best.end)
    if rule.back_to_thought and not ends_lead(text[best.start : best.end]):  # a list starts at its lead
        i, best = _back_to_the_thought(text, sents, i, best)
    if rule.back_to_lead != "never":  # an item matched best: the answer is its whole list, from the lead
        lead = i
        while lead > 0 and _under_a_lead(text[sents[lead].start : sents[lead].end]):
            lead -= 1
        # a general question (为什么…) goes back only to a sentence that announces the list
        if rule.back_to_lead == "always" or _is_lead(text[sents[lead].start : sents[lead].end]):
            best = Span(sents[lead].start, best.end)
    return best


def _under_a_lead(sentence: str) -> bool:
    """Whether ``sentence`` is an item (or a bracketed note) that belongs under a lead before
    it, rather than a sentence that leads itself: ``1.原因有5个方面:``, a numbered title
    (``(3)服务的特性…★(背)``) or a section's opening (``(二)服务的构成要素…``)."""
    is_item = bool(ITEM_START.match(sentence)) or sentence[:1] in ("(", "（")
    return (
        is_item
        and not ends_lead(sentence)
        and not _is_heading(sentence)
        and not SECTION_NUMBER.match(sentence)
    )


def _widen_forward(text: str, sents: list[Span], best: Span, rule: SpanRule, allow_list: bool) -> Span:
    """End the span where the answer ends: the list it leads or names, what a lead without
    items announces, or the next sentence when the rule's :class:`Next` level allows."""
    as_list = _list_span(text, sents, best) if allow_list else None
    best_text = text[best.start : best.end]
    names_list = rule.list_from_title and _is_heading(best_text)  # 什么是职业生涯规划? → its steps
    if as_list and (rule.whole_list or _is_lead(best_text) or names_list):
        return as_list
    if allow_list and ends_lead(best_text):
        return Span(best.start, len(text))  # a lead without numbered items: what follows it
    following = [s for s in sents if s.start >= best.end]
    if not following:
        return best
    nxt = following[0]
    joins = (
        is_short(best_text)
        or bool(SECTION_OPENING.match(best_text) and not SECTION_OPENING.match(text[nxt.start : nxt.end]))
        or (rule.next_sentence >= Next.IF_CONTINUED and text[best.end - 1] in ",，;；")
        or (rule.next_sentence >= Next.IF_SAME_LINE and "\n" not in text[best.end : nxt.start])
        or rule.next_sentence >= Next.ALWAYS
    )
    return Span(best.start, nxt.end) if joins and nxt.end - best.start <= 250 else best


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


def _is_lead(sentence: str) -> bool:
    return ends_lead(sentence) or bool(re.search(r"简述|有哪些|包括|如下|以下", sentence))


def _is_heading(sentence: str) -> bool:
    """A numbered title line (``3.客户服务管理师职业生涯规划(单选/多选)★(背)``): short, with
    no sentence or item end in it; the list under it is what it names."""
    body = re.sub(r"[★☆\s]|[(（]背[)）]", "", sentence)
    return bool(ITEM_START.match(body)) and len(body) <= 40 and not re.search(r"[。;；!?！？]", body)
