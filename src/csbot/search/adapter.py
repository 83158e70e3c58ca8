"""A learned query adapter: how students word the points they ask about, from labelled questions.

The dense search compares a question's vector with passage vectors the model made without
knowing this material. ``csbot calibrate`` fits a small correction on the development
split's labelled questions (:mod:`csbot.reports.adapt`): a low-rank map ``q ↦ q + q·D·U``,
renormalised, that moves a question's vector towards the passages questions like it are
answered by. It is a query-side transform only: passages, the index and BM25 are untouched,
and a model without a fitted adapter searches as before.

The file holds one map fitted on all labelled questions (what ``ask`` uses) and one per
cross-validation fold fitted without that fold (what ``csbot eval`` and ``csbot calibrate``
use for a development question of the fold), so development figures stay out-of-sample.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import numpy as np

from csbot.datafiles import model_file, read_shipped
from csbot.errors import CsbotError

ADAPTER_FILE = "adapter-{model}.npz"
FOLDS = 5
REMEDY = "run csbot calibrate to fit it again, or set CSBOT_QUERY_ADAPTER=0 to search without it"


class AdapterError(CsbotError):
    """A shipped adapter file that cannot be read."""


def fold_of(qid: str, group: str | None = None) -> int:
    """The cross-validation fold of a labelled question: wordings of one question share it.

    >>> fold_of("d01"), fold_of("v001", "g01") == fold_of("v002", "g01")
    (0, True)
    """
    return hashlib.sha256((group or qid).encode()).digest()[1] % FOLDS


@dataclass(frozen=True)
class QueryAdapter:
    """``down`` (maps × d × r) and ``up`` (maps × r × d): map 0 is fitted on every labelled
    question, map ``k + 1`` without fold ``k``."""

    model: str
    down: np.ndarray
    up: np.ndarray
    report: dict[str, object]

    def __post_init__(self) -> None:
        if self.down.ndim != 3 or self.up.shape != (
            self.down.shape[0],
            self.down.shape[2],
            self.down.shape[1],
        ):
            raise AdapterError(
                f"adapter for {self.model}: shapes {self.down.shape} and {self.up.shape} disagree"
            )

    @property
    def dim(self) -> int:
        return int(self.down.shape[1])

    def apply(self, vector: np.ndarray, held_out: int | None = None) -> np.ndarray:
        """``vector`` (1 × d, unit length) moved by the map, unit length again; with
        ``held_out``, the map fitted without that fold."""
        i = 0 if held_out is None else held_out + 1
        moved = vector + (vector @ self.down[i]) @ self.up[i]
        moved = moved / np.linalg.norm(moved, axis=1, keepdims=True)
        out = np.ascontiguousarray(moved, dtype=np.float32)
        out.flags.writeable = False
        return out

    def save(self, path: Path) -> None:
        """Write the adapter as an ``.npz`` (no pickles: it is read with ``allow_pickle=False``),
        whole or not at all."""
        meta = json.dumps({"model": self.model, "report": self.report}, ensure_ascii=False)
        part = path.with_name(path.name + ".part.npz")
        np.savez_compressed(
            part, down=self.down.astype(np.float32), up=self.up.astype(np.float32), meta=np.array(meta)
        )
        os.replace(part, path)


def read_adapter(path: Path) -> QueryAdapter:
    """An adapter file, or :class:`AdapterError` saying what is wrong with it."""
    try:
        with np.load(path, allow_pickle=False) as data:
            meta = json.loads(str(data["meta"]))
            adapter = QueryAdapter(meta["model"], data["down"], data["up"], meta.get("report", {}))
    except AdapterError:
        raise
    except Exception as exc:  # zip, numpy, json and key errors alike: the file is not usable
        raise AdapterError(
            f"the query adapter file {path} cannot be read ({exc.__class__.__name__}); {REMEDY}"
        ) from exc
    if not (np.isfinite(adapter.down).all() and np.isfinite(adapter.up).all()):
        raise AdapterError(f"the query adapter file {path} holds numbers that are not finite; {REMEDY}")
    return adapter


def adapter_file(model: str) -> str:
    """The file name of ``model``'s adapter (a model path's slashes become underscores).

    >>> adapter_file("multilingual-e5-small"), adapter_file("BAAI/bge-small-zh")
    ('adapter-multilingual-e5-small.npz', 'adapter-BAAI_bge-small-zh.npz')
    """
    return model_file(ADAPTER_FILE, model)


@cache
def adapter_for(model: str) -> QueryAdapter | None:
    """The adapter shipped in ``csbot/data`` for ``model``, or None when there is none."""
    return read_shipped(adapter_file(model), read_adapter)
