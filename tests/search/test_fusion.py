"""Fusion: the formulas and constants the docstrings name, and deterministic ties."""

from __future__ import annotations

import pytest

from csbot.search.fusion import (
    QUESTIONS_WEIGHT,
    TRUSTED_OVERLAP,
    convex,
    demote,
    fuse,
    lexical_trust,
    rrf_scores,
)


def test_rrf_formula_and_deterministic_ties() -> None:
    scores = rrf_scores([[1, 2], [2, 3]], k=60)
    assert scores[2] == 1 / 62 + 1 / 61
    assert scores[1] == 1 / 61
    # 1 and 3 tie on score and best rank; the lower id wins
    assert fuse([[1, 2], [3, 2]], k=60) == [(2, 2 / 62), (1, 1 / 61), (3, 1 / 61)]


def test_convex_sums_min_max_normalised_scores_with_weights() -> None:
    bm25 = {1: 10.0, 2: 5.0, 3: 0.0}
    dense = {2: 0.9, 3: 0.8, 4: 0.7}
    fused = dict(convex([bm25, dense], [0.5, 0.5]))
    assert fused[1] == pytest.approx(0.5)  # top of BM25, absent from dense
    assert fused[2] == pytest.approx(0.5 * 0.5 + 0.5 * 1.0)
    assert fused[3] == pytest.approx(0.0 + 0.5 * 0.5)
    assert fused[4] == pytest.approx(0.0)


def test_convex_ties_go_to_the_lower_id_and_a_flat_list_counts_zero() -> None:
    order = convex([{7: 1.0, 3: 1.0}, {}], [1.0, 0.0])
    assert order == [(3, 0.0), (7, 0.0)]  # all equal: min-max gives 0, lower id first
    assert convex([{}, {}], [0.5, 0.5]) == []


def test_convex_weight_zero_leaves_one_ranking() -> None:
    order = convex([{1: 9.0, 2: 1.0}, {1: 0.1, 2: 0.9}], [0.0, 1.0])
    assert [d for d, _ in order] == [2, 1]


def test_lexical_trust_scales_bm25_below_the_trusted_overlap() -> None:
    assert lexical_trust(TRUSTED_OVERLAP) == 1.0
    assert lexical_trust(1.0) == 1.0
    assert lexical_trust(TRUSTED_OVERLAP / 2) == pytest.approx(0.5)
    assert lexical_trust(0.0) == 0.0


def test_demote_scales_question_lists_and_resorts() -> None:
    order = [(1, 1.0), (2, 0.8), (3, 0.4)]
    demoted = demote(order, lambda i: i == 1)
    assert demoted == [(2, 0.8), (1, QUESTIONS_WEIGHT * 1.0), (3, 0.4)]
    assert demote(order, lambda i: False) is order


def test_demote_lowers_negative_scores_too() -> None:
    # a dense-only search's CSLS scores can all be negative: halving one would raise it
    order = [(1, -0.10), (2, -0.15), (3, -0.30)]
    demoted = demote(order, lambda i: i == 1)
    assert demoted == [(2, -0.15), (1, -0.10 / QUESTIONS_WEIGHT), (3, -0.30)]
