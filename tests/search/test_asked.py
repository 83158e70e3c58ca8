"""The asked questions: what the labelled questions nearest a new one say, their file, their use."""

from __future__ import annotations

import math
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from csbot.reports.asked_fit import fit_asked
from csbot.reports.evaluation import EvalQuestion
from csbot.search.adapter import fold_of
from csbot.search.asked import NEAREST, AskedError, AskedQuestions, asked_for, read_asked
from csbot.settings import Settings, load_settings


def unit(*v: float) -> np.ndarray:
    x = np.array(v, dtype=np.float32)
    return x / np.linalg.norm(x)


def memory() -> AskedQuestions:
    """Twelve questions around (1, 0, 0): the eight answered ones nearer; two unanswered ones
    far off, along (0, 1, 0); fold by row."""
    near = [unit(1.0, 0.05 * i, 0.0) for i in range(8)]
    middle = [unit(1.0, 0.0, 0.5 + 0.1 * i) for i in range(2)]  # answered, in fold 4 only
    far = [unit(0.0, 1.0, 0.1), unit(0.1, 1.0, 0.0)]
    vectors = np.stack(near + middle + far)
    answered = np.array([True] * 10 + [False] * 2)
    fold = np.array([0, 1, 2, 3, 0, 1, 2, 3, 4, 4, 0, 1])
    return AskedQuestions("m", vectors, answered, fold, {"questions": 12})


def test_near_reads_the_nearest_questions_labels_and_cosines() -> None:
    asked = memory()
    share, answered, unanswered = asked.near(unit(1.0, 0.0, 0.0))
    assert NEAREST == 10 and share == 1.0  # the ten nearest are the answered ones
    assert answered == pytest.approx(1.0) and unanswered == pytest.approx(
        float(unit(0.1, 1.0, 0.0)[0]), abs=1e-6
    )
    share, _, unanswered = asked.near(unit(0.0, 1.0, 0.0))
    assert share == 0.8 and unanswered > 0.99  # the two unanswered ones are among the ten
    # a development question of fold 0 is compared with the other folds only
    share, answered, _ = asked.near(unit(1.0, 0.0, 0.0), held_out=0)
    assert answered == pytest.approx(float(unit(1.0, 0.05, 0.0)[0]), abs=1e-6)
    assert share == pytest.approx(8 / 9, abs=1e-6)  # nine left: eight answered and fold 1's unanswered one
    # … and with no unanswered question left, that cosine is missing
    only_answered = replace(asked, fold=np.array([0] * 10 + [4] * 2))
    assert math.isnan(only_answered.near(unit(1.0, 0.0, 0.0), held_out=4)[2])


def test_the_file_round_trips_as_16_bit_vectors_and_a_broken_one_names_the_remedy(tmp_path: Path) -> None:
    asked = memory()
    path = tmp_path / "asked-m.npz"
    asked.save(path)
    again = read_asked(path)
    assert again.report == {"questions": 12} and again.vectors.dtype == np.float32
    assert np.allclose(again.vectors, asked.vectors, atol=1e-3)
    assert np.array_equal(again.answered, asked.answered) and np.array_equal(again.fold, asked.fold)
    assert not list(tmp_path.glob("*.part*"))
    broken = tmp_path / "broken.npz"
    broken.write_bytes(b"PK\x03\x04 not a whole zip")
    with pytest.raises(AskedError, match="cannot be read.*CSBOT_ASKED=0"):
        read_asked(broken)
    with pytest.raises(AskedError, match="shapes disagree"):
        replace(asked, answered=asked.answered[:3])
    replace(asked, vectors=np.full_like(asked.vectors, np.nan)).save(tmp_path / "nan.npz")
    with pytest.raises(AskedError, match="no usable vectors"):
        read_asked(tmp_path / "nan.npz")


def test_answering_reads_them_as_confidence_signals(fake_index: Settings) -> None:
    from csbot.serve.assistant import Assistant

    assert asked_for("fake") is None and load_settings(env={"CSBOT_ASKED": "0"}).asked is False
    assistant = Assistant(fake_index)
    retriever = assistant.retriever
    query = retriever.analyse("客户投诉处理的步骤")
    _, signals = assistant.builder.candidate(query, retriever.search(query, k=5))
    assert math.isnan(signals.asked_share) and math.isnan(signals.asked_unanswered)  # none shipped
    labelled = [
        EvalQuestion(f"v{i}", text, kind, evidence, group=f"g{i}")
        for i, (text, kind, evidence) in enumerate(
            [
                ("客户投诉处理的步骤有哪些", "student", ("投诉",)),
                ("怎样处理客户投诉", "student", ("投诉",)),
                ("报名费是多少钱", "not-covered", None),
                ("今天天气怎么样", "off-topic", None),
                ("考试选择题", "exam", ("题",)),
            ]
        )
    ]
    labelled[-1] = replace(labelled[-1], choice=("A",))  # exam items are not kept
    asked = fit_asked(assistant, labelled, "fake")
    assert asked.report == {"questions": 4, "answered": 2, "nearest": NEAREST}
    assert asked.fold.tolist() == [fold_of(q.qid, q.group) for q in labelled[:4]]
    retriever.asked = asked
    _, signals = assistant.builder.candidate(query, retriever.search(query, k=5))
    assert signals.asked_share == 0.5  # four questions: two answered
    assert signals.asked_answered >= signals.asked_unanswered
    retriever.held_out = int(asked.fold[0])
    held = retriever.asked_near(query)
    assert held == asked.near(retriever.query_vector(query.retrieval), int(asked.fold[0]))


def test_calibrate_and_eval_read_a_development_questions_signals_without_its_fold(
    fake_index: Settings,
) -> None:
    from csbot.reports.evaluation import collect
    from csbot.serve.assistant import Assistant

    assistant = Assistant(fake_index)
    retriever = assistant.retriever
    question = EvalQuestion("d9", "客户投诉处理的步骤", "student", ("投诉",))
    own = retriever.query_vector(retriever.analyse(question.question).retrieval)[0]
    other = retriever.query_vector(retriever.analyse("今天天气怎么样").retrieval)[0]
    fold = question.held_out
    assert fold is not None  # a development question
    # the question itself, unanswered, in its own fold; an answered one in another fold
    retriever.asked = AskedQuestions(
        "fake", np.stack([own, other]), np.array([False, True]), np.array([fold, (fold + 1) % 5])
    )
    (example,) = collect(assistant, [question])
    assert example.signals.asked_share == 1.0 and math.isnan(example.signals.asked_unanswered)
    assert retriever.held_out is None  # put back


def test_a_bm25_only_question_is_not_embedded_for_them(fake_index: Settings) -> None:
    from csbot.serve.assistant import Assistant

    assistant = Assistant(fake_index)
    retriever = assistant.retriever
    vector = retriever.query_vector(retriever.analyse("客户投诉处理的步骤").retrieval)[0]
    retriever.asked = AskedQuestions("fake", np.stack([vector]), np.array([True]), np.array([0]))
    explained = assistant.ask("客户投诉处理的步骤", mode="bm25", explain=True).explain
    assert explained is not None and explained["confidence"]["signals"]["asked_share"] is None
    explained = assistant.ask("客户投诉处理的步骤", explain=True).explain
    assert explained is not None and explained["confidence"]["signals"]["asked_share"] == 1.0
