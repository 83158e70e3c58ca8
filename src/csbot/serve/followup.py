"""Follow-up questions in a chat: ``那第二点呢?`` is read against the question before it."""

from __future__ import annotations

import re
from collections.abc import Sequence

CUES = re.compile(
    r"^(那|那么|还有|另外|再)|呢[?？]*$|第[一二三四五六七八九十\d]+[点条步个项]|举个?例子?|例如|具体|详细|展开|为什么|什么意思|怎么理解"
)
MAX_FOLLOW_UP_CHARS = 15


def is_follow_up(question: str) -> bool:
    """A short turn that leans on the one before (``还有呢?``, ``举个例子``, ``那第二点呢?``)."""
    text = question.strip()
    return 0 < len(text) <= MAX_FOLLOW_UP_CHARS and bool(CUES.search(text))


def resolve_followup(question: str, previous: Sequence[str]) -> str:
    """The question to retrieve with: a follow-up is joined to the last full question asked.

    Args:
        question: the user's new turn.
        previous: the user's earlier turns, oldest first.

    >>> resolve_followup("那第二点呢?", ["投诉处理的六步法是什么?"])
    '投诉处理的六步法是什么? 那第二点呢?'
    >>> resolve_followup("什么是客我关系?", ["投诉处理的六步法是什么?"])
    '什么是客我关系?'
    """
    text = question.strip()
    if not is_follow_up(text):
        return text
    anchor = next((q.strip() for q in reversed(previous) if q.strip() and not is_follow_up(q)), None)
    return f"{anchor} {text}" if anchor else text
