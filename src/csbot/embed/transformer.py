"""Any sentence-transformers model (needs torch): the embedder for models other than the default."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from csbot.embed.base import Kind
from csbot.errors import ModelError


class SentenceTransformerEmbedder:
    """A sentence-transformers model with the query/passage prefixes it was trained with."""

    def __init__(
        self,
        model_id: str,
        location: str,
        query_prefix: str = "",
        passage_prefix: str = "",
        show_progress: bool = False,
    ) -> None:
        from sentence_transformers import SentenceTransformer

        try:
            self._model = SentenceTransformer(location, device="cpu")
        except Exception as exc:  # the library raises many kinds; all mean "cannot load"
            raise ModelError(
                f"cannot load embedding model {location!r} ({type(exc).__name__}); "
                "check CSBOT_MODEL, or run `csbot model prepare` for the default model"
            ) from exc
        self.model_id = model_id
        self.dim = int(self._model.get_embedding_dimension() or 0)
        self.prefixes = {"query": query_prefix, "passage": passage_prefix}
        self.show_progress = show_progress

    def embed_batch(self, texts: Sequence[str], kind: Kind = "passage") -> np.ndarray:
        prefix = self.prefixes[kind]
        vectors = self._model.encode(
            [prefix + t for t in texts],
            batch_size=32,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=self.show_progress and len(texts) > 1,
        )
        return np.asarray(vectors, dtype=np.float32)
