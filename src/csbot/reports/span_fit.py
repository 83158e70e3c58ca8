"""Fit the span picker (:mod:`csbot.answer.span_model`) on the labelled development questions.

Each answerable, non-exam development question whose first passage (as ``ask`` finds it,
with the query adapter and the re-ranker fitted without its fold) holds the evidence gives
that passage's candidate spans, each labelled by whether it holds the evidence.
Gradient-boosted trees are fitted on all of them (what ``ask`` uses) and once per fold
without it; the length penalty is the smallest of :data:`PENALTIES` whose out-of-fold
answers are on average no longer than the rule's.

Measured when it was built (e5; 10,876 questions, folds by wording group): of the 1578
development questions whose first passage holds the evidence, the rule's span held it for
1388 and the trees' (out of fold) for 1484 — 1444 at the chosen penalty 0.2, whose spans are
on average 127 characters long against the rule's 131; a logistic regression over the same
features reached 1446 (no penalty).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

import numpy as np

from csbot.answer.span_model import SpanModel, best_index
from csbot.errors import CsbotError
from csbot.reports.evaluation import EvalQuestion, contains_evidence
from csbot.search.adapter import FOLDS, fold_of
from csbot.serve.assistant import SIGNAL_DEPTH, Assistant
from csbot.trees import TREES, fit_maps, from_sklearn

PENALTIES = tuple(round(0.05 * i, 2) for i in range(11))  # 0 … 0.5


def training_rows(
    assistant: Assistant, questions: Sequence[EvalQuestion]
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """``(x, y, question, fold, length, rule)``: one row per candidate span of each
    labelled question whose first passage holds its evidence."""
    retriever, builder = assistant.retriever, assistant.builder
    xs: list[np.ndarray] = []
    ys: list[int] = []
    qs: list[int] = []
    folds: list[int] = []
    lengths: list[int] = []
    for n, q in enumerate(questions):
        if q.evidence is None or q.choice is not None:
            continue
        fold = fold_of(q.qid, q.group)
        with assistant.holding_out(fold):
            query = retriever.analyse(assistant.check_question(q.question))
            hits = retriever.search(query, k=SIGNAL_DEPTH)
        if not hits or not contains_evidence(hits[0].passage.text, q.evidence):
            continue
        _, options = builder.span_options(query, hits[0])
        if options is None:
            continue
        spans, x = options
        text = hits[0].passage.text
        xs.append(x)
        ys.extend(int(contains_evidence(text[s.start : s.end], q.evidence)) for s in spans)
        qs.extend([n] * len(spans))
        folds.extend([fold] * len(spans))
        lengths.extend(s.end - s.start for s in spans)
    if not xs:
        raise CsbotError("no labelled questions to fit the span picker on")
    x = np.concatenate(xs)
    rule = x[:, SpanModel.FEATURES.index("rule")] == 1.0
    return x, np.array(ys), np.array(qs), np.array(folds), np.array(lengths), rule


def picks(p: np.ndarray, question: np.ndarray, length: np.ndarray, penalty: float) -> list[int]:
    """The row each question's candidates would answer with."""
    chosen = []
    for n in np.unique(question):
        rows = np.flatnonzero(question == n)
        chosen.append(int(rows[best_index(p[rows], length[rows], penalty)]))
    return chosen


def fit_span_model(assistant: Assistant, questions: Sequence[EvalQuestion], model: str) -> SpanModel:
    """The span picker for ``model`` from the development ``questions``: one model on all of
    them, one per fold without it, the length penalty, and what it did out of fold."""
    x, y, question, fold, length, rule = training_rows(assistant, questions)
    if len(np.unique(question)) < 2 * FOLDS or y.min() == y.max():
        raise CsbotError(f"{len(np.unique(question))} labelled questions are too few to fit the span picker")
    trees = from_sklearn(SpanModel, model, fit_maps(x, y, fold, FOLDS))
    p = np.zeros(len(y))
    for k in range(FOLDS):
        p[fold == k] = trees.probabilities(x[fold == k], held_out=k)
    by_rule = [int(np.flatnonzero((question == n) & rule)[0]) for n in np.unique(question)]
    rule_length = float(length[by_rule].mean())
    outcomes = {}
    for penalty in PENALTIES:
        chosen = picks(p, question, length, penalty)
        outcomes[penalty] = (int(y[chosen].sum()), float(length[chosen].mean()))
    # the smallest penalty whose answers are no longer than the rule's on average
    penalty = next((t for t in PENALTIES if outcomes[t][1] <= rule_length), PENALTIES[-1])
    report = {
        "trained_on": int(len(np.unique(question))),
        "candidates": int(len(y)),
        "trees": TREES,
        "rule_right_out_of_fold": int(y[by_rule].sum()),
        "rule_mean_length": round(rule_length, 1),
        "right_out_of_fold": {str(t): right for t, (right, _) in outcomes.items()},
        "mean_length_out_of_fold": {str(t): round(mean, 1) for t, (_, mean) in outcomes.items()},
        "length_penalty": penalty,
    }
    return replace(trees, report=report, params={"length_penalty": penalty})
