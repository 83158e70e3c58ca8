"""One settings object, built from ``CSBOT_*`` environment variables by :func:`load_settings`."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

DEFAULT_MODEL = "multilingual-e5-small"

# Query/passage prefixes of models we know; any other model gets none unless configured.
KNOWN_PREFIXES: dict[str, tuple[str, str]] = {
    "multilingual-e5-small": ("query: ", "passage: "),
    "intfloat/multilingual-e5-small": ("query: ", "passage: "),
    "intfloat/multilingual-e5-base": ("query: ", "passage: "),
    "BAAI/bge-small-zh-v1.5": ("为这个句子生成表示以用于检索相关文章：", ""),
    "BAAI/bge-base-zh-v1.5": ("为这个句子生成表示以用于检索相关文章：", ""),
}


def quiet_offline_env() -> None:
    """Defaults for the model libraries: no hub access, no progress bars, no info chatter."""
    for key, value in {
        "HF_HUB_OFFLINE": "1",
        "TRANSFORMERS_VERBOSITY": "error",
        "HF_HUB_DISABLE_PROGRESS_BARS": "1",
        "TOKENIZERS_PARALLELISM": "false",
    }.items():
        os.environ.setdefault(key, value)


def _project_root() -> Path:
    """The checkout this package runs from (src layout), else the working directory."""
    here = Path(__file__).resolve().parents[2]
    if (here / "corpus" / "corpus.toml").exists():
        return here
    return Path.cwd()


@dataclass(frozen=True)
class Settings:
    """Everything csbot can be configured with.

    Attributes:
        home: csbot's own data directory (prepared models live in ``home/models``).
        corpus_dir: the directory holding ``corpus.toml`` and the raw documents.
        index_dir: where ``csbot build`` writes the index.
        data_dir: what the service records (the question log) and the coverage reports.
        web_dir: the chat page's files (``index.html``, ``app.js``, ``style.css``).
        log_questions: whether the service records the questions it answers.
        request_threads: how many requests the service works on at once (others queue).
        model: ``multilingual-e5-small`` (prepared offline from installed packages),
            ``fake`` (a deterministic hashing embedder for tests), or any
            sentence-transformers model name or path.
        query_prefix / passage_prefix: text put before queries / passages when embedding.
        top_k: citations returned per question.
        candidates: how many hits each retriever contributes before fusion.
        rrf_k: the constant of reciprocal-rank fusion.
        fusion: ``convex`` (weighted sum of min–max normalised scores) or ``rrf``.
        bm25_weight: the BM25 share in ``convex`` fusion (the dense share is the rest).
        max_question_chars: longer questions are refused.
        show_progress: progress bars while embedding (the CLI turns this on).
    """

    home: Path
    corpus_dir: Path
    index_dir: Path
    data_dir: Path = Path("data")
    web_dir: Path = Path("web")
    model: str = DEFAULT_MODEL
    query_prefix: str = "query: "
    passage_prefix: str = "passage: "
    top_k: int = 5
    candidates: int = 50
    rrf_k: int = 60
    fusion: str = "convex"
    bm25_weight: float = 0.5
    max_question_chars: int = 1000
    log_questions: bool = True
    request_threads: int = 3
    show_progress: bool = False

    @property
    def models_dir(self) -> Path:
        return self.home / "models"

    @property
    def reports_dir(self) -> Path:
        return self.data_dir / "reports"


def _int_env(env: dict[str, str], name: str, default: int) -> int:
    raw = env.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        return int(raw)
    except ValueError as exc:
        raise ValueError(f"{name} must be an integer, got {raw!r}") from exc


def load_settings(env: dict[str, str] | None = None, **overrides: object) -> Settings:
    """Build the settings from the environment (``CSBOT_*``), then apply ``overrides``."""
    env = dict(os.environ if env is None else env)
    root = _project_root()
    model = env.get("CSBOT_MODEL", DEFAULT_MODEL)
    known_q, known_p = KNOWN_PREFIXES.get(model, ("", ""))
    values: dict[str, object] = {
        "home": Path(env.get("CSBOT_HOME", str(Path.home() / ".cache" / "csbot"))),
        "corpus_dir": Path(env.get("CSBOT_CORPUS", str(root / "corpus"))),
        "index_dir": Path(env.get("CSBOT_INDEX", str(root / "index"))),
        "data_dir": Path(env.get("CSBOT_DATA", str(root / "data"))),
        "web_dir": root / "web",
        "log_questions": env.get("CSBOT_LOG_QUESTIONS", "1").strip().lower()
        not in ("0", "false", "no", "off"),
        "model": model,
        "query_prefix": env.get("CSBOT_QUERY_PREFIX", known_q),
        "passage_prefix": env.get("CSBOT_PASSAGE_PREFIX", known_p),
        "top_k": _int_env(env, "CSBOT_TOP_K", 5),
        "candidates": _int_env(env, "CSBOT_CANDIDATES", 50),
        "rrf_k": _int_env(env, "CSBOT_RRF_K", 60),
        "fusion": env.get("CSBOT_FUSION", "convex"),
        "bm25_weight": float(env.get("CSBOT_BM25_WEIGHT", "0.5")),
        "max_question_chars": _int_env(env, "CSBOT_MAX_QUESTION_CHARS", 1000),
        "request_threads": max(1, _int_env(env, "CSBOT_REQUEST_THREADS", (os.cpu_count() or 2) + 1)),
    }
    values.update(overrides)
    return Settings(**values)  # type: ignore[arg-type]
