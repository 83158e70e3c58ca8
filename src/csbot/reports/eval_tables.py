"""``csbot eval``'s figures as Markdown tables (the ones in the README), per split: the
modes, the hybrid figures by kind, their intervals and where the answers go; the ``dev``
misses by id (``test``'s individual misses stay unread)."""

from __future__ import annotations

from typing import Any

from csbot.reports.intervals import LEVEL

INTERVAL_NAMES = {
    "hit@1": "hit@1",
    "span": "answer holds evidence",
    "not_covered_no_span": "not covered without span",
}


def _f(value: Any) -> str:
    return "–" if value is None else f"{value:.3f}" if isinstance(value, float) else str(value)


def format_report(report: dict[str, Any]) -> str:
    """The figures as Markdown tables (the ones in the README)."""
    rows: list[str] = []
    for split, per_mode in report["splits"].items():
        rows += [
            f"## {split}",
            "",
            "| mode | hit@1 | hit@3 | MRR | span has evidence | student-voice span | answerable confident "
            "| off-topic no span | not-covered not confident | exam right (wrong) | consistency | Brier | ECE |",
            "|---|---|---|---|---|---|---|---|---|---|---|---|---|",
        ]
        for mode, data in per_mode.items():
            o, sv, cal, con = data["overall"], data["student_voice"], data["calibration"], data["consistency"]
            rows.append(
                f"| {mode} | {_f(o['hit@1'])} | {_f(o['hit@3'])} | {_f(o['mrr'])} | {_f(o['span'])} "
                f"| {_f(sv['span'])} | {_f(o['confident'])} | {_f(o['off_topic_no_span'])} "
                f"| {_f(o['not_covered_not_confident'])} | {_f(o['exam_right'])} ({o['exam_wrong']}) "
                f"| {_f(con['consistent'])} ({con['groups']}) | {_f(cal['brier'])} | {_f(cal['ece'])} |"
            )
        hybrid = per_mode.get("hybrid")
        if hybrid:
            said = [
                f"{INTERVAL_NAMES[k]} {iv[0]:.3f}–{iv[1]:.3f}" for k, iv in hybrid["intervals"].items() if iv
            ]
            rows += [
                "",
                f"hybrid, {LEVEL:.0%} intervals (bootstrap over wording groups): {', '.join(said) or '–'}",
                "",
                "hybrid by kind:",
                "",
                "| kind | n | hit@1 | hit@3 | span | answered | not confident |",
            ]
            rows.append("|---|---|---|---|---|---|---|")
            for kind, s in hybrid["by_kind"].items():
                unanswerable = s["answerable"] == 0
                rows.append(
                    f"| {kind} | {s['n']} | {_f(s['hit@1'])} | {_f(s['hit@3'])} | {_f(s['span'])} "
                    f"| {_f(s['answered'])} | "
                    + (
                        _f(s["not_covered_not_confident"] if kind != "off-topic" else s["off_topic_no_span"])
                        if unanswerable
                        else "–"
                    )
                    + " |"
                )
            own = hybrid.get("written_for_the_set")
            if own and own["n"] != hybrid["overall"]["n"]:
                rows += [
                    "",
                    f"hybrid, the {own['n']} questions written for the set (without those labelled from "
                    f"eval/unlabelled.jsonl): hit@1 {_f(own['hit@1'])}, answer holds evidence {_f(own['span'])}, "
                    f"not covered without span {_f(own['not_covered_no_span'])}",
                ]
            w = hybrid["paths"]
            rows += [
                "",
                f"hybrid, answerable questions (exam aside): right passage first {sum(w.values()) - w['lower'] - w['absent']}"
                f" (its span right and shown {w['shown_right']}, right but withheld {w['withheld_right']}, wrong and shown"
                f" {w['shown_wrong']}, wrong and withheld {w['withheld_wrong']}); cited lower {w['lower']}; not cited {w['absent']}",
            ]
            if split != "test":  # tune on dev only: the test split's individual misses stay unread
                rows += [
                    "",
                    f"hybrid misses at rank 1: {', '.join(hybrid['misses']) or 'none'}",
                    f"hybrid answers without the evidence: {', '.join(hybrid['span_misses']) or 'none'}",
                    f"hybrid spans shown for unanswerable questions: {', '.join(hybrid['wrongly_answered']) or 'none'}",
                ]
        rows.append("")
    rows.append(f"{report['questions']} questions")
    return "\n".join(rows)
