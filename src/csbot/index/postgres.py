"""The PostgreSQL store: one database that every ``csbot serve`` replica reads.

``CSBOT_STORE=postgresql://…`` (or ``--store``) puts the index in PostgreSQL with pgvector
instead of ``index/``. Each build writes a schema of its own (``csbot_ix_<id>``):

* ``passages`` — one row per passage (JSON);
* ``units`` — one row per dense vector: its passage, characters, CSLS hubness and the
  ``vector(d)`` itself, with an HNSW index (inner product on L2-normalised vectors);
* ``postings`` / ``pair_postings`` — per term (csbot's own term ids, not bm25s's, which change
  with ``PYTHONHASHSEED``) its document frequency and the BM25 weight of every passage that
  holds it, exactly as bm25s precomputed them; a b-tree on the term gives a question's
  postings, which are summed in the order bm25s sums them, so the ranking is bm25s's to the bit;
* ``glossary`` — the English glosses and Chinese synonyms.

``csbot.current`` names the serving schema with its manifest; a build is switched in by
updating that one row in one transaction, so readers see the old index or the new one,
never part of one. The previous schema is kept for requests still reading it and dropped by
the next build. A build holds an advisory lock on its schema while it runs: a schema whose
lock nobody holds and that is not current or previous was left by a killed build and is
dropped by :meth:`PgStore.tidy`. ``csbot.meta`` holds the layout version; a database laid out
by another csbot is refused with one line.

A replica sums a question's BM25 postings itself, read as packed arrays (:class:`PgLexical`):
the BM25 ranking is the local store's, byte for byte, at every size. Below
:data:`IN_MEMORY_UNITS` vectors it loads them into an exact FAISS index (the answers are then
those of the local store); above, questions go to the HNSW index in PostgreSQL
(:class:`PgVectors`).
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict
from typing import Any

import numpy as np

from csbot.errors import CsbotError, IndexCorruptError, IndexMissingError, IndexStaleError
from csbot.index.glossary import Glossary
from csbot.index.manifest import FORMAT_VERSION, check_fresh
from csbot.index.pg_search import PgLexical, PgVectors, describe, first_line
from csbot.index.protocols import BuiltIndex, LexicalIndex, LoadedIndex
from csbot.index.vectors import HNSW_ABOVE, FlatVectors
from csbot.records import Passage
from csbot.settings import Settings

LAYOUT_VERSION = "2"  # 2: postings as packed int32 / float32 (bytea)
IN_MEMORY_UNITS = HNSW_ABOVE  # the size up to which exact search is fast enough (index/vectors.py)
SCHEMES = ("postgresql://", "postgres://")
_META = """
CREATE SCHEMA IF NOT EXISTS csbot;
CREATE TABLE IF NOT EXISTS csbot.meta (key text PRIMARY KEY, value text NOT NULL);
CREATE TABLE IF NOT EXISTS csbot.current (
    id int PRIMARY KEY CHECK (id = 1), schema_name text NOT NULL, previous text,
    version text NOT NULL, manifest jsonb NOT NULL, switched_at timestamptz NOT NULL DEFAULT now());
