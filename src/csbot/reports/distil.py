"""Fit the default model's question side (:mod:`csbot.embed.query_encoder`) on EmbeddingGemma.

``python -m csbot.reports.distil`` (``make distil``; needs ``make model-gemma``) embeds every sentence window of the index and a set of unlabelled
questions with EmbeddingGemma-300M, the teacher, and trains a LoRA on e5's encoder so that a
question's softmax over the windows, by e5's passage vectors, follows the teacher's
(Kullback–Leibler divergence). Nothing it learns from is labelled, and no ``test`` question
is among them:

* ``eval/unlabelled.jsonl``: 3755 questions in students' words, written for this from the
  syllabus points and the material's headings by four writers who never saw the passages
  (the later two saw the evaluation questions' texts, so as not to repeat them);
* the general chatbot questions of the off-topic detector (``data/offtopic_general.txt``).

The ``dev`` questions written for the set are left out (but for one off-topic question the
general list shares). The unlabelled questions two readers have since labelled are ``dev``
questions too (ids ``u…``, :mod:`csbot.reports.evaluation`), whose figures ``csbot eval``
therefore also gives apart; no ``test`` question is among them.
The LoRA is written to ``csbot/data/query-lora-multilingual-e5-small/`` in PEFT's format;
``csbot model prepare`` then exports the question side, and ``csbot calibrate`` must refit
the adapter, the confidence model and the off-topic detector on its vectors.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import shutil
import sys
import tempfile
import time
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import numpy as np

from csbot.datafiles import data_lines
from csbot.embed.query_encoder import LORA_DIR
from csbot.reports.calibrate import GENERAL_FILE, UNLABELLED_FILE, unlabelled_questions
from csbot.settings import DEFAULT_MODEL, GEMMA_MODEL, Settings, load_settings, quiet_offline_env

UNLABELLED = Path("eval") / UNLABELLED_FILE


@dataclass(frozen=True)
class DistilConfig:
    """How the LoRA is trained; the values were chosen on half of ``dev`` (README)."""

    rank: int = 16
    epochs: int = 2
    learning_rate: float = 3e-4
    batch: int = 32
    teacher_temperature: float = 0.02  # EmbeddingGemma's cosines, softmaxed over the windows
    student_temperature: float = 0.02
    seed: int = 0
    targets: tuple[str, ...] = ("query", "key", "value", "dense")  # attention and feed-forward


def training_questions(unlabelled: Path = UNLABELLED) -> list[str]:
    """The questions the LoRA learns from: the unlabelled students' questions, then the
    general chatbot ones, each once."""
    return list(dict.fromkeys([*unlabelled_questions(unlabelled), *data_lines(GENERAL_FILE)]))


def teacher_cosines(questions: list[str], windows: list[str]) -> np.ndarray:
    """EmbeddingGemma's cosine of every question to every window."""
    from csbot.embed.factory import make_embedder

    teacher = make_embedder(load_settings(model=GEMMA_MODEL), threads=0)
    q = teacher.embed_batch(questions, kind="query")
    w = teacher.embed_batch(windows, kind="passage")
    return np.asarray(q @ w.T, dtype=np.float32)


