"""One settings object, built from ``CSBOT_*`` environment variables by :func:`load_settings`."""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any, get_type_hints

from csbot.errors import SettingsError

DEFAULT_MODEL = "multilingual-e5-small"
# The optional stronger model (csbot.embed.gemma): better answers, some 45 ms a question.
GEMMA_MODEL = "embeddinggemma-300m"
FUSIONS = ("convex", "rrf")
TRUE_WORDS = ("1", "true", "yes", "on")
FALSE_WORDS = ("0", "false", "no", "off")

# Query/passage prefixes of models we know; any other model gets none unless configured.
KNOWN_PREFIXES: dict[str, tuple[str, str]] = {
    "multilingual-e5-small": ("query: ", "passage: "),
    GEMMA_MODEL: ("task: search result | query: ", "title: none | text: "),
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


def _in_checkout(name: str) -> Callable[[], Path]:
    return lambda: _project_root() / name


def _env(name: str) -> dict[str, str]:
    """Field metadata: the environment variable a setting is read from."""
    return {"env": name}


MIN_TOKEN_CHARS = 12


@dataclass(frozen=True)
class Settings:
    """Everything csbot can be configured with; the field defaults are the only defaults.

    Attributes:
        home: csbot's own data directory (prepared models live in ``home/models``).
        corpus_dir: the directory holding ``corpus.toml`` and the raw documents.
        index_dir: where ``csbot build`` writes the index (the local store).
        store: empty for the local store in ``index_dir``, or a ``postgresql://`` URI: the
            index then lives in that database (:mod:`csbot.index.postgres`). Never printed
            (``repr=False``): it may hold a password.
        data_dir: what the service records (the question log) and the coverage reports.
        web_dir: the chat page's files (``index.html``, ``app.js``, ``style.css``).
        model: ``multilingual-e5-small`` (prepared offline from installed packages),
            ``fake`` (a deterministic hashing embedder for tests), or any
            sentence-transformers model name or path.
        query_prefix / passage_prefix: text put before queries / passages when embedding
            (:func:`load_settings` uses the model's own from :data:`KNOWN_PREFIXES`, else none).
        top_k: citations returned per question.
        candidates: how many hits each retriever contributes before fusion.
        rrf_k: the constant of reciprocal-rank fusion.
        fusion: ``convex`` (weighted sum of min–max normalised scores) or ``rrf``.
        bm25_weight: the BM25 share in ``convex`` fusion (the dense share is the rest).
        max_question_chars: longer questions are refused.
        log_questions: whether the service records the questions it answers.
        query_adapter: whether questions are moved by the learned query adapter
            (:mod:`csbot.search.adapter`) when one is shipped for the model.
        rerank: whether the first passages are re-ordered by the learned re-ranker
            (:mod:`csbot.search.rerank`) when one is shipped for the model.
        asked: whether answering reads what the labelled questions nearest a question say
            (:mod:`csbot.search.asked`) when they are shipped for the model.
        span_model: whether the answer span is chosen by the learned span picker
            (:mod:`csbot.answer.span_model`) when one is shipped for the model.
        request_threads: how many requests the service works on at once (others queue).
        show_progress: progress bars while embedding (the CLI turns this on).
        trainer_token: the secret a trainer sends to see what students asked (``/trainer``);
            empty keeps that page off. Never printed (``repr=False``).

    Raises:
        SettingsError: a value out of range, naming the variable that sets it.
    """

    home: Path = field(default_factory=lambda: Path.home() / ".cache" / "csbot", metadata=_env("CSBOT_HOME"))
    corpus_dir: Path = field(default_factory=_in_checkout("corpus"), metadata=_env("CSBOT_CORPUS"))
    index_dir: Path = field(default_factory=_in_checkout("index"), metadata=_env("CSBOT_INDEX"))
    data_dir: Path = field(default_factory=_in_checkout("data"), metadata=_env("CSBOT_DATA"))
    web_dir: Path = field(default_factory=_in_checkout("web"))
    model: str = field(default=DEFAULT_MODEL, metadata=_env("CSBOT_MODEL"))
    query_prefix: str = field(default=KNOWN_PREFIXES[DEFAULT_MODEL][0], metadata=_env("CSBOT_QUERY_PREFIX"))
    passage_prefix: str = field(
        default=KNOWN_PREFIXES[DEFAULT_MODEL][1], metadata=_env("CSBOT_PASSAGE_PREFIX")
    )
    top_k: int = field(default=5, metadata=_env("CSBOT_TOP_K"))
    candidates: int = field(default=50, metadata=_env("CSBOT_CANDIDATES"))
    rrf_k: int = field(default=60, metadata=_env("CSBOT_RRF_K"))
    fusion: str = field(default="convex", metadata=_env("CSBOT_FUSION"))
    bm25_weight: float = field(default=0.5, metadata=_env("CSBOT_BM25_WEIGHT"))
    max_question_chars: int = field(default=1000, metadata=_env("CSBOT_MAX_QUESTION_CHARS"))
    log_questions: bool = field(default=True, metadata=_env("CSBOT_LOG_QUESTIONS"))
    query_adapter: bool = field(default=True, metadata=_env("CSBOT_QUERY_ADAPTER"))
    rerank: bool = field(default=True, metadata=_env("CSBOT_RERANK"))
    asked: bool = field(default=True, metadata=_env("CSBOT_ASKED"))
    span_model: bool = field(default=True, metadata=_env("CSBOT_SPAN_MODEL"))
    # Few threads queued in order beat many fighting over the cores (see serve/api/app.py).
    request_threads: int = field(
        default_factory=lambda: (os.cpu_count() or 2) + 1, metadata=_env("CSBOT_REQUEST_THREADS")
    )
    show_progress: bool = False
    store: str = field(default="", metadata=_env("CSBOT_STORE"), repr=False)
    # Turns on the trainer page (/trainer): what students asked that the material lacks.
    trainer_token: str = field(default="", metadata=_env("CSBOT_TRAINER_TOKEN"), repr=False)

    def __post_init__(self) -> None:
        if self.trainer_token and len(self.trainer_token.strip()) < MIN_TOKEN_CHARS:
            raise SettingsError(
                f"{_var('trainer_token')} must be at least {MIN_TOKEN_CHARS} characters "
                "(it guards what students asked); unset it to keep the trainer page off"
            )
        for name in ("top_k", "candidates", "rrf_k", "max_question_chars", "request_threads"):
            value = getattr(self, name)
            if value < 1:
                raise SettingsError(f"{_var(name)} must be at least 1, got {value}")
        if not (math.isfinite(self.bm25_weight) and 0 <= self.bm25_weight <= 1):
            raise SettingsError(f"{_var('bm25_weight')} must be a number from 0 to 1, got {self.bm25_weight}")
        if self.fusion not in FUSIONS:
            raise SettingsError(f"{_var('fusion')} must be 'convex' or 'rrf', got {self.fusion!r}")
        if self.store and not self.store.startswith(("postgresql://", "postgres://")):
            raise SettingsError(
                f"{_var('store')} must be a postgresql:// URI, or unset for the local index directory"
            )
        if not self.model.strip():
            raise SettingsError(f"{_var('model')} is empty; unset it for {DEFAULT_MODEL}, or name a model")

    @property
    def models_dir(self) -> Path:
        return self.home / "models"

    @property
    def reports_dir(self) -> Path:
        return self.data_dir / "reports"


def _var(name: str) -> str:
    """The environment variable of setting ``name``."""
    return str(next(f.metadata["env"] for f in fields(Settings) if f.name == name))


def _default(name: str) -> Any:
    """The default of setting ``name``, as the dataclass field declares it."""
    f = next(f for f in fields(Settings) if f.name == name)
    return f.default_factory() if callable(f.default_factory) else f.default


def _parse(var: str, raw: str, kind: type) -> object:
    """``raw``, the value of ``var``, as a ``kind``; :class:`SettingsError` if it is not one."""
    text = raw.strip()
    if kind is bool:
        if text.lower() in TRUE_WORDS:
            return True
        if text.lower() in FALSE_WORDS:
            return False
        raise SettingsError(f"{var} must be 1 or 0 (or true/false, yes/no, on/off), got {raw!r}")
    if kind is int:
        try:
            return int(text)
        except ValueError:
            raise SettingsError(f"{var} must be an integer, got {raw!r}") from None
    if kind is float:
        try:
            return float(text)
        except ValueError:
            raise SettingsError(f"{var} must be a number, got {raw!r}") from None
    if kind is Path:
        return Path(raw)
    return raw


def load_settings(env: Mapping[str, str] | None = None, **overrides: Any) -> Settings:
    """Build the settings from the environment (``CSBOT_*``), then apply ``overrides``.

    An unset variable, or a blank one for a number, flag or path, leaves the field's default;
    blank text is a value (``CSBOT_QUERY_PREFIX=`` means no prefix). Unless given, the
    query/passage prefixes are the chosen model's own (:data:`KNOWN_PREFIXES`, else none).

    Args:
        env: the variables to read; ``os.environ`` when None.
        overrides: settings by field name, e.g. ``model="fake"``; they win over ``env``.

    Raises:
        SettingsError: a variable that does not parse, or a value out of range, in one line.
    """
    env = os.environ if env is None else env
    types = get_type_hints(Settings)
    values: dict[str, Any] = {}
    for f in fields(Settings):
        var = f.metadata.get("env")
        raw = env.get(var) if var else None
        if var is None or raw is None or (types[f.name] is not str and not raw.strip()):
            continue
        values[f.name] = _parse(var, raw, types[f.name])
    values.update(overrides)
    known = KNOWN_PREFIXES.get(values.get("model", _default("model")), ("", ""))
    values.setdefault("query_prefix", known[0])
    values.setdefault("passage_prefix", known[1])
    return Settings(**values)
