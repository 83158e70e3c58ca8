"""``csbot calibrate``: fit the confidence model on the development split.

For every non-exam question of the ``dev`` split the assistant computes the :class:`Signals`
of its top passage and the answer span it would show; the label is whether that span holds
the question's evidence (0 for a question the material does not answer). A logistic
regression over the standardised signals is chosen by 5-fold cross-validation (the
regularisation ``C`` with the best Brier score) and fitted on all of ``dev``. The two
cut-offs come from the cross-validated probabilities, so they are not fitted to the
questions they are judged on — each question's the mean over :data:`REPEATS` random splits
into folds, since the ``likely`` cut-off rests on one extreme question whose out-of-fold
probability moved by 0.04 with the split alone:

* ``likely``: :data:`MARGIN` above the highest off-topic question that the off-topic detector
  lets through (no span for them; one it catches, out of fold, gets none whatever its
  probability), and no lower than the lowest cut-off where the spans shown for on-topic
  questions are right at least :data:`LIKELY_PRECISION` of the time (a likely answer is
  more often right than not);
* ``confident``: the lowest cut-off at or above ``likely`` that keeps at least
  :data:`NOT_COVERED_KEPT` of the on-topic questions the material does not answer below it
  and where the answers above it are right at least :data:`CONFIDENT_PRECISION` of the time.

The result is written to ``data/confidence.json`` under the embedding model's name. Before it,
:func:`calibrate_all` fits the query adapter (:mod:`csbot.reports.adapt`), keeps the asked
questions (:mod:`csbot.reports.asked_fit`, read out of fold), fits the re-ranker
(:mod:`csbot.reports.rerank_fit`, which reads their votes) and the span picker
(:mod:`csbot.reports.span_fit`), whose out-of-fold models give the signals and spans the
model is fitted on, and fits the off-topic detector
(:mod:`csbot.answer.offtopic`: :func:`offtopic_detector`, written to ``data/offtopic.json``),
whose out-of-fold decisions say which off-topic questions the ``likely`` cut-off must stay above.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Sequence
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from csbot.answer.confidence import FEATURES, Calibration
from csbot.answer.offtopic import FEATURES as OFFTOPIC_FEATURES
from csbot.answer.offtopic import OFFTOPIC_FILE, OffTopicModel
from csbot.datafiles import data_lines
from csbot.reports.evaluation import EvalQuestion, Example, calibration_figures
from csbot.settings import Settings

if TYPE_CHECKING:
    from csbot.serve.assistant import Assistant

C_GRID = (0.01, 0.03, 0.1, 0.3, 1.0, 3.0, 10.0)
FOLDS = 5
REPEATS = 5  # the confidence model's out-of-fold probabilities: the mean over this many splits
NOT_COVERED_KEPT = 0.90
CONFIDENT_PRECISION = 0.90
MARGIN = 0.05  # the likely cut-off sits this far above the highest off-topic probability
LIKELY_PRECISION = 0.5  # … and where a span shown is right at least this often
UNLABELLED_FILE = "unlabelled.jsonl"  # beside the eval questions: on-topic students' questions
GENERAL_FILE = "offtopic_general.txt"  # general chatbot questions: off topic for the detector
ON_TOPIC_FLAGGED = 0.01  # the share of on-topic dev questions the off-topic cut-off may flag
OFFTOPIC_C_GRID = (1.0, 3.0, 10.0, 30.0)


@dataclass(frozen=True)
class LogisticFit:
    """A logistic regression over standardised features, as the model files store it."""

    mean: tuple[float, ...]
    scale: tuple[float, ...]
    coef: tuple[float, ...]
    intercept: float
    c: float  # the regularisation chosen
    brier: float  # its cross-validated Brier score
    cv_p: list[float]  # the cross-validated probability of each example


def fit_logistic(
    x: Sequence[Sequence[float]],
    y: list[int],
    c_grid: tuple[float, ...],
    class_weight: str | None = None,
    repeats: int = 1,
) -> LogisticFit:
    """Standardise ``x``, choose ``C`` from ``c_grid`` by the Brier score of
    :data:`FOLDS`-fold cross-validated probabilities, and fit on all of ``x``; with
    ``repeats`` above 1, the cross-validated probabilities it returns (and their Brier score)
    are each example's mean over that many splits (the first the one ``C`` was chosen on)."""
    import numpy as np
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import StratifiedKFold, cross_val_predict

    xa, ya = np.array(x, dtype=np.float64), np.array(y)
    # a missing signal (NaN: no re-ranker ordered the passages) is fitted at its mean, as
    # it is read (confidence.log_odds_terms); a signal missing throughout has mean 0
    missing = np.isnan(xa)
    mean = np.array(
        [col[~gap].mean() if (~gap).any() else 0.0 for col, gap in zip(xa.T, missing.T, strict=True)]
    )
    xa = np.where(missing, mean, xa)
    scale = xa.std(axis=0)
    scale[scale < 1e-6] = 1.0  # a signal that never varies here carries no weight
    z = (xa - mean) / scale

    def model(c: float) -> LogisticRegression:
        return LogisticRegression(C=c, class_weight=class_weight, max_iter=1000)

    def out_of_fold(c: float, seed: int = 0) -> Any:
        """Each example's probability from the model fitted without its fold (split ``seed``)."""
        folds = StratifiedKFold(n_splits=FOLDS, shuffle=True, random_state=seed)
        return cross_val_predict(model(c), z, ya, cv=folds, method="predict_proba")[:, 1]

    best: tuple[float, float, Any] | None = None
    for c in c_grid:
        p = out_of_fold(c)
        brier = float(np.mean((p - ya) ** 2))
        if best is None or brier < best[0] - 1e-9:
            best = (brier, c, p)
    assert best is not None
    brier, c, cv_p = best
    if repeats > 1:
        cv_p = np.mean([cv_p, *(out_of_fold(c, seed) for seed in range(1, repeats))], axis=0)
        brier = float(np.mean((cv_p - ya) ** 2))
    final = model(c).fit(z, ya)
    return LogisticFit(
        mean=tuple(round(float(v), 6) for v in mean),
        scale=tuple(round(float(v), 6) for v in scale),
        coef=tuple(round(float(v), 6) for v in final.coef_[0]),
        intercept=round(float(final.intercept_[0]), 6),
        c=c,
        brier=brier,
        cv_p=[float(v) for v in cv_p],
    )


