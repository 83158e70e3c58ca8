"""The running service follows the index: after ``csbot build`` / ``add`` / ``remove`` it
answers from the new index without a restart.

Each request asks :meth:`LiveAssistant.current` for the assistant to use and keeps that one
object for the whole request, so no answer mixes the old index with the new. ``current``
compares the store's version token (one ``stat`` for the local store) with the loaded one's;
when it differs, one request thread loads and checks the new index (reusing the loaded
model) while the others go on with the old; the new one replaces it only once it loaded
whole. A new index that fails its checks leaves the old one serving, and the reason in
``/api/health``.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass

from csbot.embed.factory import SERVICE_THREADS, make_embedder
from csbot.errors import CsbotError
from csbot.index.store import open_store
from csbot.serve.assistant import Assistant
from csbot.settings import Settings

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ReloadStatus:
    """What ``/api/health`` says of reloading."""

    reloads: int  # new indexes switched in since start
    last_reload: str | None  # when, ISO time
    error: str | None  # why the newest index was not switched in, if it was not


class LiveAssistant:
    """The assistant for the index ``settings`` point at, kept in step with it."""

    def __init__(self, settings: Settings, assistant: Assistant | None = None) -> None:
        self.settings = settings
        self._store = open_store(settings)
        self._assistant = assistant
        self._version = self._store.version() if assistant is not None else None
        self._lock = threading.Lock()
        self._reloads = 0
        self._last_reload: str | None = None
        self.error: str | None = None  # why there is no assistant, or why a reload failed

    def current(self) -> Assistant | None:
        """The assistant to answer this request with; None while no index has loaded."""
        version = self._store.version()
        if version != self._version and self._lock.acquire(blocking=self._assistant is None):
            try:
                if version != self._version:  # not done meanwhile by another thread
                    self._load(version)
            finally:
                self._lock.release()
        return self._assistant

    def _load(self, version: str) -> None:
        old = self._assistant
        try:
            embedder = (
                old.embedder if old is not None else make_embedder(self.settings, threads=SERVICE_THREADS)
            )
            new = Assistant(self.settings, embedder=embedder)
            new.warm_up()
        except CsbotError as exc:
            self.error = str(exc)
            if old is not None:
                log.warning("kept the index already loaded: %s", exc)
        else:
            self._assistant, self.error = new, None
            if old is not None:
                self._reloads += 1
                self._last_reload = time.strftime("%Y-%m-%dT%H:%M:%S%z")
                log.warning("switched to the new index (%s passages)", new.manifest["passage_count"])
        # Tried for this version: the next attempt waits for the index to change again. A
        # store version read before loading means an index switched in meanwhile is seen.
        self._version = version

    def status(self) -> ReloadStatus:
        return ReloadStatus(self._reloads, self._last_reload, self.error if self._assistant else None)
