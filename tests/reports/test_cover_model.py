"""The cover model: fitted like answering confidence, stored per embedding model."""

from __future__ import annotations

import random
from pathlib import Path

from csbot.reports.cover_model import FEATURES, fit, load, split_of, write


def _pairs(n: int, seed: int = 3) -> tuple[list[tuple[float, ...]], list[bool]]:
    """Pairs where covering passages are closer and hold more of the point's words."""
    rng = random.Random(seed)
    x, y = [], []
    for _ in range(n):
        covered = rng.random() < 0.2
        dense = rng.gauss(0.9 if covered else 0.84, 0.02)
        overlap = min(1.0, max(0.0, rng.gauss(0.8 if covered else 0.45, 0.15)))
        x.append((dense, overlap, overlap, 0.0, float(rng.random() < 0.2), rng.random(), 0.0))
        y.append(covered)
    return x, y


def test_fitted_model_separates_and_round_trips(tmp_path: Path) -> None:
    x, y = _pairs(200)
    model = fit(x, y, "some-model")
    assert model.features == FEATURES and 0.3 <= model.threshold <= 0.95
    said = [model.probability(v) >= model.threshold for v in x]
    right = sum(s == t for s, t in zip(said, y, strict=True)) / len(y)
    assert right > 0.85
    assert model.coef[FEATURES.index("overlap")] > 0 or model.coef[FEATURES.index("best_overlap")] > 0
    path = tmp_path / "cover.json"
    write(model, path)
    write(fit(*_pairs(100, seed=4), "other-model"), path)
    assert path.read_text(encoding="utf-8").count('"model"') == 2


def test_no_model_for_an_unknown_embedding_model() -> None:
    assert load("fake") is None  # then the rule of answer.confidence.covers decides
    assert load("multilingual-e5-small") is not None  # shipped in csbot/data/cover.json


def test_points_split_by_their_text() -> None:
    assert {split_of(p) for p in ("客户服务标准", "CTI技术及其功能", "客户投诉分析", "员工压力缓解")} == {
        "dev",
        "test",
    }


def test_bad_label_files_are_one_line_errors(tmp_path: Path) -> None:
    import pytest

    from csbot.errors import CsbotError
    from csbot.reports.coverage_page import load_labels

    docs = {"basics-notes"}
    with pytest.raises(CsbotError, match="cannot read labels"):
        load_labels(tmp_path / "missing.jsonl", 71, docs)
    for line, message in (
        ("{bad", "not a labelled pair"),
        ('{"point_no": 99, "doc_id": "basics-notes", "covers": true}', "point_no must be 1–71"),
        ('{"point_no": 1, "doc_id": "elsewhere", "covers": true}', "doc_id one of the corpus"),
        ('{"point_no": 1, "doc_id": "basics-notes", "covers": "yes"}', "covers true or false"),
    ):
        (tmp_path / "labels.jsonl").write_text(line + "\n", encoding="utf-8")
        with pytest.raises(CsbotError, match=message):
            load_labels(tmp_path / "labels.jsonl", 71, docs)
    (tmp_path / "labels.jsonl").write_text('{"point_no": 1, "doc_id": "basics-notes", "covers": false}\n')
    assert load_labels(tmp_path / "labels.jsonl", 71, docs)[0].covers is False
