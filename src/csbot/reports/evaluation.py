"""``csbot eval``: hit@k, answer spans, confidence, calibration and consistency, by split and kind.

The question set is split once, by a fixed rule (:func:`split_of`): the questions written
before the split — the ones rules and thresholds were tuned on — are ``dev``; of the
student-voice questions added at the split (ids ``v…``), a wording group (or a question
without one) goes to ``test`` when the first byte of the SHA-256 of its group id (or its
own id) is odd. Tune on ``dev``; report ``test``.

The questions labelled afterwards from ``eval/unlabelled.jsonl`` (ids ``u…``) are ``dev`` by
the same rule (only ``v…`` ids can be ``test``): the ranking side and the off-topic detector
learned from their texts (never their labels), so ``test`` must not hold them. Each split's
report also gives the figures without them (``written_for_the_set``).
"""

from __future__ import annotations

import hashlib
import json
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from csbot.answer.confidence import Signals
from csbot.errors import CsbotError
from csbot.records import Answer
from csbot.reports.intervals import interval
from csbot.search.adapter import fold_of
from csbot.search.retriever import MODES, Mode
from csbot.serve.assistant import SIGNAL_DEPTH, Assistant
from csbot.text.normalise import squash

KS = (1, 3, 5)
SPLITS = ("dev", "test")
# Kinds asked in a student's own words (the figure the project is judged on).
STUDENT_VOICE = ("paraphrase", "student", "student-traditional", "student-english")
UNANSWERABLE = ("off-topic", "not-covered")
LABELLED_LATER = "u"  # the id prefix of the questions labelled from eval/unlabelled.jsonl
BINS = 10  # equal-width probability bins for the expected calibration error


@dataclass(frozen=True)
class EvalQuestion:
    """One question of the set: ``evidence`` holds strings one of which a correct passage
    (and a correct answer) contains; None for questions the material does not answer."""

    qid: str
    question: str
    kind: str
    evidence: tuple[str, ...] | None
    choice: tuple[str, ...] | None = None  # the right letters of an exam question
    group: str | None = None  # wordings of one question share a group

    @property
    def split(self) -> str:
        return split_of(self.qid, self.group)

    @property
    def held_out(self) -> int | None:
        """The query-adapter fold a development question is answered without (the adapter
        is fitted on the development split, :mod:`csbot.reports.adapt`); None for ``test``."""
        return fold_of(self.qid, self.group) if self.split == "dev" else None


def split_of(qid: str, group: str | None = None) -> str:
    """``dev`` or ``test`` by the fixed rule in the module docstring.

    >>> split_of("d01"), split_of("v001", "g01"), split_of("v010", "g04")
    ('dev', 'dev', 'test')
    """
    if not qid.startswith("v"):
        return "dev"
    return "test" if hashlib.sha256((group or qid).encode()).digest()[0] % 2 else "dev"


def load_questions(path: Path) -> list[EvalQuestion]:
    """Read a JSONL question set (``id``, ``question``, ``kind``, ``evidence``: a string, a
    list of alternatives or null; optional ``choice`` and ``group``)."""
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
            evidence = row.get("evidence")
            if isinstance(evidence, str):
                evidence = [evidence]
            choice = tuple(row["choice"]) if row.get("choice") else None
            out.append(
                EvalQuestion(
                    row["id"],
                    row["question"],
                    row["kind"],
                    tuple(evidence) if evidence is not None else None,
                    choice,
                    row.get("group"),
                )
            )
        except (ValueError, KeyError, TypeError) as exc:
            raise CsbotError(f"{path}:{n}: not a question record ({exc})") from exc
    return out


def contains_evidence(passage_text: str, evidence: str | tuple[str, ...]) -> bool:
    """Whether a passage holds the evidence (any one of alternatives), ignoring script,
    width and spacing."""
    options = (evidence,) if isinstance(evidence, str) else evidence
    flat = squash(passage_text)
    return any(squash(e) in flat for e in options)


@dataclass(frozen=True)
class Outcome:
    """What one question got in one mode."""

    question: EvalQuestion
    rank: int | None  # the first citation holding the evidence
    span_found: bool  # the answer itself holds the evidence
    confident: bool
    answered: bool  # a span was shown (confident or likely)
    probability: float  # the answer's confidence
    choice_ok: bool = False
    choice_wrong: bool = False
    candidate_right: bool | None = None  # the span the top passage gives, shown or not, is right


