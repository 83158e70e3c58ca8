"""The calibrated confidence model: its formula, its cut-offs, the three outcomes, the fallback."""

from __future__ import annotations

import math

import pytest

from csbot.answer import confidence
from csbot.answer.builder import LIKELY, NOT_COVERED
from csbot.answer.confidence import FEATURES, Calibration, Outcome, Signals, assess, calibration_for
from csbot.records import Hit, Passage
from csbot.reports.calibrate import cut_offs, fit, likely_rules
from csbot.reports.evaluation import EvalQuestion, Example
from csbot.serve.assistant import Assistant
from csbot.settings import Settings


def _signals(dense: float = 0.9, overlap: float = 0.5) -> Signals:
    return Signals(dense, 0.01, 0.1, overlap, overlap, 0.1, 1.0, 0.0, 0.0)


def _calibration(likely: float = 0.4, confident: float = 0.8, coef: float = 1.0) -> Calibration:
    n = len(FEATURES)
    return Calibration(
        model="test",
        features=FEATURES,
        mean=(0.0,) * n,
        scale=(1.0,) * n,
        coef=(coef,) + (0.0,) * (n - 1),  # only the dense cosine counts
        intercept=0.0,
        likely=likely,
        confident=confident,
        report={},
    )


def _hit(dense: float) -> Hit:
    return Hit(Passage(0, "d", "s", "text", 1, 1), score=1.0, dense_score=dense)


def test_probability_is_the_logistic_of_the_standardised_signals() -> None:
    cal = _calibration(coef=2.0)
    assert cal.probability(_signals(dense=0.9)) == round(1 / (1 + math.exp(-1.8)), 4)
    assert cal.outcome(0.85) is Outcome.CONFIDENT
    assert cal.outcome(0.5) is Outcome.LIKELY
    assert cal.outcome(0.39) is Outcome.NOT_COVERED


def test_contributions_add_up_to_the_log_odds() -> None:
    n = len(FEATURES)
    cal = Calibration("test", FEATURES, (0.5,) * n, (2.0,) * n, tuple(range(n)), -1.0, 0.4, 0.8, {})
    signals = _signals(dense=0.9, overlap=0.3)
    push = cal.contributions(signals)
    assert list(push) == list(FEATURES) and push["dense"] == 0.0  # its weight is 0
    assert push["overlap"] == round(3 * (0.3 - 0.5) / 2.0, 3)
    logit = -1.0 + sum(push.values())
    assert abs(cal.probability(signals) - 1 / (1 + math.exp(-logit))) < 2e-3


def test_the_default_model_ships_a_calibration_fitted_on_these_signals() -> None:
    cal = calibration_for("multilingual-e5-small")
    assert cal is not None and cal.features == FEATURES
    assert 0.0 < cal.likely <= cal.confident < 1.0
    assert cal.report["cv"]["brier"] < 0.25  # better than a constant 0.5
    assert calibration_for("some/other-model") is None


def test_a_model_without_calibration_falls_back_to_the_rule() -> None:
    assert assess("fake", _hit(0.95), _signals(dense=0.95)) == (0.9, Outcome.CONFIDENT)
    assert assess("fake", _hit(0.85), _signals(dense=0.85, overlap=0.1)) == (0.1, Outcome.NOT_COVERED)
    assert assess("fake", None, _signals()) == (0.0, Outcome.NOT_COVERED)


