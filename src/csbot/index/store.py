"""Which store holds the index: the one place a second store (a database) plugs in."""

from __future__ import annotations

import logging

from csbot.index.local import LocalStore
from csbot.index.protocols import IndexStore, LoadedIndex
from csbot.ingest import journal
from csbot.settings import Settings

log = logging.getLogger(__name__)


def open_store(settings: Settings) -> IndexStore:
    """The store ``settings`` name: a PostgreSQL database (``settings.store``) or the local
    index directory ``settings.index_dir``."""
    if settings.store:
        from csbot.index.postgres import PgStore

        return PgStore(settings)
    return LocalStore(settings)


def store_name(settings: Settings) -> str:
    """The store for messages: the index directory, or the database (never its credentials)."""
    if settings.store:
        from csbot.index.postgres import describe

        return describe(settings.store)
    return str(settings.index_dir)


def load_index(settings: Settings) -> LoadedIndex:
    """The index ``settings`` point at, loaded and checked against corpus and model, after
    :func:`recover` has finished or undone whatever a killed csbot left.

    Raises:
        IndexMissingError, IndexStaleError, IndexCorruptError: each says to run ``csbot build``.
    """
    store = open_store(settings)
    recover(settings, store)
    return store.load()


def recover(settings: Settings, store: IndexStore | None = None) -> list[str]:
    """Bring corpus and index back to one state after a kill: a half-switched index restored,
    a killed build's directories removed, an interrupted add/remove finished or undone
    (:mod:`csbot.ingest.journal`). What was done, also logged; cheap when nothing was left."""
    store = store or open_store(settings)
    done = store.tidy()
    note = journal.recover(settings.corpus_dir, store.corpus_hash)
    done += [note] if note else []
    for line in done:
        log.warning("%s", line)
    return done