def train(
    model_dir: Path,
    questions: list[str],
    windows: np.ndarray,
    teacher: np.ndarray,
    config: DistilConfig,
    out: Path,
) -> dict[str, float]:
    """Train the LoRA on ``questions`` (as e5 reads them: with its ``query: `` prefix) against
    the teacher's cosines ``teacher`` to the windows, whose e5 vectors are ``windows``; save
    it to ``out``. The loss is the divergence of the student's softmax over the windows from
    the teacher's."""
    import torch
    from peft import LoraConfig, get_peft_model
    from sentence_transformers import SentenceTransformer

    torch.manual_seed(config.seed)
    student = SentenceTransformer(str(model_dir), device="cpu")
    # PEFT wraps the transformer's linear layers in place: the sentence-transformers model
    # trains through them, and the wrapper saves only the LoRA
    lora = get_peft_model(
        student[0].auto_model,  # type: ignore[arg-type]
        LoraConfig(
            r=config.rank, lora_alpha=2 * config.rank, target_modules=list(config.targets), lora_dropout=0.0
        ),
    )
    params = [p for p in student.parameters() if p.requires_grad]
    optimiser = torch.optim.AdamW(params, lr=config.learning_rate, weight_decay=0.01)
    units = torch.from_numpy(windows)
    target = torch.softmax(torch.from_numpy(teacher) / config.teacher_temperature, dim=-1)
    prefix = load_settings().query_prefix
    rng = np.random.default_rng(config.seed)
    student.train()
    started, loss_sum = time.perf_counter(), 0.0
    for _ in range(config.epochs):
        order, loss_sum = rng.permutation(len(questions)), 0.0
        for start in range(0, len(order), config.batch):
            rows = order[start : start + config.batch]
            features = student.tokenize([prefix + questions[i] for i in rows])
            vectors = torch.nn.functional.normalize(student(features)["sentence_embedding"], dim=-1)
            log_p = torch.log_softmax(vectors @ units.T / config.student_temperature, dim=-1)
            p = target[rows]
            loss = torch.sum(p * (torch.log(p + 1e-12) - log_p), dim=-1).mean()
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
            loss_sum += float(loss.detach()) * len(rows)
    lora.save_pretrained(str(out))
    _ship(out)
    return {
        "loss_last_epoch": round(loss_sum / len(questions), 4),
        "seconds": round(time.perf_counter() - started),
    }


def _ship(out: Path) -> None:
    """Leave the two files csbot loads: no model card, no path of this machine."""
    (out / "README.md").unlink(missing_ok=True)
    config_file = out / "adapter_config.json"
    config = json.loads(config_file.read_text(encoding="utf-8"))
    config["base_model_name_or_path"] = DEFAULT_MODEL
    config["target_modules"] = sorted(config["target_modules"])  # PEFT writes a set's order
    config_file.write_text(json.dumps(config, indent=2, sort_keys=True) + "\n", encoding="utf-8")


def distil(
    settings: Settings,
    unlabelled: Path = UNLABELLED,
    config: DistilConfig | None = None,
    cache: Path | None = None,
) -> dict[str, object]:
    """Fit and ship the ranking side's LoRA of the default model; return its report."""
    from csbot.embed.prepare import prepared_model_dir
    from csbot.index.build import unit_text
    from csbot.reports.adapt import unit_vectors
    from csbot.serve.assistant import Assistant
    from csbot.text.normalise import to_simplified

    config = config or DistilConfig()
    retriever = Assistant(settings).retriever
    passages, units = retriever.index.passages, retriever.index.units
    window_texts = [unit_text(passages[i], a, b) for i, a, b in units]
    windows = unit_vectors(retriever)  # e5's vectors of the windows, as the index holds them
    # as answering embeds them: the retrieval text of the question, in Simplified form
    questions = [to_simplified(retriever.analyse(q).retrieval or q) for q in training_questions(unlabelled)]
    key = hashlib.sha256("\0".join([*questions, "", *window_texts]).encode()).hexdigest()[:16]
    if cache is not None and (cache / f"{key}.npy").exists():
        teacher = np.load(cache / f"{key}.npy")
    else:
        teacher = teacher_cosines(questions, window_texts)
        if cache is not None:
            cache.mkdir(parents=True, exist_ok=True)
            np.save(cache / f"{key}.npy", teacher)
    out = Path(str(resources.files("csbot") / "data" / LORA_DIR.format(model=DEFAULT_MODEL)))
    # trained into a temporary directory put in place only when whole
    partial = Path(tempfile.mkdtemp(prefix=".distil-", dir=out.parent))
    try:
        report = train(prepared_model_dir(settings), questions, windows, teacher, config, partial)
        if out.exists():
            shutil.rmtree(out)
        partial.rename(out)
    finally:
        shutil.rmtree(partial, ignore_errors=True)
    return {"questions": len(questions), "windows": len(window_texts), **report}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--unlabelled", type=Path, default=UNLABELLED)
    parser.add_argument("--cache", type=Path, help="keep the teacher's cosines here, for another run")
    args = parser.parse_args(argv)
    quiet_offline_env()
    print(
        json.dumps(distil(load_settings(), args.unlabelled, DistilConfig(), args.cache), ensure_ascii=False)
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
