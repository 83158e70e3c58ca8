"""A prepared model run by ONNX Runtime: what answering uses, without torch."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from csbot.embed.base import Kind
from csbot.embed.prepare import ONNX_FILE
from csbot.errors import ModelError


class OnnxEmbedder:
    """A prepared model run by ONNX Runtime: no torch at question time.

    ``csbot model prepare`` exports the sentence-transformers model (mean pooling and L2
    normalisation included) to ONNX with int8 weights (:data:`ONNX_FILE`); this runs it with
    ``onnxruntime`` and the Rust ``tokenizers`` library: about 3 ms per question on a CPU with
    VNNI and 8–10 ms on one without (AVX2 only), against 19 ms for torch; vectors within
    cosine 0.99 of sentence-transformers' (a slow test checks), and the same to the bit for
    any number of threads. EmbeddingGemma runs the same way from its float export
    (``onnx_file``, :mod:`csbot.embed.gemma`).
    """

    def __init__(
        self,
        location: str,
        model_id: str,
        query_prefix: str,
        passage_prefix: str,
        show_progress: bool = False,
        threads: int = 1,
        onnx_file: str = ONNX_FILE,
        ranking_file: str | None = None,
    ) -> None:
        import onnxruntime as ort
        from tokenizers import Tokenizer

        try:
            config = json.loads(Path(location, "config.json").read_text(encoding="utf-8"))
            options = ort.SessionOptions()
            # 0: one per core (index builds); with a ranking side, a question's two networks
            # run side by side on one thread each
            options.intra_op_num_threads = 1 if ranking_file is not None and threads > 0 else threads
            options.inter_op_num_threads = 1
            if ranking_file is not None:  # two networks side by side: no thread may spin idle
                options.add_session_config_entry("session.intra_op.allow_spinning", "0")
            options.log_severity_level = 3
            sessions = {
                name: ort.InferenceSession(
                    str(Path(location, name)), options, providers=["CPUExecutionProvider"]
                )
                for name in {onnx_file, ranking_file or onnx_file}
            }
            self._tokenizer = Tokenizer.from_file(str(Path(location, "tokenizer.json")))
        except Exception as exc:  # onnxruntime, tokenizers and json raise many kinds
            raise ModelError(
                f"cannot load the prepared model at {location} ({type(exc).__name__}); "
                "run `csbot model prepare --force`"
            ) from exc
        self.max_length = _max_length(Path(location), config)
        self._tokenizer.enable_truncation(self.max_length)
        self.model_id = model_id
        self.dim = int(config["hidden_size"])
        self.prefixes = {"query": query_prefix, "passage": passage_prefix}
        self._session = sessions[onnx_file]
        # the network that orders passages for a question (csbot.embed.query_encoder), if any
        self.ranking_side = ranking_file is not None
        self._ranking = sessions[ranking_file or onnx_file]
        self._pool: Any = None
        self.show_progress = show_progress

    def embed_question(self, text: str) -> tuple[np.ndarray, np.ndarray]:
        """A question's query vector and ranking vector (1 × d each), the two networks run at
        once on two threads (ONNX Runtime releases the GIL): one after the other they took
        9.9 ms a question here, side by side 5.2."""
        if self._pool is None:
            from concurrent.futures import ThreadPoolExecutor

            self._pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix="csbot-embed")
        prefix = self.prefixes["query"]
        query = self._pool.submit(self._run, [text], prefix, self._session)
        ranking = self._pool.submit(self._run, [text], prefix, self._ranking)
        return query.result(), ranking.result()

    def embed_batch(self, texts: Sequence[str], kind: Kind = "passage") -> np.ndarray:
        """One text per run: the int8 model quantizes activations per tensor, so in a padded
        batch a text's vector would depend on the texts beside it."""
        return self._run(texts, self.prefixes[kind], self._session)

    def _run(self, texts: Sequence[str], prefix: str, session: Any) -> np.ndarray:
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
            vectors[row] = session.run(None, feeds)[0][0]
        return vectors


def _max_length(location: Path, config: dict[str, Any]) -> int:
    """The tokens a text is cut to, as sentence-transformers cuts them: the model's
    ``max_seq_length`` when its ``sentence_bert_config.json`` sets one (EmbeddingGemma: 2048),
    else 512 within the position table (e5: 512)."""
    try:
        st_config = json.loads((location / "sentence_bert_config.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        st_config = {}
    if isinstance(st_config.get("max_seq_length"), int):
        return int(st_config["max_seq_length"])
    return min(512, int(config["max_position_embeddings"]) - 2)
