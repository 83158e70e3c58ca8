"""The default model's ranking side, taught by EmbeddingGemma: a LoRA on e5's encoder.

EmbeddingGemma-300M orders the material's passages for a student's question far better than
e5-small, but costs 45 ms a question against e5's 3. So its ordering is taught to e5: a
low-rank correction of e5's attention and feed-forward weights, trained by
:mod:`csbot.reports.distil` so that a question's softmax over the material's sentence windows
(by e5's own passage vectors) follows EmbeddingGemma's, on unlabelled questions (students'
wordings written from the syllabus and the headings, and general chatbot questions; never an
evaluation question). It ships in ``csbot/data/`` in PEFT's format (:data:`LORA_DIR`).

The passages keep e5's vectors and the index is unchanged. A question gets two vectors,
computed side by side (:meth:`csbot.embed.onnx.OnnxEmbedder.embed_question`): e5's own, which
measures how near a passage or sentence is (the confidence signals, the span hint, the
off-topic detector), and the taught one, which orders the passages (the query adapter is
fitted on it). One vector for both orders as well but measures worse: the confidence model
loses what e5's cosine tells it (README, *How it works*).

``csbot model prepare`` merges the LoRA into a copy of the float model with PEFT and exports
that network to ONNX with int8 weights (:func:`query_onnx_name`: the file name carries the
LoRA's digest, so a retrained LoRA gets a fresh export, not a stale one).
"""

from __future__ import annotations

import hashlib
from functools import cache
from importlib import resources
from pathlib import Path

from csbot.errors import ModelError

LORA_DIR = "query-lora-{model}"  # in csbot/data: adapter_config.json + adapter_model.safetensors
LORA_FILES = ("adapter_config.json", "adapter_model.safetensors")


def lora_dir(model: str) -> Path | None:
    """The shipped LoRA of ``model``'s question side, or None when there is none."""
    where = Path(str(resources.files("csbot") / "data" / LORA_DIR.format(model=model)))
    return where if all((where / name).is_file() for name in LORA_FILES) else None


@cache
def _digest(where: Path) -> str:
    h = hashlib.sha256()
    for name in LORA_FILES:
        h.update((where / name).read_bytes())
    return h.hexdigest()[:12]


def query_onnx_name(model: str) -> str | None:
    """The question side's ONNX file in the prepared model directory, named for the shipped
    LoRA (``query-int8-<digest>.onnx``); None when ``model`` has no LoRA."""
    where = lora_dir(model)
    return None if where is None else f"query-int8-{_digest(where)}.onnx"


def merged_model(model_dir: Path, model: str):  # type: ignore[no-untyped-def]
    """The float transformer of ``model_dir`` with the shipped LoRA merged into its weights."""
    from peft import PeftModel
    from transformers import AutoModel

    where = lora_dir(model)
    if where is None:
        raise ModelError(f"no question-side LoRA ships for {model}")
    base = AutoModel.from_pretrained(str(model_dir)).eval()
    try:
        return PeftModel.from_pretrained(base, str(where)).merge_and_unload().eval()
    except (OSError, ValueError, KeyError, RuntimeError) as exc:
        raise ModelError(
            f"the question-side LoRA at {where} does not fit the model ({type(exc).__name__}); "
            "reinstall csbot"
        ) from exc
