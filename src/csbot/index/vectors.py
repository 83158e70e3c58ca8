"""Dense vectors in FAISS: inner product over L2-normalised vectors (cosine), exact up to
:data:`HNSW_ABOVE` vectors and by an HNSW graph above (``make bench-scale`` reports its
recall)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

HNSW_ABOVE = 50_000  # exact search up to this many vectors (p95 55 ms a question at 10⁵ here)
HNSW_LINKS = 32
HNSW_BUILD_DEPTH = 200  # efConstruction
# An approximate search returns at most this many vectors (efSearch = the depth): enough for
# the 50 candidates fusion takes, at a quarter of the cost of 1,000 (`make bench-scale`).
ANN_DEPTH = 400


class FlatVectors:
    """A :class:`csbot.index.protocols.VectorIndex` over ``faiss.IndexFlatIP`` or, for a
    large index, ``faiss.IndexHNSWFlat`` (searched with ``efSearch`` = the depth asked)."""

    def __init__(self, index: Any) -> None:
        self._index = index
        self._hnsw = hasattr(index, "hnsw")

    @classmethod
    def build(cls, vectors: np.ndarray, ann: bool | None = None) -> FlatVectors:
        """Exact search, or HNSW when ``ann`` (by default: above :data:`HNSW_ABOVE` vectors)."""
        import faiss

        dim = vectors.shape[1]
        index: Any
        if ann or (ann is None and len(vectors) > HNSW_ABOVE):
            index = faiss.IndexHNSWFlat(dim, HNSW_LINKS, faiss.METRIC_INNER_PRODUCT)
            index.hnsw.efConstruction = HNSW_BUILD_DEPTH
        else:
            index = faiss.IndexFlatIP(dim)
        index.add(np.ascontiguousarray(vectors, dtype=np.float32))
        return cls(index)

    @classmethod
    def load(cls, path: Path) -> FlatVectors:
        import faiss

        return cls(faiss.read_index(str(path)))

    def save(self, path: Path) -> None:
        import faiss

        faiss.write_index(self._index, str(path))

    @property
    def size(self) -> int:
        return int(self._index.ntotal)  # type: ignore[attr-defined]

    def all_vectors(self) -> np.ndarray:
        """Every stored vector, in row order."""
        return self._index.reconstruct_n(0, self.size)  # type: ignore[attr-defined,no-any-return]

    def search(self, vector: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        if self._hnsw:
            import faiss

            k = min(k, ANN_DEPTH)
            params = faiss.SearchParametersHNSW(efSearch=max(k, 64))  # type: ignore[attr-defined]
            return self._index.search(vector, k, params=params)  # type: ignore[no-any-return]
        return self._index.search(vector, k)  # type: ignore[attr-defined,no-any-return]
