"""The asked questions: what the labelled questions nearest a new one say, their file, their use."""

from __future__ import annotations

import math
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from csbot.records import Passage
from csbot.reports.asked_fit import fit_asked
from csbot.reports.evaluation import EvalQuestion, contains_evidence
from csbot.search.adapter import fold_of
from csbot.search.asked import (
    COVER_NEAREST,
    NEAREST,
    AskedError,
    AskedQuestions,
    asked_for,
    passage_key,
    read_asked,
)
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
    # passage "a" answers the nearest two (rows 0, 1), "b" rows 1 and 8, "c" row 9
    keys = np.array(["d:a", "d:b", "d:c"])
    return AskedQuestions(
        "m",
        vectors,
        answered,
        fold,
        {"questions": 12},
        keys,
        np.array([0, 1, 1, 8, 9]),
        np.array([0, 0, 1, 1, 2]),
    )


def test_votes_say_which_candidate_passages_the_nearest_questions_were_answered_by() -> None:
    asked = memory()
    answers = asked.answered_by(["d:c", "d:a", "d:zz", "d:b"])  # an index's passages, by row
    assert [a.tolist() for a in answers] == [[9], [0, 1], [], [1, 8]]
    twice = replace(
        asked, pair_question=np.append(asked.pair_question, 0), pair_passage=np.append(asked.pair_passage, 0)
    )
    assert [a.tolist() for a in twice.answered_by(["d:a"])] == [[0, 1]]  # a pair named twice counts once
    cosines = asked.cosines(unit(1.0, 0.0, 0.0))
    cos = cosines.whole()
    votes = asked.votes(cosines, [1, 3, 2, 0], answers)
    best = float(cos[:10].max())
    assert votes[0][0] == pytest.approx(best, abs=1e-5) and votes[0][1] == pytest.approx(0.0, abs=1e-5)
    assert votes[0][2] == 0.2  # "a" answers two of the ten nearest
    assert votes[2].tolist() == [0.0, pytest.approx(best, abs=1e-5), 0.0, 0.0]  # no question: no vote
    assert votes[3][0] == pytest.approx(float(cos[9]), abs=1e-5) and votes[3][2] == 0.1  # "c": row 9
    assert votes[1][2] == 0.2 and votes[1][3] == pytest.approx((cos[1] + cos[8]) / cos[:10].sum(), abs=1e-5)
    # a development question of fold 0 is compared with the other folds only: row 0 is out
    held = asked.votes(cosines, [1, 0], answers, held_out=0)
    assert held[0][0] == pytest.approx(float(cos[1]), abs=1e-5) and held[0][2] == pytest.approx(
        1 / 9, abs=1e-5
    )
    # … and of fold 4, rows 8 and 9: "c" answers none of the others, "b" only row 1
    held = asked.votes(cosines, [0, 3], answers, held_out=4)
    assert held[0].tolist() == [0.0, pytest.approx(best, abs=1e-5), 0.0, 0.0] and held[1][2] == 0.1
    assert asked.votes(cosines, [0, 3], answers, held_out=4).tolist() == held.tolist()  # stable


def test_document_votes_say_which_documents_answered_the_nearest_questions() -> None:
    """For the syllabus report: a document's passages together, named by their keys."""
    asked = replace(memory(), keys=np.array(["doc:one:a", "e:b", "e:c"]))  # a colon in a name is kept
    cosines = asked.cosines(unit(1.0, 0.0, 0.0))  # rows 0–9 (answered) nearest, then 10 and 11
    cos = cosines.whole()
    assert COVER_NEAREST >= 12  # both circles hold all twelve questions, ten of them answered
    near, behind, share, wide, share_answered = asked.document_votes(cosines, "doc:one")  # rows 0 and 1
    assert near == pytest.approx(1.0, abs=1e-5) and behind == pytest.approx(0.0, abs=1e-5)
    assert share == wide == pytest.approx(2 / 12, abs=1e-6) and share_answered == 0.2
    e = asked.document_votes(cosines, "e")  # rows 1, 8 and 9
    assert e[0] == pytest.approx(float(cos[1]), abs=1e-5) and e[1] == pytest.approx(
        float(cos[1]) - 1, abs=1e-5
    )
    assert e[2] == 0.25 and e[4] == 0.3
    assert asked.document_votes(cosines, "nowhere")[0::2] == (0.0, 0.0, 0.0)  # no question it answers
    assert asked.document_votes(cosines, "e") == e  # stable


