"""The re-ranker: its trees as arrays, its order, its file, and where search uses it."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from sklearn.ensemble import HistGradientBoostingClassifier

from csbot.embed.fake import HashEmbedder
from csbot.index.store import load_index
from csbot.records import Hit, Passage
from csbot.reports.rerank_fit import first_right
from csbot.search.rerank import (
    DEPTH,
    FEATURES,
    Reranker,
    RerankError,
    features,
    from_sklearn,
    read_reranker,
    reranker_for,
)
from csbot.search.retriever import Retriever
from csbot.settings import Settings, load_settings


def fitted(seed: int, n: int = 600, trees: int = 30) -> HistGradientBoostingClassifier:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, len(FEATURES)))
    y = (x[:, 0] + 0.5 * x[:, 3] * x[:, 6] + x[:, -1] + rng.normal(scale=0.5, size=n) > 0).astype(int)
    x[: n // 3, -2:] = np.nan  # some rows without the asked questions' votes
    return HistGradientBoostingClassifier(
        max_iter=trees, max_leaf_nodes=7, early_stopping=False, random_state=0
    ).fit(x, y)


def test_the_arrays_give_scikit_learns_probabilities_for_every_map() -> None:
    models = [fitted(0), fitted(1, trees=12)]  # maps may hold different numbers of trees
    reranker = from_sklearn("m", models)
    x = np.random.default_rng(9).normal(size=(50, len(FEATURES)))
    x[:20, -4:] = np.nan  # a missing value goes where scikit-learn sends it
    assert reranker.missing_left.any() and not reranker.missing_left.all()
    assert np.allclose(reranker.probabilities(x), models[0].predict_proba(x)[:, 1], atol=1e-9)
    assert np.allclose(reranker.probabilities(x, held_out=0), models[1].predict_proba(x)[:, 1], atol=1e-9)
    assert not np.allclose(reranker.probabilities(x), reranker.probabilities(x, held_out=0))


def hit(row: int, score: float, text: str = "客户服务的特点", bm25: float = 1.0, rank: int | None = 1) -> Hit:
    passage = Passage(row, "doc", "§", text, 1, 1)
    return Hit(passage, score, bm25_rank=rank, dense_rank=rank, bm25_score=bm25, dense_score=0.8)


def test_features_read_how_the_two_searches_saw_each_passage() -> None:
    hits = [hit(0, 1.0, bm25=4.0, rank=2), hit(1, 0.5, bm25=2.0, rank=None)]
    x = features(hits)
    assert x.shape == (2, len(FEATURES))
    row = dict(zip(FEATURES, x[1], strict=True))
    assert row["fused"] == 0.5 and row["fused_share"] == 0.5 and row["first"] == 0.0
    assert row["log_rank"] == pytest.approx(np.log(2)) and row["bm25_share"] == 0.5
    assert row["log_bm25_rank"] == pytest.approx(np.log(1000))  # not ranked by BM25
    assert row["fused_gap"] == 0.5 and dict(zip(FEATURES, x[0], strict=True))["first"] == 1.0
    assert features([]).shape == (0, len(FEATURES))
    assert np.isnan(row["asked_vote"]) and np.isnan(row["asked_vote_weight"])  # no votes given
    voted = features(hits, np.array([[0.9, 0.0, 0.3, 0.31], [0.0, 0.9, 0.0, 0.0]]))
    assert dict(zip(FEATURES, voted[0], strict=True))["asked_vote_share"] == 0.3


class Fixed(Reranker):
    """A re-ranker whose probabilities are given, passage row by passage row."""

    def __init__(self, p: dict[int, float]) -> None:
        object.__setattr__(self, "p", p)
        object.__setattr__(self, "seen", [])

    def probabilities(self, x: np.ndarray, held_out: int | None = None) -> np.ndarray:
        self.seen.append((len(x), held_out))  # type: ignore[attr-defined]
        return np.array(self.order_p)  # type: ignore[attr-defined]

    def order(self, hits, held_out=None, votes=None, k=None):  # type: ignore[no-untyped-def]
        object.__setattr__(self, "order_p", [self.p.get(h.passage.passage_id, 0.0) for h in hits[:DEPTH]])  # type: ignore[attr-defined]
        self.seen.append(("votes", votes))  # type: ignore[attr-defined]
        return Reranker.order(self, hits, held_out, votes, k)


def test_order_puts_the_first_passages_by_probability_and_keeps_ties_and_the_rest() -> None:
    hits = [hit(i, 1.0 - i / 100) for i in range(DEPTH + 3)]
    reranker = Fixed({2: 0.9, 5: 0.4, 1: 0.4})
    out = reranker.order(hits)
    assert [h.passage.passage_id for h in out[:4]] == [2, 1, 5, 0]  # 1 and 5 tie: fused order
    assert [h.passage.passage_id for h in out[DEPTH:]] == [
        DEPTH,
        DEPTH + 1,
        DEPTH + 2,
    ]  # beyond the depth: as fused
    assert out[0].rerank == 0.9 and out[-1].rerank is None and out[0].score == hits[2].score
    assert reranker.order(hits, k=3) == out[:3] and reranker.order(hits, k=DEPTH + 2) == out[: DEPTH + 2]
    assert reranker.order(hits[:1], k=3) == hits[:1]


def test_the_file_round_trips_and_a_broken_or_foreign_one_names_the_remedy(tmp_path: Path) -> None:
    reranker = from_sklearn("m", [fitted(0), fitted(1)], {"trained_on": 3})
    path = tmp_path / "rerank-m.npz"
    reranker.save(path)
    again = read_reranker(path)
    x = np.random.default_rng(2).normal(size=(20, len(FEATURES)))
    assert np.array_equal(again.raw(x), reranker.raw(x)) and again.report == {"trained_on": 3}
    assert not list(tmp_path.glob("*.part*"))
    broken = tmp_path / "broken.npz"
    broken.write_bytes(b"PK\x03\x04 not a whole zip")
    with pytest.raises(RerankError, match="cannot be read.*CSBOT_RERANK=0"):
        read_reranker(broken)
    bad = replace(reranker, left=np.full_like(reranker.left, 10**9))
    bad.save(tmp_path / "bad.npz")
    with pytest.raises(RerankError, match="valid tree ensemble"):
        read_reranker(tmp_path / "bad.npz")


def test_search_reranks_a_students_hybrid_question_only(fake_index: Settings) -> None:
    index = load_index(fake_index)
    plain = Retriever(index, HashEmbedder())
    query = plain.analyse("客户投诉处理的步骤")
    fused = plain.search(query, k=DEPTH)
    last = fused[-1].passage.passage_id  # the fused 20th passage, made first by the re-ranker
    reranking = Retriever(index, HashEmbedder(), reranker=Fixed({last: 0.99}))
    hits = reranking.search(query, k=3)
    assert hits[0].passage.passage_id == last and len(hits) == 3
    assert [h.passage.passage_id for h in hits[1:]] == [h.passage.passage_id for h in fused[:2]]
    reranking.held_out = 2
    reranking.search(query, k=3)
    assert reranking.reranker.seen[-1] == (DEPTH, 2)  # type: ignore[union-attr]
    votes = reranking.reranker.seen[-2][1]  # type: ignore[union-attr]
    assert votes.shape == (DEPTH, 4) and np.isnan(votes).all()  # no asked questions: missing
    # a syllabus point (not adapted) and the single-retriever modes keep their own order
    assert [h.passage.passage_id for h in reranking.search(query, k=3, adapted=False)] == [
        h.passage.passage_id for h in fused[:3]
    ]
    assert reranking.search(query, k=3, mode="bm25") == plain.search(query, k=3, mode="bm25")


def test_no_reranker_for_the_fake_model_and_the_setting_turns_it_off(fake_index: Settings) -> None:
    from csbot.serve.assistant import Assistant

    assert reranker_for("fake") is None
    assert Assistant(fake_index).retriever.reranker is None
    assert load_settings(env={"CSBOT_RERANK": "0"}).rerank is False


def test_first_right_reads_the_highest_scored_candidate_of_each_question() -> None:
    y = np.array([0, 1, 1, 0])
    question = np.array([0, 0, 1, 1])
    assert first_right(np.array([0.1, 0.9, 0.2, 0.8]), y, question) == 0.5
    assert first_right(np.array([0.1, 0.9, 0.9, 0.8]), y, question) == 1.0
