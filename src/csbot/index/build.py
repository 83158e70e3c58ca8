"""Building an index: corpus → clean → chunk → BM25 tokens, word pairs, sentence vectors, glossary.

The vector index holds one vector per passage and one per sentence window of it (a
definition or a list's lead is often one sentence of a longer passage); ``units`` says, for
each vector, which passage and which characters of its text it encodes. The glossary
(:mod:`csbot.index.glossary`) files the material's words under their English glosses, and
the words it mostly says otherwise under their common synonym (:mod:`csbot.index.common_words`).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from csbot.embed.base import Embedder
from csbot.index.common_words import common_words
from csbot.index.glossary import Glossary, build_glossary
from csbot.index.manifest import make_manifest
from csbot.index.protocols import BuiltIndex, IndexStore
from csbot.index.synonyms import build_synonyms, cilin_groups
from csbot.ingest.chunking import chunk_document
from csbot.ingest.clean import clean_document
from csbot.ingest.corpus import Corpus, load_corpus
from csbot.records import Passage
from csbot.settings import Settings
from csbot.text.normalise import to_simplified
from csbot.text.segmenter import NO_PAIRS, Segmenter
from csbot.text.sentences import windows

logger = logging.getLogger(__name__)

MIN_UNIT_CHARS = 4  # shorter windows (``二、``) carry no meaning of their own
UNIT_HEADING_CHARS = 24  # a sentence window is embedded under at most this much of its heading
HUB_NEIGHBOURS = 10  # CSLS's neighbourhood size
HUB_EXACT_UP_TO = 20_000  # above, each unit's neighbours come from an HNSW graph (n² is too slow)


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


def _uses(vocab: Mapping[str, int], segmenter: Segmenter) -> Callable[[str], bool]:
    """Whether the material uses a dictionary headword: all its words are in BM25's vocabulary."""

    def uses(head: str) -> bool:
        found = segmenter.tokenize(head, bigrams=False)
        return bool(found) and all(w in vocab for w in found)

    return uses


def dense_units(passages: list[Passage]) -> np.ndarray:
    """Rows ``(passage row, start, end)``: every passage whole, then its sentence windows
    (:func:`csbot.text.sentences.windows`) that are neither tiny nor the whole passage."""
    rows = [(i, 0, len(p.text)) for i, p in enumerate(passages)]
    for i, p in enumerate(passages):
        for w in windows(p.text):
            if len(p.text[w.start : w.end].strip()) >= MIN_UNIT_CHARS and (w.end - w.start) < len(p.text):
                rows.append((i, w.start, w.end))
    return np.asarray(rows, dtype=np.int32).reshape(-1, 3)


def unit_text(passage: Passage, start: int, end: int) -> str:
    """What the model embeds for the unit ``passage.text[start:end]``: its Simplified form
    (questions are embedded so too), and a sentence window is headed by its section's
    heading (``heading：sentence``, unless the sentence opens with it), so that a sentence
    cut from its passage still says what it is about ("contextual" chunk embedding). The
    whole passage is embedded as it is. On ``dev``, refitted: cross-validated Brier 0.134 →
    0.126; on 198 unseen questions hit@1 17 → 19 of 32."""
    text = passage.text[start:end]
    if start > 0 or end < len(passage.text):
        heading = passage.section.split(" › ")[-1].rstrip("…")[:UNIT_HEADING_CHARS]
        if not text.startswith(heading[:8]):
            text = f"{heading}：{text}"
    return to_simplified(text)


def hubness(vectors: np.ndarray, owner: np.ndarray, k: int = HUB_NEIGHBOURS) -> np.ndarray:
    """Each unit's mean cosine to its ``k`` nearest units of other passages: the ``r`` of
    cross-domain similarity local scaling (CSLS; Conneau et al., 2018). A unit close to
    everything (a long list of generic service words) is a hub that wins questions it does
    not answer; retrieval ranks by ``cos − r/2`` (:mod:`csbot.search.retriever`)."""
    from csbot.index.vectors import FlatVectors

    n = len(vectors)
    if n == 0:
        return np.zeros(0, dtype=np.float32)
    same = int(np.bincount(owner).max())  # a unit's own passage has at most this many units
    depth = min(n, k + same)
    sims, ids = FlatVectors.build(vectors, ann=n > HUB_EXACT_UP_TO).search(vectors, depth)
    out = np.zeros(n, dtype=np.float32)
    for row in range(n):
        others = [s for s, j in zip(sims[row], ids[row], strict=True) if j >= 0 and owner[j] != owner[row]]
        out[row] = float(np.mean(others[:k])) if others else 0.0
    return out


def build(settings: Settings, embedder: Embedder) -> BuiltIndex:
    """Everything an index holds for ``settings.corpus_dir``, not yet written anywhere."""
    from csbot.index.bm25 import Bm25Index

    started = time.perf_counter()
    corpus = load_corpus(settings.corpus_dir)
    passages = passages_of(corpus)
    logger.info("%d passages from %d documents", len(passages), len(corpus.documents))
    # One-off texts in bulk (100k dictionary headwords): a segmenter that remembers nothing.
    segmenter = Segmenter(cache_size=0)
    lexical = Bm25Index.build([segmenter.tokenize(bm25_text(p)) for p in passages])
    vocab = lexical.vocab
    latin = [w for w in vocab if w.isascii() and w.isalpha() and len(w) >= 2]
    uses = _uses(vocab, segmenter)
    entries = build_glossary(uses, latin=sorted(latin))
    common = common_words(entries, lexical.doc_freq, lambda words: embedder.embed_batch(words, kind="query"))
    glossary = Glossary(entries, build_synonyms(uses, cilin_groups()), common)
    units = dense_units(passages)
    vectors = embedder.embed_batch([unit_text(passages[i], a, b) for i, a, b in units], kind="passage")
    vectors = np.ascontiguousarray(vectors, dtype=np.float32)
    counts = {
        "dimension": int(vectors.shape[1]),
        "passage_count": len(passages),
        "vector_count": len(units),
        "glossary_entries": len(glossary.entries),
        "synonym_entries": len(glossary.synonyms),
        "common_entries": len(glossary.common),
    }
    return BuiltIndex(
        manifest=make_manifest(settings, corpus, embedder.model_id, counts, started),
        passages=passages,
        lexical=lexical,
        pairs=Bm25Index.build([segmenter.word_pairs(bm25_text(p)) or [NO_PAIRS] for p in passages]),
        vectors=vectors,
        units=units,
        glossary=glossary,
        hubness=hubness(vectors, units[:, 0]),
    )


def build_index(settings: Settings, embedder: Embedder, store: IndexStore | None = None) -> dict[str, Any]:
    """Build the index for ``settings.corpus_dir`` and write it to ``store`` (default: the
    local index directory ``settings.index_dir``).

    Returns:
        The manifest written.
    """
    from csbot.index.store import open_store

    built = build(settings, embedder)
    (store or open_store(settings)).write(built)
    return built.manifest


def rebuilder(settings: Settings) -> tuple[Callable[[], object], Callable[[], str | None]]:
    """What ``csbot add`` / ``remove`` end with: a rebuild with the settings' model, and how to
    read the serving index's corpus hash (:mod:`csbot.ingest.journal`)."""

    from csbot.embed.factory import make_embedder
    from csbot.index.store import open_store

    def rebuild() -> object:
        return build_index(settings, make_embedder(settings, prepare=True, threads=0))

    return rebuild, open_store(settings).corpus_hash