def test_passage_keys_name_a_passage_by_document_and_text_not_row() -> None:
    one, moved = Passage(3, "doc", "§", "客户服务", 1, 2), Passage(40, "doc", "§2", "客户服务", 9, 9)
    assert passage_key(one) == passage_key(moved) and passage_key(one).startswith("doc:")
    assert passage_key(one) != passage_key(Passage(3, "doc", "§", "客户服务。", 1, 2))


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
    assert again.keys.tolist() == asked.keys.tolist()
    assert np.array_equal(again.pair_question, asked.pair_question)
    assert np.array_equal(again.pair_passage, asked.pair_passage)
    assert not list(tmp_path.glob("*.part*"))
    broken = tmp_path / "broken.npz"
    broken.write_bytes(b"PK\x03\x04 not a whole zip")
    with pytest.raises(AskedError, match="cannot be read.*CSBOT_ASKED=0"):
        read_asked(broken)
    with pytest.raises(AskedError, match="shapes disagree"):
        replace(asked, answered=asked.answered[:3])
    with pytest.raises(AskedError, match="passages answering them disagree"):
        replace(asked, pair_question=np.array([0, 1, 1, 8, 11]))  # row 11 is unanswered
    with pytest.raises(AskedError, match="passages answering them disagree"):
        replace(asked, pair_passage=np.array([0, 0, 1, 1, 3]))  # there are three keys
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
    passages = retriever.index.passages
    holding = [p for p in passages if contains_evidence(p.text, "投诉")]
    assert asked.report == {
        "questions": 4,
        "answered": 2,
        "nearest": NEAREST,
        "passages": len(holding),
        "pairs": 2 * len(holding),
    }
    assert asked.fold.tolist() == [fold_of(q.qid, q.group) for q in labelled[:4]]
    assert sorted(asked.keys.tolist()) == sorted(passage_key(p) for p in holding)
    retriever.asked = asked
    # the re-ranker's votes: a passage holding the evidence has them, the others not
    rows = [h.passage.passage_id for h in retriever.search(query, k=10, mode="bm25")]
    votes = retriever.asked_votes(query, rows)
    assert all(
        (votes[n][0] > 0) == contains_evidence(passages[row].text, "投诉") for n, row in enumerate(rows)
    )
    # --explain shows them per citation, where a re-ranker read them
    assert all(
        c["asked_vote"] is None
        for c in assistant.ask("客户投诉处理的步骤", explain=True).explain["citations"]
    )  # type: ignore[index]
    retriever.reranker = _some_reranker()
    answer = assistant.ask("客户投诉处理的步骤有哪些呢", explain=True)
    explained = answer.explain["citations"]  # type: ignore[index]
    assert len(explained) == len(answer.citations) > 1
    assert all(
        (e["asked_vote"]["nearest"] > 0) == contains_evidence(c.text, "投诉")
        for e, c in zip(explained, answer.citations, strict=True)
    )
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


def _some_reranker():  # type: ignore[no-untyped-def]
    """A re-ranker fitted on random rows: something to order by."""
    from sklearn.ensemble import HistGradientBoostingClassifier

    from csbot.search.rerank import FEATURES, from_sklearn

    rng = np.random.default_rng(0)
    x = rng.normal(size=(200, len(FEATURES)))
    trees = HistGradientBoostingClassifier(max_iter=3, early_stopping=False).fit(x, x[:, 0] > 0)
    return from_sklearn("fake", [trees] * 6)
