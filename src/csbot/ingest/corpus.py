"""The corpus: its manifest (``corpus.toml``), the raw files, and a hash of both."""

from __future__ import annotations

import hashlib
import tomllib
from dataclasses import dataclass
from pathlib import Path

from csbot.errors import CorpusError, UnknownDocumentError
from csbot.records import DocumentInfo

MANIFEST = "corpus.toml"
KINDS = ("study-notes", "exam-questions", "occupational-standard", "exam-syllabus", "textbook")
SCRIPTS = ("simplified", "traditional")


@dataclass(frozen=True)
class Corpus:
    """The documents of ``corpus_dir`` as its manifest lists them."""

    root: Path
    documents: tuple[DocumentInfo, ...]

    def get(self, doc_id: str) -> DocumentInfo:
        for info in self.documents:
            if info.doc_id == doc_id:
                return info
        known = ", ".join(d.doc_id for d in self.documents)
        raise UnknownDocumentError(f"unknown document {doc_id!r}; known: {known}")

    def raw_path(self, info: DocumentInfo) -> Path:
        return self.root / info.file

    def read_raw(self, info: DocumentInfo) -> str:
        """The raw file as text (UTF-8, a BOM dropped), line endings untouched."""
        path = self.raw_path(info)
        try:
            return path.read_bytes().decode("utf-8-sig")
        except FileNotFoundError as exc:
            raise CorpusError(f"{path} is listed in {MANIFEST} but missing") from exc
        except UnicodeDecodeError as exc:
            raise CorpusError(f"{path} is not UTF-8 text") from exc

    def raw_lines(self, info: DocumentInfo) -> list[str]:
        """Raw lines, 1-based line N at index N-1, split on ``\\n`` only (as editors number them)."""
        lines = self.read_raw(info).split("\n")
        if lines and lines[-1] == "":
            lines.pop()
        return [line.rstrip("\r") for line in lines]

    def content_hash(self) -> str:
        """SHA-256 over the manifest and every raw file: changes when any of them does."""
        digest = hashlib.sha256()
        digest.update((self.root / MANIFEST).read_bytes())
        for info in self.documents:
            digest.update(info.doc_id.encode())
            digest.update(self.raw_path(info).read_bytes())
        return digest.hexdigest()


def load_corpus(root: Path) -> Corpus:
    """Read and check ``root/corpus.toml``.

    Raises:
        CorpusError: the manifest is missing, unreadable, or an entry is incomplete.
    """
    path = root / MANIFEST
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise CorpusError(f"no corpus manifest at {path}") from exc
    except tomllib.TOMLDecodeError as exc:
        raise CorpusError(f"{path} is not valid TOML: {exc}") from exc
    docs: list[DocumentInfo] = []
    seen: set[str] = set()
    for i, entry in enumerate(data.get("documents", []), start=1):
        missing = [k for k in ("doc_id", "file", "title", "kind", "script") if not entry.get(k)]
        if missing:
            raise CorpusError(f"{path}: document #{i} lacks {', '.join(missing)}")
        if entry["doc_id"] in seen:
            raise CorpusError(f"{path}: doc_id {entry['doc_id']!r} appears twice")
        if entry["kind"] not in KINDS:
            raise CorpusError(f"{path}: {entry['doc_id']}: kind must be one of {', '.join(KINDS)}")
        if entry["script"] not in SCRIPTS:
            raise CorpusError(f"{path}: {entry['doc_id']}: script must be one of {SCRIPTS}")
        seen.add(entry["doc_id"])
        docs.append(
            DocumentInfo(
                doc_id=entry["doc_id"],
                file=entry["file"],
                title=entry["title"],
                kind=entry["kind"],
                level=entry.get("level", ""),
                script=entry["script"],
                url=entry.get("url", ""),
                notes=entry.get("notes", ""),
            )
        )
    if not docs:
        raise CorpusError(f"{path} lists no documents")
    return Corpus(root=root, documents=tuple(docs))
