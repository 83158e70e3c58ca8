"""Term overlap: how much of a question's informative vocabulary a passage holds.

``overlap = Σ idf(w)·found(w) / Σ idf(w)`` over the question's words, with
``idf(w) = ln((N + 1) / (df(w) + 0.5))``: a word the corpus never uses weighs most, so a
question about something the material lacks (``报名费``) scores low even when its other words
match. Fusion uses it to decide how far to trust BM25, confidence to decide whether to trust
an answer.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from csbot.index.protocols import LexicalIndex
from csbot.search.query import Phrase, Query
from csbot.text.segmenter import char_bigrams


class TermWeights:
    """IDF of terms in one lexical index of ``n`` passages."""

    def __init__(self, lexical: LexicalIndex, n: int, common: Mapping[str, str] | None = None) -> None:
        self.lexical = lexical
        self.n = n
        self.unseen = self.of_df(0)  # the weight of a word the corpus never uses
        # a word the material mostly says otherwise weighs as its common synonym (顾客 as 客户)
        self.common = common or {}

    def of_df(self, df: int) -> float:
        """``ln((N + 1) / (df + 0.5))``."""
        return float(np.log((self.n + 1) / (df + 0.5)))

    def idf(self, term: str) -> float:
        df = self.lexical.doc_freq(term)
        usual = self.common.get(term)
        return self.of_df(max(df, self.lexical.doc_freq(usual)) if usual else df)


def overlap(query: Query, passage_tokens: set[str], weights: TermWeights) -> float:
    """IDF-weighted share of the question's words found among ``passage_tokens``.

    An English question's phrases count through their translations: a phrase weighs as its
    rarest translation and is found when any translation is; a word with none weighs as a
    word the corpus never uses.
    """
    if query.english is not None:
        phrase_weights = _phrase_weights(query, weights)
        found = [_has_any(p, passage_tokens) for p in query.phrases]
        total = sum(phrase_weights) + weights.unseen * len(query.english.unknown)
        got = sum(w for w, ok in zip(phrase_weights, found, strict=True) if ok)
        return round(got / total, 6) if total > 0 else 0.0
    bridged = {p.source: (w, p) for p, w in zip(query.phrases, _phrase_weights(query, weights), strict=True)}
    total = got = 0.0
    for w in query.words:
        if w in bridged:  # a word the corpus never uses, through its synonyms
            weight, phrase = bridged[w]
            share = max(found_share(w, passage_tokens), float(_has_any(phrase, passage_tokens)))
        else:
            weight, share = weights.idf(w), found_share(w, passage_tokens)
        total += weight
        got += weight * share
    return round(got / total, 6) if total > 0 else 0.0


def _has_any(phrase: Phrase, passage_tokens: set[str]) -> bool:
    return any(all(t in passage_tokens for t in head) for head in phrase.translations)


def _phrase_weights(query: Query, weights: TermWeights) -> list[float]:
    """Each English phrase weighs as its rarest translation."""
    return [
        max((weights.idf(t) for head in p.translations for t in head), default=0.0) for p in query.phrases
    ]


def found_share(word: str, hay: set[str]) -> float:
    """1 when the passage has ``word``; else, for a word of three or more characters, the
    share of its character bigrams it has (``可分离性`` against a passage saying ``不可分性``:
    可分 of 可分, 分离, 离性), as BM25's bigram fallback would match them."""
    if word in hay:
        return 1.0
    if len(word) < 3:
        return 0.0
    grams = char_bigrams(word)
    return sum(g in hay for g in grams) / len(grams)


def unseen_share(query: Query, weights: TermWeights) -> float:
    """IDF-weighted share of the question's words the corpus never uses (``报名费`` in a
    question about exam fees): the part of the question the material cannot speak to."""
    if query.english is not None:
        unknown = weights.unseen * len(query.english.unknown)
        total = sum(_phrase_weights(query, weights)) + unknown
        return round(unknown / total, 6) if total > 0 else 0.0
    bridged = {p.source for p in query.phrases}
    idf = [(weights.idf(w), weights.lexical.doc_freq(w) == 0 and w not in bridged) for w in query.words]
    total = sum(v for v, _ in idf)
    return round(sum(v for v, unseen in idf if unseen) / total, 6) if total > 0 else 0.0
