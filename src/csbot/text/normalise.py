"""Text normalisation for matching: full-width forms, Traditional→Simplified, spacing."""

from __future__ import annotations

import re
import unicodedata

from csbot.lazy import load_once

_CJK = r"\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_SPACE_BETWEEN_CJK = re.compile(rf"(?<=[{_CJK}])[ \t\u3000]+(?=[{_CJK}])")
_WHITESPACE = re.compile(r"\s+")


@load_once
def _t2s():  # type: ignore[no-untyped-def]
    import opencc

    return opencc.OpenCC("t2s")


def to_simplified(text: str) -> str:
    """Traditional → Simplified Chinese (OpenCC ``t2s``); other text passes through."""
    return str(_t2s().convert(text))


def fold_width(text: str) -> str:
    """NFKC: full-width letters, digits and punctuation become their ASCII forms.

    Also maps compatibility ideographs that PDF extraction leaves behind (``⼤`` → ``大``).
    """
    return unicodedata.normalize("NFKC", text)


def join_cjk_spacing(text: str) -> str:
    """Drop spaces between two CJK characters: PDF scrapes break words (``客户服 务``)."""
    return _SPACE_BETWEEN_CJK.sub("", text)


def normalize(text: str) -> str:
    """The form both passages and questions are matched in.

    >>> normalize("客戶服務 管理（ＡＢＣ）")
    '客户服务管理(abc)'
    """
    return normalize_folded(to_simplified(fold_width(text)))


def normalize_folded(folded: str) -> str:
    """:func:`normalize` of text already width-folded and simplified (the costly steps), for
    a caller that needs both forms."""
    text = join_cjk_spacing(folded)
    text = _WHITESPACE.sub(" ", text).strip()
    return text.lower()


def squash(text: str) -> str:
    """:func:`normalize` with all whitespace removed: the form for "does A contain B" checks
    across script, width and PDF spacing (``客戶服 務`` → ``客户服务``)."""
    return "".join(normalize(text).split())


def is_blank(text: str) -> bool:
    r"""Nothing a reader can see: only whitespace, control or format characters (NUL,
    zero-width spaces and joiners, byte-order marks).

    >>> is_blank("\u200b\u200d \x00"), is_blank("\u200b问")
    (True, False)
    """
    return all(c.isspace() or unicodedata.category(c) in ("Cc", "Cf") for c in text)


def has_lone_surrogate(text: str) -> bool:
    """Whether ``text`` holds half of a UTF-16 surrogate pair, which no UTF-8 text can carry."""
    return any("\ud800" <= c <= "\udfff" for c in text)


def is_cjk(char: str) -> bool:
    return bool(re.match(rf"[{_CJK}]", char))
