"""Adding a trainer's document to the corpus (and removing one), with the index rebuilt.

Text is extracted with well-kept libraries — python-docx, pypdf, Beautiful Soup — and text
files in GB18030/GBK or Big5 are detected with charset-normalizer. The corpus keeps the
extracted text as UTF-8 (its line numbers are what citations point at). A file that cannot be
read is refused before anything is written; a change and its rebuild are one recoverable
step (:mod:`csbot.ingest.journal`).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

from csbot.errors import CorpusError
from csbot.ingest.corpus import KINDS, Corpus, load_corpus
from csbot.ingest.journal import IndexHash, corpus_change
from csbot.records import DocumentInfo
from csbot.text.normalise import is_cjk, to_simplified

FORMATS = (".txt", ".md", ".html", ".htm", ".docx", ".pdf")
# Encodings a Chinese trainer's text file is likely to be in, besides UTF-8.
CJK_ENCODINGS = ["gb18030", "big5", "utf_16"]


def decode_text(data: bytes, name: str) -> str:
    """Bytes of a text file → str: UTF-8 (BOM or not), else the best of GB18030 / Big5 / UTF-16."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    from charset_normalizer import from_bytes

    best = from_bytes(data, cp_isolation=CJK_ENCODINGS).best()
    if best is None:
        raise CorpusError(f"{name}: not readable as UTF-8, GB18030/GBK or Big5 text")
    return str(best)


def document_text(path: Path) -> str:
    """The text of ``path`` (one of :data:`FORMATS`), or :class:`CorpusError` saying why not."""
    suffix = path.suffix.lower()
    if suffix not in FORMATS:
        raise CorpusError(
            f"{path.name}: unsupported format {suffix or '(none)'}; use one of {', '.join(FORMATS)}"
        )
    if path.is_symlink() or not path.is_file():  # a link to /etc/shadow, a device, a directory
        what = "a symbolic link" if path.is_symlink() else "not a regular file"
        raise CorpusError(f"{path}: {what}; add the document itself (csbot copies regular files only)")
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise CorpusError(f"cannot read {path}: {exc.strerror}") from exc
    try:
        if suffix in (".txt", ".md"):
            text = decode_text(data, path.name)
        elif suffix in (".html", ".htm"):
            from bs4 import BeautifulSoup

            soup = BeautifulSoup(decode_text(data, path.name), "html.parser")
            for tag in soup(["script", "style", "noscript"]):
                tag.decompose()
            text = soup.get_text("\n")
        elif suffix == ".docx":
            import docx

            document = docx.Document(str(path))
            text = "\n".join(p.text for p in document.paragraphs)
        else:
            from pypdf import PdfReader

            text = "\n".join(page.extract_text() or "" for page in PdfReader(str(path)).pages)
    except CorpusError:
        raise
    except Exception as exc:  # each library has its own errors for a damaged file
        raise CorpusError(f"{path.name}: cannot extract text ({type(exc).__name__}: {exc})") from exc
    text = "\n".join(line.rstrip() for line in text.replace("\r\n", "\n").replace("\r", "\n").split("\n"))
    text = re.sub(r"\n{3,}", "\n\n", text).strip()
    if sum(1 for c in text if c.isalnum()) < 20:
        raise CorpusError(f"{path.name}: no text found (a scanned PDF or an empty file?)")
    return text + "\n"


def infer_kind(title: str, text: str) -> str:
    head = title + text[:300]
    for kind, pattern in (
        ("exam-questions", r"试题|题库|练习题|真题|模拟题|考试题"),
        ("exam-syllabus", r"大纲"),
        ("occupational-standard", r"职业标准"),
        ("textbook", r"教程|教材"),
    ):
        if re.search(pattern, to_simplified(head)):
            return kind
    return "study-notes"


def infer_level(title: str, text: str) -> str:
    found = re.findall(r"[一二三]级", to_simplified(title + text[:500]))
    return found[0] if found else ""


