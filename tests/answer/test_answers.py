"""Answer spans, highlights and exam-question mode."""

from __future__ import annotations

import pytest

from csbot.answer.confidence import FEATURES
from csbot.answer.exam import (
    from_evidence,
    from_question_bank,
    number_unit,
    option_support,
    parse_exam,
    shared_words,
    single_from_sentences,
)
from csbot.answer.highlight import term_spans
from csbot.answer.qtypes import question_type
from csbot.answer.spans import extract_span
from csbot.serve.assistant import Assistant
from csbot.settings import Settings
from csbot.text.segmenter import Segmenter
from csbot.text.sentences import sentences

tokenize = Segmenter().tokenize


def words_of(question: str):  # type: ignore[no-untyped-def]
    terms = set(tokenize(question, bigrams=False))
    return lambda sentence: float(sum(1 for t in terms if t in sentence))


def span_text(question: str, text: str, kind: str = "text") -> str:
    s = extract_span(question, text, kind, words_of(question))
    return text[s.start : s.end]


SIX_STEPS = (
    "2.请简述投诉处理的六步法。\n1鼓励客户发泄;2.道歉及感谢客户;3.提问,了解问题所在;"
    "4.承担责任,提出解决方案;5.让客户参与意见;6.跟踪服务。"
)


def test_question_types() -> None:
    assert question_type("客户服务16大管理原则有哪些?") == "list"
    assert question_type("什么是客我关系?") == "definition"
    assert question_type("国务院哪一年发布了加快发展服务业的意见?") == "fact"


def test_question_types_in_traditional_script_and_english() -> None:
    assert question_type("職業錨有哪幾種?") == "list"
    assert question_type("考核要求分為哪四個層次?") == "list"
    assert question_type("Who proposed the theory of career anchors?") == "fact"
    assert question_type("What are the six steps for handling complaints?") == "list"
    assert question_type("What does the letter S in SERVICE stand for?") == "definition"


SALES = (
    "三、客户服务的主要内容客户服务的内容非常丰富。\n"
    "售前服务:1.广告宣传2.销售环境布置3.开通业务电话售中服务:1.向客户传授知识2.操作示范表演"
    "售后服务:1.送货上门2.安装服务3.妥善处理客户投诉"
)


def test_lists_run_together_are_told_apart_by_their_restarted_numbering() -> None:
    assert [SALES[s.start : s.end] for s in sentences(SALES)][1:] == [
        "售前服务:1.广告宣传2.销售环境布置3.开通业务电话",
        "售中服务:1.向客户传授知识2.操作示范表演",
        "售后服务:1.送货上门2.安装服务3.妥善处理客户投诉",
    ]
    lead = "(2)理解客户内涵的几个要点:(1)客户不一定是用户。(2)客户不一定在公司之外。"
    assert span_text("理解客户内涵的要点有哪些?", lead) == lead
    assert span_text("售中服务有哪些?", SALES) == "售中服务:1.向客户传授知识2.操作示范表演"
    assert span_text("售前服务包括哪些内容?", SALES) == "售前服务:1.广告宣传2.销售环境布置3.开通业务电话"


def test_outline_headings_run_inline_by_a_pdf_scrape_end_a_sentence() -> None:
    text = "1.6 基本文化程度 大学专科或同等学历 1.7 鉴定要求 1.7.1 适用对象 从事客户服务管理的人员。"
    assert [text[s.start : s.end] for s in sentences(text)] == [
        "1.6 基本文化程度 大学专科或同等学历",
        "1.7 鉴定要求",
        "1.7.1 适用对象 从事客户服务管理的人员。",
    ]


def test_a_sentence_leaning_on_the_one_before_brings_it_along() -> None:
    text = (
        "(二)经济环境 经济发展阶段不同,顾客对产品的需求也不一样。例如,经济发展水平比较高的地区,"
        "消费者强调产品款式。而在经济发展水平低的地区,价格因素更为重要。"
        "因此,对于不同经济发展水平的地区,企业应采取不同的客户服务策略。\n(三)技术环境 科学技术是生产力。"
    )
    got = span_text("经济发达和不发达的地区,客户服务策略有什么不同?", text)
    assert got.startswith("(二)经济环境 经济发展阶段不同") and got.endswith("采取不同的客户服务策略。")
    # a list question starts at the sentence that holds the list
    text = "服务很重要。因此服务的特征是无形性、差异性、不可分离性和不可储存性。"
    assert span_text("服务的特征有哪些?", text) == "因此服务的特征是无形性、差异性、不可分离性和不可储存性。"


