"""Rank fusion as small pure functions, and the policy that weighs the two rankings."""

from __future__ import annotations

from collections.abc import Callable, Sequence

# A passage that only asks questions (a 题库 list) or only names what is to be learnt (an exam
# syllabus, a training outline) matches a student's question word for word yet answers
# nothing: its score is halved, so it stays findable as related reading. (Outlines too:
# development-split student-voice hit@1 0.44 -> 0.53, other questions unchanged.)
QUESTIONS_WEIGHT = 0.5
NAMING_KINDS = ("questions", "outline")
COURSE_NAMING_KINDS = ("questions",)  # for a question about the course, outlines answer
# BM25 keeps its full weight when its best passage holds this share of the question's
# informative words, and proportionally less below (hit@1 on the development set: 0.903 at
# 1.0, 0.922 at 0.7–0.9, 0.913 at 0.5; 0.883 without the rule).
TRUSTED_OVERLAP = 0.7


def naming_kinds(about_course: bool) -> tuple[str, ...]:
    """The passage kinds that only name what a question asks: for a question about the
    course itself (its syllabus, exam, training modules) the outlines are what answers it,
    and only question lists are left."""
    return COURSE_NAMING_KINDS if about_course else NAMING_KINDS


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


def lexical_trust(top_overlap: float, trusted: float = TRUSTED_OVERLAP) -> float:
    """How far BM25's ranking deserves its weight: ``min(1, overlap / trusted)``, where
    ``overlap`` is the share of the question's informative words (IDF-weighted) that BM25's
    best passage holds. A question in a student's own words (及格 for the material's 合格)
    leaves BM25 ranking by incidental common words; then the dense ranking counts for more.

    >>> lexical_trust(0.35), lexical_trust(0.9)
    (0.5, 1.0)
    """
    return min(1.0, top_overlap / trusted)


def demote(
    order: list[tuple[int, float]], is_question_list: Callable[[int], bool], weight: float = QUESTIONS_WEIGHT
) -> list[tuple[int, float]]:
    """Push the score of question-list passages down by the factor ``weight`` and re-sort
    (ties to the lower id): they share a question's words but answer nothing. A negative
    score (a dense-only search's CSLS score can be one) is divided by ``weight``, so it too
    falls; multiplied, it would rise and put the question lists first."""
    if not any(is_question_list(i) for i, _ in order):
        return order
    scaled = [(i, _lowered(s, weight) if is_question_list(i) else s) for i, s in order]
    return sorted(scaled, key=lambda p: (-p[1], p[0]))


def _lowered(score: float, weight: float) -> float:
    return score * weight if score >= 0 else score / weight
