"""``make bench-scale``: both stores at 10⁴ and 10⁵ passages (``--sizes 10000,…`` for others,
``--no-pg`` / ``--pg-only`` for one store).

The synthetic corpus is made of the real material: each passage is three to six sentences
of the seed passages drawn at random (seeded). Vectors: the first :data:`REAL` passages
are embedded with the model; every other passage gets a cheap deterministic vector near one
of them (that vector plus Gaussian noise, renormalised: a cosine of about 0.9 to it, the
spread e5 gives related passages), since embedding 10⁵ passages would take the bench an hour
on two cores. One vector per passage (no sentence windows). The questions are the eval
set's, embedded with the model.

For each size and store: build time (BM25, vectors, CSLS hubness, writing), hybrid retrieval
p50 / p95 per question (query vector given, so the model's time is left out), recall@10 of
the dense search the retriever runs against exact inner-product search, resident memory
of the loaded index, and for PostgreSQL the size of its tables and indexes. The local store
searches exactly up to :data:`csbot.index.vectors.HNSW_ABOVE` vectors and by HNSW above
(measured here at every size as well, to report its recall); the PostgreSQL store is asked
through its HNSW index at every size (a replica would hold a small index in memory).
"""

from __future__ import annotations

import random
import re
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

from csbot.index.bm25 import Bm25Index
from csbot.index.build import hubness
from csbot.index.glossary import Glossary
from csbot.index.manifest import make_manifest
from csbot.index.protocols import BuiltIndex, LoadedIndex
from csbot.records import Passage
from csbot.reports.evaluation import load_questions
from csbot.search.retriever import DENSE_DEPTH, Retriever
from csbot.settings import Settings, load_settings
from csbot.text.segmenter import NO_PAIRS, Segmenter

SIZES: tuple[int, ...] = (10_000, 100_000)
REAL = 2_000
NOISE = 0.025  # per dimension: |noise| ≈ 0.49 over 384 dimensions, a cosine of about 0.9
_SENTENCE = re.compile(r"[^。！？；!?;\n]+[。！？；!?;]?")


def synthetic_passages(seed: list[Passage], n: int, rng: random.Random) -> list[Passage]:
    sentences = [s.strip() for p in seed for s in _SENTENCE.findall(p.text) if len(s.strip()) >= 6]
    out = []
    for i in range(n):
        text = "".join(rng.choice(sentences) for _ in range(rng.randint(3, 6)))
        out.append(Passage(i, f"synthetic-{i // 1000}", f"合成 › {i}", text, 1, 1, "text", ((0, 1),)))
    return out


def synthetic_vectors(real: np.ndarray, n: int, rng: np.random.Generator) -> np.ndarray:
    base = real[np.arange(n) % len(real)]
    noisy = base + rng.normal(0.0, NOISE, size=base.shape).astype(np.float32)
    noisy[: len(real)] = real[:n]
    return np.ascontiguousarray(noisy / np.linalg.norm(noisy, axis=1, keepdims=True), dtype=np.float32)


class _Given:
    """The question vectors, computed once with the model, looked up by text."""

    def __init__(self, vectors: dict[str, np.ndarray]) -> None:
        self.vectors = vectors

    def embed_batch(self, texts: Any, kind: str = "query") -> np.ndarray:
        return np.stack([self.vectors[t] for t in texts])


# Loads an index in a fresh process: its resident memory grows by this (libraries imported first).
LOAD = """
import sys
from dataclasses import replace
from pathlib import Path
import bm25s, faiss, psycopg, pgvector.psycopg
from csbot.index.local import LocalStore
from csbot.index.postgres import PgStore
from csbot.reports.bench_scale import _rss_mb
from csbot.settings import load_settings
kind, index_dir, store = sys.argv[1:4]
s = replace(load_settings(), index_dir=Path(index_dir), store=store)
before = _rss_mb()
index = (LocalStore(s) if kind == "local" else PgStore(s, in_memory_units=0)).load()
print(round(_rss_mb() - before))
"""


