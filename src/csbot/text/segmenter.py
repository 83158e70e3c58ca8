"""Segmentation for BM25: jieba with a domain dictionary, stopwords and bigram fallback.

jieba's dictionary and the stopword list load once per process, under a lock, on first use.
A :class:`Segmenter` adds a bounded memory of the tokens it has produced; the loaded index
owns one (answering re-reads the same passages and sentences), and the index build uses
one that remembers nothing.
"""

from __future__ import annotations

import logging
import re
import threading
from importlib import resources
from typing import Any

import cachetools

from csbot.datafiles import data_lines
from csbot.lazy import load_once
from csbot.text.normalise import is_cjk, normalize

logger = logging.getLogger(__name__)

# Passages, their sentences and recent questions, bounded by the tokens held (not by the
# number of texts: 32,768 long questions once held 3.4 GB). About 40 MB at most.
TOKEN_CACHE = 500_000
NO_PAIRS = "∅"  # what a text without two adjacent words indexes as (never a query pair)
_WORD = re.compile(r"[\w\u3400-\u9fff]")


@load_once
def _jieba() -> Any:
    """jieba with csbot's user dictionary (loading it takes about a second)."""
    import jieba

    jieba.setLogLevel(logging.WARNING)
    tok = jieba.Tokenizer()
    with resources.as_file(resources.files("csbot.data").joinpath("userdict.txt")) as path:
        tok.load_userdict(str(path))
    tok.initialize()
    return tok


@load_once
def stopwords() -> frozenset[str]:
    """Chinese stopwords: the ``zh`` list of stopwords-iso (function and question words a
    student asks with, 啥 那么 为什么) and csbot's own (``data/stopwords.txt``: the words
    of exam instructions, 简述 下列 正确) and PyCantonese's Cantonese ones
    (``data/stopwords_yue.txt``: 嘅 係 點解, normalised as questions are). Besides keeping
    BM25 to content words, a question word the corpus never uses would otherwise count as
    something the material lacks (dev student-voice answers holding the evidence 0.31 -> 0.36;
    a Cantonese question's particles made it look half unanswerable)."""
    import stopwordsiso

    own = set(data_lines("stopwords.txt"))
    cantonese = {normalize(w) for w in data_lines("stopwords_yue.txt")}
    return frozenset(own | cantonese | set(stopwordsiso.stopwords("zh")))


def char_bigrams(word: str) -> list[str]:
    """The overlapping two-character pieces of ``word`` (``职业规划`` → 职业, 业规, 规划)."""
    return [word[i : i + 2] for i in range(len(word) - 1)]


def words(text: str) -> list[str]:
    """jieba's words of ``text`` as written (nothing dropped: they join back to ``text``)."""
    return list(_jieba().lcut(text, HMM=True))


class Segmenter:
    """BM25 tokens and word pairs of a text, remembering the last ``cache_size`` texts."""

    def __init__(self, cache_size: int = TOKEN_CACHE) -> None:
        """``cache_size``: how many tokens (over all remembered texts) to keep; 0 for none."""
        self._tokens = (
            cachetools.cached(
                cachetools.LRUCache(maxsize=cache_size, getsizeof=_held), lock=threading.Lock()
            )(_tokens)
            if cache_size
            else _tokens
        )

    def tokenize(self, text: str, bigrams: bool = True) -> list[str]:
        """Tokens of ``text`` for BM25, in order.

        Text is normalised first (Traditional→Simplified, full-width folded, lower case).
        Stopwords and punctuation go; single characters that carry meaning stay (``礼``,
        ``岗``). With ``bigrams``, every CJK word of three or more characters also yields its
        character bigrams, so a term jieba splits differently in the question and the
        passage (or does not know) still matches.

        >>> Segmenter().tokenize("客户服务管理师的职业道德")
        ['客户服务管理师', '客户', '户服', '服务', '务管', '管理', '理师', '职业道德', '职业', '业道', '道德']
        """
        return list(self._tokens(text, bigrams))

    def word_pairs(self, text: str) -> list[str]:
        """Adjacent informative words of ``text`` as ``"文化 程度"`` terms: a passage holding
        the question's words side by side, as a phrase, scores above one that only scatters them.

        >>> Segmenter().word_pairs("客户服务管理师需要什么文化程度?")
        ['客户服务管理师 文化', '文化 程度']
        """
        found = self.tokenize(text, bigrams=False)
        return [f"{a} {b}" for a, b in zip(found, found[1:], strict=False)]


def _held(tokens: tuple[str, ...]) -> int:
    """What a remembered text counts against the cache: its tokens (and one for the key,
    which is no longer than they are)."""
    return len(tokens) + 1


def _tokens(text: str, bigrams: bool) -> tuple[str, ...]:
    stop = stopwords()
    out: list[str] = []
    for word in _jieba().lcut(normalize(text), HMM=True):
        word = word.strip()
        if not word or word in stop or not _WORD.search(word):
            continue
        out.append(word)
        if bigrams and len(word) >= 3 and all(is_cjk(c) for c in word):
            out.extend(b for b in char_bigrams(word) if b not in stop)
    return tuple(out)
