"""Question types: what kind of answer a question asks for, read from its wording."""

from __future__ import annotations

import re

from csbot.text.normalise import normalize

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
# English questions (the multilingual model answers them) are typed by their own words.
FACT_EN = re.compile(r"\b(?:who|when|which year|how (?:many|much|long))\b")
DEFINITION_EN = re.compile(r"\b(?:what is (?:a|an)|what does .+ mean|meaning|define|definition|stand for)\b")
LIST_EN = re.compile(r"\b(?:what are|which|list|steps|kinds|types|principles|characteristics|features)\b")


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


def _bonus(qtype: str, sentence: str) -> float:
    if qtype == "definition" and DEFINES.search(sentence):
        return 0.5
    if qtype == "fact" and re.search(r"\d", sentence):
        return 0.3
    return 0.0
