"""What a replica asks PostgreSQL per question: BM25 postings and, for a large index, the
nearest vectors by pgvector's HNSW index (:mod:`csbot.index.postgres` writes them)."""

from __future__ import annotations

import threading
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

import numpy as np

from csbot.errors import StoreUnavailableError
from csbot.index.vectors import ANN_DEPTH

CONNECT_SECONDS = 5.0  # how long a question waits for a pooled connection


_POOLS: dict[str, Any] = {}  # one small connection pool per database and process
_POOLS_LOCK = threading.Lock()


def describe(uri: str) -> str:
    """The database a URI names, for messages: host and database, never user or password."""
    try:
        from psycopg.conninfo import conninfo_to_dict

        parts = conninfo_to_dict(uri)
    except Exception:  # a malformed URI is reported without repeating it
        return "the PostgreSQL store (its URI does not parse)"
    return f"PostgreSQL database {parts.get('dbname', '?')!s} on {parts.get('host') or 'localhost'!s}"


def first_line(exc: BaseException) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0]


@contextmanager
def connection(uri: str) -> Iterator[Any]:
    """A pooled connection for one question's reads; a database that cannot be reached is a
    :class:`StoreUnavailableError` (one line, the service's 503), not a traceback."""
    import psycopg
    from psycopg_pool import PoolTimeout

    try:
        with pool(uri).connection(timeout=CONNECT_SECONDS) as conn:
            yield conn
    except (psycopg.Error, PoolTimeout) as exc:
        raise StoreUnavailableError(
            f"{describe(uri)} cannot be reached now ({first_line(exc)}); try again"
        ) from None


def pool(uri: str) -> Any:
    """This process's connection pool for ``uri`` (psycopg_pool, autocommit connections),
    opened on first use and shared by the index reads, the version check and the question log."""
    with _POOLS_LOCK:
        if uri not in _POOLS:
            from psycopg_pool import ConnectionPool

            _POOLS[uri] = ConnectionPool(uri, min_size=1, max_size=8, open=True, kwargs={"autocommit": True})
        return _POOLS[uri]


def close_pools() -> None:
    """Close this process's pools (a test dropping its database; a replica shutting down)."""
    with _POOLS_LOCK:
        for opened in _POOLS.values():
            opened.close()
        _POOLS.clear()


class PgLexical:
    """A :class:`csbot.index.protocols.LexicalIndex` whose postings stay in PostgreSQL.

    A question fetches its terms' postings (packed int32 passages and float32 weights, one
    b-tree lookup per term, read without parsing) and sums them here term by term in query
    order, float32, as bm25s sums them: the ranking of the local store to the bit, at every size.
    """

    def __init__(self, uri: str, schema: str, table: str, n: int, conn: Any) -> None:
        self.uri, self.n = uri, n
        self.table = f'"{schema}".{table}'
        rows = conn.execute(f"SELECT term, term_id, df FROM {self.table}").fetchall()
        self.vocab: Mapping[str, int] = {term: tid for term, tid, _ in rows}
        self._df = {term: df for term, _, df in rows}

    def scores(self, terms: Sequence[str]) -> np.ndarray:
        """BM25 of ``terms``, summed term by term in query order as bm25s sums them."""
        ids = [self.vocab[t] for t in terms]
        scores = np.zeros(self.n, dtype=np.float32)
        if not ids:
            return scores.astype(np.float64)
        with connection(self.uri) as conn:
            found = {
                tid: (np.frombuffer(p, dtype="<i4"), np.frombuffer(w, dtype="<f4"))
                for tid, p, w in conn.execute(
                    f"SELECT term_id, passages, weights FROM {self.table} WHERE term_id = ANY(%s)",
                    (sorted(set(ids)),),
                    binary=True,
                )
            }
        for tid in ids:
            passages, weights = found[tid]
            scores[passages] += weights  # a term lists a passage once: np.add.at's sums, faster
        return scores.astype(np.float64)

    def doc_freq(self, term: str) -> int:
        return self._df.get(term, 0)


class PgVectors:
    """A :class:`csbot.index.protocols.VectorIndex` answered by pgvector's HNSW index."""

    def __init__(self, uri: str, schema: str, size: int) -> None:
        self.uri, self.schema, self._size = uri, schema, size

    @property
    def size(self) -> int:
        return self._size

    def search(self, vector: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        k = min(k, ANN_DEPTH)  # pgvector's hnsw.ef_search is at most 1,000
        queries = np.atleast_2d(np.asarray(vector, dtype=np.float32))
        sims = np.full((len(queries), k), -np.inf, dtype=np.float32)
        ids = np.full((len(queries), k), -1, dtype=np.int64)
        with connection(self.uri) as conn, conn.transaction():
            conn.execute(f"SET LOCAL hnsw.ef_search = {max(40, k)}")
            for i, query in enumerate(queries):
                text = "[" + ",".join(repr(float(v)) for v in query) + "]"
                rows = conn.execute(
                    f'SELECT row, -(embedding <#> %s::vector) FROM "{self.schema}".units '
                    "ORDER BY embedding <#> %s::vector LIMIT %s",
                    (text, text, k),
                ).fetchall()
                for j, (row, sim) in enumerate(rows):
                    ids[i, j], sims[i, j] = row, sim
        return sims, ids
