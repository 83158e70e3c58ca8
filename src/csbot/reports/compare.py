"""``csbot eval --compare BEFORE.json``: which questions a change moved, and whether that is
more than chance.

Two versions asked the same questions are compared question by question (a paired
comparison), not by their figures: for hit@1, answer holds evidence and spans shown for
questions the material does not answer, how many questions moved each way, and the exact
two-sided sign test on those that moved (McNemar's test: under "no difference" a moved
question is equally likely to have moved either way). The ``dev`` questions that moved are
named (tune on ``dev``); for ``test`` and ``all`` (the split a batch of ``eval/unseen/`` is
read by) only the counts are given.
"""

from __future__ import annotations

import json
from math import comb
from pathlib import Path
from typing import Any

from csbot.errors import CsbotError

# (name, the per-split list of ids that failed it, the ids it is judged over)
FIGURES = (
    ("hit@1", "misses", "answerable"),
    ("answer holds evidence", "span_misses", "spans"),
    ("no span for an unanswerable question", "wrongly_answered", "unanswerable"),
)


def load_report(path: Path) -> dict[str, Any]:
    """A saved ``csbot eval --json``; a one-line error for a file that is not one (or was
    saved before reports listed the questions they asked)."""
    try:
        report = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise CsbotError(f"cannot read {path}: {exc.strerror}") from exc
    except ValueError as exc:
        raise CsbotError(f"{path} is not JSON ({exc})") from exc
    splits = report.get("splits") if isinstance(report, dict) else None
    if not isinstance(splits, dict) or not any(
        isinstance(m, dict) and "asked" in m for per_mode in splits.values() for m in per_mode.values()
    ):
        raise CsbotError(f"{path} is not a `csbot eval --json` report of this csbot (save one with --json)")
    return report


def sign_test(up: int, down: int) -> float:
    """Exact two-sided sign test: the chance of a split at least this uneven if either way
    were equally likely (1.0 when nothing moved)."""
    n = up + down
    if n == 0:
        return 1.0
    tail = sum(comb(n, k) for k in range(min(up, down) + 1)) / 2**n
    return min(1.0, 2 * tail)


def moved(before: dict[str, Any], after: dict[str, Any], mode: str = "hybrid") -> dict[str, Any]:
    """Per split and figure: the ids that got better and worse, over the questions both
    reports judged (``after``'s ``asked`` lists per split; a question ``before`` did not ask
    is left out)."""
    out: dict[str, Any] = {}
    for split, per_mode in after["splits"].items():
        if mode not in per_mode or mode not in before["splits"].get(split, {}):
            continue
        now, then = per_mode[mode], before["splits"][split][mode]
        figures = {}
        for name, failed, over in FIGURES:
            both = set(now["asked"][over]) & set(then.get("asked", {}).get(over, []))
            lost_now, lost_then = set(now[failed]) & both, set(then[failed]) & both
            figures[name] = {
                "questions": len(both),
                "better": sorted(lost_then - lost_now),
                "worse": sorted(lost_now - lost_then),
            }
        out[split] = figures
    return out


def format_moved(changes: dict[str, Any], label: str) -> str:
    """The comparison as Markdown: counts and sign-test p for each split, the ``dev`` ids."""
    rows = [
        f"## compared with {label} (hybrid, question by question)",
        "",
        "| split | figure | questions | better | worse | sign test p |",
        "|---|---|---|---|---|---|",
    ]
    for split, figures in changes.items():
        for name, f in figures.items():
            up, down = len(f["better"]), len(f["worse"])
            rows.append(
                f"| {split} | {name} | {f['questions']} | {up} | {down} | {sign_test(up, down):.3f} |"
            )
    named = changes.get("dev", {})
    for name, f in named.items():
        if f["better"] or f["worse"]:
            rows += [
                "",
                f"dev, {name}: better {', '.join(f['better']) or 'none'}; worse {', '.join(f['worse']) or 'none'}",
            ]
    return "\n".join(rows)
