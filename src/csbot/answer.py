"""Hits → :class:`Answer`: the extract, whether it can be trusted, and the citations."""

from __future__ import annotations

from collections.abc import Sequence

from .records import Answer, Citation, DocumentInfo, Hit

# Calibrated on eval/questions.jsonl (see README "Confidence"): e5 cosines bunch between
# 0.75 and 0.95, so the dense score alone only vouches for very close passages; otherwise
# the passage must also hold a fair share of the question's informative words.
DENSE_ALONE = 0.92
DENSE_FLOOR = 0.82
COVERAGE_MIN = 0.30
COVERAGE_BM25_ONLY = 0.50


def is_confident(top: Hit | None, coverage: float, mode: str = "hybrid") -> bool:
    """Trust the top hit when ``dense ≥ 0.92``, or ``dense ≥ 0.82`` and ``coverage ≥ 0.30``.

    ``dense`` is the cosine between question and passage; ``coverage`` is the IDF-weighted
    share of the question's words in the passage (:meth:`Retriever.coverage`). BM25-only
    retrieval has no cosine and trusts ``coverage ≥ 0.50``.
    """
    if top is None:
        return False
    if mode == "bm25":
        return coverage >= COVERAGE_BM25_ONLY
    return top.dense_score >= DENSE_ALONE or (top.dense_score >= DENSE_FLOOR and coverage >= COVERAGE_MIN)


def make_answer(
    question: str, hits: Sequence[Hit], documents: dict[str, DocumentInfo], confident: bool
) -> Answer:
    """Build the answer: the top passage as the extract when it is trusted."""
    citations = tuple(
        Citation(
            rank=rank,
            doc_id=h.passage.doc_id,
            title=documents[h.passage.doc_id].title if h.passage.doc_id in documents else h.passage.doc_id,
            section=h.passage.section,
            text=h.passage.text,
            line_start=h.passage.line_start,
            line_end=h.passage.line_end,
            score=h.score,
        )
        for rank, h in enumerate(hits, start=1)
    )
    return Answer(
        question=question,
        answer=hits[0].passage.text if confident else None,
        confident=confident,
        citations=citations,
    )
