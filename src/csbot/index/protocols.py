"""The seams of the index: what retrieval reads, whichever store holds it.

A store (``index/local.py`` today; a database store beside it) writes a :class:`BuiltIndex`
and loads a :class:`LoadedIndex` whose lexical and vector parts satisfy the protocols here.
Retrieval and answering see only these, never the files or the libraries behind them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np

from csbot.index.glossary import Glossary
from csbot.records import Passage
from csbot.text.segmenter import Segmenter


class LexicalIndex(Protocol):
    """BM25 over tokens: scores for every passage row, and the statistics behind them."""

    vocab: Mapping[str, int]

    def scores(self, terms: Sequence[str]) -> np.ndarray:
        """BM25 of ``terms`` (all in :attr:`vocab`) for every passage, float64, by passage row."""
        ...

    def doc_freq(self, term: str) -> int:
        """How many passages hold ``term`` (0 for a term the corpus never uses)."""
        ...


class VectorIndex(Protocol):
    """Exact or approximate inner-product search over L2-normalised vectors."""

    @property
    def size(self) -> int: ...

    def search(self, vector: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """For each row of ``vector`` (n × d): ``(similarities, ids)``, each of shape (n, k),
        best first; id -1 where none."""
        ...


@dataclass
class LoadedIndex:
    """Everything a retriever reads, loaded and checked against its manifest.

    ``units`` (int32, vectors × 3) says for each vector which passage row and which
    characters of its text it encodes; the first ``len(passages)`` rows are the passages whole.
    """

    manifest: dict[str, Any]
    passages: list[Passage]
    lexical: LexicalIndex
    pairs: LexicalIndex  # BM25 over adjacent word pairs (Segmenter.word_pairs)
    vectors: VectorIndex
    units: np.ndarray
    glossary: Glossary
    hubness: np.ndarray  # float32 per unit: its mean cosine to its nearest units elsewhere (CSLS)
    segmenter: Segmenter = field(default_factory=Segmenter)


@dataclass
class BuiltIndex:
    """What a build produces, before a store writes it."""

    manifest: dict[str, Any]
    passages: list[Passage]
    lexical: LexicalIndex
    pairs: LexicalIndex
    vectors: np.ndarray  # float32, one row per unit
    units: np.ndarray
    glossary: Glossary
    hubness: np.ndarray


class IndexStore(Protocol):
    """Where an index lives: written whole and atomically, loaded and checked."""

    def write(self, built: BuiltIndex) -> None: ...

    def load(self) -> LoadedIndex: ...

    def version(self) -> str:
        """A token that changes whenever a new index is switched in ("" for none); cheap
        enough to ask on every request."""
        ...

    def corpus_hash(self) -> str | None:
        """The corpus hash the serving index was built from; None without a readable index."""
        ...

    def tidy(self) -> list[str]:
        """Clear what a killed build left behind (and restore an index a kill left half
        switched); what was done."""
        ...