@dataclass(frozen=True)
class Judged:
    """The outcomes each figure is judged over, in the order asked: the answerable ones, those
    of them answered by a span (exam questions aside), the ones the material does not answer,
    and those of them on topic (``missing``)."""

    answerable: list[Outcome]
    spans: list[Outcome]
    unanswerable: list[Outcome]
    missing: list[Outcome]

    @classmethod
    def of(cls, results: list[Outcome]) -> Judged:
        answerable = [o for o in results if o.question.evidence is not None]
        unanswerable = [o for o in results if o.question.evidence is None]
        spans = [o for o in answerable if o.question.choice is None]
        return cls(
            answerable, spans, unanswerable, [o for o in unanswerable if o.question.kind != "off-topic"]
        )


@dataclass(frozen=True)
class Example:
    question: EvalQuestion
    signals: Signals
    right: bool  # the span the top passage gives holds the evidence


def collect(assistant: Assistant, questions: list[EvalQuestion]) -> list[Example]:
    """Signals and labels of the questions (exam questions are answered by their letters and
    left out)."""
    builder, retriever = assistant.builder, assistant.retriever
    out = []
    for q in questions:
        if q.choice is not None:
            continue
        query = retriever.analyse(assistant.check_question(q.question))
        with assistant.holding_out(q.held_out):  # the signals too (the asked questions)
            hits = retriever.search(query, k=SIGNAL_DEPTH)
            pick, signals = builder.candidate(query, hits)
        span = hits[0].passage.text[pick.span.start : pick.span.end] if pick else ""
        right = q.evidence is not None and bool(span) and contains_evidence(span, q.evidence)
        out.append(Example(q, signals, right))
    return out


def judge(q: EvalQuestion, answer: Answer, candidate_right: bool | None = None) -> Outcome:
    """Score one answer against its question's evidence."""
    rank = None
    if q.evidence is not None:
        rank = next((c.rank for c in answer.citations if contains_evidence(c.text, q.evidence)), None)
    found = bool(q.evidence is not None and answer.answer and contains_evidence(answer.answer, q.evidence))
    suggested = tuple(sorted(answer.choice["suggested"])) if answer.choice else ()
    return Outcome(
        question=q,
        rank=rank,
        span_found=found,
        confident=answer.confident,
        answered=answer.answer is not None,
        probability=answer.confidence,
        choice_ok=q.choice is not None and suggested == tuple(sorted(q.choice)),
        choice_wrong=q.choice is not None and bool(suggested) and suggested != tuple(sorted(q.choice)),
        candidate_right=candidate_right,
    )


def run_eval(
    assistant: Assistant, questions: list[EvalQuestion], depth: int = max(KS), modes: tuple[Mode, ...] = MODES
) -> dict[str, Any]:
    """Ask every question in every mode; the figures per split, mode and kind."""
    report: dict[str, Any] = {"questions": len(questions), "splits": {}}
    # what the confidence model is calibrated against: whether the top passage's span is
    # right, whether or not it was shown (hybrid retrieval, which the model was fitted on)
    candidates = {e.question.qid: e.right for e in collect(assistant, questions)}
    outcomes: dict[Mode, list[Outcome]] = {mode: [] for mode in modes}
    for mode in modes:
        for q in questions:
            with assistant.holding_out(q.held_out):
                answer = assistant.ask(q.question, top_k=depth, mode=mode)
            outcomes[mode].append(judge(q, answer, candidates.get(q.qid) if mode == "hybrid" else None))
    for split in (*SPLITS, "all"):
        per_mode = {}
        for mode, results in outcomes.items():
            chosen = [o for o in results if split == "all" or o.question.split == split]
            if chosen:
                per_mode[mode] = summarise(chosen)
        if per_mode:
            report["splits"][split] = per_mode
    return report


def _share(hits: list[bool]) -> float | None:
    return round(sum(hits) / len(hits), 3) if hits else None


def summarise(results: list[Outcome]) -> dict[str, Any]:
    """Overall figures, figures by kind, calibration, consistency and the misses."""
    by_kind: dict[str, list[Outcome]] = defaultdict(list)
    for o in results:
        by_kind[o.question.kind].append(o)
    judged = Judged.of(results)
    return {
        "overall": _figures(results),
        "student_voice": _figures([o for o in results if o.question.kind in STUDENT_VOICE]),
        "written_for_the_set": _figures(
            [o for o in results if not o.question.qid.startswith(LABELLED_LATER)]
        ),
        "by_kind": {k: _figures(v) for k, v in sorted(by_kind.items())},
        "calibration": calibration(results),
        "consistency": consistency(results),
        "intervals": intervals(judged),
        "misses": [o.question.qid for o in judged.answerable if o.rank != 1],
        "span_misses": [o.question.qid for o in judged.spans if not o.span_found],
        "wrongly_answered": [o.question.qid for o in judged.unanswerable if o.answered],
        "paths": paths(results),
        # the ids each failure list is judged over, for a question-by-question comparison
        # (csbot eval --compare, :mod:`csbot.reports.compare`)
        "asked": {
            name: [o.question.qid for o in getattr(judged, name)]
            for name in ("answerable", "spans", "unanswerable")
        },
    }


