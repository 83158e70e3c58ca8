"""The word lists and text files csbot ships in ``csbot/data``."""

from __future__ import annotations

import re
from collections.abc import Callable
from importlib import resources
from pathlib import Path
from typing import TypeVar

T = TypeVar("T")


def data_lines(name: str) -> list[str]:
    """The non-empty lines of the data file ``name``, stripped, in order; a line starting
    with ``#`` is a note, not an entry."""
    text = resources.files("csbot.data").joinpath(name).read_text(encoding="utf-8")
    return [line.strip() for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")]


def model_file(template: str, model: str) -> str:
    """The name of a per-model data file: ``template`` with ``{model}`` filled in, a model
    path's slashes (and anything else a file name should not hold) turned into underscores.

    >>> model_file("adapter-{model}.npz", "BAAI/bge-small-zh")
    'adapter-BAAI_bge-small-zh.npz'
    """
    return template.format(model=re.sub(r"[^\w.-]", "_", model))


def read_shipped(name: str, read: Callable[[Path], T]) -> T | None:
    """``read`` of the data file ``name`` shipped in ``csbot/data``, or None when there is none."""
    resource = resources.files("csbot.data").joinpath(name)
    if not resource.is_file():
        return None
    with resources.as_file(resource) as path:
        return read(path)
