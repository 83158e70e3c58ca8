"""Hybrid retrieval: BM25 over jieba tokens and dense vectors in FAISS, fused."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Literal

import numpy as np

from csbot.embed.models import Embedder
from csbot.index.glossary import Translation
from csbot.index.local import Index
from csbot.records import Hit
from csbot.search.fusion import convex, fuse
from csbot.search.query import is_cross_lingual, retrieval_text
from csbot.text.segmenter import char_bigrams, tokenize, word_pairs

Mode = Literal["hybrid", "bm25", "dense"]
MODES: tuple[Mode, ...] = ("hybrid", "bm25", "dense")
QUERY_CACHE = 4096
# A passage that only asks questions (a 题库 list) matches a student's question word for
# word yet answers nothing: its score is halved, so it stays findable as related reading.
QUESTIONS_WEIGHT = 0.5
# BM25 keeps its full weight when its best passage holds this share of the question's
# informative words, and proportionally less below (hit@1 on the development set: 0.903 at
# 1.0, 0.922 at 0.7–0.9, 0.913 at 0.5; 0.883 without the rule).
TRUSTED_COVERAGE = 0.7
# Adjacent question words found side by side in a passage (``文化 程度``) add this share of
# their own BM25 (over word pairs) to the passage's BM25: a phrase outranks the same words
# scattered. Development set: 0.1 changed nothing, 0.2–0.3 put 基本文化程度 first for
# 需要什么文化程度 and changed none of 95 further questions, 0.5 lost a syllabus question.
PAIR_WEIGHT = 0.25


@dataclass(frozen=True)
class Ranked:
    """One retriever's candidates: passage indexes best first, with their scores."""

    ids: list[int]
    scores: dict[int, float]
    spans: dict[int, tuple[int, int]] = field(default_factory=dict)  # dense: the closest unit


