"""The local store: the index as a directory of plainly named files.

``manifest.json``, ``passages.jsonl``, ``bm25/``, ``bm25_pairs/``, ``faiss.index``,
``units.npy``, ``hubness.npy``, ``glossary.json``. A write goes into a temporary sibling directory that is
renamed into place, so an interrupted build leaves the previous index usable; a load checks
the manifest against the corpus and model it is asked to serve, and the files against each
other.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import tempfile
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np

from csbot.errors import CsbotError, IndexCorruptError
from csbot.index.bm25 import Bm25Index
from csbot.index.glossary import GLOSSARY_FILE, Glossary
from csbot.index.manifest import MANIFEST, check_fresh, read_manifest
from csbot.index.protocols import BuiltIndex, LoadedIndex
from csbot.index.vectors import FlatVectors
from csbot.records import Passage
from csbot.settings import Settings

PASSAGES = "passages.jsonl"
BM25_DIR = "bm25"
PAIRS_DIR = "bm25_pairs"  # BM25 over adjacent word pairs (Segmenter.word_pairs)
FAISS_FILE = "faiss.index"
UNITS_FILE = "units.npy"
HUBNESS_FILE = "hubness.npy"


class LocalStore:
    """An :class:`csbot.index.protocols.IndexStore` in ``settings.index_dir``."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.index_dir = settings.index_dir

    def write(self, built: BuiltIndex, ann: bool | None = None) -> None:
        """Write every file into a temporary directory, then swap it into place (``ann``:
        :meth:`csbot.index.vectors.FlatVectors.build`'s choice of exact or HNSW search)."""
        target = self.index_dir
        target.parent.mkdir(parents=True, exist_ok=True)
        self.tidy()
        tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}-build-{os.getpid()}-", dir=target.parent))
        try:
            with open(tmp / PASSAGES, "w", encoding="utf-8") as fh:
                for p in built.passages:
                    fh.write(json.dumps(asdict(p), ensure_ascii=False) + "\n")
            _bm25(built.lexical).save(tmp / BM25_DIR)
            _bm25(built.pairs).save(tmp / PAIRS_DIR)
            FlatVectors.build(built.vectors, ann).save(tmp / FAISS_FILE)
            np.save(tmp / UNITS_FILE, built.units)
            np.save(tmp / HUBNESS_FILE, built.hubness)
            (tmp / GLOSSARY_FILE).write_text(
                json.dumps(built.glossary.to_json(), ensure_ascii=False), encoding="utf-8"
            )
            manifest = json.dumps(
                {**built.manifest, "checksums": checksums(tmp)}, ensure_ascii=False, indent=2
            )
            (tmp / MANIFEST).write_text(manifest, encoding="utf-8")
            _swap_into_place(tmp, target)
        finally:
            if tmp.exists():
                shutil.rmtree(tmp, ignore_errors=True)

    def version(self) -> str:
        """The manifest's inode and change time: a build swaps in a new directory."""
        try:
            st = (self.index_dir / MANIFEST).stat()
        except OSError:
            return ""
        return f"{st.st_ino}:{st.st_mtime_ns}"

    def corpus_hash(self) -> str | None:
        try:
            value = read_manifest(self.index_dir).get("corpus_hash")
        except CsbotError:
            return None
        return value if isinstance(value, str) else None

    def tidy(self) -> list[str]:
        """Remove ``.index-build-<pid>-*`` and ``.index-old-<pid>-*`` directories whose
        process is gone; if a kill fell between the two renames of a swap (no index, an old
        one set aside), put the old one back first."""
        done: list[str] = []
        parent, name = self.index_dir.parent, self.index_dir.name
        if not parent.is_dir():
            return done
        leftovers = sorted(
            (
                p
                for kind in ("build", "old")
                for p in parent.glob(f".{name}-{kind}-*")
                if p.is_dir() and _owner_gone(p, name)
            ),
            key=lambda p: p.stat().st_mtime_ns,
        )
        old = [p for p in leftovers if p.name.startswith(f".{name}-old-")]
        if old and not (self.index_dir / MANIFEST).exists() and not self.index_dir.exists():
            old[-1].rename(self.index_dir)
            leftovers.remove(old[-1])
            done.append(f"restored the index a killed build had set aside ({old[-1].name})")
        for path in leftovers:
            shutil.rmtree(path, ignore_errors=True)
            done.append(f"removed {path.name}, left by a killed build")
        return done

    def load(self) -> LoadedIndex:
        """Load and check the index.

        Raises:
            IndexMissingError, IndexStaleError, IndexCorruptError: each says to run ``csbot build``.
        """
        index_dir = self.index_dir
        manifest = read_manifest(index_dir)
        check_fresh(manifest, self.settings)
        try:
            with open(index_dir / PASSAGES, encoding="utf-8") as fh:
                passages = [Passage.from_row(json.loads(line)) for line in fh if line.strip()]
            lexical = Bm25Index.load(index_dir / BM25_DIR)
            pairs = Bm25Index.load(index_dir / PAIRS_DIR)
            vectors = FlatVectors.load(index_dir / FAISS_FILE)
            units = np.load(index_dir / UNITS_FILE, allow_pickle=False)
            hubness = np.load(index_dir / HUBNESS_FILE, allow_pickle=False)
            glossary = Glossary.load(index_dir / GLOSSARY_FILE)
        except Exception as exc:  # json, numpy, faiss all raise their own kinds for a bad file
            raise IndexCorruptError(
                f"the index in {index_dir} is damaged ({type(exc).__name__}: {exc}); run `csbot build`"
            ) from exc
        _check_counts(index_dir, manifest, passages, vectors.size, units, glossary)
        if checksums(index_dir) != manifest.get("checksums"):  # what still reads, but differs
            raise IndexCorruptError(
                f"the files in {index_dir} do not match the checksums of its manifest "
                "(changed or damaged since the build); run `csbot build`"
            )
        if hubness.shape != (vectors.size,):
            raise IndexCorruptError(
                f"{index_dir / HUBNESS_FILE} does not match the vectors; run `csbot build`"
            )
        return LoadedIndex(manifest, passages, lexical, pairs, vectors, units, glossary, hubness)