def infer_script(text: str) -> str:
    cjk = [c for c in text[:5000] if is_cjk(c)]
    if not cjk:
        return "simplified"
    changed = sum(1 for c in cjk if to_simplified(c) != c)
    return "traditional" if changed / len(cjk) > 0.05 else "simplified"


def _slug(name: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")
    return slug or "document"


def _toml_str(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", " ") + '"'


def add_documents(
    corpus_dir: Path,
    files: list[Path],
    rebuild: Callable[[], object],
    index_hash: IndexHash,
    title: str | None = None,
    kind: str | None = None,
    level: str | None = None,
) -> list[DocumentInfo]:
    """Extract ``files`` into the corpus, list them in the manifest and call ``rebuild``.

    Everything is read and checked before anything is written. The change is one
    recoverable step (:mod:`csbot.ingest.journal`): an error, Ctrl-C or SIGTERM undoes it;
    after a kill, the next csbot command finishes or undoes it, by whether the index was
    switched.
    """
    if kind is not None and kind not in KINDS:
        raise CorpusError(f"--kind must be one of {', '.join(KINDS)}")
    with corpus_change(corpus_dir, index_hash) as change:
        planned = _plan(load_corpus(corpus_dir), corpus_dir, files, title, kind, level)
        blocks = "".join(
            "\n[[documents]]\n"
            + "".join(
                f"{k} = {_toml_str(getattr(d, k))}\n"
                for k in ("doc_id", "file", "title", "kind", "level", "script", "url", "notes")
            )
            for d, _ in planned
        )
        for doc, text in planned:
            change.add_file(doc.file, text)
        change.write_manifest(change.manifest_before.rstrip("\n") + "\n" + blocks)
        rebuild()
    return [d for d, _ in planned]


def _plan(
    corpus: Corpus,
    corpus_dir: Path,
    files: list[Path],
    title: str | None,
    kind: str | None,
    level: str | None,
) -> list[tuple[DocumentInfo, str]]:
    """Read every file and choose its manifest entry (a free doc_id from its name)."""
    taken_ids = {d.doc_id for d in corpus.documents}
    taken_files = {p.name for p in corpus_dir.iterdir()}
    planned: list[tuple[DocumentInfo, str]] = []
    for path in files:
        text = document_text(path)
        first_line = next((line.strip() for line in text.split("\n") if line.strip()), path.stem)
        doc_title = title if title and len(files) == 1 else first_line[:60]
        base = _slug(path.stem)
        doc_id, n = base, 2
        while doc_id in taken_ids or f"{doc_id}.txt" in taken_files:
            doc_id, n = f"{base}-{n}", n + 1
        taken_ids.add(doc_id)
        taken_files.add(f"{doc_id}.txt")
        doc = DocumentInfo(
            doc_id=doc_id,
            file=f"{doc_id}.txt",
            title=doc_title,
            kind=kind or infer_kind(doc_title, text),
            level=level if level is not None else infer_level(doc_title, text),
            script=infer_script(text),
            notes=f"added with csbot add from {path.name}",
        )
        planned.append((doc, text))
    return planned


def remove_document(
    corpus_dir: Path, doc_id: str, rebuild: Callable[[], object], index_hash: IndexHash
) -> str:
    """Take ``doc_id`` out of the manifest and the corpus, then ``rebuild``; one recoverable
    step like :func:`add_documents`."""
    with corpus_change(corpus_dir, index_hash) as change:
        corpus = load_corpus(corpus_dir)
        info = corpus.get(doc_id)
        if len(corpus.documents) == 1:
            raise CorpusError("cannot remove the last document of the corpus")
        head, *blocks = re.split(r"(?m)^(?=\[\[documents\]\])", change.manifest_before)
        kept = [b for b in blocks if not re.search(rf'(?m)^doc_id\s*=\s*"{re.escape(doc_id)}"\s*$', b)]
        change.put_aside(info.file)
        change.write_manifest(head + "".join(kept))
        rebuild()
    return info.title