def fit(examples: list[Example], model: str, caught: Collection[str] = ()) -> Calibration:
    """The cross-validated logistic regression and its cut-offs (see the module docstring);
    ``caught``: the ids of the off-topic questions the off-topic detector catches."""
    y = [1 if e.right else 0 for e in examples]
    lr = fit_logistic([e.signals.vector() for e in examples], y, C_GRID, repeats=REPEATS)
    likely, confident = cut_offs(examples, lr.cv_p, caught)
    by_off_topic, by_precision = likely_rules(examples, lr.cv_p, caught)
    report = {
        "trained_on": len(examples),
        "positives": sum(y),
        "C": lr.c,
        "cv": calibration_figures([(p, float(t)) for p, t in zip(lr.cv_p, y, strict=True)]),
        "likely_rules": {"off_topic": by_off_topic, "precision": by_precision},
    }
    return Calibration(
        model=model,
        features=FEATURES,
        mean=lr.mean,
        scale=lr.scale,
        coef=lr.coef,
        intercept=lr.intercept,
        likely=likely,
        confident=confident,
        report=report,
    )


def likely_rules(
    examples: list[Example], p: list[float], caught: Collection[str] = ()
) -> tuple[float, float]:
    """The two lower bounds of the ``likely`` cut-off (module docstring): :data:`MARGIN`
    above the most probable off-topic question not in ``caught`` (ids: the detector withholds
    their span), and where the spans shown for on-topic questions are right at least
    :data:`LIKELY_PRECISION` of the time (an extreme value alone drifts from one refit to
    the next)."""
    off = [
        pi
        for e, pi in zip(examples, p, strict=True)
        if e.question.kind == "off-topic" and e.question.qid not in caught
    ]
    by_off_topic = round(min(max(off, default=0.0) + MARGIN, 0.99), 4)
    on_topic = sorted(
        ((pi, e.right) for e, pi in zip(examples, p, strict=True) if e.question.kind != "off-topic")
    )
    right_above, shown = sum(right for _, right in on_topic), len(on_topic)  # at or above t
    for t, right in on_topic:
        if right_above >= LIKELY_PRECISION * shown:
            return by_off_topic, round(t, 4)
        right_above, shown = right_above - right, shown - 1
    return by_off_topic, 0.0


