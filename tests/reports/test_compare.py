"""csbot eval --compare: the questions a change moved, and the sign test on them."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest

from csbot.errors import CsbotError
from csbot.reports.compare import format_moved, load_report, moved, sign_test


def _report(misses: list[str], span_misses: list[str], wrong: list[str]) -> dict:  # type: ignore[type-arg]
    per_mode = {
        "misses": misses,
        "span_misses": span_misses,
        "wrongly_answered": wrong,
        "asked": {
            "answerable": ["v1", "v2", "v3", "v4"],
            "spans": ["v1", "v2", "v3"],
            "unanswerable": ["n1", "n2"],
        },
    }
    return {
        "questions": 6,
        "splits": {name: {"hybrid": copy.deepcopy(per_mode)} for name in ("dev", "test", "all")},
    }


def test_the_sign_test_is_exact_and_two_sided() -> None:
    assert sign_test(0, 0) == 1.0 and sign_test(3, 3) == 1.0
    assert sign_test(5, 0) == pytest.approx(2 / 32) and sign_test(0, 5) == sign_test(5, 0)
    assert sign_test(10, 2) == pytest.approx(2 * (1 + 12 + 66) / 4096)


def test_questions_that_moved_are_counted_each_way_and_dev_ones_named() -> None:
    before = _report(["v1", "v2"], ["v1"], ["n1"])
    after = _report(["v2", "v3"], ["v1", "v3"], [])
    after["splits"]["dev"]["hybrid"]["asked"]["answerable"].append("v9")  # new since: left out
    after["splits"]["dev"]["hybrid"]["misses"].append("v9")
    changes = moved(before, after)
    dev = changes["dev"]
    assert dev["hit@1"] == {"questions": 4, "better": ["v1"], "worse": ["v3"]}
    assert dev["answer holds evidence"] == {"questions": 3, "better": [], "worse": ["v3"]}
    assert dev["no span for an unanswerable question"]["better"] == ["n1"]
    text = format_moved(changes, "before.json")
    assert "| test | hit@1 | 4 | 1 | 1 | 1.000 |" in text and "| all | hit@1 | 4 | 1 | 1 | 1.000 |" in text
    assert "dev, hit@1: better v1; worse v3" in text
    assert "test, hit@1" not in text and "all, hit@1" not in text  # only dev ids are named


def test_a_file_that_is_not_a_saved_report_is_a_one_line_error(tmp_path: Path) -> None:
    with pytest.raises(CsbotError, match="cannot read"):
        load_report(tmp_path / "missing.json")
    (tmp_path / "bad.json").write_text("{not json", encoding="utf-8")
    with pytest.raises(CsbotError, match="not JSON"):
        load_report(tmp_path / "bad.json")
    (tmp_path / "old.json").write_text(
        json.dumps({"splits": {"dev": {"hybrid": {"misses": []}}}}), encoding="utf-8"
    )
    with pytest.raises(CsbotError, match="not a `csbot eval --json` report"):
        load_report(tmp_path / "old.json")
    (tmp_path / "ok.json").write_text(json.dumps(_report([], [], [])), encoding="utf-8")
    assert load_report(tmp_path / "ok.json")["questions"] == 6
