"""The question log in the PostgreSQL store's database: one log every replica writes to.

The same record as the SQLite log (:mod:`csbot.serve.question_log`): time, question, whether
the answer was confident, the top document, whether it looked off topic, and students' marks. Ids are chosen by the
writer (random, 52 bits), so replicas never collide; a connection pool serves the writer
thread and the trainer's reads. Messages name the database, never the URI's credentials.
"""

from __future__ import annotations

import threading
from typing import Any

from csbot.index.pg_search import describe, pool
from csbot.serve.question_log import GapGroup, Unhelpful, group_gaps

SCHEMA = """
CREATE SCHEMA IF NOT EXISTS csbot;
CREATE TABLE IF NOT EXISTS csbot.questions (
    id bigint PRIMARY KEY, asked_at timestamptz NOT NULL DEFAULT now(), question text NOT NULL,
    confident boolean NOT NULL, top_doc text, off_topic boolean NOT NULL DEFAULT false);
ALTER TABLE csbot.questions ADD COLUMN IF NOT EXISTS off_topic boolean NOT NULL DEFAULT false;
CREATE TABLE IF NOT EXISTS csbot.feedback (
    id bigserial PRIMARY KEY, question_id bigint NOT NULL REFERENCES csbot.questions(id),
    helpful boolean NOT NULL, comment text NOT NULL DEFAULT '', marked_at timestamptz NOT NULL DEFAULT now());
"""


class PgQuestionLog:
    """The question log in ``csbot.questions`` / ``csbot.feedback`` of the store's database,
    through the process's pool for it (:func:`csbot.index.pg_search.pool`)."""

    def __init__(self, uri: str) -> None:
        self.uri = uri
        self.path = describe(uri)  # what `csbot gaps` names as the log's place
        self._ready = False
        self._lock = threading.Lock()

    def _db(self) -> Any:
        """The pool, the log's tables created on first use."""
        with self._lock:
            if not self._ready:
                with pool(self.uri).connection() as conn, conn.transaction():
                    conn.execute("SELECT pg_advisory_xact_lock(hashtext('csbot.questions'))")
                    conn.execute(SCHEMA)
                self._ready = True
        return pool(self.uri)

    def close(self) -> None:
        """Nothing of its own to close: the pool is the process's (``close_pools``)."""

    def record(
        self,
        question: str,
        confident: bool,
        top_doc: str | None,
        question_id: int | None = None,
        off_topic: bool = False,
    ) -> int:
        with self._db().connection() as conn:
            row = conn.execute(
                "INSERT INTO csbot.questions (id, question, confident, top_doc, off_topic) "
                "VALUES (COALESCE(%s, (random() * 4.5e15)::bigint + 1), %s, %s, %s, %s) RETURNING id",
                (question_id, question, confident, top_doc, off_topic),
            ).fetchone()
        return int(row[0])

    def mark(self, question_id: int, helpful: bool, comment: str = "") -> bool:
        with self._db().connection() as conn:
            if conn.execute("SELECT 1 FROM csbot.questions WHERE id = %s", (question_id,)).fetchone() is None:
                return False
            conn.execute(
                "INSERT INTO csbot.feedback (question_id, helpful, comment) VALUES (%s, %s, %s)",
                (question_id, helpful, comment),
            )
        return True

    def count(self) -> int:
        with self._db().connection() as conn:
            return int(conn.execute("SELECT count(*) FROM csbot.questions").fetchone()[0])

    def gaps(self, limit: int = 20) -> list[GapGroup]:
        with self._db().connection() as conn:
            rows = conn.execute(
                "SELECT question FROM csbot.questions WHERE NOT confident AND NOT off_topic ORDER BY asked_at, id"
            ).fetchall()
        return group_gaps([r[0] for r in rows], limit)

    def off_topic(self) -> int:
        with self._db().connection() as conn:
            return int(conn.execute("SELECT count(*) FROM csbot.questions WHERE off_topic").fetchone()[0])

    def unhelpful(self, limit: int = 50) -> list[Unhelpful]:
        with self._db().connection() as conn:
            rows = conn.execute(
                "SELECT q.question, q.top_doc, f.comment, to_char(f.marked_at, 'YYYY-MM-DD\"T\"HH24:MI:SSOF') "
                "FROM csbot.feedback f JOIN csbot.questions q ON q.id = f.question_id "
                "WHERE NOT f.helpful ORDER BY f.id DESC LIMIT %s",
                (limit,),
            ).fetchall()
        return [Unhelpful(*row) for row in rows]
