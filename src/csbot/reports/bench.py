"""``make bench``: index build time, warm ask latency, peak memory, cold CLI start, a load run,
and the scaling figures of :mod:`csbot.reports.bench_scaling`."""

from __future__ import annotations

import json
import os
import resource
import statistics
import subprocess
import sys
import time

from csbot.embed.factory import make_embedder
from csbot.index.build import build_index
from csbot.reports import bench_scaling
from csbot.reports.evaluation import load_questions
from csbot.serve.assistant import ANSWER_CACHE, Assistant
from csbot.settings import load_settings, quiet_offline_env

ROUNDS = 2  # the question set twice: ≥ 100 timed questions per mode


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def main() -> None:
    """Print the figures for the configured corpus, index and model."""
    from pathlib import Path

    quiet_offline_env()
    settings = load_settings()
    started = time.perf_counter()
    build_index(settings, make_embedder(settings, prepare=True, threads=0))
    build_s = time.perf_counter() - started
    assistant = Assistant(settings)
    questions = [q.question for q in load_questions(Path("eval/questions.jsonl"))] * ROUNDS
    print(
        f"index build: {build_s:.2f} s ({assistant.manifest['passage_count']} passages, model {settings.model})"
    )
    unique = list(dict.fromkeys(questions))
    for mode in ("hybrid", "bm25"):
        assistant.ask("预热问题:客户服务", mode=mode)  # warm-up: jieba, OpenCC
        # "asked again": the questions the answer cache still holds (the last ANSWER_CACHE
        # asked), asked again — the whole set twice would sweep a cache smaller than it
        again = unique[-ANSWER_CACHE:] * ROUNDS
        for label, batch in (("first time", unique), ("asked again", again)):
            times = []
            for q in batch:
                t = time.perf_counter()
                assistant.ask(q, mode=mode)  # type: ignore[arg-type]
                times.append((time.perf_counter() - t) * 1000)
            print(
                f"warm ask [{mode:6}] {label:<11} n={len(times):<4} p50 {statistics.median(times):7.3f} ms"
                f"  p95 {_percentile(times, 0.95):7.3f} ms  max {max(times):7.3f} ms"
            )
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak memory (build + both modes, this process): {peak_mb:.0f} MB")
    bm25_baseline(unique)
    colds = []
    for _ in range(3):
        t = time.perf_counter()
        subprocess.run(
            [sys.executable, "-m", "csbot", "ask", "什么是客我关系?", "--json"],
            check=True,
            capture_output=True,
            env=os.environ.copy(),
        )
        colds.append(time.perf_counter() - t)
    print(f"cold CLI ask (new process, incl. model load): median {statistics.median(colds):.2f} s over 3")
    del assistant  # free the in-process model before the server loads its own
    load_run(questions)
    bench_scaling.main()


BM25_ONLY = """
import time, bm25s
from csbot.ingest.corpus import load_corpus
from csbot.index.build import bm25_text, passages_of
from csbot.text.segmenter import Segmenter
tokenize = Segmenter().tokenize
from csbot.settings import load_settings
t = time.perf_counter()
passages = passages_of(load_corpus(load_settings().corpus_dir))
index = bm25s.BM25()
index.index([tokenize(bm25_text(p)) for p in passages], show_progress=False)
built = time.perf_counter() - t
for q in QUESTIONS:
    index.get_scores([w for w in tokenize(q) if w in index.vocab_dict] or ["客户"])
hwm = next(l for l in open("/proc/self/status") if l.startswith("VmHWM")).split()[1]
print(f"{built:.2f} {int(hwm) / 1024:.0f}")
"""


def bm25_baseline(questions: list[str]) -> None:
    """Build time and peak memory of a BM25-only process (no model, no vectors)."""
    script = BM25_ONLY.replace("QUESTIONS", repr(questions))
    out = subprocess.run(  # the script on stdin: with every eval question in it, too long for -c
        [sys.executable, "-"], input=script, check=True, capture_output=True, text=True, env=os.environ.copy()
    )
    built, peak = out.stdout.split()
    print(
        f"BM25-only baseline: clean + chunk + BM25 index {float(built):.2f} s, peak memory {peak} MB (own process)"
    )


