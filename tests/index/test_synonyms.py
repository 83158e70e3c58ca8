"""A student's words bridged to the material's through the Cilin thesaurus."""

from __future__ import annotations

from csbot.index.synonyms import build_synonyms, cilin_groups
from csbot.search.overlap import overlap, unseen_share
from csbot.serve.assistant import Assistant
from csbot.settings import Settings


def test_the_thesaurus_file_is_read_and_only_true_synonym_groups_are_used() -> None:
    groups = list(cilin_groups())
    assert len(groups) > 9000
    assert any({"及格", "合格"} <= set(g) for g in groups)
    # 客户 and 储户 are of one kind (a # group), not synonyms: no = group holds both
    assert not any({"客户", "储户"} <= set(g) for g in groups)


def test_only_words_the_material_lacks_are_filed_and_only_under_words_it_uses() -> None:
    used = {"合格", "收集", "采"}
    synonyms = build_synonyms(
        lambda w: w in used,
        [["合格", "及格", "过关"], ["收集", "搜集", "采"], ["火星", "荧惑"], ["合格", "及"]],
    )
    assert synonyms == {"及格": ["合格"], "搜集": ["收集"], "过关": ["合格"]}
    # single characters stay out on both sides; a group the material never uses gives nothing


def test_a_word_the_corpus_never_uses_counts_through_its_synonym(fake_index: Settings) -> None:
    assistant = Assistant(fake_index)
    retriever = assistant.retriever
    synonyms = retriever.index.glossary.synonyms
    assert synonyms, "the build files the thesaurus's words"
    said, meant = "及格", "合格"  # the seed material says 合格, never 及格
    assert retriever.index.lexical.doc_freq(said) == 0 and meant in synonyms[said]
    query = retriever.analyse(f"{said}是什么")
    assert [p.source for p in query.phrases] == [said]
    assert unseen_share(query, retriever.weights) == 0.0  # not counted as what the material lacks
    hay = set(retriever.tokenize(f"这里讲{meant}"))
    assert overlap(query, hay, retriever.weights) == 1.0
    assert retriever.bm25(query).ids, "BM25 finds the passages that use the synonym"
    assert meant in " ".join(query.highlight_terms)
