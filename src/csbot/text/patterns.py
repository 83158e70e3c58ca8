"""The grammar of exam items, written once: option letters, blanks and stored answer keys.

Chunking (keeping an item in one passage), query analysis (dropping letters before
retrieval) and exam mode (reading the options, the stored key) each build their patterns
from these pieces, so a change to what counts as an option or a key is made here.

>>> bool(ANSWER_KEY.search("正确答案:A、C")), BLANK.sub("", "以貌取人是指( )。")
(True, '以貌取人是指。')
"""

from __future__ import annotations

import re

LETTER = "[A-E]"  # an option letter
LATER_LETTER = "[B-E]"  # any option after the first
LETTER_MARK = "[、.．]"  # what follows a letter: A、 A. A．
PAREN_LETTER = rf"[(（]{LETTER}[)）]"  # (A) （A）
KEY_LABEL = "正确答案|参考答案"  # an exam item's stored answer: 正确答案:B
KEY_LETTERS = rf"{LETTER}(?:\s*[、,，]?\s*{LETTER})*"  # B / A、C / ABD
PAREN_BLANK = r"[(（]\s*[)）]"  # the blank of a fill-in stem: ( )
BLANK = re.compile(rf"{PAREN_BLANK}|_{{2,}}|＿{{2,}}")  # ( ), ___
# A stored key, ending an item: 正确答案:B, 参考答案：A、C
ANSWER_KEY = re.compile(rf"(?:{KEY_LABEL})\s*[:：]\s*{LETTER}+(?:\s*[、,，]?\s*{LETTER})*")
# The key with its letters (also a bare 答案 B), for reading what an item stores.
KEY = re.compile(rf"(?:{KEY_LABEL}|答案)\s*[:：]?\s*({KEY_LETTERS})")
# A key left in a student's question (``…正确答案:``): dropped before retrieval.
ANSWER_TAIL = re.compile(rf"({KEY_LABEL})\s*[:：]?\s*{LETTER}*")