def test_list_question_gets_the_whole_list_from_its_lead() -> None:
    assert span_text("投诉处理的六步法是什么?", SIX_STEPS) == SIX_STEPS
    text = "4.职业道德的社会作用:\n职业道德是社会道德体系的重要组成部分,具体表现:(1)调节关系;\n(2)有助于维护信誉;\n(3)促进本行业的发展。\n其他内容。"
    got = span_text("职业道德的社会作用有哪些?", text)
    assert got.startswith("4.职业道德的社会作用:") and got.endswith("(3)促进本行业的发展。")


def test_a_list_under_a_numbered_title_starts_at_the_title_not_the_sentence_before_it() -> None:
    text = (
        "(2)构成要素:包含了主体、客体以及媒介。客体就是服务的接受者;"
        "而媒介是协助服务提供者,将服务顺利地传递给客户。(3)服务的特性(4个最基本特征★(背)\n"
        "①服务的无形性;(非实物)\n②服务的差异性;\n③服务的同步性;\n④服务的易失性。"
    )
    got = span_text("服務有哪些特性？", text)
    assert got.startswith("(3)服务的特性") and got.endswith("④服务的易失性。")


def test_a_span_starts_at_its_own_section_number_not_the_section_before() -> None:
    text = (
        "二、客户服务(一)客户服务的定义客户服务是为了能够使企业与客户之间形成一种难忘的互动"
        "企业所能做的一切工作。\n(二)服务的构成要素服务的构成要素包含了主体、客体以及媒介。\n"
        "主体就是服务的供应者;\n客体就是服务的接受者;"
    )
    got = span_text("客服的构成要素是什么", text)
    assert got.startswith("(二)服务的构成要素") and "主体" in got


def test_a_sentence_opening_a_section_goes_on_to_the_next_sentence_of_its_section() -> None:
    # the scrape ran the title into the first sentence: (二)客我关系 + 服务工作开始于…
    text = (
        "(一)客户的定义客户是指一群具有消费能力或消费潜力的人。\n"
        "(二)客我关系服务工作开始于客户的要求,结束于客户的满足。\n"
        "在服务过程中,客户服务专员与客户之间形成了服务与被服务的关系。\n"
        "在服务过程中,“客”与“我”是一对既对立又统一的矛盾。"
    )
    got = span_text("客我关系是啥", text)
    assert got.startswith("(二)客我关系") and got.endswith("形成了服务与被服务的关系。")
    # but not into the next section: the definition stays one sentence (below)


def test_a_why_question_gets_the_whole_list_of_reasons_from_its_numbered_lead() -> None:
    text = (
        "第一章:(考试技巧:写方案)\n1.我国服务业发展滞后的原因主要有3个方面:\n(1)城市化滞后。\n"
        "(2)中国服务业的产业化不足,影响了服务业务的快速发展。\n(3)人才缺乏。"
    )
    got = span_text("为什么中国的服务业发展比较慢?", text)
    assert got.startswith("1.我国服务业发展滞后的原因") and got.endswith("(3)人才缺乏。")


def test_a_list_whose_last_item_announces_a_list_goes_on_to_that_list() -> None:
    # the outer list's item (2) is itself a lead; its own items restart the numbering
    text = (
        "1.客户的内涵\n(1)在客户管理营销时代,要将顾客视为客户。\n(2)理解客户内涵的几个要点:\n"
        "(1)客户不一定是最终接受者。\n(2)客户不一定是用户。\n(3)客户不一定在公司之外。"
    )
    got = span_text("营销时代为啥把顾客看作客户", text)
    assert got.startswith("(1)在客户管理营销时代") and got.endswith("(3)客户不一定在公司之外。")


def test_definition_question_gets_the_defining_sentence() -> None:
    text = "(一)客户的定义客户是指一群具有消费能力或消费潜力的人,是产品或服务的使用者或接受者。\n(二)客我关系服务工作开始于客户的要求,结束于客户的满足。"
    assert span_text("客户的定义是什么?", text) == text.split("\n")[0]


def test_fact_question_gets_the_sentence_with_the_fact() -> None:
    text = "2.中国服务业前景展望\n2007年3月19日,国务院发布《关于加快发展服务业的若干意见》。到2020年,基本实现经济结构向以服务经济为主的转变。"
    assert (
        span_text("国务院哪一年发布了加快发展服务业的意见?", text)
        == "2007年3月19日,国务院发布《关于加快发展服务业的若干意见》。"
    )