class Retriever:
    """Searches one loaded :class:`Index`."""

    def __init__(
        self,
        index: Index,
        embedder: Embedder,
        candidates: int = 50,
        rrf_k: int = 60,
        fusion: str = "convex",
        bm25_weight: float = 0.5,
    ) -> None:
        self.index = index
        self.embedder = embedder
        self.candidates = candidates
        self.rrf_k = rrf_k
        self.fusion = fusion
        self.bm25_weight = bm25_weight
        # Students ask the same questions again (the exam items especially): the query
        # vector, the one expensive step, is kept for the last QUERY_CACHE questions.
        self._query_vector = lru_cache(maxsize=QUERY_CACHE)(self._embed_query)
        self._vocab = index.bm25.vocab_dict
        self._pair_vocab = index.pairs.vocab_dict
        # document frequency of each vocabulary id, read off BM25's CSC score matrix
        self._df = np.diff(np.asarray(index.bm25.scores["indptr"]))
        self._n = len(index.passages)

    def idf(self, term: str) -> float:
        """``ln((N + 1) / (df + 0.5))``; a term the corpus never uses gets the highest weight."""
        tid = self._vocab.get(term)
        df = int(self._df[tid]) if tid is not None and tid < len(self._df) else 0
        return self._idf_of(df)

    def _idf_of(self, df: int) -> float:
        return float(np.log((self._n + 1) / (df + 0.5)))

    def translation(self, question: str) -> Translation | None:
        """An English question's phrases with the material's words for them (None for a
        question with Chinese in it)."""
        if not is_cross_lingual(question):
            return None
        return self.index.glossary.translate(retrieval_text(question))

    def coverage(self, question: str, passage_text: str) -> float:
        """IDF-weighted share of the question's words found in the passage.

        Words the corpus never uses weigh most, so a question about something the
        material lacks (``报名费``) scores low even when its other words match. An English
        question's phrases count through their translations (:mod:`csbot.glossary`): a
        phrase weighs as its rarest translation and is found when any translation is;
        a word with none weighs as a word the corpus never uses.
        """
        hay = set(tokenize(passage_text))
        english = self.translation(question)
        if english is not None:
            unseen = self._idf_of(0)  # the weight of a word the corpus never uses
            weights = [
                max((self.idf(t) for w in g.words for t in _head_words(w)), default=0.0)
                for g in english.groups
            ]
            found = [any(all(t in hay for t in _head_words(w)) for w in g.words) for g in english.groups]
            total = sum(weights) + unseen * len(english.unknown)
            got = sum(w for w, ok in zip(weights, found, strict=True) if ok)
            return round(got / total, 6) if total > 0 else 0.0
        words = tokenize(retrieval_text(question), bigrams=False)
        total = sum(self.idf(w) for w in words)
        if total <= 0:
            return 0.0
        return round(sum(self.idf(w) * _found_share(w, hay) for w in words) / total, 6)

    def query_terms(self, question: str) -> list[str]:
        """The question's BM25 tokens that occur in the corpus vocabulary (for an English
        question, the material's words its phrases translate to)."""
        english = self.translation(question)
        if english is not None:
            return list(dict.fromkeys(t for w in english.words for t in _head_words(w) if t in self._vocab))
        return [t for t in tokenize(retrieval_text(question)) if t in self._vocab]

    def bm25(self, question: str) -> Ranked:
        english = self.translation(question)
        if english is not None:
            scores = self._bm25_groups(english)
        else:
            terms = self.query_terms(question)
            if not terms:
                return Ranked([], {})
            scores = np.asarray(self.index.bm25.get_scores(terms), dtype=np.float64)
            pairs = [p for p in word_pairs(retrieval_text(question)) if p in self._pair_vocab]
            if pairs:
                scores = scores + PAIR_WEIGHT * np.asarray(
                    self.index.pairs.get_scores(pairs), dtype=np.float64
                )
        order = np.lexsort((np.arange(len(scores)), -scores))  # score desc, then id asc
        ids = [int(i) for i in order if scores[i] > 0]
        return Ranked(ids, {i: float(scores[i]) for i in ids})

    def _bm25_groups(self, english: Translation) -> np.ndarray:
        """BM25 of an English question: each phrase scores as its best-matching translation
        in each passage (synonyms offered by the dictionary do not add up)."""
        total = np.zeros(self._n, dtype=np.float64)
        for group in english.groups:
            per_word = [
                np.asarray(self.index.bm25.get_scores(_head_words(w)), dtype=np.float64)
                for w in group.words
                if _head_words(w)
            ]
            if per_word:
                total += np.max(np.stack(per_word), axis=0)
        return total

    def _embed_query(self, text: str) -> np.ndarray:
        vector = np.ascontiguousarray(self.embedder.embed_batch([text], kind="query"), dtype=np.float32)
        vector.flags.writeable = False
        return vector

    def dense(self, question: str) -> Ranked:
        """Passages by the cosine of their closest vector: the whole passage or one of its
        sentence windows (``units``), whichever is nearer the question."""
        text = retrieval_text(question)
        if not text:
            return Ranked([], {})
        vector = self._query_vector(text)
        units = self.index.units
        total = len(units)
        sims, idx = self.index.vectors.search(vector, total)
        score = np.full(total, -np.inf)
        found = idx[0] >= 0
        score[idx[0][found]] = np.round(sims[0][found].astype(np.float64), 6)
        owner = units[:, 0]
        by_owner = np.lexsort((np.arange(total), -score, owner))  # passage, then best first
        closest = by_owner[np.unique(owner[by_owner], return_index=True)[1]]  # one per passage
        pairs = sorted(((int(owner[u]), float(score[u])) for u in closest), key=lambda p: (-p[1], p[0]))
        spans = {int(owner[u]): (int(units[u, 1]), int(units[u, 2])) for u in closest}
        return Ranked([i for i, _ in pairs], dict(pairs), spans)

    def search(
        self, question: str, k: int = 5, mode: Mode = "hybrid", timings: dict[str, float] | None = None
    ) -> list[Hit]:
        """The ``k`` best passages for ``question``.

        ``hybrid`` fuses the BM25 and dense candidates — by default an equal-weight sum of
        min–max normalised scores (:func:`csbot.fusion.convex`), or reciprocal-rank fusion
        (:func:`csbot.fusion.fuse`) with ``fusion="rrf"``; ``bm25`` and ``dense`` use one
        ranking alone.
        Stage times in milliseconds go into ``timings`` when given.
        """
        clock = _Clock(timings)
        lexical = self.bm25(question) if mode in ("hybrid", "bm25") else Ranked([], {})
        clock.lap("bm25")
        semantic = self.dense(question) if mode in ("hybrid", "dense") else Ranked([], {})
        clock.lap("dense")
        if mode == "bm25":
            order = [(i, lexical.scores[i]) for i in lexical.ids]
        elif mode == "dense":
            order = [(i, semantic.scores[i]) for i in semantic.ids]
        else:
            top_lex, top_sem = lexical.ids[: self.candidates], semantic.ids[: self.candidates]
            if self.fusion == "rrf":
                order = fuse([top_lex, top_sem], k=self.rrf_k)
            else:
                w = self.bm25_weight * self._lexical_trust(question, lexical)
                order = convex(
                    [{i: lexical.scores[i] for i in top_lex}, {i: semantic.scores[i] for i in top_sem}],
                    [w, 1.0 - w],
                )
        order = self._demote_questions(order)
        bm25_rank = {pid: r for r, pid in enumerate(lexical.ids, start=1)}
        dense_rank = {pid: r for r, pid in enumerate(semantic.ids, start=1)}
        hits = [
            Hit(
                passage=self.index.passages[i],
                score=round(float(score), 6),
                bm25_rank=bm25_rank.get(i),
                dense_rank=dense_rank.get(i),
                bm25_score=round(lexical.scores.get(i, 0.0), 6),
                dense_score=semantic.scores.get(i, 0.0),
                dense_span=semantic.spans.get(i),
            )
            for i, score in order[:k]
        ]
        clock.lap("fuse")
        return hits

    def _lexical_trust(self, question: str, lexical: Ranked) -> float:
        """How far BM25's ranking deserves its weight: the share of the question's
        informative words (IDF-weighted) that its best passage holds, over
        :data:`TRUSTED_COVERAGE`, at most 1. A question in a student's own words (及格 for the
        material's 合格) leaves BM25 ranking by incidental common words; then the dense
        ranking counts for more."""
        if not lexical.ids:
            return 0.0
        top = self.index.passages[lexical.ids[0]].text
        return min(1.0, self.coverage(question, top) / TRUSTED_COVERAGE)

    def _demote_questions(self, order: list[tuple[int, float]]) -> list[tuple[int, float]]:
        """Scale the score of question-list passages by :data:`QUESTIONS_WEIGHT` and re-sort:
        they share a question's words but answer nothing."""
        passages = self.index.passages
        if not any(passages[i].kind == "questions" for i, _ in order):
            return order
        scaled = [(i, s * QUESTIONS_WEIGHT if passages[i].kind == "questions" else s) for i, s in order]
        return sorted(scaled, key=lambda p: (-p[1], p[0]))


def _found_share(word: str, hay: set[str]) -> float:
    """1 when the passage has ``word``; else, for a word of three or more characters, the
    share of its character bigrams it has (``可分离性`` against a passage saying ``不可分性``:
    可分 of 可分, 分离, 离性), as BM25's bigram fallback would match them."""
    if word in hay:
        return 1.0
    if len(word) < 3:
        return 0.0
    grams = char_bigrams(word)
    return sum(g in hay for g in grams) / len(grams)


def _head_words(head: str) -> list[str]:
    """A dictionary headword as BM25 tokens (``提出建议`` → 提出, 建议)."""
    return tokenize(head, bigrams=False)


class _Clock:
    """Milliseconds between laps, written into an optional dict."""

    def __init__(self, sink: dict[str, float] | None) -> None:
        self.sink = sink
        self.last = time.perf_counter()

    def lap(self, name: str) -> None:
        now = time.perf_counter()
        if self.sink is not None:
            self.sink[name] = round((now - self.last) * 1000, 3)
        self.last = now
