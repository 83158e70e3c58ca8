"""One recoverable step for a corpus change and the index rebuild that goes with it.

``csbot add`` / ``remove`` change files in ``corpus/`` and then rebuild the index; a kill
between the two left a corpus the index did not match, and every question was refused until
someone rebuilt by hand. Now a change runs under a lock and writes a journal first:

1. ``.csbot-change.json`` (written and flushed to disk before anything else) holds the corpus
   manifest as it was, the files the change adds, and where the files it removes were put
   aside (renamed, not deleted);
2. the files and the manifest change; the index is rebuilt into a new directory and renamed
   into place — that rename is the change's **commit point**;
3. the files put aside are deleted and the journal goes.

Whoever next finds a journal with no live change holding the lock (the next ``csbot`` command,
the server at start-up or reload) compares the serving index with it: if the index was built
from the corpus as it was before, the change is undone; otherwise it was committed and is
finished. Either way the corpus and the index agree again, with no rebuild.
"""

from __future__ import annotations

import fcntl
import json
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from csbot.errors import CorpusError
from csbot.ingest.corpus import MANIFEST, load_corpus

JOURNAL = ".csbot-change.json"
LOCK = ".csbot-change.lock"
ASIDE = ".csbot-removed-"  # prefix of a removed file kept until the change commits


@dataclass
class Change:
    """What a change has done so far, as the journal records it."""

    corpus_dir: Path
    hash_before: str
    manifest_before: str
    added: list[str] = field(default_factory=list)
    aside: list[tuple[str, str]] = field(default_factory=list)  # (file, its put-aside name)

    def save(self) -> None:
        record = {
            "hash_before": self.hash_before,
            "manifest_before": self.manifest_before,
            "added": self.added,
            "aside": self.aside,
        }
        write_durably(self.corpus_dir / JOURNAL, json.dumps(record, ensure_ascii=False))

    def add_file(self, name: str, text: str) -> None:
        """Write a new corpus file (journaled first, so an undo knows to delete it)."""
        self.added.append(name)
        self.save()
        (self.corpus_dir / name).write_text(text, encoding="utf-8")

    def put_aside(self, name: str) -> None:
        """Take a file out of the corpus, keeping it until the change commits."""
        aside = f"{ASIDE}{name}"
        self.aside.append((name, aside))
        self.save()
        if (self.corpus_dir / name).exists():
            os.replace(self.corpus_dir / name, self.corpus_dir / aside)

    def write_manifest(self, text: str) -> None:
        write_durably(self.corpus_dir / MANIFEST, text)
        load_corpus(self.corpus_dir)  # the manifest must still parse

    def undo(self) -> None:
        """Put the corpus back as it was before the change."""
        write_durably(self.corpus_dir / MANIFEST, self.manifest_before)
        for name in self.added:
            (self.corpus_dir / name).unlink(missing_ok=True)
        for name, aside in self.aside:
            if (self.corpus_dir / aside).exists():
                os.replace(self.corpus_dir / aside, self.corpus_dir / name)
        (self.corpus_dir / JOURNAL).unlink(missing_ok=True)

    def finish(self) -> None:
        """The index now serves the new corpus: drop what was put aside, and the journal."""
        for _, aside in self.aside:
            (self.corpus_dir / aside).unlink(missing_ok=True)
        (self.corpus_dir / JOURNAL).unlink(missing_ok=True)


IndexHash = Callable[[], "str | None"]  # the corpus hash of the serving index, None without one


@contextmanager
def corpus_change(corpus_dir: Path, index_hash: IndexHash) -> Iterator[Change]:
    """A change to ``corpus_dir``: undone if the body raises (Ctrl-C and SIGTERM included),
    finished if it returns; recoverable by :func:`recover` if the process is killed.

    Raises:
        CorpusError: another add or remove is running on this corpus.
    """
    with _locked(corpus_dir, wait=False) as held:
        if not held:
            raise CorpusError(
                f"another csbot add or remove is changing {corpus_dir}; try again when it has finished"
            )
        _recover_locked(corpus_dir, index_hash)
        change = Change(
            corpus_dir,
            hash_before=load_corpus(corpus_dir).content_hash(),
            manifest_before=(corpus_dir / MANIFEST).read_text(encoding="utf-8"),
        )
        change.save()
        try:
            yield change
        except BaseException:
            change.undo()
            raise
        change.finish()


def recover(corpus_dir: Path, index_hash: IndexHash) -> str | None:
    """Finish or undo a change a killed process left; what was done, or None if nothing.

    Cheap when there is nothing to do (one ``stat``); a change still running is left alone.
    """
    if not (corpus_dir / JOURNAL).exists():
        return None
    with _locked(corpus_dir, wait=False) as held:
        return _recover_locked(corpus_dir, index_hash) if held else None


def _recover_locked(corpus_dir: Path, index_hash: IndexHash) -> str | None:
    path = corpus_dir / JOURNAL
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
        change = Change(
            corpus_dir,
            hash_before=str(record["hash_before"]),
            manifest_before=str(record["manifest_before"]),
            added=[str(n) for n in record["added"]],
            aside=[(str(a), str(b)) for a, b in record["aside"]],
        )
    except FileNotFoundError:
        return None
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise CorpusError(
            f"{path} (left by an interrupted csbot add or remove) cannot be read ({exc}); "
            "check corpus/ by hand, then delete it"
        ) from exc
    served = index_hash()
    if served is not None and served != change.hash_before and served == _hash_now(corpus_dir):
        change.finish()
        return "an interrupted corpus change had been committed (the index serves it); finished it"
    change.undo()
    return "an interrupted corpus change was undone (the index still served the corpus before it)"


def _hash_now(corpus_dir: Path) -> str | None:
    try:
        return load_corpus(corpus_dir).content_hash()
    except CorpusError:
        return None


@contextmanager
def _locked(corpus_dir: Path, wait: bool) -> Iterator[bool]:
    """An exclusive ``flock`` on the corpus's lock file; the kernel drops it when the holder dies."""
    fd = os.open(corpus_dir / LOCK, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
        except BlockingIOError:
            yield False
            return
        yield True
    finally:
        os.close(fd)


def write_durably(path: Path, text: str) -> None:
    """Replace ``path`` by ``text`` with a rename, flushed to disk first: never half-written."""
    tmp = path.with_name(f".{path.name}.tmp")
    with open(tmp, "w", encoding="utf-8") as fh:
        fh.write(text)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)
