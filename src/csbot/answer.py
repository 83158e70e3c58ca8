"""Hits → :class:`Answer`: the extract, whether it can be trusted, and the citations."""

from __future__ import annotations

from collections.abc import Sequence

from .records import Answer, Citation, DocumentInfo, Hit
from .segment import tokenize

# Calibrated on eval/questions.jsonl (see README "Confidence"): a top passage is trusted
# when the dense model finds it close enough, or when it holds most of the question's terms.
DENSE_CONFIDENT = 0.86
COVERAGE_CONFIDENT = 0.6
DENSE_FLOOR = 0.83


def term_coverage(question: str, passage_text: str) -> float:
    """Share of the question's words (bigrams aside) that the passage contains."""
    words = [t for t in tokenize(question, bigrams=False)]
    if not words:
        return 0.0
    haystack = set(tokenize(passage_text, bigrams=True))
    return sum(1 for w in words if w in haystack) / len(words)


def is_confident(question: str, top: Hit | None) -> bool:
    """Trust the top hit when ``dense ≥ 0.86``, or ``coverage ≥ 0.6`` with ``dense ≥ 0.83``.

    ``dense`` is the cosine between question and passage (e5 cosines bunch between 0.75
    and 0.95); ``coverage`` is :func:`term_coverage`.
    """
    if top is None:
        return False
    coverage = term_coverage(question, top.passage.text)
    return top.dense_score >= DENSE_CONFIDENT or (
        coverage >= COVERAGE_CONFIDENT and top.dense_score >= DENSE_FLOOR
    )


def make_answer(question: str, hits: Sequence[Hit], documents: dict[str, DocumentInfo]) -> Answer:
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
    confident = is_confident(question, hits[0] if hits else None)
    return Answer(
        question=question,
        answer=hits[0].passage.text if confident else None,
        confident=confident,
        citations=citations,
    )
