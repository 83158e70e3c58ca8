"""The development question set is well formed and every evidence string is in the material."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from conftest import CORPUS
from csbot.index.build import passages_of
from csbot.ingest.corpus import load_corpus
from csbot.reports.evaluation import contains_evidence, load_questions

QUESTIONS = Path(__file__).resolve().parents[2] / "eval" / "questions.jsonl"


def test_question_set_covers_every_kind() -> None:
    qs = load_questions(QUESTIONS)
    kinds = Counter(q.kind for q in qs)
    assert len(qs) >= 60 and len({q.qid for q in qs}) == len(qs)
    assert set(kinds) == {"direct", "paraphrase", "traditional", "english", "exam", "out-of-scope"}
    assert kinds["out-of-scope"] >= 10 and kinds["exam"] >= 20


def test_every_evidence_string_is_in_a_passage() -> None:
    passages = passages_of(load_corpus(CORPUS))
    for q in load_questions(QUESTIONS):
        if q.evidence is not None:
            assert any(contains_evidence(p.text, q.evidence) for p in passages), q


def test_eval_scores_each_mode_and_names_the_misses(fake_index) -> None:  # type: ignore[no-untyped-def]
    from csbot.reports.evaluation import EvalQuestion, format_report, run_eval
    from csbot.serve.assistant import Assistant

    questions = [
        EvalQuestion("q1", "客户服务16大管理原则有哪些?", "direct", "客户服务16大管理原则"),
        EvalQuestion("q2", "客户服务16大管理原则有哪些?", "direct", "这句话不在资料里"),
        EvalQuestion("o1", "Python 的列表推导式怎么写?", "out-of-scope", None),
    ]
    report = run_eval(Assistant(fake_index), questions)
    bm25 = report["modes"]["bm25"]
    assert bm25["misses"] == ["q2"]  # the evidence is nowhere, so no citation holds it
    assert "q2" in bm25["span_misses"] and "q1" not in bm25["span_misses"]
    assert bm25["overall"]["hit@1"] == 0.5
    text = format_report(report)
    assert "hybrid misses at rank 1:" in text and "answers without the evidence:" in text
