"""Bootstrap intervals of the eval figures: deterministic, around the share, wider when
wordings of one question fail together."""

from __future__ import annotations

from dataclasses import dataclass

from csbot.reports.eval_tables import format_report
from csbot.reports.evaluation import EvalQuestion, Outcome, summarise
from csbot.reports.intervals import clusters, interval


@dataclass(frozen=True)
class Asked:
    question: EvalQuestion
    ok: bool


def _asked(n: int, share: float, per_group: int) -> list[Asked]:
    out = []
    for i in range(n):
        group = f"g{i // per_group}" if per_group > 1 else None
        out.append(
            Asked(
                EvalQuestion(f"v{i}", "问", "student", ("证据",), group=group),
                ok=(i // per_group) < share * n / per_group,
            )
        )
    return out


def test_an_interval_holds_the_share_and_is_the_same_every_run() -> None:
    asked = _asked(300, 0.4, 1)
    low, high = interval(asked, lambda a: a.ok) or (0.0, 0.0)
    assert low < 0.4 < high and high - low < 0.2
    assert interval(asked, lambda a: a.ok) == (low, high)
    assert interval([], lambda a: a.ok) is None


def test_wordings_that_fail_together_widen_the_interval() -> None:
    single = _asked(300, 0.4, 1)
    grouped = _asked(300, 0.4, 3)  # each group's three wordings all right or all wrong
    assert len(clusters(single)) == 300 and len(clusters(grouped)) == 100
    s_low, s_high = interval(single, lambda a: a.ok) or (0.0, 0.0)
    g_low, g_high = interval(grouped, lambda a: a.ok) or (0.0, 0.0)
    assert g_high - g_low > 1.3 * (s_high - s_low)


def test_eval_reports_the_intervals_of_its_main_figures() -> None:
    results = [
        Outcome(EvalQuestion(f"v{i}", "问", "student", ("证据",)), rank=1 if i % 2 else 2, span_found=i % 4 == 1,
                confident=False, answered=i % 2 == 1, probability=0.5, candidate_right=i % 4 == 1)
        for i in range(40)
    ] + [
        Outcome(EvalQuestion(f"n{i}", "问", "not-covered", None), rank=None, span_found=False, confident=False,
                answered=i < 3, probability=0.1, candidate_right=False)
        for i in range(20)
    ]  # fmt: skip
    summary = summarise(results)
    iv = summary["intervals"]
    assert iv["hit@1"][0] < 0.5 < iv["hit@1"][1] and iv["span"][0] < 0.25 < iv["span"][1]
    assert iv["not_covered_no_span"][0] <= 0.85 <= iv["not_covered_no_span"][1]
    text = format_report({"questions": 60, "splits": {"test": {"hybrid": summary}}})
    assert "95% intervals (bootstrap over wording groups): hit@1 " in text
