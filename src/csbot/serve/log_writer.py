"""The service's side of the question log: answering never waits for it, and never fails by it.

An answered question is handed to one background thread through a bounded queue and written
there; the id the student's feedback will name is chosen at once (random, 52 bits, so
several server processes sharing the file do not collide). A locked or unwritable log file
costs the writer time and failures, never the student an answer: failures and drops are
counted and shown in ``/api/health``.
"""

from __future__ import annotations

import contextlib
import logging
import queue
import secrets
import sqlite3
import threading
from typing import Any

from csbot.serve.question_log import QuestionLog
from csbot.serve.question_log_pg import PgQuestionLog
from csbot.settings import Settings

logger = logging.getLogger(__name__)


def _db_error() -> type[Exception]:
    """PostgreSQL's errors (the database went away, a full disk there)."""
    import psycopg

    return psycopg.Error


CAPACITY = 10_000  # questions waiting to be written; beyond, a question is not logged (counted)
FEEDBACK_WAIT = 2.0  # seconds a feedback mark waits for its question to be written


class LogWriter:
    """Writes :meth:`record` calls to a :class:`QuestionLog` in the background."""

    def __init__(self, log: QuestionLog | PgQuestionLog, capacity: int = CAPACITY) -> None:
        self.log = log
        self._queue: queue.Queue[tuple[int, str, bool, str | None, bool] | None] = queue.Queue(capacity)
        self._lock = threading.Lock()
        self.written = self.failed = self.dropped = 0
        self.last_error = ""
        self._thread = threading.Thread(target=self._run, name="csbot-question-log", daemon=True)
        self._thread.start()

    def record(
        self, question: str, confident: bool, top_doc: str | None, off_topic: bool = False
    ) -> int | None:
        """Queue one answered question; its id for feedback, or None when the queue is full."""
        question_id = secrets.randbits(52) + 1
        try:
            self._queue.put_nowait((question_id, question, confident, top_doc, off_topic))
        except queue.Full:
            with self._lock:
                self.dropped += 1
            return None
        return question_id

    def mark(self, question_id: int, helpful: bool, comment: str = "") -> bool:
        """A student's mark, written now (after the questions queued before it, if they are
        written within :data:`FEEDBACK_WAIT` seconds); False for an unknown id."""
        self.flush(FEEDBACK_WAIT)
        return self.log.mark(question_id, helpful, comment)

    def flush(self, timeout: float) -> bool:
        """Wait until every queued question is written or failed (at most ``timeout`` s)."""
        done = threading.Event()

        def wait() -> None:
            self._queue.join()
            done.set()

        threading.Thread(target=wait, daemon=True).start()
        return done.wait(timeout)

    def status(self) -> dict[str, Any]:
        """What ``/api/health`` reports about the log."""
        with self._lock:
            failing = bool(self.failed) and self.last_error != ""
            return {
                "status": "failing" if failing else "ok",
                "pending": self._queue.qsize(),
                "written": self.written,
                "failed": self.failed,
                "dropped": self.dropped,
                "last_error": self.last_error,
            }

    def close(self, timeout: float = 5.0) -> None:
        """Write what is queued (for up to ``timeout`` s), then stop the thread."""
        with contextlib.suppress(queue.Full):
            self._queue.put(None, timeout=timeout)
        self._thread.join(timeout)
        self.log.close()

    def _run(self) -> None:
        while True:
            item = self._queue.get()
            try:
                if item is None:
                    return
                question_id, question, confident, top_doc, off_topic = item
                self.log.record(question, confident, top_doc, question_id=question_id, off_topic=off_topic)
                with self._lock:
                    self.written += 1
                    self.last_error = ""
            except (sqlite3.Error, OSError, _db_error()) as exc:  # locked, read-only, full disk, no directory
                with self._lock:
                    self.failed += 1
                    self.last_error = f"{type(exc).__name__}: {exc}"[:200]
                logger.warning("question log: %s", exc)
            finally:
                self._queue.task_done()


def open_log(settings: Settings, busy_timeout: float = 30.0) -> QuestionLog | PgQuestionLog:
    """The question log ``settings`` name: the store's database when it is PostgreSQL (every
    replica writes to the same one), else the SQLite file under the data directory."""
    if settings.store:
        return PgQuestionLog(settings.store)
    return QuestionLog(settings.data_dir / "questions.sqlite3", busy_timeout=busy_timeout)
