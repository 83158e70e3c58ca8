"""Dense vectors in FAISS: exact inner product over L2-normalised vectors (cosine)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np


class FlatVectors:
    """A :class:`csbot.index.protocols.VectorIndex` over ``faiss.IndexFlatIP``."""

    def __init__(self, index: Any) -> None:
        self._index = index

    @classmethod
    def build(cls, vectors: np.ndarray) -> FlatVectors:
        import faiss

        flat = faiss.IndexFlatIP(vectors.shape[1])
        flat.add(np.ascontiguousarray(vectors, dtype=np.float32))
        return cls(flat)

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

    def search(self, vector: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        return self._index.search(vector, k)  # type: ignore[attr-defined,no-any-return]