def loaded_memory(kind: str, settings: Settings) -> str:
    """Resident memory a fresh process takes on to load the index, in MB."""
    import subprocess

    run = subprocess.run(
        [sys.executable, "-c", LOAD, kind, str(settings.index_dir), settings.store],
        capture_output=True,
        text=True,
    )
    return f"{run.stdout.strip()} MB" if run.returncode == 0 else f"failed ({run.stderr.strip()[-80:]})"


def _rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def _percentiles(values: list[float]) -> tuple[float, float]:
    return float(np.percentile(values, 50)), float(np.percentile(values, 95))


def synthetic_tokens(passages: list[Passage]) -> tuple[list[list[str]], list[list[str]]]:
    """BM25 tokens and word pairs of each passage, as :class:`Segmenter` gives them for the
    whole text, from its sentences tokenised once each: jieba never joins words across the
    punctuation that ends a sentence, so the tokens are the same, and a passage's word pairs
    are those of its sentences' words in a row (10⁶ passages would take jieba hours)."""
    seg = Segmenter(cache_size=0)
    memo: dict[str, tuple[list[str], list[str]]] = {}
    tokens, pairs = [], []
    for p in passages:
        mine: list[str] = []
        words: list[str] = []
        for piece in _SENTENCE.findall(p.text):
            if piece not in memo:
                memo[piece] = (seg.tokenize(piece), seg.tokenize(piece, bigrams=False))
            mine += memo[piece][0]
            words += memo[piece][1]
        tokens.append(mine)
        pairs.append([f"{a} {b}" for a, b in zip(words, words[1:], strict=False)] or [NO_PAIRS])
    return tokens, pairs


def built_index(passages: list[Passage], vectors: np.ndarray, settings: Settings) -> BuiltIndex:
    tokens, pairs = synthetic_tokens(passages)
    units = np.asarray([(i, 0, len(p.text)) for i, p in enumerate(passages)], dtype=np.int32)
    from csbot.ingest.corpus import load_corpus

    # the seed corpus's manifest (a load checks the index against it), this index's counts
    counts = {
        "dimension": int(vectors.shape[1]),
        "passage_count": len(passages),
        "vector_count": len(passages),
    }
    counts |= {"glossary_entries": 0, "synonym_entries": 0}
    return BuiltIndex(
        manifest=make_manifest(
            settings, load_corpus(settings.corpus_dir), settings.model, counts, time.perf_counter()
        ),
        passages=passages,
        lexical=Bm25Index.build(tokens),
        pairs=Bm25Index.build(pairs),
        vectors=vectors,
        units=units,
        glossary=Glossary({}, {}),
        hubness=hubness(vectors, units[:, 0]),
    )


def measure(index: LoadedIndex, given: _Given, questions: list[str], exact: np.ndarray) -> dict[str, float]:
    retriever = Retriever(index, given)  # type: ignore[arg-type]
    times, recalls, parts = [], [], {"bm25": [], "dense": []}  # type: ignore[var-annotated]
    depth = min(index.vectors.size, DENSE_DEPTH)
    for q in questions:
        query = retriever.analyse(q)
        started = time.perf_counter()
        retriever.search(query, k=5)
        times.append((time.perf_counter() - started) * 1000)
        for part, ranked in (("bm25", retriever.bm25), ("dense", retriever.dense)):
            started = time.perf_counter()
            ranked(query)
            parts[part].append((time.perf_counter() - started) * 1000)
        vector = given.embed_batch([query.retrieval])
        _, ids = index.vectors.search(vector, depth)
        truth = set(np.argpartition(-(exact @ vector[0]), 10)[:10].tolist())
        recalls.append(len(truth & set(ids[0][:10].tolist())) / 10)
    p50, p95 = _percentiles(times)
    return {
        "p50": p50,
        "p95": p95,
        "recall": float(np.mean(recalls)),
        "bm25": _percentiles(parts["bm25"])[1],
        "dense": _percentiles(parts["dense"])[1],
    }


def _timing(m: dict[str, float]) -> str:
    return f"{m['p50']:.1f} / {m['p95']:.1f} ms ({m['bm25']:.1f} / {m['dense']:.1f})"


