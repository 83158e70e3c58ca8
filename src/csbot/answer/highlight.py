"""Where a question's terms occur in a passage, as character offsets into its text as written."""

from __future__ import annotations

import unicodedata
from functools import lru_cache

from csbot.text.normalise import to_simplified


@lru_cache(maxsize=4096)  # citations repeat: each passage is folded once
def _normalized_with_map(text: str) -> tuple[str, tuple[int, ...]]:
    """``text`` folded (NFKC, Simplified, lower case, no whitespace) and, for each folded
    character, the offset of the original character it came from."""
    chars: list[str] = []
    origin: list[int] = []
    for i, c in enumerate(text):
        for folded in unicodedata.normalize("NFKC", c).lower():
            if not folded.isspace():
                chars.append(folded)
                origin.append(i)
    joined = "".join(chars)
    simplified = to_simplified(joined)
    if len(simplified) != len(joined):  # a phrase conversion changed length: go char by char
        simplified = "".join(to_simplified(c)[:1] or c for c in chars)
    return simplified, tuple(origin)


def term_spans(text: str, terms: list[str]) -> list[tuple[int, int]]:
    """Non-overlapping ``(start, end)`` offsets in ``text`` where any of ``terms`` occurs.

    Matching ignores script, width, case and spacing (``客戶服 務`` matches ``客户服务``);
    longer terms win over the shorter terms inside them.

    >>> term_spans("客戶服務的特點", ["客户服务", "特点"])
    [(0, 4), (5, 7)]
    """
    norm, origin = _normalized_with_map(text)
    taken = [False] * len(norm)
    spans: list[tuple[int, int]] = []
    for term in sorted({t for t in terms if t}, key=lambda t: (-len(t), t)):
        start = norm.find(term)
        while start >= 0:
            end = start + len(term)
            if not any(taken[start:end]):
                for k in range(start, end):
                    taken[k] = True
                spans.append((origin[start], origin[end - 1] + 1))
            start = norm.find(term, end)
    return sorted(spans)
