"""Start-up work done once per process: a loader runs on first use, under a lock."""

from __future__ import annotations

import threading
from collections.abc import Callable
from functools import wraps
from typing import TypeVar

T = TypeVar("T")


def load_once(loader: Callable[[], T]) -> Callable[[], T]:
    """Wrap a no-argument loader (jieba's dictionary, OpenCC, a word list) so it runs once per
    process; concurrent first callers wait for that one run instead of each loading.

    >>> calls = []
    >>> table = load_once(lambda: calls.append(1) or {"a": 1})
    >>> table() is table(), len(calls)
    (True, 1)
    """
    lock = threading.Lock()
    box: list[T] = []

    @wraps(loader)
    def get() -> T:
        if not box:
            with lock:
                if not box:
                    box.append(loader())
        return box[0]

    return get
