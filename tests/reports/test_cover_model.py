"""The cover model: fitted like answering confidence, stored per embedding model."""

from __future__ import annotations

import json
import random
from pathlib import Path

from csbot.records import Hit, Passage
from csbot.reports.cover_model import FEATURES, NO_HITS_BEHIND, features, fit, load, split_of, write
from csbot.serve.assistant import Assistant
from csbot.settings import Settings


def _pairs(n: int, seed: int = 3) -> tuple[list[tuple[float, ...]], list[bool]]:
    """Pairs where the students' questions nearest the point were answered by the covering
    document, and its teaching passages are closer."""
    rng = random.Random(seed)
    x, y = [], []
    for _ in range(n):
        covered = rng.random() < 0.2
        near = rng.gauss(0.93 if covered else 0.88, 0.02)
        share = min(1.0, max(0.0, rng.gauss(0.6 if covered else 0.1, 0.15)))
        votes = (near, near - 0.94, share, share / 2, share)
        dense = rng.gauss(0.9 if covered else 0.84, 0.02)
        behind = 0.0 if covered else -abs(rng.gauss(0.01, 0.01))
        x.append((*votes, dense, float(behind == 0.0), behind))
        y.append(covered)
    return x, y


def test_fitted_model_separates_and_round_trips(tmp_path: Path) -> None:
    x, y = _pairs(200)
    model = fit(x, y, "some-model")
    assert model.features == FEATURES and all(len(v) == len(FEATURES) for v in x)
    assert 0.3 <= model.threshold <= 0.95
    said = [model.probability(v) >= model.threshold for v in x]
    right = sum(s == t for s, t in zip(said, y, strict=True)) / len(y)
    assert right > 0.85
    assert model.coef[FEATURES.index("asked_share")] > 0 or model.coef[FEATURES.index("asked_near")] > 0
    path = tmp_path / "cover.json"
    write(model, path)
    write(fit(*_pairs(100, seed=4), "other-model"), path)
    assert path.read_text(encoding="utf-8").count('"model"') == 2
    write(model, path)  # a refit replaces its row where it stands
    assert [m["model"] for m in json.loads(path.read_text(encoding="utf-8"))["models"]] == [
        "some-model",
        "other-model",
    ]


def test_no_model_for_an_unknown_embedding_model() -> None:
    assert load("fake") is None  # then the rule of answer.confidence.covers decides
    shipped = load("multilingual-e5-small")  # shipped in csbot/data/cover.json
    assert shipped is not None
    # with how right it was on the test points (csbot coverage --fit checks them; the page says it)
    assert {"covered_precision", "gap_precision", "points"} <= set(shipped.report["test"])


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


def _hit(doc: str, kind: str, text: str, dense: float) -> Hit:
    return Hit(Passage(0, doc, "s", text, 1, 1, kind=kind), score=1.0, dense_score=dense)


def test_features_tell_teaching_from_naming_and_rank_documents(fake_index: Settings) -> None:
    assistant = Assistant(fake_index)
    query = assistant.retriever.analyse("客户投诉处理")
    outline = _hit("a", "outline", "培训要求:客户投诉处理", 0.95)
    teaching = _hit("a", "text", "处理客户投诉要先道歉,再提出解决方案。", 0.90)
    elsewhere = _hit("b", "text", "客户投诉的处理分六步。", 0.93)
    every = [outline, teaching, elsewhere]
    votes = (0.9, -0.02, 0.3, 0.2, 0.5)
    named = dict(zip(FEATURES, features(query, votes, [outline], every), strict=True))
    # the closest passage only names the point: nothing in the document teaches it
    assert named["closest"] == 1.0 and named["teach_dense"] == 0.0 and named["asked_share"] == 0.3
    both = dict(zip(FEATURES, features(query, votes, [outline, teaching], every), strict=True))
    assert both["teach_dense"] == 0.90
    other = dict(zip(FEATURES, features(query, votes, [elsewhere], every), strict=True))
    assert other["closest"] == 0.0 and abs(other["behind_closest"] + 0.02) < 1e-9
    empty = features(query, votes, [], every)
    assert empty[FEATURES.index("behind_closest")] == NO_HITS_BEHIND and empty[:5] == votes
    assert empty[FEATURES.index("teach_dense")] == 0.0


def test_no_cover_model_without_the_asked_questions() -> None:
    assert load("multilingual-e5-small", asked=False) is None  # its votes are its first features
