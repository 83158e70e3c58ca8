"""add/remove against kill -9 and SIGTERM: afterwards the corpus and the index are either
both as before or both as after, and answering works without a rebuild (issue 14, item 3)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from csbot.index.manifest import read_manifest
from csbot.index.store import open_store, recover
from csbot.ingest.corpus import load_corpus
from csbot.ingest.journal import JOURNAL
from csbot.serve.assistant import Assistant
from csbot.settings import Settings

NOTES = "客户服务礼仪要点\n接听电话应在铃响三声之内，并主动问候客户，报出单位名称。\n"

# Runs an add or remove in its own process and kills it at the chosen moment.
KILLED_CHANGE = """
import os, signal, sys
from pathlib import Path
import numpy as np
import csbot.index.local as local
from csbot.embed.fake import HashEmbedder
from csbot.index.build import build_index
from csbot.index.store import open_store
from csbot.ingest.documents import add_documents, remove_document
from csbot.settings import load_settings

moment, op, arg = sys.argv[1:4]
settings = load_settings()
die = lambda: os.kill(os.getpid(), signal.SIGKILL)
if moment == "mid-build":  # inside the store's write, its build directory half full
    local.np = type("np", (), {"save": staticmethod(lambda *a, **k: die())})

def rebuild():
    if moment == "before-rebuild":
        die()
    build_index(settings, HashEmbedder())
    if moment == "after-switch":
        die()

hashes = open_store(settings).corpus_hash
if op == "add":
    add_documents(settings.corpus_dir, [Path(arg)], rebuild, hashes)
else:
    remove_document(settings.corpus_dir, arg, rebuild, hashes)
"""


def _killed(settings: Settings, moment: str, op: str, arg: str) -> None:
    run = subprocess.run(
        [sys.executable, "-c", KILLED_CHANGE, moment, op, arg], capture_output=True, text=True
    )
    assert run.returncode == -signal.SIGKILL, run.stderr


def _state(settings: Settings) -> tuple[list[str], list[str]]:
    """(documents of the corpus, documents of the index) once a reader has loaded the index."""
    assistant = Assistant(settings)
    assert assistant.ask("接听电话应在铃响几声之内?", mode="bm25").citations
    return [d.doc_id for d in load_corpus(settings.corpus_dir).documents], list(
        assistant.manifest["documents"]
    )


@pytest.mark.parametrize("moment", ["before-rebuild", "mid-build"])
def test_add_killed_before_the_switch_is_undone(fake_index: Settings, tmp_path: Path, moment: str) -> None:
    before = _state(fake_index)
    notes = tmp_path / "notes.txt"
    notes.write_text(NOTES, encoding="utf-8")
    _killed(fake_index, moment, "add", str(notes))
    assert (fake_index.corpus_dir / JOURNAL).exists()  # what the kill left…
    assert _state(fake_index) == before  # …undone by the next reader, no rebuild needed
    assert not (fake_index.corpus_dir / "notes.txt").exists()
    assert not (fake_index.corpus_dir / JOURNAL).exists()
    leftovers = [p.name for p in fake_index.index_dir.parent.iterdir() if p.name.startswith(".index-")]
    assert leftovers == []  # the killed build's directory is gone too


def test_add_killed_after_the_switch_is_finished(fake_index: Settings, tmp_path: Path) -> None:
    notes = tmp_path / "notes.txt"
    notes.write_text(NOTES, encoding="utf-8")
    _killed(fake_index, "after-switch", "add", str(notes))
    corpus_docs, index_docs = _state(fake_index)
    assert corpus_docs == index_docs and corpus_docs[-1] == "notes"
    assert not (fake_index.corpus_dir / JOURNAL).exists()


@pytest.mark.parametrize(("moment", "kept"), [("before-rebuild", True), ("after-switch", False)])
def test_remove_killed_is_undone_or_finished(fake_index: Settings, moment: str, kept: bool) -> None:
    raw = fake_index.corpus_dir / "cs-management-basics-notes.txt"
    content = raw.read_bytes()
    _killed(fake_index, moment, "remove", "basics-notes")
    corpus_docs, index_docs = _state(fake_index)
    assert corpus_docs == index_docs
    assert ("basics-notes" in corpus_docs) is kept
    assert (raw.read_bytes() == content) if kept else not raw.exists()
    assert [p.name for p in fake_index.corpus_dir.iterdir() if p.name.startswith(".csbot-removed")] == []


def test_sigterm_during_add_undoes_it_like_ctrl_c(fake_index: Settings, tmp_path: Path) -> None:
    notes = tmp_path / "notes.txt"
    notes.write_text(NOTES, encoding="utf-8")
    script = (
        "import os, signal, sys, time\n"
        "import csbot.index.build as build\n"
        "def slow(*a, **k):\n"
        "    os.kill(os.getpid(), signal.SIGTERM)\n"
        "    time.sleep(30)\n"
        "build.build_index = slow\n"
        "from csbot.serve.cli import main\n"
        f"sys.argv = ['csbot', 'add', {str(notes)!r}]\n"
        "main()\n"
    )
    before = (fake_index.corpus_dir / "corpus.toml").read_text(encoding="utf-8")
    run = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert run.returncode == 130, run.stderr
    assert (fake_index.corpus_dir / "corpus.toml").read_text(encoding="utf-8") == before
    assert not (fake_index.corpus_dir / "notes.txt").exists()
    assert not (fake_index.corpus_dir / JOURNAL).exists()


def test_a_swap_killed_between_its_renames_is_put_back(fake_index: Settings) -> None:
    """The old index set aside, the new one not yet in place: the next reader restores the old."""
    gone = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True
    )
    dead_pid = int(gone.stdout)
    aside = fake_index.index_dir.with_name(f".{fake_index.index_dir.name}-old-{dead_pid}-1")
    fake_index.index_dir.rename(aside)
    half = fake_index.index_dir.with_name(f".{fake_index.index_dir.name}-build-{dead_pid}-x")
    half.mkdir()
    done = recover(fake_index)
    assert len(done) == 2 and read_manifest(fake_index.index_dir)["passage_count"] > 0
    assert not aside.exists() and not half.exists()


def test_a_live_build_directory_is_left_alone(fake_index: Settings) -> None:
    mine = fake_index.index_dir.with_name(f".{fake_index.index_dir.name}-build-{os.getpid()}-x")
    mine.mkdir()
    assert open_store(fake_index).tidy() == [] and mine.exists()
