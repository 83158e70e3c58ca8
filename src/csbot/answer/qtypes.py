"""Question types: what kind of answer a question asks for, and the span rule for each.

To add a type: a member of :class:`QuestionType`, its cue patterns in :data:`CUES`, its
:class:`SpanRule` in :data:`RULES`, and its place in :func:`question_type`'s order.
:func:`csbot.answer.spans.extract_span` reads only the rule, never the type's name.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import IntEnum, StrEnum

from csbot.text.normalise import normalize


class QuestionType(StrEnum):
    FACT = "fact"  # 哪一年 / 多少 / 谁提出: the sentence that holds the fact
    DEFINITION = "definition"  # 什么是X / X是指 / X的含义: the defining sentence(s)
    LIST = "list"  # 有哪些 / 包括 / 几个 / 步骤: the whole list, lead to last item
    GENERAL = "general"  # anything else (为什么…, 如何…)


LIST_Q = re.compile(
    r"有哪些|哪几|哪些|包括|包含|几个|几种|几类|几项|几点|步骤|分为|分哪|构成|组成|内容|要素|原则|特[点征性]|方法|措施|技巧|六步|五大|\d+[大个项种点步]"
)
# The list cues that ask for every item (a question with only 特点 / 原则 / 方法 … may be
# about one item of a list: 管理型职业锚的特点).
ASKS_ALL = re.compile(
    r"有哪些|哪几|哪些|包括|包含|几个|几种|几类|几项|几点|分为|分哪|构成|组成|六步|五大|\d+[大个项种点步]"
)
DEFINITION_Q = re.compile(r"什么是|是指|含义|涵义|定义|意思|何谓|概念|指的是|是什么")
FACT_Q = re.compile(r"哪一年|哪年|多少|谁|何时|什么时候|哪个国家|几年|几月|第几|多长|多久")
DEFINES = re.compile(r"是指|就是|即|定义[:：]|是[^,，。]{2,}")
HAS_NUMBER = re.compile(r"\d")
# English questions (the multilingual model answers them) are typed by their own words.
FACT_EN = re.compile(r"\b(?:who|when|which year|how (?:many|much|long))\b")
DEFINITION_EN = re.compile(r"\b(?:what is (?:a|an)|what does .+ mean|meaning|define|definition|stand for)\b")
LIST_EN = re.compile(r"\b(?:what are|which|list|steps|kinds|types|principles|characteristics|features)\b")

# The cues of each type, Chinese (either script, matched after normalising) and English.
CUES: dict[QuestionType, tuple[re.Pattern[str], ...]] = {
    QuestionType.FACT: (FACT_Q, FACT_EN),
    QuestionType.DEFINITION: (DEFINITION_Q, DEFINITION_EN),
    QuestionType.LIST: (LIST_Q, LIST_EN),
}


class Next(IntEnum):
    """When the sentence after the best one joins the span (each level includes the ones below)."""

    IF_SHORT = 0  # the best sentence is too short to stand alone (``①服务的无形性;``)
    IF_CONTINUED = 1  # … or it ends in , or ; (the thought goes on)
    IF_SAME_LINE = 2  # … or the next sentence stands on the same raw line
    ALWAYS = 3  # … always (within 250 characters)


@dataclass(frozen=True)
class SpanRule:
    """How a question type's answer span is cut around its best-matching sentence.

    Attributes:
        bonus: a sentence matching ``bonus_pattern`` scores this much more (a definition
            question prefers a sentence that defines, a fact question one with a number).
        one_item: the answer may be one list item that stands out (``管理型职业锚的特点``)
            when the question does not ask for every item.
        back_to_thought: a best sentence that leans on the one before (``而…``, ``因此…``)
            brings it along.
        back_to_lead: ``always`` walk back over list items to their lead; ``announced`` only
            to a lead that announces the list (``…有以下几点:``); ``never``.
        whole_list: an enumerated list attached to the best sentence is the answer.
        list_from_title: a numbered title line as best sentence answers with the list under it.
        next_sentence: when the following sentence joins the span.
    """

    bonus_pattern: re.Pattern[str] | None = None
    bonus: float = 0.0
    one_item: bool = False
    back_to_thought: bool = True
    back_to_lead: str = "never"
    whole_list: bool = False
    list_from_title: bool = False
    next_sentence: Next = Next.IF_SHORT


RULES: dict[QuestionType, SpanRule] = {
    QuestionType.FACT: SpanRule(bonus_pattern=HAS_NUMBER, bonus=0.3),
    QuestionType.DEFINITION: SpanRule(
        bonus_pattern=DEFINES, bonus=0.5, list_from_title=True, next_sentence=Next.IF_CONTINUED
    ),
    QuestionType.LIST: SpanRule(
        one_item=True,
        back_to_thought=False,
        back_to_lead="always",
        whole_list=True,
        next_sentence=Next.ALWAYS,
    ),
    QuestionType.GENERAL: SpanRule(
        back_to_lead="announced", whole_list=True, next_sentence=Next.IF_SAME_LINE
    ),
}


def question_type(question: str) -> QuestionType:
    """:attr:`~QuestionType.FACT`, then :attr:`~QuestionType.DEFINITION` (unless list cues
    are there too), then :attr:`~QuestionType.LIST`, else :attr:`~QuestionType.GENERAL`;
    for a question in either script or in English.

    >>> question_type("職業錨有哪幾種?").value, question_type("Who proposed career anchors?").value
    ('list', 'fact')
    """
    q = normalize(question)

    def cued(qtype: QuestionType) -> bool:
        return any(p.search(q) for p in CUES[qtype])

    if cued(QuestionType.FACT):
        return QuestionType.FACT
    is_list = cued(QuestionType.LIST)
    if cued(QuestionType.DEFINITION) and not is_list:
        return QuestionType.DEFINITION
    return QuestionType.LIST if is_list else QuestionType.GENERAL


def asks_every_item(question: str) -> bool:
    """Whether a list question asks for the whole set (有哪些, 几种, 包括…), not one item."""
    return bool(ASKS_ALL.search(normalize(question)))


def rule_for(question: str) -> SpanRule:
    """The span rule of the question's type."""
    return RULES[question_type(question)]


def bonus(rule: SpanRule, sentence: str) -> float:
    """The rule's bonus for ``sentence`` (0 when it does not match)."""
    if rule.bonus_pattern is not None and rule.bonus_pattern.search(sentence):
        return rule.bonus
    return 0.0