def test_the_dense_pick_settles_a_paraphrase_with_few_shared_words() -> None:
    text = "服务能创造价值,服务不能没有客户。\n④服务的易失性。(指服务不能被储存、转售或者退回的特性)"
    question = "服务能不能存起来以后再卖?"

    def weight(sentence: str) -> float:  # the first shares a few more words
        return 1.2 if sentence.startswith("服务能") else 1.0

    plain = extract_span(question, text, "text", weight)
    assert text[plain.start : plain.end].startswith("服务能创造价值")
    near = (text.index("④"), len(text))
    lifted = extract_span(question, text, "text", weight, near=near)
    assert text[lifted.start : lifted.end].startswith("④服务的易失性")


def test_exam_items_answer_whole() -> None:
    item = "2、市场营销学诞生于20世纪的( )。\nA、欧洲B、日本C、中国D、美国正确答案:D"
    assert span_text("市场营销学诞生于哪里", item, kind="exam-item") == item


def test_sentences_do_not_end_inside_parentheses() -> None:
    text = "(1)技术或功能型职业锚;(“术”:风水术;“能”:沟通能力)\n(2)管理型职业锚;"
    assert [text[s.start : s.end] for s in sentences(text)] == [
        "(1)技术或功能型职业锚;(“术”:风水术;“能”:沟通能力)",  # a note stays with what it explains
        "(2)管理型职业锚;",
    ]


NOTED = (
    "(3)服务的特性\n①服务的无形性;(由一系列活动组成的过程,非实物)\n②服务的差异性;(是顾客感受后的一种主观体验)\n"
    "④服务的易失性。(指服务不能被储存、转售或者退回的特性)\n(二)客我关系"
)


def test_a_note_after_the_sentence_end_belongs_to_the_sentence() -> None:
    assert [NOTED[s.start : s.end] for s in sentences(NOTED)][-2:] == [
        "④服务的易失性。(指服务不能被储存、转售或者退回的特性)",
        "(二)客我关系",  # an item marker opens a sentence of its own
    ]
    assert span_text("服务的易失性指什么?", NOTED) == "④服务的易失性。(指服务不能被储存、转售或者退回的特性)"
    # a short item that carries its note is explained: the next item does not come along
    assert span_text("服务的差异性是指什么?", NOTED) == "②服务的差异性;(是顾客感受后的一种主观体验)"


def test_highlights_follow_script_and_spacing() -> None:
    assert term_spans("客戶服務的特點", ["客户服务", "特点"]) == [(0, 4), (5, 7)]
    assert term_spans("客户服 务活动", ["客户服务"]) == [(0, 5)]


@pytest.mark.parametrize(
    ("question", "options"),
    [
        ("以貌取人是指( )。A、晕轮效应 B、近因效应", {"A": "晕轮效应", "B": "近因效应"}),
        (
            "以貌取人是指( )\nA.晕轮效应\nB.近因效应\nC.首因效应",
            {"A": "晕轮效应", "B": "近因效应", "C": "首因效应"},
        ),
        ("以貌取人是指 (A)晕轮效应 (B)近因效应", {"A": "晕轮效应", "B": "近因效应"}),
        ("以貌取人是指（ ）Ａ．晕轮效应 Ｂ．近因效应", {"A": "晕轮效应", "B": "近因效应"}),
        (
            "着装原则是( )。A、TJPB、TIME-TOPC、TIMED、TOP",
            {"A": "TJP", "B": "TIME-TOP", "C": "TIME", "D": "TOP"},
        ),
    ],
)
def test_option_forms(question: str, options: dict[str, str]) -> None:
    parsed = parse_exam(question)
    assert parsed is not None and parsed.options == options


def test_plain_questions_have_no_options() -> None:
    assert parse_exam("CIS是什么?") is None
    assert parse_exam("ABC分类法是谁提出的") is None


ITEM = "8、所谓的以貌取人正是生活中所指的( )。\nA、晕轮效应B、近因效应C、刻板印象D、首因效应正确答案:D"


def test_question_bank_maps_the_key_through_reordered_options() -> None:
    q = parse_exam("所谓的以貌取人正是生活中所指的( )。A.首因效应 B.晕轮效应 C.近因效应 D.刻板印象")
    choice = from_question_bank(q, "", ITEM)
    assert choice is not None and choice.suggested == ["A"]


