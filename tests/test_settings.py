"""Settings: one set of defaults (the dataclass fields), CSBOT_* parsing, one-line errors."""

from __future__ import annotations

from dataclasses import fields, replace
from pathlib import Path

import pytest

from csbot.errors import CsbotError, SettingsError
from csbot.settings import DEFAULT_MODEL, KNOWN_PREFIXES, Settings, load_settings


def test_the_defaults_are_the_dataclass_defaults() -> None:
    loaded = load_settings(env={})
    assert loaded == Settings()
    assert (loaded.top_k, loaded.candidates, loaded.rrf_k, loaded.fusion) == (5, 50, 60, "convex")
    assert (loaded.bm25_weight, loaded.max_question_chars, loaded.log_questions) == (0.5, 1000, True)
    assert (
        loaded.model == DEFAULT_MODEL
        and (loaded.query_prefix, loaded.passage_prefix) == KNOWN_PREFIXES[DEFAULT_MODEL]
    )
    assert loaded.home == Path.home() / ".cache" / "csbot"
    assert loaded.corpus_dir.name == "corpus" and loaded.corpus_dir.parent == loaded.index_dir.parent
    assert loaded.request_threads >= 2 and loaded.show_progress is False


def test_every_variable_is_read(tmp_path: Path) -> None:
    env = {
        "CSBOT_HOME": str(tmp_path / "home"),
        "CSBOT_CORPUS": str(tmp_path / "corpus"),
        "CSBOT_INDEX": str(tmp_path / "index"),
        "CSBOT_DATA": str(tmp_path / "data"),
        "CSBOT_MODEL": "fake",
        "CSBOT_QUERY_PREFIX": "q: ",
        "CSBOT_PASSAGE_PREFIX": "p: ",
        "CSBOT_TOP_K": " 7 ",
        "CSBOT_CANDIDATES": "80",
        "CSBOT_RRF_K": "10",
        "CSBOT_FUSION": "rrf",
        "CSBOT_BM25_WEIGHT": "0.25",
        "CSBOT_MAX_QUESTION_CHARS": "20",
        "CSBOT_LOG_QUESTIONS": "off",
        "CSBOT_QUERY_ADAPTER": "no",
        "CSBOT_RERANK": "off",
        "CSBOT_ASKED": "no",
        "CSBOT_SPAN_MODEL": "off",
        "CSBOT_REQUEST_THREADS": "2",
        "CSBOT_TRAINER_TOKEN": "trainer-token-123",
        "CSBOT_STORE": "postgresql://csbot:secret@db.example/csbot",
    }
    s = load_settings(env=env)
    assert (s.home, s.corpus_dir, s.index_dir, s.data_dir) == tuple(
        tmp_path / name for name in ("home", "corpus", "index", "data")
    )
    assert (s.model, s.query_prefix, s.passage_prefix) == ("fake", "q: ", "p: ")
    assert (s.top_k, s.candidates, s.rrf_k, s.fusion, s.bm25_weight) == (7, 80, 10, "rrf", 0.25)
    assert (s.max_question_chars, s.log_questions, s.request_threads) == (20, False, 2)
    assert s.trainer_token == "trainer-token-123" and s.query_adapter is False and s.rerank is False
    assert s.asked is False and s.span_model is False
    assert s.store == "postgresql://csbot:secret@db.example/csbot" and "secret" not in repr(s)
    named = {f.metadata["env"] for f in fields(Settings) if "env" in f.metadata}
    assert named == set(env)  # a new setting with a variable needs a line here


def test_the_process_environment_is_the_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CSBOT_TOP_K", "9")
    assert load_settings().top_k == 9


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("1", True),
        ("TRUE", True),
        ("yes", True),
        ("on", True),
        ("0", False),
        ("false", False),
        ("No", False),
        (" off ", False),
    ],
)
def test_flags(raw: str, expected: bool) -> None:
    assert load_settings(env={"CSBOT_LOG_QUESTIONS": raw}).log_questions is expected


def test_blank_numbers_and_paths_keep_the_default_but_a_blank_prefix_is_none() -> None:
    blank = {"CSBOT_TOP_K": "", "CSBOT_BM25_WEIGHT": " ", "CSBOT_DATA": "", "CSBOT_LOG_QUESTIONS": ""}
    assert load_settings(env=blank) == Settings()
    s = load_settings(env={"CSBOT_QUERY_PREFIX": "", "CSBOT_PASSAGE_PREFIX": ""})
    assert (s.query_prefix, s.passage_prefix) == ("", "")


