"""Hybrid retrieval: BM25 over jieba tokens and dense vectors, fused (:mod:`csbot.search.fusion`)."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from functools import lru_cache
from typing import Literal

import numpy as np

from csbot.embed.base import Embedder
from csbot.index.common_words import bm25_factors
from csbot.index.protocols import LoadedIndex
from csbot.records import Hit
from csbot.search.adapter import QueryAdapter
from csbot.search.asked import MISSING as ASKED_MISSING
from csbot.search.asked import VOTES, AskedQuestions, passage_key
from csbot.search.cosines import Cosines
from csbot.search.fusion import convex, demote, fuse, lexical_trust, naming_kinds
from csbot.search.overlap import TermWeights, overlap
from csbot.search.query import Query, analyse
from csbot.search.rerank import DEPTH as RERANK_DEPTH
from csbot.search.rerank import Reranker
from csbot.settings import GEMMA_MODEL
from csbot.text.normalise import to_simplified

Mode = Literal["hybrid", "bm25", "dense"]
MODES: tuple[Mode, ...] = ("hybrid", "bm25", "dense")
FUSIONS = ("convex", "rrf")
QUERY_CACHE = 4096
ASKED_CACHE = 16  # a question's cosines with the asked ones: read by search, then by confidence
# Adjacent question words found side by side in a passage (``文化 程度``) add this share of
# their own BM25 (over word pairs) to the passage's BM25: a phrase outranks the same words
# scattered. Development set: 0.1 changed nothing, 0.2–0.3 put 基本文化程度 first for
# 需要什么文化程度 and changed none of 95 further questions, 0.5 lost a syllabus question.
PAIR_WEIGHT = 0.25
CSLS_WEIGHT = 0.5  # cross-domain similarity local scaling: rank by cos − r/2
# … except for models whose vectors it does not help (EmbeddingGemma: dev hit@1 0.740 without,
# 0.729 at 0.25, 0.676 at 0.5, before its adapter was fitted)
CSLS_WEIGHTS = {GEMMA_MODEL: 0.0}
# The dense search looks at this many nearest vectors (every vector of a smaller index, so
# the seed corpus is searched exhaustively), and BM25 ranks at most this many passages (more
# when scores tie at the cut): an index of 10⁵ passages costs no more per question than one
# of 10⁴ (`make bench-scale`).
DENSE_DEPTH = 1000
BM25_DEPTH = 1000


@dataclass(frozen=True)
class Ranked:
    """One retriever's candidates: passage rows best first, with their scores."""

    ids: list[int]
    scores: dict[int, float]
    spans: dict[int, tuple[int, int]] = field(default_factory=dict)  # dense: the closest unit
    cosines: dict[int, float] = field(default_factory=dict)  # dense: that unit's cosine
    units: UnitCosines | None = None  # dense: every unit found, by passage


@dataclass(frozen=True)
class UnitCosines:
    """The units a dense search found, sorted by passage row: their characters and cosines."""

    owner: np.ndarray
    start: np.ndarray
    end: np.ndarray
    cosine: np.ndarray

    def of(self, row: int) -> tuple[tuple[int, int, float], ...]:
        """``(start, end, cosine)`` of each unit of the passage at ``row`` that was found."""
        a, b = np.searchsorted(self.owner, (row, row + 1))
        return tuple(
            zip(self.start[a:b].tolist(), self.end[a:b].tolist(), self.cosine[a:b].tolist(), strict=True)
        )


