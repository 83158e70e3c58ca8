"""Fitting the question side's LoRA: what it learns from, and that what it saves loads, moves
the question vectors towards the teacher and holds no trace of this machine."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from csbot.datafiles import data_lines
from csbot.reports.distil import UNLABELLED, DistilConfig, train, training_questions
from csbot.reports.evaluation import LABELLED_LATER, split_of
from csbot.settings import DEFAULT_MODEL


def test_it_learns_from_the_unlabelled_and_general_questions_and_never_from_the_test_split() -> None:
    questions = training_questions()
    unlabelled = [
        json.loads(line)["question"] for line in UNLABELLED.read_text(encoding="utf-8").splitlines()
    ]
    assert len(unlabelled) >= 1500 and set(unlabelled) <= set(questions)
    assert set(data_lines("offtopic_general.txt")) <= set(questions)
    assert len(questions) == len(set(questions))
    records = [
        json.loads(line)
        for f in [Path("eval/questions.jsonl"), *Path("eval/unseen").glob("*.jsonl")]
        for line in f.read_text(encoding="utf-8").splitlines()
    ]
    # the eval questions it learns from are the unlabelled ones two readers have since
    # labelled (ids u…), all dev: no other question of the set, no test question
    shared = {r["id"] for r in records if r["question"] in set(unlabelled)}
    assert shared and all(i.startswith(LABELLED_LATER) and split_of(i) == "dev" for i in shared)
    held_out = {r["question"] for r in records if split_of(r["id"], r.get("group")) == "test"}
    held_out |= {
        json.loads(line)["question"]
        for f in Path("eval/unseen").glob("*.jsonl")
        for line in f.read_text(encoding="utf-8").splitlines()
    }
    assert not held_out & set(questions)


@pytest.fixture
def tiny_model(tmp_path: Path) -> Path:
    """A two-layer XLM-R with e5's tokenizer, saved as a sentence-transformers model."""
    import torch
    from sentence_transformers import SentenceTransformer, models  # type: ignore[attr-defined]
    from transformers import XLMRobertaConfig, XLMRobertaModel, XLMRobertaTokenizerFast  # type: ignore[attr-defined]

    from csbot.embed.prepare import TOKENIZER, package_file

    torch.manual_seed(0)
    tokenizer = XLMRobertaTokenizerFast(tokenizer_file=str(package_file(*TOKENIZER)))
    config = XLMRobertaConfig(
        vocab_size=len(tokenizer),
        hidden_size=16,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=32,
    )
    hf = tmp_path / "hf"
    XLMRobertaModel(config, add_pooling_layer=False).save_pretrained(str(hf))
    tokenizer.save_pretrained(str(hf))
    transformer = models.Transformer(str(hf), max_seq_length=64)
    st = SentenceTransformer(
        modules=[transformer, models.Pooling(16, pooling_mode="mean"), models.Normalize()]
    )
    st.save(str(tmp_path / "st"))
    return tmp_path / "st"


def test_the_saved_lora_loads_and_moves_questions_towards_the_teacher(
    tiny_model: Path, tmp_path: Path
) -> None:
    from peft import PeftModel
    from sentence_transformers import SentenceTransformer

    rng = np.random.default_rng(0)
    windows = rng.normal(size=(12, 16)).astype(np.float32)
    windows /= np.linalg.norm(windows, axis=1, keepdims=True)
    questions = ["客户投诉怎么处理", "什么是客我关系", "服务有哪些特性", "How to calm an angry caller"]
    teacher = np.eye(4, 12, dtype=np.float32) * 0.8  # the teacher's cosines: question i is window i's

    def ranks(model: SentenceTransformer) -> list[int]:
        """Where each question's own window ranks among the twelve, by the student."""
        vectors = model.encode(["query: " + q for q in questions], normalize_embeddings=True)
        return [np.argsort(-(vectors[i] @ windows.T)).tolist().index(i) for i in range(4)]

    before = ranks(SentenceTransformer(str(tiny_model), device="cpu"))
    out = tmp_path / "lora"
    config = DistilConfig(rank=4, epochs=60, learning_rate=3e-2, batch=4)
    report = train(tiny_model, questions, windows, teacher, config, out)
    assert sorted(p.name for p in out.iterdir()) == ["adapter_config.json", "adapter_model.safetensors"]
    assert json.loads((out / "adapter_config.json").read_text())["base_model_name_or_path"] == DEFAULT_MODEL
    assert report["loss_last_epoch"] >= 0

    student = SentenceTransformer(str(tiny_model), device="cpu")
    student[0].auto_model = PeftModel.from_pretrained(student[0].auto_model, str(out)).merge_and_unload()
    after = ranks(student)
    assert sum(before) >= 8 and after.count(0) >= 3, (before, after)  # the teacher's window first
