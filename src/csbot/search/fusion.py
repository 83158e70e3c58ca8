"""Rank fusion as small pure functions."""

from __future__ import annotations

from collections.abc import Sequence


def rrf_scores(rankings: Sequence[Sequence[int]], k: int = 60) -> dict[int, float]:
    """Reciprocal-rank fusion: ``score(d) = Σ_r 1 / (k + rank_r(d))``, ranks starting at 1.

    Args:
        rankings: each a list of ids, best first (BM25's, the dense index's).
        k: the RRF constant; 60 as in Cormack et al. (2009) damps the head of each list.
    """
    scores: dict[int, float] = {}
    for ranking in rankings:
        for rank, doc in enumerate(ranking, start=1):
            scores[doc] = scores.get(doc, 0.0) + 1.0 / (k + rank)
    return scores


def fuse(rankings: Sequence[Sequence[int]], k: int = 60) -> list[tuple[int, float]]:
    """Ids ordered by RRF score; ties go to the better single-list rank, then the lower id.

    Deterministic for any input, so equal questions give equal answers.
    """
    scores = rrf_scores(rankings, k)
    best: dict[int, int] = {}
    for ranking in rankings:
        for rank, doc in enumerate(ranking, start=1):
            best[doc] = min(best.get(doc, rank), rank)
    return sorted(scores.items(), key=lambda item: (-item[1], best[item[0]], item[0]))


def convex(scores: Sequence[dict[int, float]], weights: Sequence[float]) -> list[tuple[int, float]]:
    """Weighted sum of min–max normalised scores: ``Σ w_r · (s_r(d) − min_r) / (max_r − min_r)``.

    A document missing from a list scores 0 there. Ties go to the lower id.
    """
    fused: dict[int, float] = {}
    for table, weight in zip(scores, weights, strict=True):
        if not table:
            continue
        lo, hi = min(table.values()), max(table.values())
        span = (hi - lo) or 1.0
        for doc, s in table.items():
            fused[doc] = fused.get(doc, 0.0) + weight * (s - lo) / span
    return sorted(((d, round(s, 6)) for d, s in fused.items()), key=lambda item: (-item[1], item[0]))
