"""What the command line prints: answers with their citations, and the trainer's gap lists."""

from __future__ import annotations

import json
from pathlib import Path

import typer

from csbot.records import Answer
from csbot.serve.question_log import GapGroup, Unhelpful


def print_answer(answer: Answer) -> None:
    typer.echo(f"问: {answer.question}")
    if answer.choice:
        for letter, text in answer.choice["options"].items():
            mark = "✔" if letter in answer.choice["suggested"] else " "
            typer.echo(f"  {mark} {letter}. {text}")
    if answer.answer is None:
        typer.echo(f"答: ({answer.message})")
    else:
        c = answer.citations[(answer.answer_citation or 1) - 1]
        lines = answer.answer_lines or (c.line_start, c.line_end)
        if answer.outcome == "likely":  # shown, but marked as uncertain
            typer.echo(f"答(可能，置信度 {answer.confidence:.2f}): {answer.answer}")
            typer.echo(f"    ({answer.message})")
        else:
            typer.echo(f"答: {answer.answer}")
        typer.echo(f"    —— {c.title} › {c.section.split(' › ', 1)[-1]} (lines {lines[0]}-{lines[1]})")
    typer.echo("")
    for c in answer.citations:
        excerpt = c.text if len(c.text) <= 160 else c.text[:160] + "…"
        typer.echo(
            f"[{c.rank}] {c.doc_id} | {c.section} | lines {c.line_start}-{c.line_end} | score {c.score:.4f}"
        )
        typer.echo("    " + excerpt.replace("\n", "\n    "))
    if answer.explain:
        typer.echo(json.dumps(answer.explain, ensure_ascii=False, indent=1))
    typer.echo("")


def print_gaps(count: int, path: Path, groups: list[GapGroup], marks: list[Unhelpful]) -> None:
    """What ``csbot gaps`` prints: the unanswered questions grouped, then the unhelpful marks."""
    typer.echo(f"{count} questions logged in {path}")
    typer.echo("\nMost asked without a confident answer:")
    for g in groups:
        others = [v for v in g.variants if v != g.question]
        typer.echo(
            f"  {g.count:>4} × {g.question}" + (f"   (also: {' / '.join(others[:3])})" if others else "")
        )
    if not groups:
        typer.echo("  (none)")
    typer.echo("\nAnswers marked not helpful:")
    for m in marks:
        typer.echo(
            f"  {m.marked_at}  {m.question}  [top: {m.top_doc or '-'}]"
            + (f"  “{m.comment}”" if m.comment else "")
        )
    if not marks:
        typer.echo("  (none)")
