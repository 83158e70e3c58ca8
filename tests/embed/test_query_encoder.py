"""The question side that ranks for the default model: named for its LoRA, exported once per
LoRA, asked for when missing; the retriever orders passages by it and measures by the model's
own vector."""

from __future__ import annotations

from pathlib import Path

import pytest

from csbot.embed import prepare, query_encoder
from csbot.embed.factory import make_embedder
from csbot.errors import ModelError
from csbot.settings import DEFAULT_MODEL, Settings


def _lora(where: Path, weights: bytes) -> Path:
    where.mkdir(parents=True, exist_ok=True)
    (where / "adapter_config.json").write_text('{"r": 16}', encoding="utf-8")
    (where / "adapter_model.safetensors").write_bytes(weights)
    return where


def test_the_shipped_lora_is_found_and_other_models_have_none() -> None:
    assert query_encoder.lora_dir("fake") is None
    assert query_encoder.query_onnx_name("fake") is None
    shipped = query_encoder.lora_dir(DEFAULT_MODEL)
    assert shipped is not None and (shipped / "adapter_model.safetensors").stat().st_size > 0
    assert query_encoder.query_onnx_name(DEFAULT_MODEL).startswith("query-int8-")


def test_the_export_is_named_for_the_lora(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    first = _lora(tmp_path / "a", b"one")
    second = _lora(tmp_path / "b", b"two")
    names = []
    for where in (first, second, first):
        monkeypatch.setattr(query_encoder, "lora_dir", lambda model, where=where: where)
        names.append(query_encoder.query_onnx_name(DEFAULT_MODEL))
    assert names[0] == names[2] != names[1]


def test_a_new_lora_replaces_the_old_export_and_a_failed_one_leaves_none(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    model_dir = tmp_path / "model"
    model_dir.mkdir()
    (model_dir / "query-int8-old.onnx").write_bytes(b"stale")
    monkeypatch.setattr(prepare, "query_onnx_name", lambda model: "query-int8-new.onnx")

    def fails(src: Path, out: Path) -> None:
        out.write_bytes(b"half")
        raise ModelError("the ONNX model strays")

    monkeypatch.setattr(prepare, "export_query_side", fails)
    with pytest.raises(ModelError):
        prepare._ensure_query_side(model_dir)
    assert sorted(p.name for p in model_dir.iterdir()) == []  # the stale one went, no half file

    exported: list[Path] = []
    monkeypatch.setattr(
        prepare, "export_query_side", lambda src, out: (exported.append(src), out.write_bytes(b"ok"))
    )
    prepare._ensure_query_side(model_dir)
    prepare._ensure_query_side(model_dir)  # already there: not exported again
    assert [p.name for p in model_dir.iterdir()] == ["query-int8-new.onnx"] and exported == [model_dir]


def test_an_unprepared_question_side_says_how_to_prepare_it(
    env: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    from dataclasses import replace

    settings = replace(env, model=DEFAULT_MODEL)
    model_dir = prepare.prepared_model_dir(settings)
    model_dir.mkdir(parents=True)
    (model_dir / prepare.ONNX_FILE).write_bytes(b"passage side only")
    with pytest.raises(ModelError, match="csbot model prepare"):
        make_embedder(settings)
