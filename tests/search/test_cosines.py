"""The asked bank's cosines estimated in 8 bits: every figure read from them is the exact one."""

from __future__ import annotations

import numpy as np
import pytest

import csbot.search.asked as asked_module
from csbot.search.asked import AskedQuestions
from csbot.search.cosines import MODEL_WITHOUT_BANK, Cosines, Quantised, exact_product, model_bytes


def bank(rows: int = 3000, dim: int = 48, seed: int = 0) -> np.ndarray:
    """Unit vectors in clusters (many near ties, as questions on one point), some rows
    repeated exactly (true ties) and a few sparse ones (one large coordinate)."""
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(30, dim))
    vectors = centres[rng.integers(0, 30, rows)] + rng.normal(scale=0.3, size=(rows, dim))
    vectors[rows // 2 : rows // 2 + 40] = vectors[:40]  # exact duplicates
    vectors[-5:] = np.eye(dim)[:5] + 0.01
    return (vectors / np.linalg.norm(vectors, axis=1, keepdims=True)).astype(np.float32)


def questions(vectors: np.ndarray, count: int = 40, seed: int = 1) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    near = vectors[rng.integers(0, len(vectors), count)] + rng.normal(
        scale=0.05, size=(count, vectors.shape[1])
    )
    out = [(v / np.linalg.norm(v)).astype(np.float32) for v in near]
    return [*out, vectors[0].copy(), vectors[-1].copy()]  # one equal to a (repeated) row


def test_the_bound_holds_for_every_row() -> None:
    vectors = bank()
    quantised = Quantised(vectors)
    for q in questions(vectors):
        estimate, bound = quantised.estimate(q)
        assert (np.abs(estimate - exact_product(vectors, q)) <= bound).all()
        assert bound.max() < 0.1  # an estimate worth having: most rows are ruled out


def test_top_and_group_max_are_the_whole_products() -> None:
    vectors = bank()
    quantised = Quantised(vectors)
    rng = np.random.default_rng(2)
    for q in questions(vectors):
        fast, whole = Cosines(vectors, q, quantised), Cosines(vectors, q)
        assert fast.whole().tobytes() == exact_product(vectors, q).tobytes()
        first = np.zeros(len(vectors), dtype=np.bool_)
        first[:3] = True
        for among in (None, rng.random(len(vectors)) < 0.4, rng.random(len(vectors)) < 0.01, first):
            for k in (1, 10, 30, 50):
                got, want = fast.top(among, k), whole.top(among, k)
                assert got[0].tolist() == want[0].tolist() and got[1].tobytes() == want[1].tobytes()
        rows = rng.integers(0, len(vectors), 500)
        group = rng.integers(0, 20, 500)
        assert fast.group_max(rows, group, 21).tolist() == whole.group_max(rows, group, 21).tolist()


def test_ties_are_broken_by_row_as_before() -> None:
    vectors = bank()
    fast = Cosines(vectors, vectors[0], Quantised(vectors))
    rows, cos = fast.top(None, 2)
    assert rows.tolist() == [0, len(vectors) // 2] and cos[0] == cos[1]  # row 0 and its copy


def test_the_asked_questions_read_the_same_figures_either_way(monkeypatch: pytest.MonkeyPatch) -> None:
    vectors = bank(rows=2000)
    rng = np.random.default_rng(3)
    answered = rng.random(len(vectors)) < 0.6
    answered_rows = np.flatnonzero(answered)
    pair_question = answered_rows[rng.integers(0, len(answered_rows), 900)]
    pair_passage = rng.integers(0, 40, 900)
    keys = np.array([f"{'ab'[p % 2]}:{p}" for p in range(40)])
    asked = AskedQuestions(
        "m", vectors, answered, rng.integers(0, 5, len(vectors)), {}, keys, pair_question, pair_passage
    )
    assert asked.quantised is not None
    monkeypatch.setattr(asked_module, "QUANTISE_FROM", 10**9)
    plain = AskedQuestions("m", vectors, answered, asked.fold, {}, keys, pair_question, pair_passage)
    assert plain.quantised is None
    answers = asked.answered_by(list(keys))
    for q in questions(vectors, 15):
        fast, whole = asked.cosines(q), plain.cosines(q)
        for held_out in (None, 0, 3):
            assert asked.near_by(fast, held_out) == plain.near_by(whole, held_out)
            rows = list(rng.permutation(40)[:20])
            assert (
                asked.votes(fast, rows, answers, held_out).tobytes()
                == plain.votes(whole, rows, answers, held_out).tobytes()
            )
        assert asked.document_votes(fast, "a") == plain.document_votes(whole, "a")


def test_the_product_model_is_the_one_onnx_helper_builds() -> None:
    """The model is serialised without importing onnx (0.6 s); onnx.helper builds the same."""
    from onnx import ModelProto, TensorProto, helper, numpy_helper

    codes = np.random.default_rng(4).integers(1, 256, (6, 5), dtype=np.uint8)
    point = numpy_helper.from_array(np.array(128, dtype=np.uint8), "point")
    node = helper.make_node("MatMulInteger", ["question", "bank", "point", "point"], ["dots"])
    question = helper.make_tensor_value_info("question", TensorProto.UINT8, [1, "d"])
    dots = helper.make_tensor_value_info("dots", TensorProto.INT32, [1, "n"])

    def model(initializers: list) -> ModelProto:
        graph = helper.make_graph([node], "asked_bank", [question], [dots], initializers)
        return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)], ir_version=8)

    assert model([point]).SerializeToString() == MODEL_WITHOUT_BANK
    assert ModelProto.FromString(model_bytes(codes)) == model([point, numpy_helper.from_array(codes, "bank")])