CREATE TABLE IF NOT EXISTS csbot.builds (schema_name text PRIMARY KEY, started timestamptz NOT NULL DEFAULT now());
"""


def is_postgres(store: str) -> bool:
    """Whether a store setting names a PostgreSQL database."""
    return store.startswith(SCHEMES)


class PgStore:
    """An :class:`csbot.index.protocols.IndexStore` in a PostgreSQL database."""

    def __init__(self, settings: Settings, in_memory_units: int = IN_MEMORY_UNITS) -> None:
        self.settings = settings
        self.in_memory_units = in_memory_units
        self.uri = settings.store
        self.where = describe(self.uri)

    @contextmanager
    def _connect(self, autocommit: bool = False) -> Iterator[Any]:
        import psycopg

        try:
            conn = psycopg.connect(self.uri, autocommit=autocommit, connect_timeout=10)
        except psycopg.Error as exc:
            raise CsbotError(f"cannot connect to {self.where}: {first_line(exc)}") from None
        try:
            yield conn
        finally:
            conn.close()

    def _ensure_meta(self, conn: Any) -> None:
        with conn.transaction():
            conn.execute("SELECT pg_advisory_xact_lock(hashtext('csbot.meta'))")
            conn.execute("CREATE EXTENSION IF NOT EXISTS vector")
            conn.execute(_META)
            row = conn.execute("SELECT value FROM csbot.meta WHERE key = 'layout'").fetchone()
            if row is None:
                conn.execute("INSERT INTO csbot.meta VALUES ('layout', %s)", (LAYOUT_VERSION,))
            elif row[0] != LAYOUT_VERSION:
                raise IndexStaleError(
                    f"{self.where} was laid out by another csbot version; run `csbot build`"
                )

    # -- writing ---------------------------------------------------------------------------

    def write(self, built: BuiltIndex) -> None:
        """Write ``built`` into a new schema, then switch ``csbot.current`` to it."""
        import psycopg

        schema = f"csbot_ix_{secrets.token_hex(8)}"
        try:
            with self._connect(autocommit=True) as conn:
                self._ensure_meta(conn)
                self.tidy(conn)  # before taking its own lock: this session could take it again
                conn.execute("SELECT pg_advisory_lock(hashtext(%s))", (schema,))
                conn.execute("INSERT INTO csbot.builds (schema_name) VALUES (%s)", (schema,))
                with conn.transaction():
                    _write_tables(conn, schema, built)
                _switch(conn, schema, built.manifest)
        except psycopg.Error as exc:
            raise CsbotError(f"writing the index to {self.where} failed: {first_line(exc)}") from None

    # -- reading ---------------------------------------------------------------------------

    def _current(self, conn: Any) -> tuple[str, dict[str, Any]] | None:
        exists = conn.execute("SELECT to_regclass('csbot.current')").fetchone()[0]
        if exists is None:
            return None
        layout = conn.execute("SELECT value FROM csbot.meta WHERE key = 'layout'").fetchone()
        if layout is None or layout[0] != LAYOUT_VERSION:
            raise IndexStaleError(f"{self.where} was laid out by another csbot version; run `csbot build`")
        row = conn.execute("SELECT schema_name, manifest FROM csbot.current WHERE id = 1").fetchone()
        return (row[0], row[1]) if row else None

    def load(self) -> LoadedIndex:
        """The serving index, checked against the corpus and model ``settings`` name.

        Raises:
            IndexMissingError, IndexStaleError, IndexCorruptError: each says to run ``csbot build``.
        """
        try:
            with self._connect() as conn:
                current = self._current(conn)
                if current is None:
                    raise IndexMissingError(f"no index in {self.where}; run `csbot build`")
                schema, manifest = current
                if manifest.get("format_version") != FORMAT_VERSION:
                    raise IndexStaleError(
                        f"the index in {self.where} was written by another csbot version; run `csbot build`"
                    )
                check_fresh(manifest, self.settings, self.where)
                return _read_tables(conn, schema, manifest, self.uri, self.in_memory_units)
        except CsbotError:
            raise
        except Exception as exc:  # psycopg's, or a table that does not hold what it should
            raise IndexCorruptError(
                f"the index in {self.where} cannot be read ({type(exc).__name__}: {first_line(exc)}); "
                "run `csbot build`"
            ) from None

    def version(self) -> str:
        """The serving build's token, through the process's pool: the server asks on every request."""

        from csbot.index.pg_search import pool

        try:
            with pool(self.uri).connection(timeout=5) as conn:
                if conn.execute("SELECT to_regclass('csbot.current')").fetchone()[0] is None:
                    return ""
                row = conn.execute("SELECT version FROM csbot.current WHERE id = 1").fetchone()
                return str(row[0]) if row else ""
        except Exception:  # psycopg's, or the pool's timeout: no readable index now
            return ""

    def corpus_hash(self) -> str | None:
        import psycopg

        try:
            with self._connect() as conn:
                current = self._current(conn)
        except (psycopg.Error, CsbotError):
            return None
        return current[1].get("corpus_hash") if current else None

    def tidy(self, conn: Any = None) -> list[str]:
        """Drop the schemas of builds that were killed (their advisory lock is free and they
        are neither current nor previous)."""
        if conn is None:
            import psycopg

            try:
                with self._connect(autocommit=True) as own:
                    if own.execute("SELECT to_regclass('csbot.builds')").fetchone()[0] is None:
                        return []
                    return self.tidy(own)
            except (psycopg.Error, CsbotError):
                return []
        kept = conn.execute("SELECT schema_name, previous FROM csbot.current WHERE id = 1").fetchone() or ()
        done = []
        for (schema,) in conn.execute("SELECT schema_name FROM csbot.builds").fetchall():
            if (
                schema in kept
                or not conn.execute("SELECT pg_try_advisory_lock(hashtext(%s))", (schema,)).fetchone()[0]
            ):
                continue
            try:
                conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
                conn.execute("DELETE FROM csbot.builds WHERE schema_name = %s", (schema,))
                done.append(f"removed {schema}, left in {self.where} by a build that did not finish")
            finally:
                conn.execute("SELECT pg_advisory_unlock(hashtext(%s))", (schema,))
        return done


def _switch(conn: Any, schema: str, manifest: dict[str, Any]) -> None:
    """Make ``schema`` the serving index in one transaction; drop the one before the previous."""
    with conn.transaction():
        conn.execute("LOCK TABLE csbot.current IN EXCLUSIVE MODE")
        row = conn.execute("SELECT schema_name, previous FROM csbot.current WHERE id = 1").fetchone()
        old, older = (row[0], row[1]) if row else (None, None)
        conn.execute(
            "INSERT INTO csbot.current (id, schema_name, previous, version, manifest) VALUES (1, %s, %s, %s, %s) "
            "ON CONFLICT (id) DO UPDATE SET schema_name = EXCLUDED.schema_name, previous = EXCLUDED.previous, "
            "version = EXCLUDED.version, manifest = EXCLUDED.manifest, switched_at = now()",
            (schema, old, secrets.token_hex(8), json.dumps(manifest, ensure_ascii=False)),
        )
        if older and older != schema:
            conn.execute(f'DROP SCHEMA IF EXISTS "{older}" CASCADE')
            conn.execute("DELETE FROM csbot.builds WHERE schema_name = %s", (older,))


def _postings_rows(
    index: LexicalIndex,
) -> tuple[list[str], Iterator[tuple[int, str, int, bytes, bytes]]]:
    """csbot's term ids (terms in sorted order) and one row per term: its passages as
    little-endian int32 and their weights as little-endian float32 (bm25s's own values)."""
    postings = getattr(index, "postings", None)
    if postings is None:
        raise TypeError(f"the PostgreSQL store writes bm25s indexes, not {type(index).__name__}")
    vocab, weights, passages, starts = postings()
    terms = sorted(t for t, i in vocab.items() if i < len(starts) - 1)  # bm25s files "" past the end

    def rows() -> Iterator[tuple[int, str, int, bytes, bytes]]:
        for term_id, term in enumerate(terms):
            t = vocab[term]
            a, b = int(starts[t]), int(starts[t + 1])
            yield (
                term_id,
                term,
                b - a,
                np.asarray(passages[a:b], dtype="<i4").tobytes(),
                np.asarray(weights[a:b], dtype="<f4").tobytes(),
            )

    return terms, rows()


def _write_tables(conn: Any, schema: str, built: BuiltIndex) -> None:
    dim = int(built.vectors.shape[1]) if built.vectors.ndim == 2 else 0
    conn.execute(f'CREATE SCHEMA "{schema}"')
    conn.execute(f'CREATE TABLE "{schema}".passages (row int PRIMARY KEY, data jsonb NOT NULL)')
    conn.execute(
        f'CREATE TABLE "{schema}".units (row int PRIMARY KEY, passage int NOT NULL, start int NOT NULL, '
        f"stop int NOT NULL, hubness real NOT NULL, embedding vector({dim}) NOT NULL)"
    )
    for table in ("postings", "pair_postings"):
        conn.execute(
            f'CREATE TABLE "{schema}".{table} (term_id int PRIMARY KEY, term text NOT NULL UNIQUE, '
            "df int NOT NULL, passages bytea NOT NULL, weights bytea NOT NULL)"
        )
        # stored uncompressed: a question reads a common word's postings without inflating them
        conn.execute(
            f'ALTER TABLE "{schema}".{table} ALTER passages SET STORAGE EXTERNAL, '
            "ALTER weights SET STORAGE EXTERNAL"
        )
    conn.execute(f'CREATE TABLE "{schema}".glossary (data jsonb NOT NULL)')
    with conn.cursor().copy(f'COPY "{schema}".passages (row, data) FROM STDIN') as copy:
        for i, p in enumerate(built.passages):
            copy.write_row((i, json.dumps(asdict(p), ensure_ascii=False)))
    with conn.cursor().copy(f'COPY "{schema}".units FROM STDIN') as copy:
        for row, (unit, hub, vec) in enumerate(zip(built.units, built.hubness, built.vectors, strict=True)):
            text = "[" + ",".join(repr(float(v)) for v in vec) + "]"
            copy.write_row((row, int(unit[0]), int(unit[1]), int(unit[2]), float(hub), text))
    for table, index in (("postings", built.lexical), ("pair_postings", built.pairs)):
        _, postings = _postings_rows(index)
        with conn.cursor().copy(f'COPY "{schema}".{table} FROM STDIN') as copy:
            for posting in postings:
                copy.write_row(posting)
    conn.execute(
        f'INSERT INTO "{schema}".glossary VALUES (%s)',
        (json.dumps(built.glossary.to_json(), ensure_ascii=False),),
    )
    # pgvector builds the graph fast only while it fits in maintenance_work_mem (64 MB by
    # default: about 30,000 vectors of 384 dimensions); this build's session asks for enough
    conn.execute(f"SET maintenance_work_mem = '{_graph_memory_mb(len(built.units), dim)}MB'")
    conn.execute(f'CREATE INDEX ON "{schema}".units USING hnsw (embedding vector_ip_ops)')
    conn.execute(f'ANALYZE "{schema}".units')


def _graph_memory_mb(vectors: int, dim: int) -> int:
    """Memory for pgvector to build the HNSW graph of ``vectors`` in one pass: each vector
    (4 bytes a dimension) and its neighbour lists, with room to spare; 64 MB to 4 GB."""
    return int(min(4096, max(64, vectors * (dim * 4 + 512) * 1.5 / 2**20)))


def _read_tables(
    conn: Any, schema: str, manifest: dict[str, Any], uri: str, in_memory_units: int
) -> LoadedIndex:
    q = f'"{schema}"'
    passages = [Passage.from_row(d) for (d,) in conn.execute(f"SELECT data FROM {q}.passages ORDER BY row")]
    rows = conn.execute(f"SELECT passage, start, stop, hubness FROM {q}.units ORDER BY row").fetchall()
    units = np.asarray([r[:3] for r in rows], dtype=np.int32).reshape(-1, 3)
    hubness = np.asarray([r[3] for r in rows], dtype=np.float32)
    (data,) = conn.execute(f"SELECT data FROM {q}.glossary").fetchone()
    try:
        glossary = Glossary.from_json(data)
    except ValueError as exc:
        raise IndexCorruptError(f"the glossary in schema {schema} is not valid; run `csbot build`") from exc
    n = len(passages)
    if n != manifest.get("passage_count") or len(units) != manifest.get("vector_count"):
        raise IndexCorruptError(
            f"the index in schema {schema} does not match its manifest; run `csbot build`"
        )
    large = len(units) > in_memory_units
    if not large:
        from pgvector.psycopg import register_vector

        register_vector(conn)
        vecs = [
            v.to_numpy().astype(np.float32)
            for (v,) in conn.execute(f"SELECT embedding FROM {q}.units ORDER BY row")
        ]
        vectors: Any = FlatVectors.build(
            np.vstack(vecs) if vecs else np.zeros((0, manifest["dimension"]), np.float32)
        )
    else:
        vectors = PgVectors(uri, schema, len(units))
    return LoadedIndex(
        manifest,
        passages,
        PgLexical(uri, schema, "postings", n, conn),
        PgLexical(uri, schema, "pair_postings", n, conn),
        vectors,
        units,
        glossary,
        hubness,
    )
