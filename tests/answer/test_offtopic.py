"""The off-topic detector: its fit, its cut-off, and that a flagged question gets no span."""

from __future__ import annotations

import numpy as np
import pytest

from csbot.answer import builder, confidence
from csbot.answer.builder import NOT_COVERED, OFF_TOPIC
from csbot.answer.confidence import FEATURES as SIGNALS
from csbot.answer.confidence import Calibration
from csbot.answer.offtopic import FEATURES, OffTopicModel, detector_for
from csbot.reports.calibrate import ON_TOPIC_FLAGGED, fit_offtopic, general_questions
from csbot.serve.assistant import Assistant
from csbot.settings import Settings


def _cluster(centre: np.ndarray, n: int, seed: int) -> list[list[float]]:
    rng = np.random.default_rng(seed)
    rows = centre + 0.3 * rng.standard_normal((n, len(centre)))
    return (rows / np.linalg.norm(rows, axis=1, keepdims=True)).tolist()


def test_fit_separates_off_topic_questions_and_flags_few_on_topic_ones() -> None:
    d = 16
    on_c, off_c = np.eye(d)[0], np.eye(d)[1]
    on, off, general = _cluster(on_c, 200, 0), _cluster(off_c, 20, 1), _cluster(off_c, 100, 2)
    detector, caught = fit_offtopic(on, off, general, "test")
    assert detector.features == FEATURES and len(detector.coef) == d
    assert len(caught) == len(off)
    assert round(sum(caught) / len(caught), 3) == detector.report["cv_off_topic_caught"]
    assert detector.report["cv_on_topic_flagged"] <= ON_TOPIC_FLAGGED
    assert detector.report["cv_off_topic_caught"] >= 0.9
    assert detector.off_topic(off_c.tolist()) and not detector.off_topic(on_c.tolist())
    assert not detector.off_topic([0.0] * (d + 1))  # a vector of another model is never flagged


def test_the_default_model_ships_a_detector_and_its_general_questions() -> None:
    detector = detector_for("multilingual-e5-small")
    assert detector is not None and len(detector.coef) == 384 and 0.5 < detector.threshold < 1.0
    assert detector.report["cv_on_topic_flagged"] <= ON_TOPIC_FLAGGED
    assert len(general_questions()) >= 300 and not any(q.startswith("#") for q in general_questions())
    assert detector_for("some/other-model") is None


def test_a_question_the_detector_flags_gets_no_span(
    fake_index: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    n = len(SIGNALS)  # every answer at least likely, so only the detector can withhold it
    always = Calibration("fake", SIGNALS, (0.0,) * n, (1.0,) * n, (0.0,) * n, 0.0, 0.0, 1.01, {})
    monkeypatch.setattr(confidence, "calibration_for", lambda model: always)
    question = "客户服务16大管理原则有哪些?"
    assert Assistant(fake_index).ask(question).answer  # answered without a detector
    flag_all = OffTopicModel("fake", FEATURES, (0.0,), (1.0,), (0.0,), 10.0, 0.5, {})
    monkeypatch.setattr(builder, "detector_for", lambda model: flag_all)
    monkeypatch.setattr(OffTopicModel, "off_topic", lambda self, vector: True)
    answer = Assistant(fake_index).ask(question)
    assert answer.outcome == "not-covered" and answer.answer is None
    assert answer.off_topic and answer.message == OFF_TOPIC and answer.to_dict()["off_topic"] is True
    assert answer.citations  # the nearest passages still offered, said to be likely unrelated
    monkeypatch.setattr(OffTopicModel, "off_topic", lambda self, vector: False)
    monkeypatch.setattr(confidence, "calibration_for", lambda model: None)  # the rule: not covered
    missing = Assistant(fake_index).ask("考试报名费是多少钱?")
    assert missing.outcome == "not-covered" and not missing.off_topic and missing.message == NOT_COVERED


def test_course_questions_teach_what_is_on_topic_without_being_judged() -> None:
    # dev's on-topic questions all lie one way; students also ask another way (in English,
    # say), which only the general questions share — unless unlabelled course questions show it
    d = 16
    on_c, off_c, other = np.eye(d)[0], np.eye(d)[1], np.eye(d)[2]
    on, off = _cluster(on_c, 200, 0), _cluster(off_c, 20, 1)
    general = _cluster(off_c, 100, 2) + _cluster((off_c + other) / np.sqrt(2), 40, 3)
    asked = ((on_c + other) / np.sqrt(2) + 0.6 * other).tolist()
    without, _ = fit_offtopic(on, off, general, "test")
    course = _cluster((on_c + other) / np.sqrt(2) + 0.6 * other, 100, 4)
    detector, caught = fit_offtopic(on, off, general, "test", course)
    assert detector.report["course"] == 100 and len(caught) == len(off)
    assert detector.report["cv_on_topic_flagged"] <= ON_TOPIC_FLAGGED  # judged on dev's alone
    assert detector.probability(asked) < without.probability(asked)
    assert not detector.off_topic(asked) and detector.off_topic(off_c.tolist())
