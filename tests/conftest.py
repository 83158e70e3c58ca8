"""Shared fixtures: every test's disk state lives under tmp_path."""

from __future__ import annotations

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
        "CSBOT_MODEL": "fake",
        "HF_HUB_OFFLINE": "1",
    }.items():
        monkeypatch.setenv(key, value)
    return load_settings()


@pytest.fixture
def fake_index(env: Settings) -> Settings:
    """The real corpus indexed with the fake embedder."""
    build_index(env, HashEmbedder())
    return env
