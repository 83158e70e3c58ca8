"""``make bench``: index build time, warm ask latency, peak memory, cold CLI start."""

from __future__ import annotations

import os
import resource
import statistics
import subprocess
import sys
import time

from .assistant import Assistant
from .embedder import make_embedder
from .evaluate import load_questions
from .index_store import build_index
from .settings import load_settings, quiet_offline_env

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
    build_index(settings, make_embedder(settings, prepare=True))
    build_s = time.perf_counter() - started
    assistant = Assistant(settings)
    questions = [q.question for q in load_questions(Path("eval/questions.jsonl"))] * ROUNDS
    print(
        f"index build: {build_s:.2f} s ({assistant.manifest['passage_count']} passages, model {settings.model})"
    )
    for mode in ("hybrid", "bm25"):
        assistant.ask(questions[0], mode=mode)  # warm-up
        times = []
        for q in questions:
            t = time.perf_counter()
            assistant.ask(q, mode=mode)  # type: ignore[arg-type]
            times.append((time.perf_counter() - t) * 1000)
        print(
            f"warm ask [{mode:6}] n={len(times)}  p50 {statistics.median(times):6.1f} ms"
            f"  p95 {_percentile(times, 0.95):6.1f} ms  max {max(times):6.1f} ms"
        )
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak memory (build + both modes, this process): {peak_mb:.0f} MB")
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


if __name__ == "__main__":
    main()