def test_question_bank_needs_the_same_item() -> None:
    q = parse_exam("企业的竞争者主要有几类? A.两类 B.三类 C.四类 D.五类")
    assert from_question_bank(q, "", ITEM) is None


def support(option: str, evidence: str) -> float:
    return option_support(option, evidence, tokenize)


EVIDENCE = "3.客户服务管理师职业生涯规划\n①自我评价;②职业分析;③职业定位;④计划实施;⑤评估调整;"


def test_negated_stem_picks_the_option_the_material_lacks() -> None:
    q = parse_exam("以下哪项不属于职业生涯规划的步骤? A.自我评价 B.职业分析 C.市场调研 D.评估调整")
    assert q is not None and q.negated
    assert from_evidence(q, EVIDENCE, support) == ["C"]


def test_all_of_the_above() -> None:
    q = parse_exam("职业生涯规划包括( ) A.自我评价 B.职业分析 C.职业定位 D.以上都是")
    assert q is not None and from_evidence(q, EVIDENCE, support) == ["D"]


def test_multiple_choice() -> None:
    q = parse_exam("职业生涯规划包括哪些步骤?(多选) A.自我评价 B.职业分析 C.价格竞争 D.评估调整")
    assert q is not None and from_evidence(q, EVIDENCE, support) == ["A", "B", "D"]


def test_undecidable_questions_get_no_letter() -> None:
    q = parse_exam("职业生涯规划的第一步是( ) A.职业分析 B.自我评价 C.职业定位 D.计划实施")
    assert q is not None
    assert single_from_sentences(q, [(1.0, EVIDENCE)], support) == []  # the list names all four


def test_single_choice_from_the_sentence_that_states_it() -> None:
    q = parse_exam("服务的接受者是( ) A.主体 B.客体 C.媒介 D.载体")
    assert q is not None
    sents = [(3.0, "服务的构成要素包含了主体、客体以及媒介。"), (3.0, "客体就是服务的接受者,就是客户;")]
    assert single_from_sentences(q, sents, support) == ["B"]


def test_assistant_answers_from_the_question_bank(fake_index: Settings) -> None:
    q = "所谓的以貌取人正是生活中所指的( )。A.晕轮效应 B.近因效应 C.刻板印象 D.首因效应"
    answer = Assistant(fake_index).ask(q, mode="bm25").to_dict()
    assert answer["choice"]["suggested"] == ["D"] and answer["choice"]["source"] == "question-bank"
    assert answer["confident"] and answer["answer"] == "D、首因效应"
    top = answer["citations"][0]
    assert answer["answer_citation"] == 1 and "正确答案:D" in top["text"]
    assert answer["answer_lines"] == [198, 198]


def test_answer_span_lines_and_highlights(fake_index: Settings) -> None:
    answer = Assistant(fake_index).ask("客户服务16大管理原则有哪些?", mode="bm25").to_dict()
    assert answer["answer"].startswith("5.客户服务16大管理原则") and answer["answer"].endswith(
        "⑯持续改进原则。"
    )
    assert answer["answer_lines"] == [74, 77]
    text = answer["citations"][0]["text"]
    marked = {text[a:b] for a, b in answer["highlights"][0]}
    assert "管理原则" in marked or "16大管理原则" in "".join(marked)
    assert len(answer["highlights"]) == len(answer["citations"])


def test_explain_reports_ranks_terms_and_timings(fake_index: Settings) -> None:
    answer = Assistant(fake_index).ask("什么是客我关系?", explain=True).to_dict()
    ex = answer["explain"]
    assert set(ex["timings_ms"]) == {"normalize", "bm25", "dense", "fuse", "extract", "total"}
    first = ex["citations"][0]
    assert {"bm25_rank", "dense_rank", "fused_score", "matched_terms", "dense_match"} <= set(first)
    start, end = first["dense_match"]  # the part of the citation the question's vector is closest to
    assert 0 <= start < end <= len(answer["citations"][0]["text"])
    assert "客我关系" in ex["query_terms"] and "translation" not in ex


def test_explain_shows_what_an_english_question_was_matched_as(fake_index: Settings) -> None:
    ex = (
        Assistant(fake_index)
        .ask("What are the principles of customer service in Atlantis?", explain=True)
        .explain
    )
    assert ex is not None
    phrases = {p["english"]: p["words"] for p in ex["translation"]["phrases"]}
    assert "原则" in phrases["principle"] and "客服" in phrases["customer service"]
    assert ex["translation"]["untranslated"] == ["atlantis"]


