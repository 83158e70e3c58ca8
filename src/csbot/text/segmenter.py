"""Segmentation for BM25: jieba with a domain dictionary, stopwords and bigram fallback."""

from __future__ import annotations

import logging
import re
import threading
from functools import lru_cache
from importlib import resources

from csbot.text.normalise import is_cjk, normalize

logger = logging.getLogger(__name__)

# Passages, their sentences and recent questions: a few thousand texts for this corpus.
TOKEN_CACHE = 32768
_WORD = re.compile(r"[\w\u3400-\u9fff]")


@lru_cache(maxsize=1)
def _stopwords() -> frozenset[str]:
    text = resources.files("csbot.data").joinpath("stopwords.txt").read_text(encoding="utf-8")
    return frozenset(w.strip() for w in text.splitlines() if w.strip())


_INIT = threading.Lock()


@lru_cache(maxsize=1)
def _tokenizer():  # type: ignore[no-untyped-def]
    with _INIT:  # concurrent first requests must not each load jieba's dictionary
        import jieba

        jieba.setLogLevel(logging.WARNING)
        tok = jieba.Tokenizer()
        with resources.as_file(resources.files("csbot.data").joinpath("userdict.txt")) as path:
            tok.load_userdict(str(path))
        tok.initialize()
        return tok


def char_bigrams(word: str) -> list[str]:
    """The overlapping two-character pieces of ``word`` (``职业规划`` → 职业, 业规, 规划)."""
    return [word[i : i + 2] for i in range(len(word) - 1)]


def words(text: str) -> list[str]:
    """jieba's words of ``text`` as written (nothing dropped: they join back to ``text``)."""
    return list(_tokenizer().lcut(text, HMM=True))


def tokenize(text: str, bigrams: bool = True, remember: bool = True) -> list[str]:
    """Tokens of ``text`` for BM25, in order.

    Text is normalised first (Traditional→Simplified, full-width folded, lower case).
    Stopwords and punctuation go; single characters that carry meaning stay (``礼``,
    ``岗``). With ``bigrams``, every CJK word of three or more characters also yields its
    character bigrams, so a term jieba splits differently in the question and the
    passage (or does not know) still matches.

    >>> tokenize("客户服务管理师的职业道德")
    ['客户服务管理师', '客户', '户服', '服务', '务管', '管理', '理师', '职业道德', '职业', '业道', '道德']

    ``remember=False`` bypasses the token cache, for one-off texts in bulk (the dictionary's
    headwords at build time) that would only push out the passages answering re-reads.
    """
    return list((_tokens if remember else _tokens.__wrapped__)(text, bigrams))


@lru_cache(maxsize=TOKEN_CACHE)
def _tokens(text: str, bigrams: bool) -> tuple[str, ...]:
    """:func:`tokenize`, remembered: answering re-reads the same passages and sentences."""
    stop = _stopwords()
    out: list[str] = []
    for word in _tokenizer().lcut(normalize(text), HMM=True):
        word = word.strip()
        if not word or word in stop or not _WORD.search(word):
            continue
        out.append(word)
        if bigrams and len(word) >= 3 and all(is_cjk(c) for c in word):
            out.extend(b for b in char_bigrams(word) if b not in stop)
    return tuple(out)


NO_PAIRS = "∅"  # what a text without two adjacent words indexes as (never a query pair)


def word_pairs(text: str) -> list[str]:
    """Adjacent informative words of ``text`` as ``"文化 程度"`` terms: a passage holding the
    question's words side by side, as a phrase, scores above one that only scatters them.

    >>> word_pairs("客户服务管理师需要什么文化程度?")
    ['客户服务管理师 文化', '文化 程度']
    """
    words = tokenize(text, bigrams=False)
    return [f"{a} {b}" for a, b in zip(words, words[1:], strict=False)]
