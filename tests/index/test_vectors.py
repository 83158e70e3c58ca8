"""Exact and HNSW vector search, and the depths retrieval searches to at scale."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from csbot.index.vectors import ANN_DEPTH, HNSW_ABOVE, FlatVectors
from csbot.search import retriever
from csbot.search.retriever import Ranked, Retriever


def _unit(n: int, dim: int = 32, seed: int = 0) -> np.ndarray:
    x = np.random.default_rng(seed).normal(size=(n, dim)).astype(np.float32)
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def test_hnsw_finds_what_exact_search_finds_and_survives_a_save(tmp_path: Path) -> None:
    vectors, queries = _unit(3000), _unit(20, seed=1)
    exact, ann = FlatVectors.build(vectors), FlatVectors.build(vectors, ann=True)
    ann.save(tmp_path / "hnsw.index")
    loaded = FlatVectors.load(tmp_path / "hnsw.index")
    recall = []
    for q in queries:
        _, truth = exact.search(q[None, :], 10)
        _, found = loaded.search(q[None, :], 1000)
        assert found.shape == (1, ANN_DEPTH)  # an approximate search stops at ANN_DEPTH
        recall.append(len(set(truth[0]) & set(found[0][:10])) / 10)
    assert np.mean(recall) >= 0.95
    assert FlatVectors.build(vectors)._hnsw is False and len(vectors) < HNSW_ABOVE  # small: exact


def test_bm25_keeps_its_best_passages_and_every_tie_at_the_cut(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr(retriever, "BM25_DEPTH", 3)
    scores = np.array([0.0, 5.0, 1.0, 3.0, 3.0, 3.0, 0.5])

    class Lexical:
        vocab = {"词": 0}

        def scores(self, terms):  # type: ignore[no-untyped-def]
            return scores

    class Index:
        lexical = Lexical()
        passages = list(range(len(scores)))

    r = Retriever.__new__(Retriever)
    r.index = Index()  # type: ignore[assignment]
    r.weigh_as = {}
    query = type("Q", (), {"english": None, "terms": ("词",), "phrases": (), "pairs": ()})()
    ranked: Ranked = r.bm25(query)  # type: ignore[arg-type]
    assert ranked.ids == [1, 3, 4, 5]  # the three best, and the tie at the third place
