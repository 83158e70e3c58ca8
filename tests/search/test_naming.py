"""Passages that only name what is asked (question lists, outlines) and the questions about
the course itself, which outlines do answer."""

from __future__ import annotations

from dataclasses import replace

import pytest

from csbot.embed.fake import HashEmbedder
from csbot.index.store import load_index
from csbot.search.fusion import NAMING_KINDS, QUESTIONS_WEIGHT, naming_kinds
from csbot.search.query import is_about_course
from csbot.search.retriever import Retriever
from csbot.settings import Settings


@pytest.mark.parametrize(
    "question",
    [
        "自考这门课用哪本教材?",
        "二級溝通管理模組有幾個單元?",
        "第十章考核要求要識記什麼",
        "What does the syllabus say about chapter 3?",
    ],
)
def test_questions_about_the_course_itself(question: str) -> None:
    assert is_about_course(question)


@pytest.mark.parametrize(
    "question", ["投诉处理有哪几步?", "顧客唔滿意點算?", "What is a key account?", "客服績效考核有哪些指標?"]
)
def test_questions_about_the_subject(question: str) -> None:
    assert not is_about_course(question)


def test_outlines_name_only_for_questions_about_the_subject() -> None:
    assert "outline" in NAMING_KINDS and naming_kinds(False) == NAMING_KINDS
    assert naming_kinds(True) == ("questions",)


def test_a_question_about_the_course_leaves_outlines_their_score(fake_index: Settings) -> None:
    retriever = Retriever(load_index(fake_index), HashEmbedder())
    query = retriever.analyse("自考大纲第三章的考核知识点有哪些?")
    assert query.about_course
    about = {h.passage.passage_id: h for h in retriever.search(query, k=60)}
    subject = {h.passage.passage_id: h for h in retriever.search(replace(query, about_course=False), k=60)}
    both = [i for i in about if i in subject]
    outlines = [i for i in both if about[i].passage.kind == "outline"]
    others = [i for i in both if about[i].passage.kind not in ("outline", "questions")]
    assert outlines and others
    for i in outlines:  # demoted only for a question about the subject
        assert subject[i].score == pytest.approx(QUESTIONS_WEIGHT * about[i].score, abs=2e-6)
    for i in others:
        assert subject[i].score == about[i].score
