"""What the command line prints: answers with their citations, and the trainer's gap lists.

Everything goes through :func:`say`, which shows control characters from a student's
question or a corpus file as visible escapes (``\\x1b``): text someone else wrote must not
clear the trainer's screen, set the window title or colour the terminal. A one-line field
(a logged question in ``csbot gaps``) has its line breaks escaped too (:func:`one_line`),
so it cannot forge extra lines.
"""

from __future__ import annotations

import json
import logging
import re
import unicodedata
from pathlib import Path

import typer

from csbot.errors import SettingsError
from csbot.records import Answer
from csbot.serve.question_log import GapGroup, Unhelpful

# C1 controls and the bidirectional overrides are not escaped by json.dumps.
_JSON_UNSAFE = re.compile("[\x80-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def _escape(char: str) -> str:
    code = ord(char)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def visible(text: str, keep_newlines: bool = True) -> str:
    r"""``text`` with every control or format character but a line break (and, with
    ``keep_newlines=False``, line breaks too) shown as an escape.

    >>> visible("客户\x1b[2J服务"), visible("a\nb"), visible("a\nb", keep_newlines=False)
    ('客户\\x1b[2J服务', 'a\nb', 'a\\x0ab')
    """
    return "".join(
        _escape(c) if unicodedata.category(c) in ("Cc", "Cf") and not (keep_newlines and c == "\n") else c
        for c in text
    )


def one_line(text: str) -> str:
    """A field that must stay on its line: line breaks escaped as well."""
    return visible(text, keep_newlines=False)


def say(message: str = "", err: bool = False) -> None:
    """Print ``message`` with control characters made visible (see the module docstring)."""
    typer.echo(visible(message), err=err)


def say_json(data: object, indent: int | None = None, default: object = None) -> None:
    """One JSON object on one line; characters that could steer a terminal are ``\\u`` escapes."""
    text = json.dumps(data, ensure_ascii=False, indent=indent, default=default)  # type: ignore[arg-type]
    typer.echo(_JSON_UNSAFE.sub(lambda m: f"\\u{ord(m.group()):04x}", text))


def print_answer(answer: Answer) -> None:
    say(f"问: {one_line(answer.question)}")
    if answer.choice:
        for letter, text in answer.choice["options"].items():
            mark = "✔" if letter in answer.choice["suggested"] else " "
            say(f"  {mark} {letter}. {text}")
    if answer.answer is None:
        say(f"答: ({answer.message})")
    else:
        c = answer.citations[(answer.answer_citation or 1) - 1]
        lines = answer.answer_lines or (c.line_start, c.line_end)
        if answer.outcome == "likely":  # shown, but marked as uncertain
            say(f"答(可能，置信度 {answer.confidence:.2f}): {answer.answer}")
            say(f"    ({answer.message})")
        else:
            say(f"答: {answer.answer}")
        say(f"    —— {c.title} › {c.section.split(' › ', 1)[-1]} (lines {lines[0]}-{lines[1]})")
    say("")
    for c in answer.citations:
        excerpt = c.text if len(c.text) <= 160 else c.text[:160] + "…"
        say(f"[{c.rank}] {c.doc_id} | {c.section} | lines {c.line_start}-{c.line_end} | score {c.score:.4f}")
        say("    " + excerpt.replace("\n", "\n    "))
    if answer.explain:
        say(json.dumps(answer.explain, ensure_ascii=False, indent=1))
    say("")


def print_gaps(
    count: int, path: Path | str, groups: list[GapGroup], marks: list[Unhelpful], off_topic: int = 0
) -> None:
    """What ``csbot gaps`` prints: the unanswered questions grouped, then the unhelpful marks."""
    say(f"{count} questions logged in {path}")
    if off_topic:
        say(f"{off_topic} of them looked off topic (nothing to do with the course): not listed below")
    say("\nMost asked without a confident answer:")
    for g in groups:
        others = [v for v in g.variants if v != g.question]
        say(
            f"  {g.count:>4} × {one_line(g.question)}"
            + (f"   (also: {' / '.join(one_line(o) for o in others[:3])})" if others else "")
        )
    if not groups:
        say("  (none)")
    say("\nAnswers marked not helpful:")
    for m in marks:
        say(
            f"  {m.marked_at}  {one_line(m.question)}  [top: {one_line(m.top_doc or '-')}]"
            + (f"  “{one_line(m.comment)}”" if m.comment else "")
        )
    if not marks:
        say("  (none)")


def configure_logging(raw: str) -> None:
    """Log records at the level ``CSBOT_LOG`` names (``raw``; default WARNING) to stderr."""
    if (level := raw.strip().upper() or "WARNING") not in logging.getLevelNamesMapping():
        raise SettingsError(f"CSBOT_LOG must be DEBUG, INFO, WARNING or ERROR, got {raw!r}")
    handler = logging.StreamHandler()
    handler.setLevel(level)  # on the handler: bm25s sets its own logger to DEBUG on import
    handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    logging.basicConfig(level=level, handlers=[handler])
