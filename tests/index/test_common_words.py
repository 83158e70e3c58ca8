"""Words the material mostly says otherwise weigh as their common synonym (顾客 as 客户)."""

from __future__ import annotations

import numpy as np
import pytest

from csbot.index.bm25 import idf
from csbot.index.common_words import bm25_factors, common_words, gloss_mates
from csbot.index.glossary import Glossary
from csbot.search.overlap import TermWeights
from csbot.serve.assistant import Assistant
from csbot.settings import Settings

ENTRIES = {
    "customer": ["客户", "顾客"],
    "client": ["客户", "顾客", "用户"],
    "process": ["处理", "过程"],
}
DOC_FREQ = {"客户": 140, "顾客": 16, "用户": 1, "处理": 29, "过程": 23}
# unit vectors: 顾客 and 客户 close (cos 0.96), 用户 close to both, 处理 and 过程 apart (cos 0.5)
VECTORS = {
    "客户": [1.0, 0.0, 0.0],
    "顾客": [0.96, 0.28, 0.0],
    "用户": [0.96, -0.28, 0.0],
    "处理": [0.0, 1.0, 0.0],
    "过程": [0.0, 0.5, 0.866],
}


def embed(words: list[str]) -> np.ndarray:
    return np.array([VECTORS[w] for w in words])


def test_words_sharing_a_gloss_are_mates() -> None:
    mates = gloss_mates(ENTRIES)
    assert mates["顾客"] == {"客户", "用户"} and mates["过程"] == {"处理"}


def test_a_word_is_filed_under_a_more_frequent_word_of_the_same_meaning() -> None:
    common = common_words(ENTRIES, lambda w: DOC_FREQ.get(w, 0), embed)
    # 客户 is the most frequent; 过程 shares a gloss with the more frequent 处理, but the
    # model puts them apart, so a loose dictionary pair does not weaken it
    assert common == {"顾客": "客户", "用户": "客户"}


def test_a_word_the_material_never_uses_is_not_filed() -> None:
    common = common_words(ENTRIES, lambda w: {"客户": 140}.get(w, 0), embed)
    assert common == {}


def test_the_bm25_factor_brings_a_word_to_its_common_synonym_weight() -> None:
    factors = bm25_factors({"顾客": "客户", "幽灵": "客户"}, lambda w: DOC_FREQ.get(w, 0), 220)
    assert factors == {"顾客": pytest.approx(idf(140, 220) / idf(16, 220))}
    assert 0 < factors["顾客"] < 1  # 幽灵 (never used) gets none


def test_the_glossary_keeps_them_and_refuses_a_malformed_part() -> None:
    glossary = Glossary({"customer": ["客户"]}, {"及格": ["合格"]}, {"顾客": "客户"})
    assert Glossary.from_json(glossary.to_json()).common == {"顾客": "客户"}
    with pytest.raises(ValueError, match="not a glossary"):
        Glossary.from_json({**glossary.to_json(), "common": {"顾客": ["客户"]}})
    with pytest.raises(ValueError, match="not a glossary"):
        Glossary.from_json({"english": {}, "chinese": {}})  # an index of an older format


def test_term_weights_and_bm25_read_the_common_word(fake_index: Settings) -> None:
    retriever = Assistant(fake_index).retriever
    lexical, n = retriever.index.lexical, len(retriever.index.passages)
    rare, usual = "顾客", "客户"  # the seed material uses both, 客户 far more often
    assert 0 < lexical.doc_freq(rare) < lexical.doc_freq(usual)
    plain = TermWeights(lexical, n)
    weighed = TermWeights(lexical, n, {rare: usual})
    assert weighed.idf(rare) == plain.idf(usual) < plain.idf(rare)
    assert weighed.idf("服务") == plain.idf("服务")

    retriever.weigh_as = bm25_factors({rare: usual}, lexical.doc_freq, n)
    got = retriever._term_scores((rare, "服务"))
    want = retriever.weigh_as[rare] * lexical.scores([rare]) + lexical.scores(["服务"])
    np.testing.assert_allclose(got, want)
    retriever.weigh_as = {}
    np.testing.assert_allclose(retriever._term_scores((rare, "服务")), lexical.scores([rare, "服务"]))
