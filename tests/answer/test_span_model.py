"""The learned span picker: its candidates, its features, its file, its fit, and where answers use it."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from sklearn.ensemble import HistGradientBoostingClassifier

from csbot.answer.span_model import (
    FEATURES,
    SpanModel,
    SpanModelError,
    best_index,
    features,
    read_span_model,
)
from csbot.answer.spans import extract_span, span_candidates
from csbot.settings import Settings
from csbot.trees import from_sklearn

TEXT = (
    "客户服务的特点如下:\n(1)无形性:服务看不见摸不着;\n(2)同步性:生产和消费同时进行;\n"
    "(3)差异性:服务质量因人而异。\n客户服务是以客户为对象的工作。"
)
QUESTION = "客户服务有哪些特点"


def weight(sentence: str) -> float:
    return sum(1.0 for w in ("客户服务", "特点", "服务") if w in sentence)


def test_every_sentence_gives_a_candidate_and_the_rules_span_is_one_of_them() -> None:
    found = span_candidates(QUESTION, TEXT, "text", weight)
    assert found is not None and len(found.spans) == len(found.sentences) == len(found.scores)
    assert extract_span(QUESTION, TEXT, "text", weight) in found.spans
    assert span_candidates(QUESTION, TEXT, "exam-item", weight) is None
    assert span_candidates(QUESTION, "", "text", weight) is None


def test_features_describe_each_distinct_span_once() -> None:
    found = span_candidates(QUESTION, TEXT, "text", weight)
    assert found is not None
    rule = extract_span(QUESTION, TEXT, "text", weight)
    units = [(0, len(TEXT), 0.8), (found.sentences[-1].start, found.sentences[-1].end, 0.9)]
    spans, x = features(QUESTION, TEXT, found, None, units, rule, lambda t: 0.5)
    assert x.shape == (len(spans), len(FEATURES)) and len(set(spans)) == len(spans) <= len(found.spans)
    rows = [dict(zip(FEATURES, row, strict=True)) for row in x]
    assert sum(r["rule"] for r in rows) == 1 and rows[spans.index(rule)]["rule"] == 1.0
    last = rows[spans.index(found.spans[-1])]
    assert last["cosine_span"] == 0.9 and last["cosine_gap"] == 0.0  # the closest window is in it
    assert rows[0]["cosine_span"] in (0.8, 0.9) and all(
        r["question_type"] == 2.0 for r in rows
    )  # a list question


def test_the_best_candidate_pays_for_its_length() -> None:
    assert best_index(np.array([0.6, 0.62]), [20, 400], 0.0) == 1
    assert best_index(np.array([0.6, 0.62]), [20, 400], 0.2) == 0
    assert best_index(np.array([0.5, 0.5]), [30, 30], 0.2) == 0  # first of equals


def _picker(params: dict[str, float] | None = None) -> SpanModel:
    rng = np.random.default_rng(0)
    x = rng.normal(size=(300, len(FEATURES)))
    trees = HistGradientBoostingClassifier(max_iter=5, early_stopping=False).fit(x, x[:, 0] > 0)
    return from_sklearn(SpanModel, "fake", [trees] * 6, {"trained_on": 1}, params)


def test_the_file_round_trips_with_its_penalty_and_a_broken_one_names_the_remedy(tmp_path: Path) -> None:
    picker = _picker({"length_penalty": 0.2})
    path = tmp_path / "spans-fake.npz"
    picker.save(path)
    again = read_span_model(path)
    x = np.random.default_rng(1).normal(size=(7, len(FEATURES)))
    assert again.length_penalty == 0.2 and np.array_equal(again.raw(x, held_out=2), picker.raw(x, held_out=2))
    replace(picker, params={"length_penalty": -1.0}).save(path)
    with pytest.raises(SpanModelError, match="length penalty.*CSBOT_SPAN_MODEL=0"):
        read_span_model(path)
    path.write_bytes(b"not a zip")
    with pytest.raises(SpanModelError, match="cannot be read.*csbot calibrate"):
        read_span_model(path)


class Last(SpanModel):
    """A picker that always prefers the last candidate."""

    def __init__(self) -> None:
        object.__setattr__(self, "params", {})

    def probabilities(self, x: np.ndarray, held_out: int | None = None) -> np.ndarray:
        return np.linspace(0.1, 0.9, len(x))


def test_answers_take_the_pickers_span_and_the_rules_without_it(fake_index: Settings) -> None:
    from csbot.serve.assistant import Assistant

    question = "服务有哪些特性"
    assistant = Assistant(fake_index)
    retriever, builder = assistant.retriever, assistant.builder
    assert builder.span_model is None  # none shipped for the fake model: the rules pick
    query = retriever.analyse(question)
    hits = retriever.search(query, k=5)
    rule_span, options = builder.span_options(query, hits[0])
    assert options is not None and rule_span in options[0]
    assert builder.candidate(query, hits)[0].span == rule_span  # type: ignore[union-attr]
    builder.span_model = Last()
    assert builder.candidate(query, hits)[0].span == options[0][-1]  # type: ignore[union-attr]
    explained = assistant.ask(question, explain=True).explain
    assert explained is not None and explained["span"]["chosen_by"] == "picker"
    assert [c["span"] for c in explained["span"]["candidates"]] == [[s.start, s.end] for s in options[0]]
    builder.span_model = None
    explained = Assistant(fake_index).ask(question, explain=True).explain
    assert explained is not None and explained["span"] == {
        "chosen_by": "rules",
        "rules_span": [rule_span.start, rule_span.end],
    }
    bm25_hits = retriever.search(query, k=5, mode="bm25")
    assert not bm25_hits[0].units  # no unit cosines without the dense search: the rules pick
    assert builder.span_options(query, bm25_hits[0])[1] is None


def test_calibrate_fits_a_picker_no_wordier_than_the_rules(fake_index: Settings) -> None:
    from csbot.reports.evaluation import load_questions
    from csbot.reports.span_fit import PENALTIES, fit_span_model
    from csbot.serve.assistant import Assistant

    questions = [
        q
        for q in load_questions(Path(__file__).resolve().parents[2] / "eval" / "questions.jsonl")
        if q.split == "dev" and q.evidence is not None and q.choice is None
    ][:400]
    picker = fit_span_model(Assistant(fake_index), questions, "fake")
    report = picker.report
    assert len(picker.roots) == 6 and picker.length_penalty in PENALTIES
    lengths = report["mean_length_out_of_fold"]
    chosen = str(picker.length_penalty)
    assert lengths[chosen] <= report["rule_mean_length"] or picker.length_penalty == PENALTIES[-1]
    assert all(lengths[str(t)] > report["rule_mean_length"] for t in PENALTIES if t < picker.length_penalty)
    assert 0 < report["rule_right_out_of_fold"] <= report["trained_on"]
