"""A deterministic hashing embedder for fast tests: no model, no semantics."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

import numpy as np

from csbot.embed.base import FAKE_MODEL, Kind
from csbot.text.normalise import normalize


class HashEmbedder:
    """A deterministic stand-in for tests: hashed character unigrams and bigrams.

    It knows no semantics, only shared characters, which is enough to test the
    plumbing quickly and exactly.
    """

    model_id = FAKE_MODEL

    def __init__(self, dim: int = 256) -> None:
        self.dim = dim

    def _vector(self, text: str) -> np.ndarray:
        v = np.zeros(self.dim, dtype=np.float32)
        norm = normalize(text)
        grams = list(norm) + [norm[i : i + 2] for i in range(len(norm) - 1)]
        for g in grams:
            if g.strip():
                h = int.from_bytes(hashlib.blake2b(g.encode(), digest_size=8).digest(), "little")
                v[h % self.dim] += 1.0 if len(g) == 1 else 2.0
        n = float(np.linalg.norm(v))
        return v / n if n else v

    def embed_batch(self, texts: Sequence[str], kind: Kind = "passage") -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        return np.stack([self._vector(t) for t in texts])
