"""``csbot eval``: hit@k, MRR and confidence on a question set, for each retrieval mode."""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from csbot.errors import CsbotError
from csbot.search.retriever import MODES
from csbot.serve.assistant import Assistant
from csbot.text.normalise import squash

KS = (1, 3, 5)


@dataclass(frozen=True)
class EvalQuestion:
    """One question of the set: ``evidence`` is a string a correct passage contains
    (None for questions the material does not answer)."""

    qid: str
    question: str
    kind: str
    evidence: str | None
    choice: tuple[str, ...] | None = None  # the right letters of an exam question


def load_questions(path: Path) -> list[EvalQuestion]:
    """Read a JSONL question set (``id``, ``question``, ``kind``, ``evidence``)."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise CsbotError(f"cannot read question set {path}: {exc.strerror}") from exc
    out: list[EvalQuestion] = []
    for n, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
            choice = tuple(row["choice"]) if row.get("choice") else None
            out.append(EvalQuestion(row["id"], row["question"], row["kind"], row.get("evidence"), choice))
        except (ValueError, KeyError) as exc:
            raise CsbotError(f"{path}:{n}: not a question record ({exc})") from exc
    return out


def contains_evidence(passage_text: str, evidence: str) -> bool:
    """Whether a passage holds the evidence, ignoring script, width and spacing."""
    return squash(evidence) in squash(passage_text)


def run_eval(assistant: Assistant, questions: list[EvalQuestion], depth: int = max(KS)) -> dict[str, Any]:
    """Ask every question in every mode; return the figures per mode and per kind."""
    report: dict[str, Any] = {"questions": len(questions), "modes": {}}
    for mode in MODES:
        by_kind: dict[str, dict[str, float]] = defaultdict(lambda: defaultdict(float))
        misses: list[str] = []
        span_misses: list[str] = []
        for q in questions:
            answer = assistant.ask(q.question, top_k=depth, mode=mode)
            stats = by_kind[q.kind]
            stats["n"] += 1
            if q.evidence is None:
                stats["not_confident"] += 0 if answer.confident else 1
                continue
            stats["confident"] += 1 if answer.confident else 0
            if q.choice is None:  # an exam question's answer is its letters, scored below
                stats["span_n"] += 1
                found = bool(answer.answer and contains_evidence(answer.answer, q.evidence))
                stats["span"] += 1 if found else 0
                if not found:
                    span_misses.append(q.qid)
            else:
                stats["choice_n"] += 1
                suggested = tuple(answer.choice["suggested"]) if answer.choice else ()
                stats["choice_ok"] += 1 if sorted(suggested) == sorted(q.choice) else 0
                stats["choice_wrong"] += 1 if suggested and sorted(suggested) != sorted(q.choice) else 0
            rank = next((c.rank for c in answer.citations if contains_evidence(c.text, q.evidence)), None)
            for k in KS:
                stats[f"hit@{k}"] += 1 if rank is not None and rank <= k else 0
            stats["mrr"] += 1.0 / rank if rank else 0.0
            if rank != 1:
                misses.append(q.qid)
        report["modes"][mode] = {
            "by_kind": {k: dict(v) for k, v in by_kind.items()},
            "misses": misses,
            "span_misses": span_misses,
            "overall": _overall(by_kind),
        }
    return report


def _overall(by_kind: dict[str, dict[str, float]]) -> dict[str, float]:
    answerable = {k: v for k, v in by_kind.items() if k != "out-of-scope"}
    n = sum(v["n"] for v in answerable.values())
    out: dict[str, float] = {}
    for key in [*(f"hit@{k}" for k in KS), "mrr", "confident"]:
        out[key] = round(sum(v.get(key, 0.0) for v in answerable.values()) / n, 3) if n else 0.0
    span_n = sum(v.get("span_n", 0.0) for v in answerable.values())
    out["span"] = round(sum(v.get("span", 0.0) for v in answerable.values()) / span_n, 3) if span_n else 0.0
    exam_n = sum(v.get("choice_n", 0.0) for v in by_kind.values())
    out["exam_choice"] = (
        round(sum(v.get("choice_ok", 0.0) for v in by_kind.values()) / exam_n, 3) if exam_n else 0.0
    )
    out["exam_wrong"] = int(sum(v.get("choice_wrong", 0.0) for v in by_kind.values()))
    out["exam_questions"] = int(exam_n)
    oos = by_kind.get("out-of-scope", {})
    out["oos_not_confident"] = round(oos.get("not_confident", 0.0) / oos["n"], 3) if oos.get("n") else 0.0
    out["answerable"] = n
    out["out_of_scope"] = int(oos.get("n", 0))
    return out


def _share(stats: dict[str, float], key: str, of: str) -> str:
    return f"{stats.get(key, 0.0) / stats[of]:.3f}" if stats.get(of) else "–"


def format_report(report: dict[str, Any]) -> str:
    """The figures as a Markdown table (the one in the README)."""
    head = (
        "| mode | hit@1 | hit@3 | hit@5 | MRR | span has evidence | answerable confident "
        "| out-of-scope not confident | exam letters right (wrong) |"
    )
    rows = [head, "|---|---|---|---|---|---|---|---|---|"]
    for mode, data in report["modes"].items():
        o = data["overall"]
        rows.append(
            f"| {mode} | {o['hit@1']:.3f} | {o['hit@3']:.3f} | {o['hit@5']:.3f} | {o['mrr']:.3f} "
            f"| {o['span']:.3f} | {o['confident']:.3f} | {o['oos_not_confident']:.3f} "
            f"| {o['exam_choice']:.3f} ({o['exam_wrong']}) |"
        )
    hybrid = report["modes"].get("hybrid")
    if hybrid:
        rows += [
            "",
            "hybrid by question kind:",
            "",
            "| kind | n | hit@1 | hit@3 | MRR | span |",
            "|---|---|---|---|---|---|",
        ]
        for kind, s in sorted(hybrid["by_kind"].items()):
            n = int(s["n"])
            if kind == "out-of-scope":
                rows.append(
                    f"| {kind} | {n} | – | – | – | not confident {s.get('not_confident', 0) / n:.3f} |"
                )
            else:
                rows.append(
                    f"| {kind} | {n} | {s.get('hit@1', 0) / n:.3f} | {s.get('hit@3', 0) / n:.3f} "
                    f"| {s.get('mrr', 0) / n:.3f} | {_share(s, 'span', 'span_n')} |"
                )
        rows += [
            "",
            f"hybrid misses at rank 1: {', '.join(hybrid['misses']) or 'none'}",
            f"hybrid answers without the evidence: {', '.join(hybrid['span_misses']) or 'none'}",
        ]
    rows.append(f"\n{report['questions']} questions")
    return "\n".join(rows)