def checksums(index_dir: Path) -> dict[str, str]:
    """SHA-256 of every file of the index but the manifest, by path relative to ``index_dir``:
    a flipped byte in ``faiss.index`` changes answers without any other error, so a load
    compares these with the ones the build recorded."""
    out = {}
    for path in sorted(p for p in index_dir.rglob("*") if p.is_file() and p.name != MANIFEST):
        digest = hashlib.sha256()
        with open(path, "rb") as fh:
            for block in iter(lambda: fh.read(1 << 20), b""):
                digest.update(block)
        out[path.relative_to(index_dir).as_posix()] = digest.hexdigest()
    return out


def _bm25(index: object) -> Bm25Index:
    if not isinstance(index, Bm25Index):
        raise TypeError(f"the local store writes bm25s indexes, not {type(index).__name__}")
    return index


def _check_counts(
    index_dir: Path,
    manifest: dict[str, Any],
    passages: list[Passage],
    vector_count: int,
    units: np.ndarray,
    glossary: Glossary,
) -> None:
    """Raise :class:`IndexCorruptError` unless the files agree with each other and the manifest."""
    n = len(passages)
    units_ok = (
        units.ndim == 2
        and units.shape == (vector_count, 3)
        and bool((units[:n, 0] == np.arange(n)).all())
        and bool(((units[:, 0] >= 0) & (units[:, 0] < n)).all())
    )
    if n != manifest.get("passage_count") or vector_count != manifest.get("vector_count") or not units_ok:
        raise IndexCorruptError(
            f"the index in {index_dir} is incomplete ({n} passages, {vector_count} vectors, "
            f"{len(units)} units; manifest says {manifest.get('passage_count')} and "
            f"{manifest.get('vector_count')}); run `csbot build`"
        )
    if (
        len(glossary.entries) != manifest.get("glossary_entries")
        or len(glossary.synonyms) != manifest.get("synonym_entries")
        or len(glossary.common) != manifest.get("common_entries")
    ):
        raise IndexCorruptError(f"the glossary in {index_dir} does not match its manifest; run `csbot build`")


def _swap_into_place(new: Path, target: Path) -> None:
    """Replace ``target`` by ``new`` with renames only; the old index survives a crash."""
    old = None
    if target.exists():
        old = target.with_name(f".{target.name}-old-{os.getpid()}-{time.time_ns()}")
        target.rename(old)
    try:
        new.rename(target)
    except OSError:
        if old is not None:
            old.rename(target)
        raise
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def _owner_gone(path: Path, name: str) -> bool:
    """Whether the process that made ``.{name}-build-<pid>-…`` / ``.{name}-old-<pid>-…`` is gone
    (a name without a pid, from an older csbot, counts as gone after an hour)."""
    m = re.match(rf"\.{re.escape(name)}-(?:build|old)-(\d+)-", path.name)
    if m is None:
        return time.time() - path.stat().st_mtime > 3600
    try:
        os.kill(int(m.group(1)), 0)
    except ProcessLookupError:
        return True
    except PermissionError:  # alive, another user's
        return False
    return False
