"""Reading a student's question: option letters, blanks, the form used for retrieval."""

from __future__ import annotations

import re

from csbot.text.normalise import fold_width, is_cjk

# A、 A. A． (A) A) — an option letter, when it starts a line or follows a space, a
# punctuation mark, or the end of the stem's blank.
_OPTION_LETTER = re.compile(
    r"(?:^|(?<=[\s。;；,，:：)）?？]))(?:[(（][A-E][)）]|[A-E](?:[、.．:：]|\s+(?=[^\sA-Za-z])))"
    r"|(?<=[\u4e00-\u9fff])[B-E][、.．](?=\S)"
)
BLANK = re.compile(r"[(（]\s*[)）]|_{2,}|＿{2,}")  # the blank of a fill-in stem: ( ), ___
_ANSWER_TAIL = re.compile(r"(正确答案|参考答案)\s*[:：]?\s*[A-E]*")


def retrieval_text(question: str) -> str:
    """The question as retrieval should see it: option letters, blanks and answer keys
    removed, options kept as words.

    >>> retrieval_text("以所谓的以貌取人是指( )。A、晕轮效应 B、首因效应")
    '以所谓的以貌取人是指 。 晕轮效应 首因效应'
    """
    text = fold_width(question)
    text = _ANSWER_TAIL.sub(" ", text)
    text = BLANK.sub(" ", text)
    text = _OPTION_LETTER.sub(" ", text)
    return re.sub(r"\s+", " ", text).strip()


def is_cross_lingual(question: str) -> bool:
    """A question with no Chinese character in it (English, in practice)."""
    return not any(is_cjk(c) for c in question)