def test_a_likely_answer_shows_its_span_marked_uncertain(
    fake_index: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(confidence, "calibration_for", lambda model: _calibration(likely=0.0, confident=1.01))
    answer = Assistant(fake_index).ask("客户服务16大管理原则有哪些?")
    assert answer.outcome == "likely" and not answer.confident
    assert answer.answer and "内部客户至上原则" in answer.answer  # the span is there
    assert answer.message == LIKELY
    data = answer.to_dict()
    assert data["outcome"] == "likely" and 0.0 <= data["confidence"] <= 1.0


def test_not_covered_means_no_span(fake_index: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(
        confidence, "calibration_for", lambda model: _calibration(likely=1.01, confident=1.01)
    )
    answer = Assistant(fake_index).ask("客户服务16大管理原则有哪些?")
    assert answer.outcome == "not-covered" and answer.answer is None and answer.message == NOT_COVERED
    assert answer.citations  # related reading still offered


def _example(kind: str, right: bool, dense: float) -> Example:
    q = EvalQuestion("x", "q", kind, None if kind in ("off-topic", "not-covered") else ("e",))
    return Example(q, _signals(dense=dense), right)


def test_cut_offs_keep_off_topic_below_likely_and_not_covered_below_confident() -> None:
    examples = (
        [_example("off-topic", False, 0.1)] * 3
        + [_example("not-covered", False, 0.1 * i) for i in range(1, 11)]
        + [_example("student", True, 0.9)] * 10
    )
    p = [0.1, 0.2, 0.3] + [0.05 * i for i in range(1, 11)] + [0.9] * 10
    likely, confident = cut_offs(examples, p)
    assert likely == pytest.approx(0.3 + 0.05)
    assert confident >= likely and all(pi < confident for pi in p[3:13][:9])  # 90 % of not-covered
    assert confident <= 0.9  # the right answers are confident


def test_off_topic_questions_the_detector_catches_do_not_hold_likely_up() -> None:
    def off(qid: str) -> Example:
        return Example(EvalQuestion(qid, "q", "off-topic", None), _signals(dense=0.1), False)

    examples = [off("o1"), off("o2")] + [_example("student", True, 0.9)] * 8
    p = [0.6, 0.2] + [0.1] * 4 + [0.8] * 4  # every span right: the precision floor is low
    assert cut_offs(examples, p)[0] == pytest.approx(0.65)  # above every off-topic question
    # the detector withholds o1's span whatever its probability: o2 is the one to stay above
    assert cut_offs(examples, p, caught={"o1"})[0] == pytest.approx(0.25)


def test_likely_cut_off_keeps_the_spans_shown_right_at_least_half_the_time() -> None:
    # off-topic questions sit low, so the off-topic rule alone would put likely at 0.15
    examples = (
        [_example("off-topic", False, 0.1)] * 2
        + [_example("not-covered", False, 0.1)] * 6
        + [_example("student", False, 0.1)] * 2
        + [_example("student", True, 0.9)] * 4
    )
    p = [0.1, 0.1] + [0.2, 0.3, 0.4, 0.5, 0.6, 0.7] + [0.45, 0.55] + [0.8] * 4
    likely, _ = cut_offs(examples, p)
    # from 0.55 up: 0.55 (wrong), 0.6, 0.7 (not covered) and four right spans: 4 of 7
    # from 0.5 up: 4 of 8, also half; from 0.45 up: 4 of 9, less than half
    assert likely == pytest.approx(0.5)
    assert likely_rules(examples, p) == (pytest.approx(0.15), pytest.approx(0.5))  # which rule bound it
    shown = [
        e.right for e, pi in zip(examples, p, strict=True) if pi >= likely and e.question.kind != "off-topic"
    ]
    assert sum(shown) >= len(shown) / 2


def test_fit_learns_that_closer_passages_are_right() -> None:
    examples = [_example("student", d > 0.85, d) for d in [0.80 + 0.01 * i for i in range(15)] * 4]
    cal = fit(examples, "test")
    assert cal.probability(_signals(dense=0.93)) > cal.probability(_signals(dense=0.81))
    assert cal.report["trained_on"] == 60 and cal.features == FEATURES
    assert set(cal.report["likely_rules"]) == {"off_topic", "precision"}


def test_a_missing_rerank_signal_pushes_neither_way_when_read_or_fitted() -> None:
    from dataclasses import replace

    import numpy as np

    from csbot.reports.calibrate import fit_logistic

    n = len(FEATURES)
    calibration = replace(
        _calibration(), mean=tuple(0.6 if f == "rerank" else 0.0 for f in FEATURES), coef=(1.0,) * n
    )
    at_mean = calibration.probability(replace(_signals(), rerank=0.6))
    missing = calibration.probability(_signals())  # no re-ranker: rerank is NaN
    assert math.isnan(_signals().rerank) and missing == at_mean
    assert calibration.contributions(_signals())["rerank"] == 0.0
    assert confidence.explain("none", _signals())["signals"]["rerank"] is None  # JSON null, not NaN
    # fitted with the signal missing throughout: a constant at 0, no weight, no NaN anywhere
    rng = np.random.default_rng(0)
    x = [[float(v), math.nan] for v in rng.normal(size=200)]
    y = [int(row[0] > 0) for row in x]
    fitted = fit_logistic(x, y, (1.0,))
    assert fitted.mean[1] == 0.0 and fitted.coef[1] == 0.0 and not any(map(math.isnan, fitted.cv_p))
    # … and with some rows missing it: fitted at the mean of the others
    half = [[a, b if i % 2 else math.nan] for i, (a, b) in enumerate((r[0], r[0] * 2) for r in x)]
    assert fitted.mean[0] == pytest.approx(fit_logistic(half, y, (1.0,)).mean[0])
    assert fit_logistic(half, y, (1.0,)).mean[1] == pytest.approx(
        np.mean([r[1] for r in half[1::2]]), abs=1e-6
    )


def test_repeated_cross_validation_averages_the_splits_and_leaves_the_fit_alone() -> None:
    """``repeats``: each example's out-of-fold probability is its mean over that many random
    splits (the first the one ``C`` was chosen on); the fitted coefficients do not change."""
    import numpy as np
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import StratifiedKFold, cross_val_predict

    from csbot.reports.calibrate import FOLDS, fit_logistic

    rng = np.random.default_rng(3)
    x = rng.normal(size=(120, 2))
    y = [int(v) for v in (x[:, 0] + rng.normal(scale=1.0, size=120) > 0)]
    once = fit_logistic(x.tolist(), y, (1.0,))
    thrice = fit_logistic(x.tolist(), y, (1.0,), repeats=3)
    assert thrice.coef == once.coef and thrice.intercept == once.intercept
    z = (x - x.mean(axis=0)) / x.std(axis=0)
    runs = [
        cross_val_predict(
            LogisticRegression(C=1.0, max_iter=1000),
            z,
            np.array(y),
            cv=StratifiedKFold(n_splits=FOLDS, shuffle=True, random_state=seed),
            method="predict_proba",
        )[:, 1]
        for seed in range(3)
    ]
    assert np.allclose(once.cv_p, runs[0])
    assert np.allclose(thrice.cv_p, np.mean(runs, axis=0))
    assert not np.allclose(thrice.cv_p, once.cv_p)  # the splits do move single examples
