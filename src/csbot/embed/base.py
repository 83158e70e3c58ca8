"""The embedder seam: one method, ``embed_batch(texts, kind)``, whatever model is behind it."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal, Protocol

import numpy as np

Kind = Literal["query", "passage"]
FAKE_MODEL = "fake"


class Embedder(Protocol):
    """Turns texts into L2-normalised float32 vectors, one row per text."""

    model_id: str
    dim: int

    def embed_batch(self, texts: Sequence[str], kind: Kind = "passage") -> np.ndarray: ...
