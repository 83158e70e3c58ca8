"""The corpus manifest: what it lists, the raw files, the content hash, clear errors."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from conftest import CORPUS
from csbot.errors import CorpusError, UnknownDocumentError
from csbot.ingest.corpus import load_corpus


def test_the_manifest_lists_five_documents_with_their_raw_lines() -> None:
    corpus = load_corpus(CORPUS)
    assert len(corpus.documents) == 5
    for info in corpus.documents:
        assert corpus.raw_path(info).is_file()
        assert corpus.raw_lines(info)  # raw lines, verbatim
    assert corpus.get("basics-notes").script == "simplified"


def test_unknown_document_is_a_clear_error() -> None:
    with pytest.raises(UnknownDocumentError, match="no-such-doc"):
        load_corpus(CORPUS).get("no-such-doc")


def test_content_hash_changes_with_a_raw_file(tmp_path: Path) -> None:
    shutil.copytree(CORPUS, tmp_path / "corpus")
    before = load_corpus(tmp_path / "corpus").content_hash()
    assert before == load_corpus(CORPUS).content_hash()
    raw = tmp_path / "corpus" / load_corpus(tmp_path / "corpus").documents[0].file
    raw.write_text(raw.read_text(encoding="utf-8") + "\n补一行", encoding="utf-8")
    assert load_corpus(tmp_path / "corpus").content_hash() != before


def test_missing_or_malformed_manifest_says_what_is_wrong(tmp_path: Path) -> None:
    with pytest.raises(CorpusError):
        load_corpus(tmp_path)  # no corpus.toml
    (tmp_path / "corpus.toml").write_text("[[documents]]\ndoc_id = \n", encoding="utf-8")
    with pytest.raises(CorpusError):
        load_corpus(tmp_path)