class Retriever:
    """Searches one :class:`LoadedIndex`, whichever store it came from."""

    def __init__(
        self,
        index: LoadedIndex,
        embedder: Embedder,
        candidates: int = 50,
        rrf_k: int = 60,
        fusion: str = "convex",
        bm25_weight: float = 0.5,
        adapter: QueryAdapter | None = None,
        csls_weight: float = CSLS_WEIGHT,
        reranker: Reranker | None = None,
        asked: AskedQuestions | None = None,
    ) -> None:
        self.index = index
        self.csls_weight = csls_weight
        self.embedder = embedder
        self.candidates = candidates
        self.rrf_k = rrf_k
        self.fusion = fusion
        self.bm25_weight = bm25_weight
        self.weights = TermWeights(index.lexical, len(index.passages), index.glossary.common)
        # A word the material mostly says otherwise (顾客 for 客户) weighs in BM25 as its
        # common synonym does (:mod:`csbot.index.common_words`).
        self.weigh_as = bm25_factors(index.glossary.common, index.lexical.doc_freq, len(index.passages))
        # The learned query map (:mod:`csbot.search.adapter`); ``held_out`` picks the map fitted
        # without one cross-validation fold, for out-of-sample development figures.
        self.adapter = adapter
        # The learned re-ranker of the first fused passages (:mod:`csbot.search.rerank`);
        # ``held_out`` picks its model fitted without a fold, as for the adapter.
        self.reranker = reranker
        # The labelled questions asked before (:mod:`csbot.search.asked`); with ``held_out``,
        # those of the other folds only.
        self.asked = asked
        self.held_out: int | None = None
        # A model with a ranking side taught by a stronger one (csbot.embed.query_encoder)
        # orders the passages by that vector; the others by the query vector itself.
        self.ranks_apart = bool(getattr(embedder, "ranking_side", False))
        # Students ask the same questions again (the exam items especially): the query
        # vector, the one expensive step, is kept for the last QUERY_CACHE questions.
        self.remember_vectors(QUERY_CACHE)

    def remember_vectors(self, questions: int | None) -> None:
        """Keep the vectors of the last ``questions`` questions asked (None: of every one, as
        ``csbot calibrate`` does: it reads each development question several times)."""
        self.query_vector: Callable[[str], np.ndarray] = lru_cache(maxsize=questions)(self._embed_query)
        self.ranking_vector: Callable[[str], np.ndarray] = self.query_vector
        if self.ranks_apart:  # both vectors of a question at once (OnnxEmbedder.embed_question)
            both = lru_cache(maxsize=questions)(self._embed_both)
            self.query_vector, self.ranking_vector = (lambda t: both(t)[0]), (lambda t: both(t)[1])

    @property
    def asked(self) -> AskedQuestions | None:
        return self._asked

    @asked.setter
    def asked(self, asked: AskedQuestions | None) -> None:
        """Set the asked questions, and which of them each passage of the index answers."""
        self._asked = asked
        self._answers = asked.answered_by([passage_key(p) for p in self.index.passages]) if asked else []

        def cosines(text: str) -> Cosines:  # (called only with asked set)
            assert asked is not None
            return asked.cosines(self.query_vector(text))

        self._asked_cosines: Callable[[str], Cosines] = lru_cache(maxsize=ASKED_CACHE)(cosines)

    def analyse(self, question: str) -> Query:
        """The question read once for every stage (:func:`csbot.search.query.analyse`)."""
        return analyse(question, self.index)

    def tokenize(self, text: str, bigrams: bool = True) -> list[str]:
        """BM25 tokens of ``text`` by the index's segmenter (remembered: passages repeat)."""
        return self.index.segmenter.tokenize(text, bigrams)

    def overlap(self, query: Query, passage_text: str) -> float:
        """IDF-weighted share of the question's words in the passage (:mod:`csbot.search.overlap`)."""
        return overlap(query, set(self.tokenize(passage_text)), self.weights)

    def asked_near(self, query: Query) -> tuple[float, float, float]:
        """What the labelled questions nearest ``query`` say (:meth:`AskedQuestions.near`),
        NaN without them or without text to embed."""
        if self.asked is None or not query.retrieval:
            return ASKED_MISSING
        return self.asked.near_by(self._asked_cosines(query.retrieval), self.held_out)

    def asked_votes(self, query: Query, rows: list[int]) -> np.ndarray:
        """What the labelled questions nearest ``query`` say of the passages of these index
        rows (:meth:`AskedQuestions.votes`), NaN without them or without text to embed."""
        if self.asked is None or not query.retrieval:
            return np.full((len(rows), VOTES), np.nan)
        return self.asked.votes(self._asked_cosines(query.retrieval), rows, self._answers, self.held_out)

    def document_votes(self, query: Query, doc_id: str) -> tuple[float, ...] | None:
        """What the labelled questions nearest ``query`` say of a document
        (:meth:`AskedQuestions.document_votes`), None without them or without text to embed."""
        if self.asked is None or not query.retrieval:
            return None
        return self.asked.document_votes(self._asked_cosines(query.retrieval), doc_id)

    def bm25(self, query: Query) -> Ranked:
        lexical = self.index.lexical
        scores = np.zeros(len(self.index.passages), dtype=np.float64)
        if query.english is None:
            if not query.terms and not query.phrases:
                return Ranked([], {})
            if query.terms:
                scores += self._term_scores(query.terms)
            if query.pairs:
                scores += PAIR_WEIGHT * self.index.pairs.scores(query.pairs)
        # Each phrase scores as its best translation, a word the corpus never uses as its best
        # synonym the corpus does use (at half or three quarters of that the dev figures
        # do not move).
        for phrase in query.phrases:
            per_word = [lexical.scores(head) for head in phrase.translations if head]
            if per_word:
                scores += np.max(np.stack(per_word), axis=0)
        found = np.flatnonzero(scores > 0)
        if len(found) > BM25_DEPTH:  # the best BM25_DEPTH, and any tied with the last of them
            cut = np.partition(scores[found], len(found) - BM25_DEPTH)[len(found) - BM25_DEPTH]
            found = found[scores[found] >= cut]
        order = found[np.lexsort((found, -scores[found]))]  # score desc, then id asc
        ids = [int(i) for i in order]
        return Ranked(ids, {i: float(scores[i]) for i in ids})

    def _term_scores(self, terms: tuple[str, ...]) -> np.ndarray:
        """BM25 of the question's terms, each word the material mostly says otherwise scaled
        to its common synonym's weight."""
        lexical = self.index.lexical
        plain = [t for t in terms if t not in self.weigh_as]
        scores = lexical.scores(plain) if plain else np.zeros(len(self.index.passages), dtype=np.float64)
        for t in terms:
            if t in self.weigh_as:
                scores = scores + self.weigh_as[t] * lexical.scores([t])
        return scores

    def _embed_query(self, text: str) -> np.ndarray:
        """The model's vector of ``text`` as a query (1 × d), before any adapter."""
        return _frozen(self.embedder.embed_batch([to_simplified(text)], kind="query"))

    def _embed_both(self, text: str) -> tuple[np.ndarray, np.ndarray]:
        """The query vector and the ranking vector of ``text``, with a model that has both."""
        query, ranking = self.embedder.embed_question(to_simplified(text))  # type: ignore[attr-defined]
        return _frozen(query), _frozen(ranking)

    def dense(self, query: Query, adapted: bool = True) -> Ranked:
        """Passages by the cosine of their closest vector: the whole passage or one of its
        sentence windows (``units``), whichever is nearer the question.

        With a query adapter the passages are ordered by the adapted question's vector (the
        adapter maps the ranking vector: the taught ranking side's, where the model has
        one), while each passage's closest unit and cosine (the span hint and the confidence
        signals) stay those of the model's own query vector: the map and the taught side
        are fitted to rank passages, not to measure how near a sentence is.
        ``adapted=False`` searches by the model's own vector alone (a trainer's syllabus
        point is the material's wording, not a student's)."""
        if not query.retrieval:
            return Ranked([], {})
        vector = self.query_vector(query.retrieval)
        depth = min(len(self.index.units), DENSE_DEPTH)
        sims, idx = self.index.vectors.search(vector, depth)
        ids, best, spans, cosines, units = self._nearest(sims[0], idx[0])
        if not adapted or (self.adapter is None and not self.ranks_apart):
            return Ranked(ids, dict(zip(ids, best, strict=True)), spans, cosines, units)
        ranking = self.ranking_vector(query.retrieval)
        if self.adapter is not None:
            ranking = self.adapter.apply(ranking, self.held_out)
        # a second search of one vector (FAISS runs a search of two rows on OpenMP threads,
        # which fight the model's threads: warm ask p50 +2 ms): the ranking order
        sims, idx = self.index.vectors.search(ranking, depth)
        ids, best, _, _, _ = self._nearest(sims[0], idx[0])
        return Ranked(
            ids,
            dict(zip(ids, best, strict=True)),
            {i: spans[i] for i in ids if i in spans},
            {i: cosines[i] for i in ids if i in cosines},
            units,
        )

    def _nearest(
        self, sims: np.ndarray, idx: np.ndarray
    ) -> tuple[list[int], list[float], dict[int, tuple[int, int]], dict[int, float], UnitCosines]:
        """Passage rows best first, their CSLS scores, closest units and those units' cosines,
        and every unit found, from one row of a vector search."""
        units = self.index.units
        found = idx >= 0
        rows = idx[found].astype(np.int64)  # the units found, by row
        cosine = np.round(sims[found].astype(np.float64), 6)
        # CSLS: a unit close to everything (a hub) is ranked by how much closer it is to
        # this question than to its usual neighbours (dev student-voice hit@1 0.53 -> 0.56)
        score = np.round(cosine - self.csls_weight * self.index.hubness[rows], 6)
        owner = units[rows, 0]
        by_owner = np.lexsort((rows, -score, owner))  # passage, then best first, then unit row
        grouped = owner[by_owner]
        firsts = np.flatnonzero(np.concatenate(([True], grouped[1:] != grouped[:-1])))
        closest = by_owner[firsts]  # one per passage: its best unit
        closest = closest[np.lexsort((owner[closest], -score[closest]))]  # best first, ties by passage
        ids, best = owner[closest].tolist(), score[closest].tolist()
        starts, stops = units[rows[closest], 1].tolist(), units[rows[closest], 2].tolist()
        spans = dict(zip(ids, zip(starts, stops, strict=True), strict=True))
        cosines = dict(zip(ids, cosine[closest].tolist(), strict=True))
        found_units = UnitCosines(
            grouped, units[rows[by_owner], 1], units[rows[by_owner], 2], cosine[by_owner]
        )
        return ids, best, spans, cosines, found_units

    def search(
        self,
        query: Query,
        k: int = 5,
        mode: Mode = "hybrid",
        timings: dict[str, float] | None = None,
        adapted: bool = True,
    ) -> list[Hit]:
        """The ``k`` best passages for ``query``.

        ``hybrid`` fuses the BM25 and dense candidates — by default a weighted sum of min–max
        normalised scores (:func:`csbot.search.fusion.convex`), BM25's weight scaled by
        :func:`csbot.search.fusion.lexical_trust`, or reciprocal-rank fusion
        (:func:`csbot.search.fusion.fuse`) with ``fusion="rrf"``; ``bm25`` and ``dense`` use
        one ranking alone. Stage times in milliseconds go into ``timings`` when given;
        ``adapted=False`` leaves the query adapter out (a trainer's syllabus point is not a
        student's question).
        """
        clock = _Clock(timings)
        lexical = self.bm25(query) if mode in ("hybrid", "bm25") else Ranked([], {})
        clock.lap("bm25")
        semantic = self.dense(query, adapted) if mode in ("hybrid", "dense") else Ranked([], {})
        clock.lap("dense")
        order = self._fused(query, lexical, semantic, mode)
        passages = self.index.passages
        naming = naming_kinds(query.about_course)
        order = demote(order, lambda i: passages[i].kind in naming)
        bm25_rank = {pid: r for r, pid in enumerate(lexical.ids, start=1)}
        dense_rank = {pid: r for r, pid in enumerate(semantic.ids, start=1)}
        # a student's question (hybrid, adapted): the first passages re-ordered by the
        # re-ranker, which reads the first RERANK_DEPTH of them
        reranks = self.reranker is not None and mode == "hybrid" and adapted
        hits = [
            Hit(
                passage=passages[i],
                score=round(float(score), 6),
                bm25_rank=bm25_rank.get(i),
                dense_rank=dense_rank.get(i),
                bm25_score=round(lexical.scores.get(i, 0.0), 6),
                dense_score=semantic.cosines.get(i, 0.0),
                dense_span=semantic.spans.get(i),
            )
            for i, score in order[: max(k, RERANK_DEPTH) if reranks else k]
        ]
        clock.lap("fuse")
        if reranks:
            votes = self.asked_votes(query, [i for i, _ in order[:RERANK_DEPTH]])
            hits = self.reranker.order(hits, self.held_out, votes, k)  # type: ignore[union-attr]
            clock.lap("rerank")
        if semantic.units is not None:  # the units' cosines, for the hits returned only
            row = {id(passages[i]): i for i, _ in order[: max(k, RERANK_DEPTH)]}
            hits = [replace(h, units=semantic.units.of(row[id(h.passage)])) for h in hits]
        return hits

    def _fused(self, query: Query, lexical: Ranked, semantic: Ranked, mode: Mode) -> list[tuple[int, float]]:
        if mode == "bm25":
            return [(i, lexical.scores[i]) for i in lexical.ids]
        if mode == "dense":
            return [(i, semantic.scores[i]) for i in semantic.ids]
        top_lex, top_sem = lexical.ids[: self.candidates], semantic.ids[: self.candidates]
        if self.fusion == "rrf":
            return fuse([top_lex, top_sem], k=self.rrf_k)
        trust = (
            lexical_trust(self.overlap(query, self.index.passages[lexical.ids[0]].text))
            if lexical.ids
            else 0.0
        )
        w = self.bm25_weight * trust
        return convex(
            [{i: lexical.scores[i] for i in top_lex}, {i: semantic.scores[i] for i in top_sem}],
            [w, 1.0 - w],
        )


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


def _frozen(vector: np.ndarray) -> np.ndarray:
    """A remembered vector as a read-only float32 row block (the caches hand out the same one)."""
    out = np.ascontiguousarray(vector, dtype=np.float32)
    out.flags.writeable = False
    return out
