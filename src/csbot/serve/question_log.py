"""The service's record of questions it answered, and students' marks on the answers.

A SQLite file under the data directory (never in ``index/``): time, question, whether the
answer was confident, the top document, whether the off-topic detector flagged the question —
no client address or other personal data. Off-topic questions (the weather, code) are not
something the material lacks: ``gaps`` leaves them out and :meth:`QuestionLog.off_topic`
counts them. One
connection per log, used under a lock, in WAL mode with ``synchronous=NORMAL`` (no fsync per
answer; the file stays consistent, a power cut may lose the last few rows); other processes
(a second worker, ``csbot gaps``) share the file through SQLite's own locking.
"""

from __future__ import annotations

import re
import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from csbot.text import near_duplicates
from csbot.text.normalise import normalize

SCHEMA = """
CREATE TABLE IF NOT EXISTS questions (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    asked_at TEXT NOT NULL,
    question TEXT NOT NULL,
    confident INTEGER NOT NULL,
    top_doc TEXT,
    off_topic INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS feedback (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    question_id INTEGER NOT NULL REFERENCES questions(id),
    helpful INTEGER NOT NULL,
    comment TEXT NOT NULL DEFAULT '',
    marked_at TEXT NOT NULL
);
"""
NEAR_DUPLICATE = 0.8


@dataclass(frozen=True)
class GapGroup:
    """Questions that got no confident answer, near-duplicates grouped."""

    question: str
    count: int
    variants: tuple[str, ...]


@dataclass(frozen=True)
class Unhelpful:
    question: str
    top_doc: str | None
    comment: str
    marked_at: str


class QuestionLog:
    """Append-only log in ``path`` (created on first use)."""

    def __init__(self, path: Path, busy_timeout: float = 30.0) -> None:
        self.path = path
        self.busy_timeout = busy_timeout  # seconds to wait for another process's lock
        self._lock = threading.Lock()
        self._db: sqlite3.Connection | None = None

    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        """The log's connection, one caller at a time, inside a transaction."""
        with self._lock:
            if self._db is None:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                db = sqlite3.connect(self.path, timeout=self.busy_timeout, check_same_thread=False)
                db.execute(f"PRAGMA busy_timeout={int(self.busy_timeout * 1000)}")
                db.execute("PRAGMA journal_mode=WAL")
                db.execute("PRAGMA synchronous=NORMAL")
                db.executescript(SCHEMA)
                columns = {row[1] for row in db.execute("PRAGMA table_info(questions)")}
                if "off_topic" not in columns:  # a log written before the column existed
                    db.execute("ALTER TABLE questions ADD COLUMN off_topic INTEGER NOT NULL DEFAULT 0")
                self._db = db
            with self._db:
                yield self._db

    def close(self) -> None:
        with self._lock:
            if self._db is not None:
                self._db.close()
                self._db = None

    def record(
        self,
        question: str,
        confident: bool,
        top_doc: str | None,
        question_id: int | None = None,
        off_topic: bool = False,
    ) -> int:
        """Store one answered question; returns its id (for feedback), ``question_id`` when given."""
        with self._connect() as db:
            cur = db.execute(
                "INSERT INTO questions (id, asked_at, question, confident, top_doc, off_topic) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                (question_id, _now(), question, int(confident), top_doc, int(off_topic)),
            )
            return int(cur.lastrowid or 0)

    def mark(self, question_id: int, helpful: bool, comment: str = "") -> bool:
        """Store a helpful / not helpful mark; False when the question id is unknown."""
        with self._connect() as db:
            if db.execute("SELECT 1 FROM questions WHERE id = ?", (question_id,)).fetchone() is None:
                return False
            db.execute(
                "INSERT INTO feedback (question_id, helpful, comment, marked_at) VALUES (?, ?, ?, ?)",
                (question_id, int(helpful), comment, _now()),
            )
            return True

    def count(self) -> int:
        if not self.path.exists():
            return 0
        with self._connect() as db:
            return int(db.execute("SELECT COUNT(*) FROM questions").fetchone()[0])

    def gaps(self, limit: int = 20) -> list[GapGroup]:
        """The most frequent questions without a confident answer, near-duplicates grouped
        (same text after folding script, width, case and punctuation, or ≥ 80 % similar);
        off-topic ones left out."""
        if not self.path.exists():
            return []
        with self._connect() as db:
            rows = [
                r[0]
                for r in db.execute(
                    "SELECT question FROM questions WHERE confident = 0 AND off_topic = 0 ORDER BY id"
                )
            ]
        return group_gaps(rows, limit)

    def off_topic(self) -> int:
        """How many logged questions the off-topic detector flagged."""
        if not self.path.exists():
            return 0
        with self._connect() as db:
            return int(db.execute("SELECT COUNT(*) FROM questions WHERE off_topic = 1").fetchone()[0])

    def unhelpful(self, limit: int = 50) -> list[Unhelpful]:
        if not self.path.exists():
            return []
        with self._connect() as db:
            rows = db.execute(
                "SELECT q.question, q.top_doc, f.comment, f.marked_at FROM feedback f "
                "JOIN questions q ON q.id = f.question_id WHERE f.helpful = 0 ORDER BY f.id DESC LIMIT ?",
                (limit,),
            ).fetchall()
        return [Unhelpful(*row) for row in rows]


def group_gaps(rows: list[str], limit: int) -> list[GapGroup]:
    """Unanswered questions (in order of asking) grouped as near-duplicates, largest first."""
    groups = near_duplicates.group(rows, _key, NEAR_DUPLICATE)  # in order of first asking
    ordered = sorted(enumerate(groups), key=lambda g: (-len(g[1][1]), g[0]))
    return [GapGroup(rep, len(m), tuple(dict.fromkeys(m))) for _, (rep, m) in ordered[:limit]]


def _key(question: str) -> str:
    return re.sub(r"[\W_]+", "", normalize(question))


def _now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S%z")
