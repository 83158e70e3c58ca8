"""The two trainer-facing paths that once grew quadratically, timed at the sizes the
hardening issue sets: ``csbot gaps`` over 10,000 logged questions (target ≤ 10 s) and
cleaning + chunking one 16 MB document (target ≤ 20 s). Part of ``make bench``;
``python -m csbot.reports.bench_scaling`` runs them alone."""

from __future__ import annotations

import random
import tempfile
import time
from pathlib import Path

from csbot.ingest.chunking import chunk_document
from csbot.ingest.clean import clean_document
from csbot.ingest.corpus import load_corpus
from csbot.reports.evaluation import load_questions
from csbot.serve.question_log import QuestionLog
from csbot.settings import load_settings

LOGGED = 10_000
DOCUMENT_MB = 16
FILLER = "请问那个吗呢啊的了是什么怎么一下老师"  # what students add around a question


def logged_questions(n: int, seed: int = 1) -> list[str]:
    """``n`` questions as a log holds them: the eval questions, each asked many times with
    small edits (particles added, characters dropped)."""
    asked = [q.question for q in load_questions(Path("eval/questions.jsonl"))]
    rng = random.Random(seed)
    out = []
    for _ in range(n):
        chars = list(rng.choice(asked))
        for _ in range(rng.randint(0, 4)):
            at = rng.randrange(len(chars) + 1)
            if rng.random() < 0.5:
                chars.insert(at, rng.choice(FILLER))
            elif chars:
                del chars[min(at, len(chars) - 1)]
        out.append("".join(chars))
    return out


def gaps_figure() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        log = QuestionLog(Path(tmp) / "questions.sqlite3")
        for q in logged_questions(LOGGED):
            log.record(q, confident=False, top_doc=None)
        started = time.perf_counter()
        groups = log.gaps(limit=20)
        took = time.perf_counter() - started
        log.close()
    print(f"gaps over {LOGGED:,} logged questions: {took:.2f} s (target ≤ 10 s; top group {groups[0].count})")


def chunking_figure() -> None:
    """Every seed document's raw lines in turn, repeated to ``DOCUMENT_MB``, as one document."""
    corpus = load_corpus(load_settings().corpus_dir)
    raw = "\n".join(corpus.raw_path(d).read_text(encoding="utf-8") for d in corpus.documents)
    copies = DOCUMENT_MB * 2**20 // len(raw.encode("utf-8")) + 1
    lines = ("\n".join([raw] * copies)).split("\n")
    info = corpus.documents[0]
    started = time.perf_counter()
    doc = clean_document(info, lines)
    cleaned = time.perf_counter() - started
    passages = chunk_document(doc)
    total = time.perf_counter() - started
    print(
        f"clean + chunk one {len(raw.encode('utf-8')) * copies / 2**20:.1f} MB document: {total:.2f} s "
        f"(clean {cleaned:.2f} s, chunk {total - cleaned:.2f} s, {len(passages):,} passages; target ≤ 20 s)"
    )


def main() -> None:
    gaps_figure()
    chunking_figure()


if __name__ == "__main__":
    main()
