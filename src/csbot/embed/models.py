"""Embedders behind one method, ``embed_batch(texts, kind)``: the real model and a fake."""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Literal, Protocol

import numpy as np

from csbot.errors import ModelError
from csbot.settings import DEFAULT_MODEL, Settings
from csbot.text.normalise import normalize

logger = logging.getLogger(__name__)

Kind = Literal["query", "passage"]
FAKE_MODEL = "fake"
ONNX_FILE = "model-int8.onnx"


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


class OnnxE5Embedder:
    """The prepared default model run by ONNX Runtime: no torch at question time.

    ``csbot model prepare`` exports the sentence-transformers model (mean pooling and L2
    normalisation included) to ONNX with int8 weights (:data:`ONNX_FILE`); this runs it with
    ``onnxruntime`` and the Rust ``tokenizers`` library: about 3 ms per question on this CPU
    against 19 ms for torch, vectors within cosine 0.99 of sentence-transformers' (a slow
    test checks).
    """

    def __init__(
        self,
        location: str,
        query_prefix: str,
        passage_prefix: str,
        show_progress: bool = False,
        threads: int = 1,
    ) -> None:
        import onnxruntime as ort
        from tokenizers import Tokenizer

        try:
            config = json.loads(Path(location, "config.json").read_text(encoding="utf-8"))
            options = ort.SessionOptions()
            options.intra_op_num_threads = threads  # 0: one per core (index builds)
            options.inter_op_num_threads = 1
            options.log_severity_level = 3
            self._session = ort.InferenceSession(
                str(Path(location, ONNX_FILE)), options, providers=["CPUExecutionProvider"]
            )
            self._tokenizer = Tokenizer.from_file(str(Path(location, "tokenizer.json")))
        except Exception as exc:  # onnxruntime, tokenizers and json raise many kinds
            raise ModelError(
                f"cannot load the prepared model at {location} ({type(exc).__name__}); "
                "run `csbot model prepare --force`"
            ) from exc
        self.max_length = min(512, int(config["max_position_embeddings"]) - 2)
        self._tokenizer.enable_truncation(self.max_length)
        self.model_id = DEFAULT_MODEL
        self.dim = int(config["hidden_size"])
        self.prefixes = {"query": query_prefix, "passage": passage_prefix}
        self.show_progress = show_progress

    def embed_batch(self, texts: Sequence[str], kind: Kind = "passage") -> np.ndarray:
        """One text per run: the int8 model quantizes activations per tensor, so in a padded
        batch a text's vector would depend on the texts beside it."""
        prefix = self.prefixes[kind]
        items: Iterable[str] = texts
        if self.show_progress and len(texts) > 1:
            from tqdm import tqdm

            items = tqdm(texts, desc="embedding", unit="text")
        vectors = np.empty((len(texts), self.dim), dtype=np.float32)
        for row, text in enumerate(items):
            encoded = self._tokenizer.encode(prefix + text)
            feeds = {
                "input_ids": np.array([encoded.ids], dtype=np.int64),
                "attention_mask": np.array([encoded.attention_mask], dtype=np.int64),
            }
            vectors[row] = self._session.run(None, feeds)[0][0]
        return vectors


def make_embedder(settings: Settings, prepare: bool = False, threads: int = 1) -> Embedder:
    """The embedder the settings name.

    Args:
        settings: ``settings.model`` is ``fake``, the default model, or a
            sentence-transformers name or path.
        prepare: build the default model from the installed packages if it is missing
            (``csbot build`` does; ``csbot ask`` does not, it reports how to fix it).
        threads: CPU threads for one ``embed_batch`` call of the default model: 1 for
            questions (the service runs several at once), 0 for all cores (index builds).
    """
    if settings.model == FAKE_MODEL:
        return HashEmbedder()
    if settings.model == DEFAULT_MODEL:
        from csbot.embed.prepare import prepare_default_model, prepared_model_dir

        location = prepared_model_dir(settings)
        if prepare:
            location = prepare_default_model(settings)
        elif not (location / ONNX_FILE).exists():
            raise ModelError(
                f"the embedding model is not prepared at {location}; run `csbot model prepare` "
                "(or `make index`)"
            )
        return OnnxE5Embedder(
            str(location), settings.query_prefix, settings.passage_prefix, settings.show_progress, threads
        )
    return SentenceTransformerEmbedder(
        settings.model,
        settings.model,
        settings.query_prefix,
        settings.passage_prefix,
        settings.show_progress,
    )
