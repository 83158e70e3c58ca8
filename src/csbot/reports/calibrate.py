"""``csbot calibrate``: fit the confidence model on the development split.

For every non-exam question of the ``dev`` split the assistant computes the :class:`Signals`
of its top passage and the answer span it would show; the label is whether that span holds
the question's evidence (0 for a question the material does not answer). A logistic
regression over the standardised signals is chosen by 5-fold cross-validation (the
regularisation ``C`` with the best Brier score) and fitted on all of ``dev``. The two
cut-offs come from the cross-validated probabilities, so they are not fitted to the
questions they are judged on:

* ``likely``: :data:`MARGIN` above the highest off-topic question (no span for them);
* ``confident``: the lowest cut-off at or above ``likely`` that keeps at least
  :data:`NOT_COVERED_KEPT` of the on-topic questions the material does not answer below it
  and where the answers above it are right at least :data:`CONFIDENT_PRECISION` of the time.

The result is written to ``data/confidence.json`` under the embedding model's name.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from csbot.answer.confidence import FEATURES, Calibration
from csbot.reports.evaluation import Example, calibration_figures

C_GRID = (0.01, 0.03, 0.1, 0.3, 1.0, 3.0, 10.0)
FOLDS = 5
NOT_COVERED_KEPT = 0.90
CONFIDENT_PRECISION = 0.90
MARGIN = 0.05  # the likely cut-off sits this far above the highest off-topic probability


def fit(examples: list[Example], model: str) -> Calibration:
    """The cross-validated logistic regression and its cut-offs (see the module docstring)."""
    import numpy as np
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import StratifiedKFold, cross_val_predict

    x = np.array([e.signals.vector() for e in examples], dtype=np.float64)
    y = np.array([1 if e.right else 0 for e in examples])
    mean, scale = x.mean(axis=0), x.std(axis=0)
    scale[scale < 1e-6] = 1.0  # a signal that never varies here carries no weight
    z = (x - mean) / scale
    folds = StratifiedKFold(n_splits=FOLDS, shuffle=True, random_state=0)
    best: tuple[float, float, Any] | None = None
    for c in C_GRID:
        p = cross_val_predict(LogisticRegression(C=c, max_iter=1000), z, y, cv=folds, method="predict_proba")[
            :, 1
        ]
        brier = float(np.mean((p - y) ** 2))
        if best is None or brier < best[0] - 1e-9:
            best = (brier, c, p)
    assert best is not None
    brier, c, cv_p = best
    final = LogisticRegression(C=c, max_iter=1000).fit(z, y)
    likely, confident = cut_offs(examples, [float(v) for v in cv_p])
    report = {
        "trained_on": len(examples),
        "positives": int(y.sum()),
        "C": c,
        "cv": calibration_figures([(float(p), float(t)) for p, t in zip(cv_p, y, strict=True)]),
    }
    return Calibration(
        model=model,
        features=FEATURES,
        mean=tuple(round(float(v), 6) for v in mean),
        scale=tuple(round(float(v), 6) for v in scale),
        coef=tuple(round(float(v), 6) for v in final.coef_[0]),
        intercept=round(float(final.intercept_[0]), 6),
        likely=likely,
        confident=confident,
        report=report,
    )


def cut_offs(examples: list[Example], p: list[float]) -> tuple[float, float]:
    """``(likely, confident)`` from cross-validated probabilities ``p`` (module docstring)."""
    off = [pi for e, pi in zip(examples, p, strict=True) if e.question.kind == "off-topic"]
    missing = sorted(pi for e, pi in zip(examples, p, strict=True) if e.question.kind == "not-covered")
    likely = round(min(max(off, default=0.0) + MARGIN, 0.99), 4)
    # at least NOT_COVERED_KEPT of the not-covered questions stay below the confident cut-off
    floor = missing[min(len(missing) - 1, int(NOT_COVERED_KEPT * len(missing)))] + 1e-4 if missing else likely
    confident = 0.99
    for t in sorted({round(v, 4) for v in p if v >= max(likely, floor)}):
        above = [e.right for e, pi in zip(examples, p, strict=True) if pi >= t]
        if above and sum(above) / len(above) >= CONFIDENT_PRECISION:
            confident = t
            break
    return likely, max(likely, round(confident, 4))


def write(calibration: Calibration, path: Path) -> None:
    """Put ``calibration`` into the calibration file, replacing the one for the same model."""
    data = json.loads(path.read_text(encoding="utf-8")) if path.exists() else {"models": []}
    models = [m for m in data.get("models", []) if m.get("model") != calibration.model]
    data["models"] = [*models, calibration.to_dict()]
    path.write_text(json.dumps(data, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