def load_run(
    questions: list[str], requests: int = 1000, clients: int = 20, time_limit: float = 180.0, workers: int = 1
) -> None:
    """``requests`` POSTs to /api/ask from ``clients`` concurrent clients against a live server
    on loopback; stops early at ``time_limit`` seconds. Prints throughput, latency, errors."""
    import threading

    server, port = _start_server(workers)
    try:
        _wait_healthy(f"http://127.0.0.1:{port}")
        run = _LoadRun(questions, port, requests, time.monotonic() + time_limit)
        started = time.perf_counter()
        threads = [threading.Thread(target=run.client) for _ in range(clients)]
        for th in threads:
            th.start()
        for th in threads:
            th.join()
        wall = time.perf_counter() - started
        latencies, first_seen = run.latencies, run.first_seen
        print(
            f"load: {len(latencies)} requests, {clients} clients, {wall:.1f} s, {len(latencies) / wall:.1f} req/s; "
            f"p50 {_percentile(latencies, 0.5):.0f} ms  p95 {_percentile(latencies, 0.95):.0f} ms  "
            f"p99 {_percentile(latencies, 0.99):.0f} ms; errors {len(run.errors)}"
        )
        print(
            f"load, first-time questions only ({len(first_seen)}): p50 {_percentile(first_seen, 0.5):.0f} ms"
            f"  p95 {_percentile(first_seen, 0.95):.0f} ms"
        )
    finally:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:  # never leave a server behind
            server.kill()
            server.wait()


def _start_server(workers: int) -> tuple[subprocess.Popen[bytes], int]:
    """``csbot serve`` on a free loopback port."""
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    server = subprocess.Popen(
        [sys.executable, "-m", "csbot", "serve", "--port", str(port), "--workers", str(workers)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=os.environ.copy(),
    )
    return server, port


def _wait_healthy(url: str, seconds: float = 90) -> None:
    import urllib.request

    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"{url}/api/health", timeout=1) as r:
                if r.status == 200:
                    return
        except OSError:
            time.sleep(0.25)


class _LoadRun:
    """The shared state of the load clients: the next request, latencies, errors."""

    def __init__(self, questions: list[str], port: int, requests: int, stop_at: float) -> None:
        import threading

        self.questions = questions
        self.port = port
        self.stop_at = stop_at
        self.latencies: list[float] = []
        self.first_seen: list[float] = []  # requests whose question had not been asked before
        self.seen: set[str] = set()
        self.errors: list[str] = []
        self.lock = threading.Lock()
        self.counter = iter(range(requests))
        self.bodies = [
            json.dumps({"question": q, "top_k": 5}, ensure_ascii=False).encode() for q in questions
        ]

    def _next(self) -> tuple[int, bool] | None:
        with self.lock:
            n = next(self.counter, None)
            if n is None:
                return None
            i = n % len(self.questions)
            new = self.questions[i] not in self.seen
            self.seen.add(self.questions[i])
            return i, new

    def client(self) -> None:
        # a keep-alive connection from the standard library: the generator shares the two
        # cores with the server, so it should cost as little CPU as it can
        from http.client import HTTPConnection, HTTPException

        headers = {"Content-Type": "application/json"}
        http = HTTPConnection("127.0.0.1", self.port, timeout=30)
        try:
            while time.monotonic() < self.stop_at and (item := self._next()) is not None:
                i, new = item
                t = time.perf_counter()
                try:
                    http.request("POST", "/api/ask", body=self.bodies[i], headers=headers)
                    response = http.getresponse()
                    response.read()
                    ok, detail = response.status == 200, f"HTTP {response.status}"
                except (OSError, HTTPException) as exc:  # refused, reset, timed out, garbled
                    http.close()
                    http = HTTPConnection("127.0.0.1", self.port, timeout=30)
                    ok, detail = False, type(exc).__name__
                with self.lock:
                    self.latencies.append((time.perf_counter() - t) * 1000)
                    if new:
                        self.first_seen.append(self.latencies[-1])
                    if not ok:
                        self.errors.append(detail)
        finally:
            http.close()


if __name__ == "__main__":
    main()
