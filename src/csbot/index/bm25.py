"""BM25 with ``bm25s``: the one module that knows its internals."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np


def idf(doc_freq: int, n: int) -> float:
    """BM25's weight of a term held by ``doc_freq`` of ``n`` passages, as ``bm25s`` computes
    it (Lucene's variant): ``ln(1 + (n − df + 0.5) / (df + 0.5))``."""
    return float(np.log1p((n - doc_freq + 0.5) / (doc_freq + 0.5)))


class Bm25Index:
    """A :class:`csbot.index.protocols.LexicalIndex` over a ``bm25s.BM25`` model."""

    def __init__(self, model: object) -> None:
        self._model = model
        self.vocab: Mapping[str, int] = model.vocab_dict  # type: ignore[attr-defined]
        # document frequency of each vocabulary id, read off BM25's CSC score matrix
        self._df = np.diff(np.asarray(model.scores["indptr"]))  # type: ignore[attr-defined]

    @classmethod
    def build(cls, corpus_tokens: list[list[str]]) -> Bm25Index:
        import bm25s

        model = bm25s.BM25()
        model.index(corpus_tokens, show_progress=False)
        return cls(model)

    @classmethod
    def load(cls, path: Path) -> Bm25Index:
        import bm25s

        return cls(bm25s.BM25.load(str(path), show_progress=False))

    def save(self, path: Path) -> None:
        self._model.save(str(path), show_progress=False)  # type: ignore[attr-defined]

    def scores(self, terms: Sequence[str]) -> np.ndarray:
        return np.asarray(self._model.get_scores(list(terms)), dtype=np.float64)  # type: ignore[attr-defined]

    def postings(self) -> tuple[dict[str, int], np.ndarray, np.ndarray, np.ndarray]:
        """``(vocab, weights, passages, starts)``: the BM25 score of every (term, passage)
        pair, as bm25s precomputed it — term ``t``'s are ``weights[starts[t]:starts[t+1]]``
        for ``passages[starts[t]:starts[t+1]]`` — so another store can hold them exactly."""
        m = self._model.scores  # type: ignore[attr-defined]
        return dict(self.vocab), np.asarray(m["data"]), np.asarray(m["indices"]), np.asarray(m["indptr"])

    def doc_freq(self, term: str) -> int:
        tid = self.vocab.get(term)
        return int(self._df[tid]) if tid is not None and tid < len(self._df) else 0
