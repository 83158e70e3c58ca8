"""Structure: headings, section paths, exam items kept whole, passage sizes and spans."""

from __future__ import annotations

import re

from conftest import CORPUS
from csbot.ingest.chunking import MAX_CHARS, asks_share, chunk_document, heading_level, heading_title
from csbot.ingest.clean import clean_document
from csbot.ingest.corpus import load_corpus
from csbot.records import DocumentInfo
from csbot.serve.assistant import Assistant
from csbot.settings import Settings

CORPUS_ = load_corpus(CORPUS)


def _passages(doc_id: str):  # type: ignore[no-untyped-def]
    info = CORPUS_.get(doc_id)
    return chunk_document(clean_document(info, CORPUS_.raw_lines(info)))


def _chunk(lines: list[str]):  # type: ignore[no-untyped-def]
    info = DocumentInfo("t", "t.txt", "文档", "study-notes", "", "simplified")
    return chunk_document(clean_document(info, lines))


def test_heading_forms() -> None:
    assert heading_level("第三章") == 1
    assert heading_level("题库一:客户服务基础知识") == 1
    assert heading_level("第一节客户服务环境分析") == 2
    assert heading_level("单元2 个人典范的作用") == 2
    assert heading_level("一、基础") == 3
    assert heading_level("案例一:某酒店制定了下列服务标准") == 3
    assert heading_level("(一)客户的定义") == 4
    assert heading_level("5.客户服务16大管理原则★(背)") == 5
    assert heading_level("2.请简述投诉处理的六步法。") == 5
    assert heading_level("客户是指一群具有消费能力或消费潜力的人。") == 0
    assert heading_title("5.客户服务16大管理原则★(背)") == "5.客户服务16大管理原则"


def test_section_path_follows_the_headings() -> None:
    p = next(p for p in _passages("basics-notes") if "内部客户至上原则" in p.text)
    assert p.section == "客服管理基础知识 › 第三章 › 5.客户服务16大管理原则"
    assert p.text.startswith("5.客户服务16大管理原则")
    assert "⑯持续改进原则" in p.text  # the whole list, lead and last item
    assert (p.line_start, p.line_end) == (74, 77)


def test_list_stays_with_its_lead_sentence() -> None:
    p = next(p for p in _passages("basics-notes") if "城市化滞后" in p.text)
    assert "我国服务业发展滞后的原因主要有5个方面" in p.text
    assert "(5)人才缺乏。" in p.text


def test_exam_items_on_one_line_are_split_and_kept_whole() -> None:
    items = [p for p in _passages("l3-lecture-notes") if p.kind == "exam-item" and 112 <= p.line_start <= 121]
    assert len(items) >= 9
    for item in items:
        assert re.search(r"A、.*B、.*正确答案:[A-E]", item.text, re.S), item.text
        assert item.text.count("正确答案") == 1
    second = next(i for i in items if "市场营销学作为一门独立的经济管理学科" in i.text)
    assert (
        second.text
        == "2、市场营销学作为一门独立的经济管理学科诞生于20世纪的( )。\nA、欧洲B、日本C、中国D、美国正确答案:D"
    )
    assert (second.line_start, second.line_end) == (113, 114)


def test_exam_items_without_answers_split_by_running_numbers() -> None:
    lines = [
        "1、以下对客户理解正确的是()。",
        "A.客户服务是额外的内容B.客户是指购买了产品的人C.客户是使用者D.客户服务指的是售后服务2、客户服务管理人员行为要求中,()是正确的。",
        "A.将手放在衣服口袋内B.累了可靠在工作岗位上C.双手抱在胸前",
    ]
    items = [p for p in _chunk(lines) if p.kind == "exam-item"]
    assert [p.text.split("、", 1)[0] for p in items] == ["1", "2"]
    assert items[0].text.endswith("D.客户服务指的是售后服务")


def test_short_answer_question_keeps_its_answer() -> None:
    p = next(p for p in _passages("l3-lecture-notes") if "六步法" in p.text)
    assert p.text == (
        "2.请简述投诉处理的六步法。\n1鼓励客户发泄;2.道歉及感谢客户;3.提问,了解问题所在;"
        "4.承担责任,提出解决方案;5.让客户参与意见;6.跟踪服务。"
    )
    assert (p.line_start, p.line_end) == (34, 38)


def test_passage_sizes_and_spans() -> None:
    for info in CORPUS_.documents:
        raw = CORPUS_.raw_lines(info)
        for p in _passages(info.doc_id):
            assert p.doc_id == info.doc_id
            assert 1 <= p.line_start <= p.line_end <= len(raw)
            if p.kind != "exam-item":
                assert len(p.text) <= MAX_CHARS, p
            # the passage's first characters are on its first raw line
            head = p.text.split("\n")[0][:6]
            assert head in raw[p.line_start - 1] or head.replace(".", "。") in raw[p.line_start - 1], (
                p,
                head,
            )


def test_traditional_document_is_shown_as_written() -> None:
    ps = _passages("gd-selfstudy-syllabus")
    assert any("客戶服務" in p.text for p in ps)
    assert all("客户服务" not in p.text for p in ps)


def test_a_question_list_is_kind_questions_and_an_answered_question_is_not() -> None:
    assert asks_share("1. 什么是客户服务?客户服务的目的是什么?2. 列举三种常见的客户服务渠道。") == 1.0
    assert asks_share("簡述優質客戶服務的特征與基本技巧") == 1.0
    assert asks_share("客户是指一群具有消费能力或消费潜力的人。") == 0.0
    bank = [p for p in _passages("l3-lecture-notes") if p.text.startswith("题库一")]
    assert bank and bank[0].kind == "questions"
    answered = next(p for p in _passages("l3-lecture-notes") if "六步法" in p.text)
    assert answered.kind != "questions"  # the question is short, its answer long
    assert all(p.kind != "questions" for p in _passages("l3-lecture-notes") if p.kind == "exam-item")


def test_question_lists_rank_below_passages_that_answer(fake_index: Settings) -> None:
    retriever = Assistant(fake_index).retriever
    question = "如何提供良好的客户体验?"
    raw = retriever.bm25(retriever.analyse(question))
    hits = retriever.search(retriever.analyse(question), k=len(raw.ids), mode="bm25")
    assert any(h.passage.kind == "questions" for h in hits[:10])
    for h in hits:  # question lists and outlines at half their score, the rest as BM25 scored it
        half = 0.5 if h.passage.kind in ("questions", "outline") else 1.0
        assert h.score == round(raw.scores[h.passage.passage_id] * half, 6)
    assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)
