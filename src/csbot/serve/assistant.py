"""The one core every interface shares: load the index once, answer questions."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from functools import lru_cache
from typing import Any

from csbot.answer.builder import AnswerBuilder
from csbot.answer.confidence import explain as explain_confidence
from csbot.answer.span_model import span_model_for
from csbot.embed.base import Embedder
from csbot.embed.factory import make_embedder
from csbot.errors import QuestionError
from csbot.index.store import load_index
from csbot.ingest.corpus import load_corpus
from csbot.records import Answer, Hit
from csbot.search.adapter import adapter_for
from csbot.search.asked import asked_for
from csbot.search.query import Query
from csbot.search.rerank import reranker_for
from csbot.search.retriever import CSLS_WEIGHT, CSLS_WEIGHTS, Mode, Retriever
from csbot.settings import Settings
from csbot.text.normalise import is_blank

ANSWER_CACHE = 2048
# Answering looks at this many passages whatever the number of citations asked for: the
# confidence signals (the margin to the next passage) and exam mode's look for the stored
# item do not change with top_k.
SIGNAL_DEPTH = 5


class Assistant:
    """Answers questions from the index that ``settings`` points at."""

    def __init__(self, settings: Settings, embedder: Embedder | None = None) -> None:
        self.settings = settings
        index = load_index(settings)
        self.embedder = embedder or make_embedder(settings)
        adapter = adapter_for(settings.model) if settings.query_adapter else None
        if adapter is not None and adapter.dim != index.manifest.get("dimension"):
            adapter = None  # fitted for vectors of another size: not this index's model
        asked = asked_for(settings.model) if settings.asked else None
        if asked is not None and asked.dim != index.manifest.get("dimension"):
            asked = None  # the same
        self.retriever = Retriever(
            index,
            self.embedder,
            settings.candidates,
            settings.rrf_k,
            settings.fusion,
            settings.bm25_weight,
            adapter,
            CSLS_WEIGHTS.get(settings.model, CSLS_WEIGHT),
            reranker_for(settings.model) if settings.rerank else None,
            asked,
        )
        self.corpus = load_corpus(settings.corpus_dir)
        self.documents = {d.doc_id: d for d in self.corpus.documents}
        # Read now: the source lines shown stay those of the index being served, even while
        # `csbot remove` has taken a file out ahead of the switch to the new index.
        self.raw_lines = {d.doc_id: self.corpus.raw_lines(d) for d in self.corpus.documents}
        spans = span_model_for(settings.model) if settings.span_model else None
        self.builder = AnswerBuilder(self.retriever, self.documents, settings.model, spans)
        self.manifest = index.manifest
        # The index is read-only and answers are deterministic: a question asked again (the
        # same exam item by a whole class) is answered from memory.
        self._answer = lru_cache(maxsize=ANSWER_CACHE)(self._compute)

    def _compute(self, text: str, k: int, mode: Mode) -> Answer:
        query = self.retriever.analyse(text)
        hits = self.retriever.search(query, k=max(k, SIGNAL_DEPTH), mode=mode)
        return self.builder.build(query, hits, mode, k)

    @contextmanager
    def holding_out(self, fold: int | None) -> Iterator[None]:
        """Answer with the query adapter fitted without ``fold`` (a development question's own
        fold, so its figures are out-of-sample); None is the adapter ``ask`` uses."""
        if fold == self.retriever.held_out:
            yield
            return
        previous, self.retriever.held_out = self.retriever.held_out, fold
        self._answer.cache_clear()
        try:
            yield
        finally:
            self.retriever.held_out = previous
            self._answer.cache_clear()

    def warm_up(self) -> None:
        """Load what the first question would otherwise wait for (jieba, OpenCC, the model,
        and simplemma's English data for the glossary)."""
        self.ask("客戶服務的特點是什麼?", top_k=1)
        self.ask("What are the characteristics of customer service?", top_k=1)

    def check_question(self, question: str, check_length: bool = True) -> str:
        """The question stripped, or :class:`QuestionError` if empty or (with
        ``check_length``) longer than ``settings.max_question_chars``."""
        text = question.strip()
        if is_blank(text):
            raise QuestionError('the question is empty; type a question, e.g. csbot ask "什么是客我关系?"')
        limit = self.settings.max_question_chars
        if check_length and len(text) > limit:
            raise QuestionError(f"the question is {len(text)} characters long; the limit is {limit}")
        return text

    def ask(
        self,
        question: str,
        top_k: int | None = None,
        mode: Mode = "hybrid",
        explain: bool = False,
        check_length: bool = True,
    ) -> Answer:
        """Answer one question with up to ``top_k`` citations.

        ``check_length=False`` is for a follow-up resolved against an earlier question
        (``那第二点呢?``): the limit applies to what the student typed, checked by the caller.

        With ``explain``, the answer also carries per-citation BM25 rank, dense rank, fused
        score and matched terms, and the time of each stage in milliseconds.
        """
        started = time.perf_counter()
        text = self.check_question(question, check_length)
        k = top_k or self.settings.top_k
        if k < 1:
            raise QuestionError("top_k must be at least 1")
        if not explain:
            return self._answer(text, k, mode)
        timings: dict[str, float] = {}
        t = time.perf_counter()
        query = self.retriever.analyse(text)
        timings["normalize"] = round((time.perf_counter() - t) * 1000, 3)
        hits = self.retriever.search(query, k=max(k, SIGNAL_DEPTH), mode=mode, timings=timings)
        t = time.perf_counter()
        answer = self.builder.build(query, hits, mode, k)
        timings["extract"] = round((time.perf_counter() - t) * 1000, 3)
        timings["total"] = round((time.perf_counter() - started) * 1000, 3)
        return replace(answer, explain=self._explain(query, hits, answer, mode, timings))

    def _explain(
        self, query: Query, hits: list[Hit], answer: Answer, mode: Mode, timings: dict[str, float]
    ) -> dict[str, Any]:
        """Per citation: ranks, scores, the closest unit and the query terms it holds."""
        by_passage = {(h.passage.doc_id, h.passage.text): h for h in hits}
        found = [by_passage.get((c.doc_id, c.text)) for c in answer.citations]
        # what the labelled questions nearest this one say of each cited passage (the
        # re-ranker's votes: the cosine of the nearest one it answers, and its share of the
        # ten nearest); only where the re-ranker read them
        voted = mode == "hybrid" and self.retriever.reranker is not None and self.retriever.asked is not None
        votes = (
            self.retriever.asked_votes(query, [h.passage.passage_id for h in found if h]) if voted else None
        )
        per_citation = []
        row = 0
        for c, h in zip(answer.citations, found, strict=True):
            vote = None
            if votes is not None and h is not None:
                vote = {"nearest": float(votes[row][0]), "share": float(votes[row][2])}
                row += 1
            hay = set(self.retriever.tokenize(c.text))
            per_citation.append(
                {
                    "rank": c.rank,
                    "bm25_rank": h.bm25_rank if h else None,
                    "dense_rank": h.dense_rank if h else None,
                    "bm25_score": h.bm25_score if h else None,
                    "dense_score": h.dense_score if h else None,
                    "dense_match": list(h.dense_span) if h and h.dense_span else None,
                    "fused_score": c.score,
                    # the re-ranker's probability that this passage holds the answer (None
                    # when it did not order the passages: BM25 or dense alone, or no model)
                    "rerank": h.rerank if h else None,
                    "asked_vote": vote,
                    "matched_terms": sorted({w for w in query.terms if w in hay}),
                }
            )
        report: dict[str, Any] = {"mode": mode, "query_terms": list(query.terms)}
        if query.english is not None:  # which of the material's words each English phrase became
            report["translation"] = {
                "phrases": [{"english": g.english, "words": list(g.words)} for g in query.english.groups],
                "untranslated": list(query.english.unknown),
            }
        else:  # a word the corpus never uses, matched through its synonyms (及格 → 合格)
            bridged = {p.source for p in query.phrases}
            report["bridged"] = [
                {"word": p.source, "as": ["".join(h) for h in p.translations]} for p in query.phrases
            ]
            doc_freq = self.retriever.index.lexical.doc_freq
            report["unseen"] = [
                w for w in dict.fromkeys(query.words) if w not in bridged and doc_freq(w) == 0
            ]
        _, signals = self.builder.candidate(query, hits, mode)
        confidence = explain_confidence(self.settings.model, signals, mode)
        confidence.update(probability=answer.confidence, outcome=answer.outcome)
        if mode == "hybrid":
            confidence["off_topic"] = self.builder.off_topic(query)
        if hits and answer.choice is None:  # the span shown (or withheld), not an exam's letters
            report["span"] = self.builder.explain_span(query, hits[(answer.answer_citation or 1) - 1])
        report.update(confidence=confidence, citations=per_citation, timings_ms=timings)
        return report