def test_explain_says_what_decided_the_confidence(fake_index: Settings) -> None:
    ex = Assistant(fake_index).ask("报名费要交多少钱?", explain=True).explain
    assert ex is not None
    assert "报名费" in ex["unseen"]  # a word the corpus never uses, and no synonym it does use
    confidence = ex["confidence"]
    assert set(confidence["signals"]) == set(FEATURES) and confidence["signals"]["unseen"] > 0
    # the hashing embedder of the tests has no calibration: the hand rule decided
    assert confidence["rule"] is True and "contributions" not in confidence
    assert confidence["outcome"] in ("confident", "likely", "not-covered")
    assert 0.0 <= confidence["probability"] <= 1.0 and confidence["off_topic"] is False


def test_not_covered_answer_is_null_with_a_message(fake_index: Settings) -> None:
    answer = Assistant(fake_index).ask("Python 的列表推导式怎么写?", mode="bm25").to_dict()
    assert answer["answer"] is None and not answer["confident"]
    assert answer["message"] and answer["citations"]


def test_options_are_told_apart_by_the_words_they_do_not_share() -> None:
    q = parse_exam(
        "下列关于服务特性的理解哪个不正确? A.服务具有无形性 B.服务的无偿性 C.服务具有不可分性 D.服务具有易消失性"
    )
    assert q is not None and q.negated
    evidence = "客户服务有五大特性:无形性、不可分性、易消失性、有偿性和易变性"
    shared = shared_words(q.options, tokenize)
    assert "服务" in shared
    assert from_evidence(q, evidence, lambda o, e: option_support(o, e, tokenize, shared)) == ["B"]
    # counted with "服务", the wrong option looks half supported and nothing can be decided
    assert from_evidence(q, evidence, support) == []


def test_a_stem_about_a_list_can_still_ask_for_one_item(fake_index: Settings) -> None:
    answer = Assistant(fake_index).ask(
        "服务的构成要素中,服务的接受者是( ) A.主体 B.客体 C.媒介 D.载体", mode="bm25"
    )
    assert answer.choice is not None and answer.choice["suggested"] == ["B"]


def test_an_item_under_its_lead_decides(fake_index: Settings) -> None:
    answer = Assistant(fake_index).ask(
        "英文SERVICE中的“S”代表( ) A.微笑待客 B.精通业务 C.亲切友善 D.邀请光临", mode="bm25"
    )
    assert answer.choice is not None and answer.choice["suggested"] == ["A"]
    assert answer.confident


def test_a_definition_question_matching_a_numbered_title_gets_the_list_it_names() -> None:
    text = "3.客户服务管理师职业生涯规划(单选/多选,顺序不可乱)★(背)\n①自我评价;②职业分析;③职业定位;④计划实施;⑤评估调整;"
    assert span_text("什么是职业生涯规划?", text) == text


ANCHORS = (
    "职业锚是由美国埃德加•施恩教授提出的,提出的5种职业锚:\n(1)技术或功能型职业锚;(“术”:风水术)\n"
    "(2)管理型职业锚;(管理就是将事情顺序化,按部就班进行下去)\n(3)创造型职业锚;(艺术家类)"
)


def test_a_question_naming_one_item_of_a_list_gets_that_item() -> None:
    assert (
        span_text("管理型职业锚的特点", ANCHORS) == "(2)管理型职业锚;(管理就是将事情顺序化,按部就班进行下去)"
    )
    assert span_text("职业锚有哪些类型?", ANCHORS) == ANCHORS  # every item asked for
    assert span_text("职业锚的特点", ANCHORS) == ANCHORS  # no item stands out


def test_number_options_count_only_with_the_measure_word_after_the_blank() -> None:
    q = parse_exam("客户服务体系建设的核心要素有( )项。A.6 B.8 C.10 D.16")
    evidence = "6.客户服务体系建设核心要素(8项核心要素)★(背)\n①领导承诺;②全员参与;"
    unit = number_unit(q)
    assert unit == "项"
    assert [option_support(v, evidence, tokenize, unit=unit) for v in q.options.values()] == [
        0.0,
        1.0,
        0.0,
        0.0,
    ]
    assert from_evidence(q, evidence, lambda o, e: option_support(o, e, tokenize, unit=unit)) == ["B"]
    assert number_unit(parse_exam("以貌取人是指( )。A.晕轮效应 B.首因效应")) is None
