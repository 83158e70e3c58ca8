"""Embedders behind one method, ``embed_batch(texts, kind)``: the real model and a fake."""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Sequence
from typing import Literal, Protocol

import numpy as np

from .errors import ModelError
from .settings import DEFAULT_MODEL, Settings
from .textnorm import normalize

logger = logging.getLogger(__name__)

Kind = Literal["query", "passage"]
FAKE_MODEL = "fake"


class Embedder(Protocol):
    """Turns texts into L2-normalised float32 vectors, one row per text."""

    model_id: str
    dim: int

    def embed_batch(self, texts: Sequence[str], kind: Kind = "passage") -> np.ndarray: ...


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


class PreparedE5Embedder:
    """The prepared default model, loaded without sentence-transformers for a fast start.

    The model directory is a sentence-transformers model (mean pooling, normalised); this
    reads its transformer with ``transformers`` and its ``tokenizer.json`` with the Rust
    ``tokenizers`` library, which skips about three seconds of sentence-transformers import
    and tokenizer conversion. The vectors equal sentence-transformers' (a slow test checks).
    """

    def __init__(
        self, location: str, query_prefix: str, passage_prefix: str, show_progress: bool = False
    ) -> None:
        import torch
        from tokenizers import Tokenizer
        from transformers import AutoModel

        self._torch = torch
        try:
            self._model = AutoModel.from_pretrained(location).eval()
            self._tokenizer = Tokenizer.from_file(f"{location}/tokenizer.json")
        except Exception as exc:  # transformers and tokenizers raise many kinds
            raise ModelError(
                f"cannot load the prepared model at {location} ({type(exc).__name__}); "
                "run `csbot model prepare --force`"
            ) from exc
        self.max_length = min(512, int(self._model.config.max_position_embeddings) - 2)
        self._tokenizer.enable_truncation(self.max_length)
        pad_id = int(self._model.config.pad_token_id)
        self._tokenizer.enable_padding(pad_id=pad_id, pad_token=self._tokenizer.id_to_token(pad_id))
        self.model_id = DEFAULT_MODEL
        self.dim = int(self._model.config.hidden_size)
        self.prefixes = {"query": query_prefix, "passage": passage_prefix}
        self.show_progress = show_progress

    def embed_batch(self, texts: Sequence[str], kind: Kind = "passage") -> np.ndarray:
        torch = self._torch
        prefix = self.prefixes[kind]
        # batches of similar length pad little (as sentence-transformers does); rows go back
        # into the caller's order at the end
        order = sorted(range(len(texts)), key=lambda i: (len(texts[i]), i))
        texts = [texts[i] for i in order]
        batches = range(0, len(texts), 32)
        if self.show_progress and len(texts) > 32:
            from tqdm import tqdm

            batches = tqdm(batches, desc="embedding", unit="batch")
        out = []
        with torch.inference_mode():
            for start in batches:
                encoded = self._tokenizer.encode_batch([prefix + t for t in texts[start : start + 32]])
                ids = torch.tensor([e.ids for e in encoded])
                mask = torch.tensor([e.attention_mask for e in encoded])
                hidden = self._model(input_ids=ids, attention_mask=mask).last_hidden_state
                weights = mask.unsqueeze(-1).to(hidden.dtype)
                pooled = (hidden * weights).sum(1) / weights.sum(1).clamp(min=1e-9)
                out.append(torch.nn.functional.normalize(pooled, p=2, dim=1).numpy())
        if not out:
            return np.zeros((0, self.dim), dtype=np.float32)
        vectors = np.empty((len(texts), self.dim), dtype=np.float32)
        vectors[order] = np.concatenate(out)
        return vectors


def make_embedder(settings: Settings, prepare: bool = False) -> Embedder:
    """The embedder the settings name.

    Args:
        settings: ``settings.model`` is ``fake``, the default model, or a
            sentence-transformers name or path.
        prepare: build the default model from the installed packages if it is missing
            (``csbot build`` does; ``csbot ask`` does not, it reports how to fix it).
    """
    if settings.model == FAKE_MODEL:
        return HashEmbedder()
    if settings.model == DEFAULT_MODEL:
        from .model_prep import prepare_default_model, prepared_model_dir

        location = prepared_model_dir(settings)
        if prepare:
            location = prepare_default_model(settings)
        elif not (location / "modules.json").exists():
            raise ModelError(
                f"the embedding model is not prepared at {location}; run `csbot model prepare` "
                "(or `make index`)"
            )
        return PreparedE5Embedder(
            str(location), settings.query_prefix, settings.passage_prefix, settings.show_progress
        )
    return SentenceTransformerEmbedder(
        settings.model,
        settings.model,
        settings.query_prefix,
        settings.passage_prefix,
        settings.show_progress,
    )
