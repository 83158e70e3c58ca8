"""The word lists and text files csbot ships in ``csbot/data``."""

from __future__ import annotations

from importlib import resources


def data_lines(name: str) -> list[str]:
    """The non-empty lines of the data file ``name``, stripped, in order; a line starting
    with ``#`` is a note, not an entry."""
    text = resources.files("csbot.data").joinpath(name).read_text(encoding="utf-8")
    return [line.strip() for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")]
