"""Shared fixtures: every test's disk state lives under tmp_path."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from csbot.embedder import HashEmbedder
from csbot.index_store import build_index
from csbot.settings import Settings, load_settings

REPO = Path(__file__).resolve().parents[1]
CORPUS = REPO / "corpus"


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Settings:
    """Point csbot's home, corpus and index at tmp_path (a copy of the real corpus), fake model."""
    corpus = tmp_path / "corpus"
    shutil.copytree(CORPUS, corpus)
    for key, value in {
        "CSBOT_HOME": str(tmp_path / "home"),
        "CSBOT_CORPUS": str(corpus),
        "CSBOT_INDEX": str(tmp_path / "index"),
        "CSBOT_DATA": str(tmp_path / "data"),
        "CSBOT_MODEL": "fake",
        "HF_HUB_OFFLINE": "1",
    }.items():
        monkeypatch.setenv(key, value)
    return load_settings()


@pytest.fixture(scope="session")
def real(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """The default model prepared into a temporary home, the real corpus indexed with it."""
    root = tmp_path_factory.mktemp("real")
    shutil.copytree(CORPUS, root / "corpus")
    env = {
        "CSBOT_HOME": str(root / "home"),
        "CSBOT_CORPUS": str(root / "corpus"),
        "CSBOT_INDEX": str(root / "index"),
        "CSBOT_DATA": str(root / "data"),
        "CSBOT_MODEL": "multilingual-e5-small",
    }
    settings = load_settings(env={**os.environ, **env})
    from csbot.embedder import make_embedder
    from csbot.model_prep import prepare_default_model

    prepare_default_model(settings)
    build_index(settings, make_embedder(settings))
    return settings


@pytest.fixture
def fake_index(env: Settings) -> Settings:
    """The real corpus indexed with the fake embedder."""
    build_index(env, HashEmbedder())
    return env
