"""Words the material mostly says otherwise, and the weight they are given.

A student writes 顾客; the material says 客户 in 140 of its 220 passages and 顾客 in 16. BM25
weighs a word by how rare it is, so 顾客 pulls the question to the 16 passages that happen to
use it, though they are no more about the question than the others (on ``dev``, questions
with 顾客 found the right passage first 0.54 of the time, with 客户 0.79). The word is rare;
what it means is not.

At build time every word of the material that shares a CC-CEDICT gloss
(:mod:`csbot.index.glossary`) with a word the material uses in more passages, and that the
embedding model places close to it (cosine of the two words ≥ :data:`SAME_MEANING`), is filed
under the most frequent such word: 顾客 → 客户, 员工 → 人员, 公司 → 企业, 方式 → 方法. The word
then weighs as that word does, wherever a word's rarity is its weight: in BM25
(:meth:`csbot.search.retriever.Retriever.bm25`, its scores scaled to the common word's IDF),
in term overlap and in the span's sentence scores (:class:`csbot.search.overlap.TermWeights`).
It still matches only where it is written, but weighs as rare as its meaning is. Either
source alone is too loose: the dictionary pivot files 处理 with 过程 and 沟通 with 结合, and the
model's nearest words follow shared characters (及格 → 及); both together rarely err, and an
error only lowers a word's weight.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping

import numpy as np

from csbot.index.bm25 import idf

# Cosine of two words' vectors (as queries) from which they are taken to mean the same; on
# ``dev`` 0.92–0.94 moved the same questions, 0.95 none.
SAME_MEANING = 0.93


def gloss_mates(entries: Mapping[str, Iterable[str]]) -> dict[str, set[str]]:
    """Each word of the glossary's entries → the other words filed under one of its glosses."""
    mates: dict[str, set[str]] = {}
    for words in entries.values():
        words = list(dict.fromkeys(words))
        for w in words:
            mates.setdefault(w, set()).update(x for x in words if x != w)
    return mates


def common_words(
    entries: Mapping[str, Iterable[str]],
    doc_freq: Callable[[str], int],
    embed: Callable[[list[str]], np.ndarray],
) -> dict[str, str]:
    """Word → the word of the same meaning the material uses in the most passages, for each
    word that has one used in more passages than itself.

    Args:
        entries: the glossary's English entries (gloss → the material's words).
        doc_freq: in how many passages the material uses a word.
        embed: the embedding model's vectors of words (one row each).
    """
    mates = gloss_mates(entries)
    words = sorted(
        w for w, m in mates.items() if doc_freq(w) > 0 and any(doc_freq(x) > doc_freq(w) for x in m)
    )
    if not words:
        return {}
    wanted = sorted(set(words) | {x for w in words for x in mates[w]})
    vectors = np.asarray(embed(wanted), dtype=np.float32)
    vectors /= np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)
    row = {w: i for i, w in enumerate(wanted)}
    out: dict[str, str] = {}
    for w in words:
        own = doc_freq(w)
        close = [
            x
            for x in mates[w]
            if doc_freq(x) > own and float(vectors[row[w]] @ vectors[row[x]]) >= SAME_MEANING
        ]
        if close:
            out[w] = max(close, key=lambda x: (doc_freq(x), x))
    return dict(sorted(out.items()))


def bm25_factors(common: Mapping[str, str], doc_freq: Callable[[str], int], n: int) -> dict[str, float]:
    """For each word filed under a common word: the factor that brings its BM25 scores to
    that word's IDF (below 1: the common word is in more passages)."""
    out = {}
    for word, usual in common.items():
        own = doc_freq(word)
        if 0 < own < doc_freq(usual):
            out[word] = idf(doc_freq(usual), n) / idf(own, n)
    return out
