"""The query adapter: its folds, its map, its file, and how the retriever and eval use it."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from csbot.embed.fake import HashEmbedder
from csbot.index.store import load_index
from csbot.reports.adapt import Labelled, dense_top1, fit_map
from csbot.reports.evaluation import EvalQuestion
from csbot.search.adapter import FOLDS, AdapterError, QueryAdapter, adapter_for, fold_of, read_adapter
from csbot.search.retriever import Retriever
from csbot.settings import Settings, load_settings

DIM, RANK = 16, 2


def unit(v: np.ndarray) -> np.ndarray:
    return (v / np.linalg.norm(v, axis=-1, keepdims=True)).astype(np.float32)


def random_adapter(seed: int = 0, maps: int = FOLDS + 1) -> QueryAdapter:
    rng = np.random.default_rng(seed)
    down = rng.normal(size=(maps, DIM, RANK)).astype(np.float32)
    up = rng.normal(size=(maps, RANK, DIM)).astype(np.float32)
    return QueryAdapter("m", down, up, {"trained_on": 3})


def test_folds_keep_wordings_together_and_spread_questions() -> None:
    assert fold_of("v001", "g07") == fold_of("v099", "g07")
    folds = {fold_of(f"q{i}") for i in range(200)}
    assert folds == set(range(FOLDS))
    dev = EvalQuestion("d01", "什么是客户?", "direct", ("客户",))
    test = EvalQuestion("v010", "顾客是谁?", "student", ("客户",), group="g04")
    assert dev.split == "dev" and dev.held_out == fold_of("d01")
    assert test.split == "test" and test.held_out is None  # test questions use the full map


def test_apply_moves_a_vector_and_keeps_it_unit_length() -> None:
    adapter = random_adapter()
    v = unit(np.random.default_rng(1).normal(size=(1, DIM)))
    full, held = adapter.apply(v), adapter.apply(v, held_out=2)
    assert full.shape == (1, DIM) and full.dtype == np.float32
    assert np.linalg.norm(full) == pytest.approx(1.0, abs=1e-5)
    assert not np.allclose(full, v) and not np.allclose(full, held)  # each fold has its own map
    expected = unit(v + (v @ adapter.down[3]) @ adapter.up[3])
    assert np.allclose(held, expected, atol=1e-6)
    assert not full.flags.writeable  # the retriever's vectors are shared, never changed


def test_file_round_trip_and_unreadable_files(tmp_path: Path) -> None:
    adapter = random_adapter()
    path = tmp_path / "adapter-m.npz"
    adapter.save(path)
    back = read_adapter(path)
    assert back.model == "m" and back.report == {"trained_on": 3}
    assert np.array_equal(back.down, adapter.down) and np.array_equal(back.up, adapter.up)
    assert [p.name for p in tmp_path.iterdir()] == ["adapter-m.npz"]  # no part file left
    path.write_bytes(path.read_bytes()[:100])
    with pytest.raises(AdapterError, match="cannot be read"):
        read_adapter(path)
    bad = random_adapter()
    bad.down[0, 0, 0] = np.nan
    bad.save(path)
    with pytest.raises(AdapterError, match="not finite"):
        read_adapter(path)
    with pytest.raises(AdapterError, match="disagree"):
        QueryAdapter("m", np.zeros((2, DIM, RANK)), np.zeros((2, DIM, RANK)), {})


def test_fit_learns_a_mapping_the_raw_vectors_miss() -> None:
    """Questions sit near the wrong passage; the map fitted on them (and their fold-mates)
    moves held-out questions of the same kind to the right one."""
    rng = np.random.default_rng(0)
    passages = unit(rng.normal(size=(6, DIM)))
    owner, hubness = np.arange(6), np.zeros(6, dtype=np.float32)
    examples = []
    for i in range(60):  # a question about passage g is nearer passage (g + 1) % 6
        g = i % 6
        v = unit(0.6 * passages[(g + 1) % 6] + 0.3 * passages[g] + 0.2 * rng.normal(size=DIM))
        examples.append(Labelled(f"q{i}", v, (g,), i % FOLDS))
    maps = [fit_map(examples, passages, owner, hubness)]
    maps += [fit_map([e for e in examples if e.fold != k], passages, owner, hubness) for k in range(FOLDS)]
    adapter = QueryAdapter("m", np.stack([d for d, _ in maps]), np.stack([u for _, u in maps]), {})
    before = dense_top1(examples, passages, owner, hubness, None)
    after = dense_top1(examples, passages, owner, hubness, adapter)  # each by its fold's map
    assert before <= 0.1 and after >= 0.5
    again = fit_map(examples, passages, owner, hubness)
    assert np.array_equal(again[0], maps[0][0]) and np.array_equal(again[1], maps[0][1])  # deterministic


def test_ranking_uses_the_adapter_while_cosines_and_spans_stay_the_models(fake_index: Settings) -> None:
    index = load_index(fake_index)
    plain = Retriever(index, HashEmbedder())
    vectors = index.vectors.all_vectors()  # type: ignore[attr-defined]
    dim = vectors.shape[1]
    # a map that sends every question towards the passage in row 7, whatever it asks
    target = vectors[7] / np.linalg.norm(vectors[7])
    down = np.zeros((FOLDS + 1, dim, 1), dtype=np.float32)
    down[:, :, 0] = 1.0 / np.sqrt(dim)
    up = np.tile(50 * target[None, None, :], (FOLDS + 1, 1, 1)).astype(np.float32)
    adapted = Retriever(index, HashEmbedder(), adapter=QueryAdapter("fake", down, up, {}))
    query = plain.analyse("客户投诉处理的步骤")
    raw, moved = plain.dense(query), adapted.dense(query)
    assert moved.ids[0] == 7 != raw.ids[0]
    assert moved.cosines[7] == raw.cosines[7] and moved.spans[7] == raw.spans[7]
    assert adapted.dense(query, adapted=False).ids == raw.ids  # syllabus coverage searches so
    adapted.held_out = 1
    assert adapted.dense(query).ids[0] == 7


class RankingSide(HashEmbedder):
    """A model whose question side for ranking points every question at one unit vector."""

    ranking_side = True

    def __init__(self, towards: np.ndarray) -> None:
        super().__init__()
        self.towards = towards
        self.asked: list[str] = []

    def embed_question(self, text: str) -> tuple[np.ndarray, np.ndarray]:
        self.asked.append(text)
        return self.embed_batch([text], "query"), self.towards[None, :]


def test_a_ranking_side_orders_the_passages_and_the_adapter_maps_it(fake_index: Settings) -> None:
    index = load_index(fake_index)
    plain = Retriever(index, HashEmbedder())
    vectors = index.vectors.all_vectors()  # type: ignore[attr-defined]
    side = RankingSide(vectors[7] / np.linalg.norm(vectors[7]))
    ranked = Retriever(index, side)
    query = plain.analyse("客户投诉处理的步骤")
    raw, moved = plain.dense(query), ranked.dense(query)
    owner = int(index.units[7, 0])
    assert moved.ids[0] == owner != raw.ids[0]
    assert moved.cosines[owner] == raw.cosines[owner] and moved.spans[owner] == raw.spans[owner]
    assert ranked.dense(query, adapted=False).ids == raw.ids  # syllabus points: the model's own vector
    ranked.dense(query)
    assert side.asked == ["客户投诉处理的步骤"]  # both vectors at once, once per question
    # the adapter maps the ranking vector: a map that does nothing keeps its order
    still = QueryAdapter(
        "fake",
        np.zeros((FOLDS + 1, vectors.shape[1], 1), np.float32),
        np.zeros((FOLDS + 1, 1, vectors.shape[1]), np.float32),
        {},
    )
    assert Retriever(index, RankingSide(side.towards), adapter=still).dense(query).ids == moved.ids


def test_no_adapter_for_the_fake_model_and_the_setting_turns_it_off(fake_index: Settings) -> None:
    from csbot.serve.assistant import Assistant

    assert adapter_for("fake") is None
    assert Assistant(fake_index).retriever.adapter is None
    assert load_settings(env={"CSBOT_QUERY_ADAPTER": "0"}).query_adapter is False


def test_holding_out_switches_the_map_and_forgets_cached_answers(fake_index: Settings) -> None:
    from csbot.serve.assistant import Assistant

    assistant = Assistant(fake_index)
    first = assistant.ask("什么是客户服务?")
    with assistant.holding_out(3):
        assert assistant.retriever.held_out == 3
        assert assistant.ask("什么是客户服务?") is not first  # answered again, not from memory
    assert assistant.retriever.held_out is None
