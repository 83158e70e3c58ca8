"""Which store holds the index: the one place a second store (a database) plugs in."""

from __future__ import annotations

from csbot.index.local import LocalStore
from csbot.index.protocols import IndexStore, LoadedIndex
from csbot.settings import Settings


def open_store(settings: Settings) -> IndexStore:
    """The store ``settings`` name; today the local index directory ``settings.index_dir``."""
    return LocalStore(settings)


def load_index(settings: Settings) -> LoadedIndex:
    """The index ``settings`` point at, loaded and checked against corpus and model.

    Raises:
        IndexMissingError, IndexStaleError, IndexCorruptError: each says to run ``csbot build``.
    """
    return open_store(settings).load()
