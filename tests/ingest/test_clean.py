"""Cleaning on real snippets of the seed documents."""

from __future__ import annotations

import pytest

from conftest import CORPUS
from csbot.index.build import passages_of
from csbot.ingest.clean import clean_document, line_reason, mojibake_run, strip_html, toc_spans
from csbot.ingest.corpus import load_corpus
from csbot.records import DocumentInfo

INFO = DocumentInfo("t", "t.txt", "测试文档", "study-notes", "", "simplified")
SPAM = (
    "棋牌",
    "宝运莱",
    "献血黑市",
    "做受",
    "炸金花",
    "QQ号码",
    "缃戠珯",
    "新闻中心",
    "打印此页",
    "版权所有",
    "下载文档前请自行甄别",
    "更多精彩",
    "由会员分享",
    "31ppt",
    "专业资料",
    "<var",
    "ddhtb",
)


def _clean(lines: list[str]) -> str:
    return clean_document(INFO, lines).text


@pytest.mark.parametrize(
    "line",
    [
        "宝运莱宝运莱官网客户端下载",
        "火萤棋牌app下载火萤棋牌游戏安卓版v35",
        "有偿献血黑市",
        "欧美疯狂做受xxxx高潮",
        "有事点这里,QQ号码:357710851  有事点这里,QQ号码:357710851",
        "- 1、下载文档前请自行甄别文档内容的完整性,平台不提供额外的编辑、内容补充、找答案等附加服务。",
        "更多精彩資訊請關注查字典資訊網,我們將持續為您更新最新資訊!",
        "打印此页】【返回",
        "客户服务管理师职业标准芯片级专修学院 版权所有",
        "![提示](https://www.31ppt.com/images/bang_tan.gif)",
        "发布者: 来源:本站 更新日期:2019-04-09 08:08:15 人气:0",
    ],
)
def test_spam_and_chrome_lines_are_dropped(line: str) -> None:
    assert line_reason(line, "无关标题") is not None


@pytest.mark.parametrize(
    "line",
    [
        "(5)人才缺乏。",
        "第三章",
        "①自我评价;②职业分析;③职业定位;④计划实施;⑤评估调整;",
        "“S”表示微笑待客(Smile for everyone);",
        "A、欧洲B、日本C、中国D、美国正确答案:D3、由于沟通过程中( )的不同,沟通分为机-机沟通、人-机沟通和人-人沟通三种类型。",
    ],
)
def test_content_lines_are_kept(line: str) -> None:
    assert line_reason(line, "无关标题") is None


def test_mojibake_is_recognised_and_real_text_is_not() -> None:
    assert mojibake_run("缃戠珯鍏充簬鎴戜滑妯℃澘") is not None
    assert mojibake_run("客户服务管理师职业标准,客户服务的标准是什么") is None
    assert mojibake_run("廣東省高等教育自學考試客戶服務管理課程") is None


def test_html_is_stripped() -> None:
    assert strip_html('<cite id="ddhtb"><video id="ddhtb"></video></cite>') == ""
    assert strip_html("<b>客户</b>&nbsp;服务") == "客户 服务"


def test_link_farm_run_is_dropped_but_prose_kept() -> None:
    lines = [
        "客服专员",
        "元申广电客服电线",
        "大学新闻中心工作总结",
        "新闻网",
        "科技资讯专业发布平台",
        "客户是指一群具有消费能力或消费潜力的人,是产品或服务的使用者或接受者。",
    ]
    text = _clean(lines)
    assert text == lines[-1]


def test_page_marker_split_word_is_repaired() -> None:
    lines = [
        "1、国家职业技能鉴定培训教程 第二章 客户服务提供 25第一节 客",
        "2、户服务信息管理是企业的重要工作,企业要重视",
        "3、客户信息的收集。",
    ]
    assert (
        _clean(lines)
        == "国家职业技能鉴定培训教程 第二章 客户服务提供 25第一节 客户服务信息管理是企业的重要工作,企业要重视客户信息的收集。"
    )


def test_textbook_page_breaks_are_repaired_in_the_real_document() -> None:
    corpus = load_corpus(CORPUS)
    info = corpus.get("l2-training-textbook")
    doc = clean_document(info, corpus.raw_lines(info))
    assert "而客户的服务环境其内容既广泛又复杂" in doc.text
    toc = " ".join(r.text for r in doc.removed if r.reason == "table of contents")
    assert "第一节 客户服务信息管理 25" in toc  # repaired before the table of contents was cut
    # the sentence after the page break maps back to the raw line holding its second half
    offset = doc.text.index("容既广泛又复杂")
    assert doc.raw_line_at(offset) == 8


def test_dangling_item_number_is_rejoined() -> None:
    lines = ["1鼓励客户发泄;2。", "道歉及感谢客户;3.提问,了解问题所在;4。", "承担责任,提出解决方案。"]
    assert _clean(lines) == "1鼓励客户发泄;2.道歉及感谢客户;3.提问,了解问题所在;4.承担责任,提出解决方案。"


def test_table_of_contents_without_page_numbers() -> None:
    line = "Ⅰ課程性質與設置目的的要求Ⅱ課程內容與考核目標第一章客戶服務概述一、學習目的與要求二、考試內容三、考核知識點四、考核要求第二章客戶服務理念一、學習目的與要求"
    assert toc_spans(line) == [(0, len(line))]
    sentence = "本課程重點(或難點)章為:第一章、第二章、第三章、第四章、第六章、第十章;次重點章為:第七章、第八章;一般章節為:第五章、第九章。"
    assert toc_spans(sentence) == []


def test_no_spam_survives_in_any_passage() -> None:
    passages = passages_of(load_corpus(CORPUS))
    assert len(passages) > 150
    for p in passages:
        for term in SPAM:
            assert term not in p.text, (term, p.doc_id, p.line_start)


def test_every_document_reports_its_removals() -> None:
    corpus = load_corpus(CORPUS)
    reasons = set()
    for info in corpus.documents:
        reasons |= {r.reason for r in clean_document(info, corpus.raw_lines(info)).removed}
    assert {
        "gambling spam",
        "porn spam",
        "mojibake",
        "html markup",
        "download disclaimer",
        "copyright footer",
        "table of contents",
        "page marker",
    } <= reasons
    assert any(r.startswith("link list") for r in reasons)


def test_entity_escaped_markup_does_not_survive_cleaning() -> None:
    """``&lt;script&gt;`` in a scrape reached the API as live ``<script>`` text (issue 14)."""
    assert strip_html("&lt;script&gt;alert(1)&lt;/script&gt;客户") == "alert(1)客户"
    assert strip_html("&amp;lt;img src=x onerror=alert(1)&amp;gt;服务") == "服务"
    assert "<" not in strip_html("&amp;amp;amp;amp;lt;b&amp;amp;amp;amp;gt;x")
