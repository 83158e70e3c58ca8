"""The real default model and corpus, end to end. Slow: they prepare the model from the
installed packages and build the real index (run in CI by `make test`)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from csbot.embed.e5_weights import read_e5_file
from csbot.embed.factory import make_embedder
from csbot.embed.prepare import TOKENIZER, WEIGHTS, package_file
from csbot.serve.assistant import Assistant
from csbot.settings import DEFAULT_MODEL, Settings

pytestmark = pytest.mark.slow


@pytest.fixture(scope="session")
def assistant(real: Settings) -> Assistant:
    return Assistant(real)


def test_tokenizer_ids_match_the_vocabulary_in_the_weights_file() -> None:
    from transformers import XLMRobertaTokenizerFast

    weights = read_e5_file(package_file(*WEIGHTS))
    tok = XLMRobertaTokenizerFast(tokenizer_file=str(package_file(*TOKENIZER)))
    for text in [
        "query: 投诉处理的六步法是什么?",
        "passage: 客戶服務管理課程",
        "customer service manager 客我关系",
    ]:
        ids = tok(text)["input_ids"]
        assert ids[0] == weights.special_ids["bos"] and ids[-1] == weights.special_ids["eos"]
        assert tok.convert_ids_to_tokens(ids) == [weights.pieces[i] for i in ids]
        assert max(ids) < weights.vocab_size


def test_paraphrases_score_above_unrelated_pairs(real: Settings) -> None:
    emb = make_embedder(real)
    q = emb.embed_batch(["如何处理客户的投诉", "客户服务有哪些特性", "职业道德的内涵"], kind="query")
    p = emb.embed_batch(
        [
            "投诉处理的六步法:鼓励客户发泄,道歉及感谢客户,提问了解问题所在",
            "客户服务有五大特性:无形性、不可分性、易消失性、有偿性和易变性",
            "职业道德是一种职业规范,并受到社会普遍的认可",
        ],
        kind="passage",
    )
    sims = q @ p.T
    assert np.allclose(np.linalg.norm(q, axis=1), 1.0, atol=1e-4)
    for i in range(3):
        assert sims[i, i] > max(sims[i, j] for j in range(3) if j != i) + 0.02, sims


def test_six_step_question_cites_the_right_lines(assistant: Assistant) -> None:
    answer = assistant.ask("投诉处理的六步法是什么?")
    # shown (confident until the span picker's round; since then likely, p 0.83: the picker
    # shows the six steps without their lead 投诉处理的六步法:, which holds the question's words)
    assert answer.outcome in ("confident", "likely") and answer.confidence > 0.5
    top = answer.citations[0]
    assert (top.doc_id, top.line_start, top.line_end) == ("l3-lecture-notes", 34, 38)
    assert answer.answer is not None and "鼓励客户发泄" in answer.answer and "跟踪服务" in answer.answer


@pytest.mark.parametrize(
    ("question", "doc_id", "evidence"),
    [
        ("客户服务16大管理原则有哪些", "basics-notes", "内部客户至上原则"),
        ("職業錨有哪幾種?", "basics-notes", "技术或功能型职业锚"),
        (
            "所谓的以貌取人是指哪种效应? A.晕轮效应 B.近因效应 C.刻板印象 D.首因效应",
            "l3-lecture-notes",
            "首因效应正确答案",
        ),
        ("客户服务管理师的职业定义是什么", "occupational-standard", "通过提供产品和服务满足客户的需求"),
    ],
)
def test_real_answers_and_citations(assistant: Assistant, question: str, doc_id: str, evidence: str) -> None:
    answer = assistant.ask(question, top_k=3)
    assert any(c.doc_id == doc_id and evidence in c.text.replace(" ", "") for c in answer.citations), answer


def test_off_topic_question_is_not_confident(assistant: Assistant) -> None:
    answer = assistant.ask("Python 的列表推导式怎么写?")
    assert not answer.confident and answer.answer is None and answer.citations


def test_explain_shows_the_calibrated_reading_of_the_signals(assistant: Assistant) -> None:
    answer = assistant.ask("顾客投诉了应该怎么处理?", explain=True)
    assert answer.explain is not None
    confidence = answer.explain["confidence"]
    assert set(confidence["cut_offs"]) == {"likely", "confident"} and "rule" not in confidence
    assert confidence["probability"] == answer.confidence and confidence["outcome"] == answer.outcome
    assert set(confidence["contributions"]) == set(confidence["signals"])


def test_english_questions_through_the_model_and_the_glossary(real: Settings) -> None:
    # The glossary path alone, without the query adapter. (This test asked "What are the
    # principles of customer service management?" until the common-words round: 客服, one
    # translation of "customer service", had made the phrase weigh as a rare word, which
    # kept BM25 trusted; weighed as 客户服务 it no longer is, and the dense ranking puts the
    # 16 principles 14th. README: words the material mostly says otherwise.)
    assistant = Assistant(replace(real, query_adapter=False))
    question = "What are the six steps for handling complaints?"
    assert [p.source for p in assistant.retriever.analyse(question).phrases] == [
        "step",
        "handling",
        "complaint",
    ]
    answer = assistant.ask(question)
    assert answer.outcome in ("confident", "likely") and "鼓励客户发泄" in (answer.answer or "")
    assert "鼓励客户发泄" in answer.citations[0].text
    assert answer.highlights[0]  # 步骤/处理/投诉 marked in the Chinese passage
    for off_topic in ("How do I cook rice?", "What is the capital of Australia?"):
        off = assistant.ask(off_topic)  # a close vector alone does not vouch
        assert off.outcome == "not-covered" and off.answer is None and not off.confident


def test_same_json_from_a_new_process(real: Settings, assistant: Assistant) -> None:
    q = "客户服务的特性有哪些"
    here = json.dumps(assistant.ask(q).to_dict(), ensure_ascii=False)
    out = subprocess.run(
        [sys.executable, "-m", "csbot", "ask", q, "--json"],
        capture_output=True,
        text=True,
        env={
            **os.environ,
            "CSBOT_HOME": str(real.home),
            "CSBOT_CORPUS": str(real.corpus_dir),
            "CSBOT_INDEX": str(real.index_dir),
            "CSBOT_MODEL": real.model,
        },
        check=True,
    )
    assert out.stdout.strip() == here


def test_onnx_runtime_stays_close_to_sentence_transformers(real: Settings, assistant: Assistant) -> None:
    from csbot.embed.onnx import OnnxEmbedder
    from csbot.embed.prepare import prepared_model_dir
    from csbot.embed.transformer import SentenceTransformerEmbedder

    location = str(prepared_model_dir(real))
    fast = OnnxEmbedder(location, DEFAULT_MODEL, "query: ", "passage: ", threads=2)
    reference = SentenceTransformerEmbedder("reference", location, "query: ", "passage: ")
    questions = ["投诉处理的六步法是什么?", "客戶服務管理課程", "What is a career anchor?"]
    passages = [p.text for p in assistant.retriever.index.passages]
    for kind, texts in (("query", questions), ("passage", passages)):
        cosines = (fast.embed_batch(texts, kind) * reference.embed_batch(texts, kind)).sum(axis=1)
        assert cosines.min() >= 0.99, cosines.min()  # int8 weights against the float model
    texts = [*questions, "服务" * 400]  # the last one is cut at 512 tokens
    one_by_one = np.stack([fast.embed_batch([t], "query")[0] for t in texts])
    assert np.array_equal(one_by_one, fast.embed_batch(texts, "query"))  # no text depends on another
    single = OnnxEmbedder(location, DEFAULT_MODEL, "query: ", "passage: ", threads=1)
    assert np.array_equal(single.embed_batch(texts, "query"), one_by_one)  # threads change no bit


def test_sources_lists_every_covering_document(assistant: Assistant) -> None:
    from csbot.reports.syllabus import sources

    found = sources(assistant, "职业锚")
    assert found[0].doc_id == "basics-notes" and "职业锚" in found[0].sections[0].text
    assert len({d.doc_id for d in found}) == len(found)
    assert all(d.doc_id != "occupational-standard" for d in found)  # not padded in
    # the study material that teaches a point comes first; the documents that name it after
    named = sources(assistant, "客戶服務的基本特點")
    teaches = [d.teaches for d in named]
    assert teaches[0] and teaches == sorted(teaches, reverse=True) and not all(teaches)
    assert {d.doc_id for d in named if not d.teaches} <= {"gd-selfstudy-syllabus", "occupational-standard"}


def test_coverage_agrees_with_the_labelled_pairs(assistant: Assistant) -> None:
    """The shipped cover model on the labelled points it was not fitted on (the test split,
    129 points, 459 pairs): measured gap precision 0.951 and recall 0.915, covered 0.710 and
    0.786 (the README's table; 0.979 / 0.896 and 0.694 / 0.893 the round before, 0.943 / 0.934
    and 0.750 / 0.750 two rounds before, 0.968 / 0.868
    and 0.632 / 0.857 three rounds before, 0.952 / 0.943 and 0.769 / 0.714 before the bank of
    asked questions grew by the u… and w… questions). The
    floors guard against a broken model, not the noise of 28 covered pairs: each refit moves
    these figures by several points."""
    from csbot.reports.cover_model import split_of
    from csbot.reports.coverage_page import build, check_labels, label_intervals, load_labels

    report = build(assistant)
    assert report.cut_off is not None  # the fitted model decides, not the fallback rule
    labels = load_labels(
        Path(__file__).resolve().parents[1] / "eval" / "coverage_labels.jsonl",
        len(report.rows),
        set(assistant.documents),
    )
    test = [lb for lb in labels if split_of(report.rows[lb.point_no - 1].point.point) == "test"]
    check = check_labels(report, test)
    assert check.gap_precision >= 0.85 and check.gap_recall >= 0.85
    assert check.covered_precision >= 0.55 and check.covered_recall >= 0.65
    intervals = label_intervals(report, test)  # how far the figures could move by chance
    for name, (low, high) in ((k, v) for k, v in intervals.items() if v is not None):
        assert low <= getattr(check, name) <= high, name
    rows = {r.point.point: r for r in report.rows}
    assert rows["CTI技術及其功能"].gap  # only the syllabus names it


def test_the_shipped_query_adapter_ranks_unseen_questions_better(
    real: Settings, assistant: Assistant
) -> None:
    """The test split was never trained on: with the adapter more of its answerable questions
    get the right passage first than without (measured 0.686 against 0.616, README)."""
    from csbot.reports.evaluation import contains_evidence, load_questions

    assert assistant.retriever.adapter is not None and assistant.retriever.adapter.dim == 384
    plain = Assistant(replace(real, query_adapter=False))
    questions = Path(__file__).resolve().parents[1] / "eval" / "questions.jsonl"
    test = [q for q in load_questions(questions) if q.split == "test" and q.evidence is not None]

    def first_right(a: Assistant) -> int:
        return sum(
            contains_evidence(a.ask(q.question, top_k=1).citations[0].text, q.evidence or ()) for q in test
        )

    assert first_right(assistant) >= first_right(plain) + 3


def test_answering_loads_neither_torch_nor_transformers(real: Settings) -> None:
    code = (
        "import sys\n"
        "from csbot.serve.assistant import Assistant\n"
        "from csbot.settings import load_settings\n"
        "Assistant(load_settings()).ask('什么是客我关系?')\n"
        "print(sorted(m for m in ('torch', 'transformers', 'sentence_transformers') if m in sys.modules))\n"
    )
    env = {
        **os.environ,
        "CSBOT_HOME": str(real.home),
        "CSBOT_CORPUS": str(real.corpus_dir),
        "CSBOT_INDEX": str(real.index_dir),
        "CSBOT_MODEL": real.model,
    }
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True)
    assert out.stdout.strip() == "[]"  # a cold `csbot ask` pays for ONNX Runtime only


def test_the_ranking_side_is_the_taught_network_run_beside_the_models_own(
    real: Settings, assistant: Assistant
) -> None:
    """A question's two vectors: e5's own (the same as its query vector) and the ranking
    side's, which is the float network with the shipped LoRA merged, in int8 (cosine ≥ 0.97)."""
    import torch
    from tokenizers import Tokenizer

    from csbot.embed.prepare import RANKING_MIN_COSINE, _with_pooling, prepared_model_dir
    from csbot.embed.query_encoder import merged_model

    embedder = assistant.embedder
    assert getattr(embedder, "ranking_side", False) and assistant.retriever.ranks_apart
    questions = ["顾客投诉了怎么办", "客戶服務有咩特性", "What is a career anchor?"]
    location = prepared_model_dir(real)
    pooled = _with_pooling(merged_model(location, DEFAULT_MODEL))
    tokenizer = Tokenizer.from_file(str(location / "tokenizer.json"))
    for text in questions:
        query, ranking = embedder.embed_question(text)  # type: ignore[attr-defined]
        assert np.array_equal(query, embedder.embed_batch([text], "query"))
        assert float(query[0] @ ranking[0]) < 0.9  # another network, not a copy
        encoded = tokenizer.encode("query: " + text)
        with torch.inference_mode():
            reference = pooled(torch.tensor([encoded.ids]), torch.tensor([encoded.attention_mask])).numpy()[0]
        assert float(ranking[0] @ reference) >= RANKING_MIN_COSINE