def cut_offs(examples: list[Example], p: list[float], caught: Collection[str] = ()) -> tuple[float, float]:
    """``(likely, confident)`` from cross-validated probabilities ``p`` (module docstring);
    the off-topic questions in ``caught`` (ids) do not hold ``likely`` up: the detector
    withholds their span."""
    missing = sorted(pi for e, pi in zip(examples, p, strict=True) if e.question.kind == "not-covered")
    likely = max(likely_rules(examples, p, caught))
    # at least NOT_COVERED_KEPT of the not-covered questions stay below the confident cut-off
    floor = missing[min(len(missing) - 1, int(NOT_COVERED_KEPT * len(missing)))] + 1e-4 if missing else likely
    confident = 0.99
    for t in sorted({round(v, 4) for v in p if v >= max(likely, floor)}):
        above = [e.right for e, pi in zip(examples, p, strict=True) if pi >= t]
        if above and sum(above) / len(above) >= CONFIDENT_PRECISION:
            confident = t
            break
    return likely, max(likely, round(confident, 4))


def unlabelled_questions(path: Path) -> list[str]:
    """The texts of an unlabelled questions file (``eval/unlabelled.jsonl``: one JSON object
    with a ``question`` a line), which the off-topic detector learns as on topic and the
    ranking side learns from (:mod:`csbot.reports.distil`)."""
    return [
        json.loads(line)["question"] for line in path.read_text(encoding="utf-8").splitlines() if line.strip()
    ]


def general_questions() -> list[str]:
    """The general chatbot questions the off-topic detector learns as off topic."""
    return data_lines(GENERAL_FILE)


def fit_offtopic(
    on_topic: Sequence[Sequence[float]],
    off_topic: Sequence[Sequence[float]],
    general: Sequence[Sequence[float]],
    model: str,
    course: Sequence[Sequence[float]] = (),
) -> tuple[OffTopicModel, list[bool]]:
    """The off-topic detector (:mod:`csbot.answer.offtopic`) from the vectors of on-topic and
    off-topic ``dev`` questions, of the general questions and of unlabelled ``course``
    questions (on topic, learnt from but not judged): regularisation by cross-validated
    Brier score, the cut-off at the on-topic ``dev`` questions' cross-validated probability
    that flags at most :data:`ON_TOPIC_FLAGGED` of them. Also, for each off-topic question,
    whether the detector catches it out of fold."""
    import numpy as np

    x = [[float(v) for v in vector] for vector in (*on_topic, *off_topic, *general, *course)]
    y = [0] * len(on_topic) + [1] * (len(off_topic) + len(general)) + [0] * len(course)
    lr = fit_logistic(x, y, OFFTOPIC_C_GRID, class_weight="balanced")
    on_p = np.sort(np.array(lr.cv_p[: len(on_topic)]))
    threshold = float(on_p[min(len(on_p) - 1, int((1 - ON_TOPIC_FLAGGED) * len(on_p)))]) + 1e-4
    off_p = np.array(lr.cv_p[len(on_topic) : len(on_topic) + len(off_topic)])
    report = {
        "on_topic": len(on_topic),
        "off_topic": len(off_topic),
        "general": len(general),
        "course": len(course),
        "C": lr.c,
        "cv_brier": round(lr.brier, 4),
        "cv_off_topic_caught": round(float((off_p >= threshold).mean()), 3) if len(off_p) else None,
        "cv_on_topic_flagged": round(float((on_p >= threshold).mean()), 3),
    }
    detector = OffTopicModel(
        model, OFFTOPIC_FEATURES, lr.mean, lr.scale, lr.coef, lr.intercept, round(threshold, 4), report
    )
    return detector, [bool(v >= threshold) for v in off_p]


def offtopic_detector(
    assistant: Assistant, dev: Sequence[EvalQuestion], model: str, course: Sequence[str] = ()
) -> tuple[OffTopicModel, set[str]]:
    """Fit the off-topic detector on the ``dev`` questions' vectors, the general questions and
    the unlabelled ``course`` questions; also the ids of the off-topic ``dev`` questions it
    catches out of fold."""
    retriever = assistant.retriever

    def vector(text: str) -> list[float] | None:
        query = retriever.analyse(assistant.check_question(text))
        return retriever.query_vector(query.retrieval)[0].tolist() if query.retrieval else None

    on: list[list[float]] = []
    off: list[list[float]] = []
    off_ids: list[str] = []
    for q in dev:
        v = vector(q.question)
        if v is not None:
            (off if q.kind == "off-topic" else on).append(v)
            if q.kind == "off-topic":
                off_ids.append(q.qid)
    general = [v for v in (vector(t) for t in general_questions()) if v is not None]
    students = [v for v in (vector(t) for t in course) if v is not None]
    detector, caught = fit_offtopic(on, off, general, model, students)
    return detector, {qid for qid, c in zip(off_ids, caught, strict=True) if c}