def run(sizes: tuple[int, ...], pg_uri: str | None, local_too: bool = True) -> None:
    from csbot.embed.factory import make_embedder
    from csbot.index.build import passages_of
    from csbot.index.local import LocalStore
    from csbot.ingest.corpus import load_corpus

    settings = load_settings()
    embedder = make_embedder(settings, threads=0)
    seed = passages_of(load_corpus(settings.corpus_dir))
    questions = list(dict.fromkeys(q.question for q in load_questions(Path("eval/questions.jsonl"))))[:200]
    rng = random.Random(7)
    biggest = synthetic_passages(seed, max(sizes), rng)
    started = time.perf_counter()
    real = np.asarray(
        embedder.embed_batch([p.text for p in biggest[:REAL]], kind="passage"), dtype=np.float32
    )
    print(
        f"embedded {REAL} passages with {settings.model}: {time.perf_counter() - started:.0f} s", flush=True
    )
    from csbot.search.query import retrieval_text

    given = _Given(
        {
            retrieval_text(q): v
            for q, v in zip(
                questions,
                embedder.embed_batch([retrieval_text(q) for q in questions], kind="query"),
                strict=True,
            )
        }
    )
    print(
        "| passages | store | build | hybrid p50 / p95 (p95 of BM25 / dense alone) | dense recall@10 | memory of a loaded index | tables + indexes |"
    )
    print("|---|---|---|---|---|---|---|")
    for n in sizes:
        passages = biggest[:n]
        vectors = synthetic_vectors(real, n, np.random.default_rng(n))
        with tempfile.TemporaryDirectory() as tmp:
            local = replace(settings, index_dir=Path(tmp) / "index", store="")
            started = time.perf_counter()
            built = built_index(passages, vectors, local)
            prepared = time.perf_counter() - started
            for label, ann in (("local", None), ("local, HNSW", True)) if local_too else ():
                started = time.perf_counter()
                LocalStore(local).write(built, ann=ann)
                took = prepared + time.perf_counter() - started
                index = LocalStore(local).load()
                m = measure(index, given, questions, vectors)
                print(
                    f"| {n:,} | {label} | {took:.0f} s | {_timing(m)} | {m['recall']:.3f} "
                    f"| {loaded_memory('local', local)} | – |",
                    flush=True,
                )
                del index
            if pg_uri:
                _pg_row(n, built, replace(settings, store=pg_uri), prepared, given, questions, vectors)


def _pg_row(
    n: int,
    built: BuiltIndex,
    settings: Settings,
    prepared: float,
    given: _Given,
    questions: list[str],
    exact: np.ndarray,
) -> None:
    import psycopg

    from csbot.index.pg_search import close_pools
    from csbot.index.postgres import PgStore

    started = time.perf_counter()
    PgStore(settings).write(built)
    took = prepared + time.perf_counter() - started
    index = PgStore(settings, in_memory_units=0).load()
    m = measure(index, given, questions, exact)
    with psycopg.connect(settings.store) as conn:
        schema = conn.execute("SELECT schema_name FROM csbot.current").fetchone()[0]  # type: ignore[index]
        size = conn.execute(
            "SELECT sum(pg_total_relation_size(c.oid)) FROM pg_class c JOIN pg_namespace s ON s.oid = c.relnamespace "
            "WHERE s.nspname = %s AND c.relkind = 'r'",
            (schema,),
        ).fetchone()[0]  # type: ignore[index]
    print(
        f"| {n:,} | PostgreSQL | {took:.0f} s | {_timing(m)} | {m['recall']:.3f} "
        f"| {loaded_memory('postgres', settings)} | {int(size) / 2**20:.0f} MB |",
        flush=True,
    )
    close_pools()


def main(argv: list[str]) -> int:
    sizes = SIZES
    if "--sizes" in argv:
        sizes = tuple(int(s) for s in argv[argv.index("--sizes") + 1].split(","))
    pg_uri = None
    if "--no-pg" not in argv:
        from csbot.index.pg_server import start

        pg_uri = start(Path(tempfile.mkdtemp(prefix="csbot-bench-pg-")), keep=False)
    run(sizes, pg_uri, local_too="--pg-only" not in argv)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
