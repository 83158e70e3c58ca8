"""Confidence: when an answer is trusted, and when a passage covers a syllabus point.

Every threshold csbot decides trust with is here. The signals are the dense cosine of the
top passage (``Hit.dense_score``) and its term overlap with the question
(:mod:`csbot.search.overlap`: the IDF-weighted share of the question's words it holds).
"""

from __future__ import annotations

from csbot.records import Hit

# Calibrated on eval/questions.jsonl (see README "Confidence"): e5 cosines bunch between
# 0.75 and 0.95, so the dense score alone only vouches for very close passages; otherwise
# the passage must also hold a fair share of the question's informative words.
DENSE_ALONE = 0.92
DENSE_FLOOR = 0.82
OVERLAP_MIN = 0.30
OVERLAP_BM25_ONLY = 0.50
# A question with no Chinese in it (English): cross-lingual cosines run lower (0.77–0.87 on
# the dev set for answerable questions) and off-topic English questions reach 0.84 too, so
# the cosine never vouches alone; the top passage must also hold OVERLAP_MIN of the
# question's phrases through their dictionary translations (csbot.index.glossary).
DENSE_CROSS_LINGUAL = 0.75
# A passage covers a syllabus point when it is close for the dense model and holds most of
# the point's words: stricter than an answer's rule, because a point is a short list of key
# words that a covering passage should actually contain.
COVER_DENSE = 0.85
COVER_OVERLAP = 0.60


def is_confident(top: Hit | None, overlap: float, mode: str = "hybrid", cross_lingual: bool = False) -> bool:
    """Trust the top hit when ``dense ≥ 0.92``, or ``dense ≥ 0.82`` and ``overlap ≥ 0.30``.

    BM25-only retrieval has no cosine and trusts ``overlap ≥ 0.50``; a question without
    Chinese (``cross_lingual``) needs ``dense ≥ 0.75`` and ``overlap ≥ 0.30``, its overlap
    counted through the glossary's translations.
    """
    if top is None:
        return False
    if mode == "bm25":
        return overlap >= OVERLAP_BM25_ONLY
    if cross_lingual:
        return top.dense_score >= DENSE_CROSS_LINGUAL and overlap >= OVERLAP_MIN
    return top.dense_score >= DENSE_ALONE or (top.dense_score >= DENSE_FLOOR and overlap >= OVERLAP_MIN)


def covers(hit: Hit, overlap: float) -> bool:
    """Whether a passage covers a syllabus point: ``dense ≥ 0.85`` and ``overlap ≥ 0.60``."""
    return hit.dense_score >= COVER_DENSE and overlap >= COVER_OVERLAP