def calibrate_all(settings: Settings, questions: Path) -> list[dict[str, Any]]:
    """Fit the query adapter (unless ``settings.query_adapter`` is off), the re-ranker (unless
    ``settings.rerank`` is off), keep the asked questions (unless ``settings.asked`` is off),
    fit the span picker (unless ``settings.span_model`` is off)
    and then fit the confidence model on the dev split of
    ``questions``, write each into ``csbot/data``, and return what each reports."""
    from importlib import resources

    from csbot.answer.span_model import span_file
    from csbot.reports.adapt import fit_adapter
    from csbot.reports.asked_fit import fit_asked
    from csbot.reports.evaluation import collect, load_questions
    from csbot.reports.rerank_fit import fit_reranker
    from csbot.reports.span_fit import fit_span_model
    from csbot.search.adapter import adapter_file
    from csbot.search.asked import asked_file, read_asked
    from csbot.search.rerank import rerank_file
    from csbot.serve.assistant import Assistant

    dev = [q for q in load_questions(questions) if q.split == "dev"]
    # without the shipped adapter: it is refitted here (and may be the broken file being replaced)
    assistant = Assistant(replace(settings, query_adapter=False, rerank=False, asked=False, span_model=False))
    assistant.retriever.remember_vectors(None)  # each question is embedded once, not per stage
    data = resources.files("csbot.data")
    reports: list[dict[str, Any]] = []
    if settings.query_adapter:
        adapter = fit_adapter(assistant.retriever, dev, settings.model)
        with resources.as_file(data.joinpath(adapter_file(settings.model))) as path:
            adapter.save(path)
        assistant.retriever.adapter = adapter  # the confidence signals are the ones it gives
        reports.append({"query_adapter": adapter.report})
    if settings.asked:  # the labelled questions nearest each one: the
        # re-ranker's votes and the confidence signals
        asked = fit_asked(assistant, dev, settings.model)
        with resources.as_file(data.joinpath(asked_file(settings.model))) as path:
            asked.save(path)
            assistant.retriever.asked = read_asked(path)  # as ask reads them: 16-bit vectors
        reports.append({"asked": asked.report})
    if settings.rerank:  # on the adapted search: the passages it re-orders are those ask sees
        reranker = fit_reranker(assistant.retriever, dev, settings.model)
        with resources.as_file(data.joinpath(rerank_file(settings.model))) as path:
            reranker.save(path)
        assistant.retriever.reranker = reranker
        reports.append({"rerank": reranker.report})
    if settings.span_model:  # on the first passages ask finds: the spans the confidence model judges
        spans = fit_span_model(assistant, dev, settings.model)
        with resources.as_file(data.joinpath(span_file(settings.model))) as path:
            spans.save(path)
        assistant.builder.span_model = spans
        reports.append({"span_model": spans.report})
    # the unlabelled students' questions the ranking side learns from (reports/distil) are on
    # topic by how they were written: without them the detector learnt that English is off
    # topic (English is a sixth of the general questions and a fifteenth of dev's on-topic ones)
    unlabelled = questions.parent / UNLABELLED_FILE
    course = unlabelled_questions(unlabelled) if unlabelled.exists() else []
    detector, caught = offtopic_detector(assistant, dev, settings.model, course)
    calibration = fit(collect(assistant, dev), settings.model, caught)
    with resources.as_file(data.joinpath("confidence.json")) as path:
        write(calibration, path)
    with resources.as_file(data.joinpath(OFFTOPIC_FILE)) as path:
        write_model(asdict(detector), path)
    return [*reports, calibration.to_dict(), {"off_topic": detector.report, "threshold": detector.threshold}]


def write(calibration: Calibration, path: Path) -> None:
    """Put ``calibration`` into the calibration file, replacing the one for the same model."""
    write_model(calibration.to_dict(), path)


def write_model(row: dict[str, Any], path: Path) -> None:
    """Put a fitted model's ``row`` into a model file, replacing the row for the same
    embedding model (``row["model"]``) where it stands, so a refit of one model leaves the
    others' rows, and the file's diff, alone."""
    data = json.loads(path.read_text(encoding="utf-8")) if path.exists() else {"models": []}
    models = data.get("models", [])
    same = [i for i, m in enumerate(models) if m.get("model") == row["model"]]
    data["models"] = [*models[: same[0]], row, *models[same[0] + 1 :]] if same else [*models, row]
    path.write_text(json.dumps(data, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
