"""The embedder the settings name: the fake, the prepared default model, or any other model."""

from __future__ import annotations

from pathlib import Path

from csbot.embed.base import FAKE_MODEL, Embedder
from csbot.errors import ModelError
from csbot.settings import DEFAULT_MODEL, GEMMA_MODEL, Settings

# A question is some twenty tokens: two threads embed it in 7.8 ms p50 against 10.1 ms for
# one on this project's 2-core machine (the vectors are bit-identical); more threads would
# mostly wait on each other at that size.
QUERY_THREADS = 2
# The service works on several questions at once (``request_threads``): one thread each. With
# two, ORT's spinning workers fight over the cores: three concurrent streams of questions
# ran at 160 questions/s against 220 with one thread each (scratch measurement, this machine).
SERVICE_THREADS = 1


def prepare_model(settings: Settings, force: bool = False) -> Path:
    """Prepare a model where csbot loads it from (``csbot model prepare``): embeddinggemma-300m
    when configured, else the default model (another sentence-transformers model loads as it is)."""
    if settings.model == GEMMA_MODEL:
        from csbot.embed.gemma import DEFAULT_WHEELS, prepare_gemma

        return prepare_gemma(settings, DEFAULT_WHEELS, force=force)
    from csbot.embed.prepare import prepare_default_model

    return prepare_default_model(settings, force=force)


def make_embedder(settings: Settings, prepare: bool = False, threads: int = QUERY_THREADS) -> Embedder:
    """The embedder the settings name.

    Args:
        settings: ``settings.model`` is ``fake``, the default model, or a
            sentence-transformers name or path.
        prepare: build the default model from the installed packages if it is missing
            (``csbot build`` does; ``csbot ask`` does not, it reports how to fix it).
        threads: CPU threads for one ``embed_batch`` call of the default model:
            :data:`QUERY_THREADS` for a question alone (CLI, in-process), :data:`SERVICE_THREADS`
            in the service, 0 for all cores (index builds).
    """
    if settings.model == FAKE_MODEL:
        from csbot.embed.fake import HashEmbedder

        return HashEmbedder()
    if settings.model == DEFAULT_MODEL:
        from csbot.embed.prepare import ONNX_FILE, prepare_default_model, prepared_model_dir
        from csbot.embed.query_encoder import query_onnx_name

        location = prepared_model_dir(settings)
        ranking_file = query_onnx_name(settings.model)
        if prepare:
            location = prepare_default_model(settings)
        elif not all((location / name).exists() for name in (ONNX_FILE, ranking_file or ONNX_FILE)):
            raise ModelError(
                f"the embedding model is not prepared at {location}; run `csbot model prepare` "
                "(or `make index`)"
            )
        return _onnx(settings, location, ONNX_FILE, threads, ranking_file)
    where = settings.model  # a sentence-transformers name or path
    if settings.model == GEMMA_MODEL:
        from csbot.embed.gemma import INSTALL_HINT, gemma_dir, is_prepared
        from csbot.embed.gemma import ONNX_FILE as GEMMA_ONNX

        where = str(gemma_dir(settings))
        if not is_prepared(settings):
            raise ModelError(f"{GEMMA_MODEL} is not prepared at {where}; run `{INSTALL_HINT}`")
        if Path(where, GEMMA_ONNX).exists():  # exported when prepared; without it, torch
            return _onnx(settings, Path(where), GEMMA_ONNX, threads)
    from csbot.embed.transformer import SentenceTransformerEmbedder

    return SentenceTransformerEmbedder(
        settings.model,
        where,
        settings.query_prefix,
        settings.passage_prefix,
        settings.show_progress,
    )


def _onnx(
    settings: Settings, location: Path, onnx_file: str, threads: int, ranking_file: str | None = None
) -> Embedder:
    """The prepared model ``settings.model`` at ``location``, run by ONNX Runtime (passages
    ordered for a question by ``ranking_file`` when the model has a question side for that)."""
    from csbot.embed.onnx import OnnxEmbedder

    return OnnxEmbedder(
        str(location),
        settings.model,
        settings.query_prefix,
        settings.passage_prefix,
        settings.show_progress,
        threads,
        onnx_file=onnx_file,
        ranking_file=ranking_file,
    )
