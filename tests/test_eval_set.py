"""The development question set is well formed and every evidence string is in the material."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from conftest import CORPUS
from csbot.corpus import load_corpus
from csbot.evaluate import contains_evidence, load_questions
from csbot.index_store import passages_of

QUESTIONS = Path(__file__).resolve().parents[1] / "eval" / "questions.jsonl"


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