def intervals(judged: Judged) -> dict[str, tuple[float, float] | None]:
    """Bootstrap intervals (:mod:`csbot.reports.intervals`) of hit@1, answer holds evidence
    and not covered without a span."""
    return {
        "hit@1": interval(judged.answerable, lambda o: o.rank == 1),
        "span": interval(judged.spans, lambda o: o.span_found),
        "not_covered_no_span": interval(judged.missing, lambda o: not o.answered),
    }


def paths(results: list[Outcome]) -> dict[str, int]:
    """Where the answerable (non-exam) questions' answers go: the right passage first and its
    span right and shown, right but withheld (below the ``likely`` cut-off), wrong and shown,
    wrong and withheld; the right passage second to last cited; further down or absent."""
    out = dict.fromkeys(
        ("shown_right", "withheld_right", "shown_wrong", "withheld_wrong", "lower", "absent"), 0
    )
    for o in Judged.of(results).spans:
        if o.rank is None:
            key = "absent"
        elif o.rank > 1:
            key = "lower"
        elif o.span_found:
            key = "shown_right"
        elif o.answered:
            key = "shown_wrong"
        else:
            key = "withheld_right" if o.candidate_right else "withheld_wrong"
        out[key] += 1
    return out


def _figures(results: list[Outcome]) -> dict[str, Any]:
    judged = Judged.of(results)
    answerable, spans, missing = judged.answerable, judged.spans, judged.missing
    exam = [o for o in answerable if o.question.choice is not None]
    off = [o for o in results if o.question.kind == "off-topic"]
    out: dict[str, Any] = {"n": len(results), "answerable": len(answerable)}
    for k in KS:
        out[f"hit@{k}"] = _share([o.rank is not None and o.rank <= k for o in answerable])
    out["mrr"] = (
        round(sum(1 / o.rank for o in answerable if o.rank) / len(answerable), 3) if answerable else None
    )
    out["span"] = _share([o.span_found for o in spans])
    out["confident"] = _share([o.confident for o in answerable])
    out["answered"] = _share([o.answered for o in spans])
    out["exam_right"] = _share([o.choice_ok for o in exam])
    out["exam_wrong"] = sum(o.choice_wrong for o in exam)
    out["off_topic_no_span"] = _share([not o.answered and not o.confident for o in off])
    out["not_covered_not_confident"] = _share([not o.confident for o in missing])
    out["not_covered_no_span"] = _share([not o.answered for o in missing])
    return out


def calibration(results: list[Outcome]) -> dict[str, Any]:
    """Brier score and expected calibration error of ``confidence`` as the probability that
    the top passage's answer span holds the evidence (a question the material does not
    answer: 0), in hybrid mode; exam questions (answered by letters) are left out."""
    return calibration_figures(
        [(o.probability, 1.0 if o.candidate_right else 0.0) for o in results if o.candidate_right is not None]
    )


def calibration_figures(pairs: list[tuple[float, float]]) -> dict[str, Any]:
    """Brier score ``mean (p − y)²`` and expected calibration error over :data:`BINS`
    equal-width bins, ``Σ_b |b|/n · |mean p − mean y|``, of (probability, outcome) pairs."""
    if not pairs:
        return {"n": 0, "brier": None, "ece": None}
    brier = sum((p - y) ** 2 for p, y in pairs) / len(pairs)
    bins: dict[int, list[tuple[float, float]]] = defaultdict(list)
    for p, y in pairs:
        bins[min(BINS - 1, int(p * BINS))].append((p, y))
    ece = sum(
        len(b) / len(pairs) * abs(sum(p for p, _ in b) / len(b) - sum(y for _, y in b) / len(b))
        for b in bins.values()
    )
    return {"n": len(pairs), "brier": round(brier, 3), "ece": round(ece, 3)}


def consistency(results: list[Outcome]) -> dict[str, Any]:
    """The share of wording groups (all answerable) whose every wording gets the evidence in
    its answer."""
    groups: dict[str, list[Outcome]] = defaultdict(list)
    for o in results:
        if o.question.group:
            groups[o.question.group].append(o)
    whole = [g for g in groups.values() if len(g) > 1 and all(o.question.evidence is not None for o in g)]
    return {"groups": len(whole), "consistent": _share([all(o.span_found for o in g) for g in whole])}