@pytest.mark.parametrize(
    ("model", "prefixes"),
    [
        ("BAAI/bge-small-zh-v1.5", KNOWN_PREFIXES["BAAI/bge-small-zh-v1.5"]),
        ("fake", ("", "")),
        ("some/other-model", ("", "")),
    ],
)
def test_prefixes_follow_the_model(model: str, prefixes: tuple[str, str]) -> None:
    from_env = load_settings(env={"CSBOT_MODEL": model})
    from_override = load_settings(env={}, model=model)  # `csbot build --model X`
    assert (from_env.query_prefix, from_env.passage_prefix) == prefixes
    assert (from_override.query_prefix, from_override.passage_prefix) == prefixes
    given = load_settings(env={"CSBOT_MODEL": model, "CSBOT_QUERY_PREFIX": "mine: "})
    assert given.query_prefix == "mine: " and given.passage_prefix == prefixes[1]


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"CSBOT_TOP_K": "abc"}, "CSBOT_TOP_K must be an integer, got 'abc'"),
        ({"CSBOT_CANDIDATES": "5.0"}, "CSBOT_CANDIDATES must be an integer, got '5.0'"),
        ({"CSBOT_RRF_K": "sixty"}, "CSBOT_RRF_K must be an integer, got 'sixty'"),
        ({"CSBOT_MAX_QUESTION_CHARS": "1e3"}, "CSBOT_MAX_QUESTION_CHARS must be an integer, got '1e3'"),
        ({"CSBOT_REQUEST_THREADS": "many"}, "CSBOT_REQUEST_THREADS must be an integer, got 'many'"),
        ({"CSBOT_TOP_K": "0"}, "CSBOT_TOP_K must be at least 1, got 0"),
        ({"CSBOT_CANDIDATES": "-3"}, "CSBOT_CANDIDATES must be at least 1, got -3"),
        ({"CSBOT_RRF_K": "0"}, "CSBOT_RRF_K must be at least 1, got 0"),
        ({"CSBOT_MAX_QUESTION_CHARS": "0"}, "CSBOT_MAX_QUESTION_CHARS must be at least 1, got 0"),
        ({"CSBOT_REQUEST_THREADS": "0"}, "CSBOT_REQUEST_THREADS must be at least 1, got 0"),
        ({"CSBOT_BM25_WEIGHT": "half"}, "CSBOT_BM25_WEIGHT must be a number, got 'half'"),
        ({"CSBOT_BM25_WEIGHT": "1.5"}, "CSBOT_BM25_WEIGHT must be a number from 0 to 1, got 1.5"),
        ({"CSBOT_BM25_WEIGHT": "-0.1"}, "CSBOT_BM25_WEIGHT must be a number from 0 to 1, got -0.1"),
        ({"CSBOT_BM25_WEIGHT": "nan"}, "CSBOT_BM25_WEIGHT must be a number from 0 to 1, got nan"),
        ({"CSBOT_BM25_WEIGHT": "inf"}, "CSBOT_BM25_WEIGHT must be a number from 0 to 1, got inf"),
        ({"CSBOT_FUSION": "magic"}, "CSBOT_FUSION must be 'convex' or 'rrf', got 'magic'"),
        ({"CSBOT_FUSION": ""}, "CSBOT_FUSION must be 'convex' or 'rrf', got ''"),
        (
            {"CSBOT_LOG_QUESTIONS": "maybe"},
            "CSBOT_LOG_QUESTIONS must be 1 or 0 (or true/false, yes/no, on/off), got 'maybe'",
        ),
        ({"CSBOT_MODEL": " "}, "CSBOT_MODEL is empty; unset it for multilingual-e5-small, or name a model"),
    ],
)
def test_bad_values_are_one_clear_line(env: dict[str, str], message: str) -> None:
    with pytest.raises(SettingsError) as raised:
        load_settings(env=env)
    assert str(raised.value) == message
    assert isinstance(raised.value, CsbotError)  # so the CLI prints it as one line


def test_overrides_win_and_are_checked_too(tmp_path: Path) -> None:
    s = load_settings(
        env={"CSBOT_TOP_K": "7", "CSBOT_MODEL": "fake"}, top_k=3, index_dir=tmp_path, show_progress=True
    )
    assert (s.top_k, s.index_dir, s.show_progress, s.model) == (3, tmp_path, True, "fake")
    with pytest.raises(SettingsError, match="CSBOT_TOP_K must be at least 1, got 0"):
        load_settings(env={}, top_k=0)
    with pytest.raises(SettingsError, match="CSBOT_FUSION"):
        replace(s, fusion="max")
    with pytest.raises(TypeError):
        load_settings(env={}, no_such_setting=1)
