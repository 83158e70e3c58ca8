"""Normalisation, segmentation, question reading and fusion: small pure functions."""

from __future__ import annotations

from csbot.search.query import retrieval_text
from csbot.text.normalise import normalize
from csbot.text.segmenter import Segmenter

tokenize = Segmenter().tokenize


def test_normalize_folds_width_script_and_pdf_spacing() -> None:
    assert normalize("客戶服務 管理（ＡＢＣ）") == "客户服务管理(abc)"
    assert normalize("客户服 务活动") == "客户服务活动"


def test_domain_terms_stay_whole_and_stopwords_go() -> None:
    tokens = tokenize("什么是客我关系和职业锚?", bigrams=False)
    assert tokens == ["客我关系", "职业锚"]
    assert "首因效应" in tokenize("以貌取人是首因效应")


def test_cantonese_particles_are_stopwords() -> None:
    # 嘅 / 係 / 點解 / 咁 are function words (PyCantonese's list), not words the material lacks
    assert tokenize("客戶投訴嘅處理係點解要咁做", bigrams=False) == ["客户投诉", "处理"]


def test_traditional_and_simplified_give_the_same_tokens() -> None:
    assert tokenize("客戶服務的特點") == tokenize("客户服务的特点")


def test_single_meaningful_characters_are_kept() -> None:
    assert tokenize("服务要有礼") == ["服务", "礼"]


def test_bigrams_catch_terms_jieba_splits_differently() -> None:
    assert "让渡" in tokenize("顾客让渡价值")


def test_retrieval_text_strips_option_letters_but_keeps_words() -> None:
    q = "所谓的以貌取人正是生活中所指的( )。\nA.晕轮效应\nB.近因效应\nC.刻板印象\nD.首因效应"
    assert retrieval_text(q) == "所谓的以貌取人正是生活中所指的 。 晕轮效应 近因效应 刻板印象 首因效应"
    assert retrieval_text("ABC分类法与CIS") == "ABC分类法与CIS"
    assert retrieval_text("(A)企业形象 (B)客户") == "企业形象 客户"


def test_the_token_cache_is_bounded_by_tokens_not_by_texts() -> None:
    """32,768 remembered long questions held 3.4 GB (issue 14): the bound is on tokens held."""
    segmenter = Segmenter(cache_size=50_000)
    long_question = "客户服务管理师的职业道德与投诉处理流程" * 50  # ~1,000 characters
    for i in range(200):
        segmenter.tokenize(f"{i}{long_question}")
    cache = segmenter._tokens.cache  # type: ignore[attr-defined]
    assert 0 < cache.currsize <= 50_000 and len(cache) < 200
    assert segmenter.tokenize("什么是客我关系") == segmenter.tokenize("什么是客我关系")
