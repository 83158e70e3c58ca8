"""Exam questions: read the options, then suggest letters from the question bank or the evidence.

Handles options written ``A、`` ``A.`` ``A．`` ``(A)`` or ``A 文字`` on one line or several,
``以上都是``, negated stems (``不属于`` / ``不正确的是`` / ``错误的是``) and multiple-choice
stems (``多选``). When the material cannot decide, nothing is suggested — never a guess.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from difflib import SequenceMatcher

from csbot.text.normalise import fold_width, squash
from csbot.text.patterns import BLANK, KEY, LETTER

# "B、" marks an option wherever it stands (``TJPB、TIME-TOP``); "B." / "B " / "(B)" only
# after a space, punctuation or a Chinese character, so "No.1" or "CIS" are not options.
_MARKER = re.compile(
    rf"[(（]?({LETTER})[)）]?\s*、"
    rf"|(?:(?<=^)|(?<=[\s。;；,，:：)）?？\]】》\u4e00-\u9fff\d%]))[(（]?({LETTER})[)）]?"
    r"(?:\s*[.．:：]|\s+|(?=[\u4e00-\u9fff《“\"]))"
)
_ITEM_NUMBER = re.compile(r"^\s*(?:[一二三四五六七八九十]+、[^\d]*?)?\d{1,3}\s*[、.．]\s*")
NEGATED = re.compile(r"不属于|不正确|错误的是|不包括|不是|不能|不应|不宜|不符合|有误|不对|不恰当|不妥|错误")
MULTI = re.compile(r"多选|多项|不定项")
_NUMBER = re.compile(r"\d+(?:\.\d+)?")
_BLANK_UNIT = re.compile(rf"(?:{BLANK.pattern})\s*([\u4e00-\u9fff])")
ALL_OF_ABOVE = re.compile(r"以上(都|均|全)(是|对|正确|包括)|以上皆是|全部正确")
NONE_OF_ABOVE = re.compile(r"以上(都|均|全)不")


@dataclass(frozen=True)
class ExamQuestion:
    """A question split into its stem and lettered options."""

    stem: str
    options: dict[str, str]
    negated: bool = False
    multiple: bool = False


@dataclass(frozen=True)
class Choice:
    """What exam mode suggests, and from where."""

    options: dict[str, str]
    suggested: list[str] = field(default_factory=list)
    evidence_rank: int | None = None
    source: str = "evidence"  # question-bank | evidence | undecided

    def to_dict(self) -> dict[str, object]:
        return {
            "options": self.options,
            "suggested": self.suggested,
            "evidence_rank": self.evidence_rank,
            "source": self.source,
        }


def parse_exam(text: str) -> ExamQuestion | None:
    """Split ``text`` into stem and options A, B, C… (in order), or None without ≥ 2 options.

    >>> q = parse_exam("所谓的以貌取人是指( )。A、晕轮效应 B、近因效应 C、首因效应")
    >>> q.stem, q.options
    ('所谓的以貌取人是指( )。', {'A': '晕轮效应', 'B': '近因效应', 'C': '首因效应'})
    """
    folded = fold_width(text)
    key = KEY.search(folded)
    body = folded[: key.start()] if key else folded
    found: list[tuple[str, int, int]] = []
    expected = "A"
    for m in _MARKER.finditer(body):
        if (m.group(1) or m.group(2)) == expected:
            found.append((expected, m.start(), m.end()))
            expected = chr(ord(expected) + 1)
    if len(found) < 2:
        return None
    options = {}
    for i, (letter, _, end) in enumerate(found):
        stop = found[i + 1][1] if i + 1 < len(found) else len(body)
        options[letter] = body[end:stop].strip(" \n\t;；,，")
    stem = _ITEM_NUMBER.sub("", body[: found[0][1]], count=1).strip()
    if not stem or any(not v for v in options.values()):
        return None
    return ExamQuestion(stem, options, bool(NEGATED.search(stem)), bool(MULTI.search(stem)))


def stored_key(item_text: str) -> list[str]:
    """The answer letters an exam item of the corpus stores (``正确答案:B`` → ``['B']``)."""
    m = KEY.search(fold_width(item_text))
    return re.findall(LETTER, m.group(1)) if m else []


def _squash(text: str) -> str:
    """:func:`squash` without punctuation either: options and stems compare on their words."""
    return re.sub(r"[()（）《》“”\"'、,，。.;；:：!?？！]", "", squash(text))


def similarity(a: str, b: str) -> float:
    """Similarity of two texts after folding script, width, spacing and punctuation."""
    return SequenceMatcher(None, _squash(a), _squash(b), autojunk=False).ratio()


def from_question_bank(question: ExamQuestion | None, raw_question: str, item_text: str) -> Choice | None:
    """The stored answer when ``raw_question`` is (nearly) the exam item ``item_text``.

    Letters are mapped through the option texts, so reordered options still get the
    right letter.
    """
    stored = parse_exam(item_text)
    key = stored_key(item_text)
    if stored is None or not key:
        return None
    stem = question.stem if question else raw_question
    stem_similarity = similarity(stem, stored.stem)
    # the same item: a near-identical stem, or a reworded stem with the same options
    same_options = question is not None and _options_match(question.options, stored.options) >= 0.75
    if stem_similarity < 0.75 and not (same_options and stem_similarity >= 0.3):
        return None
    if question is None:
        return Choice(stored.options, key, source="question-bank")
    suggested = []
    for letter in key:
        text = stored.options.get(letter, "")
        best = max(question.options, key=lambda k: (similarity(question.options[k], text), -ord(k)))
        if similarity(question.options[best], text) < 0.6:
            return None
        suggested.append(best)
    return Choice(question.options, sorted(set(suggested)), source="question-bank")


def _options_match(ours: dict[str, str], stored: dict[str, str]) -> float:
    """Share of our options that have a near-identical stored option."""
    if not ours:
        return 0.0
    hits = sum(1 for v in ours.values() if max(similarity(v, w) for w in stored.values()) >= 0.8)
    return hits / len(ours)


def single_from_sentences(
    question: ExamQuestion, sentences: Sequence[tuple[float, str]], support: Callable[[str, str], float]
) -> list[str]:
    """For a single-choice stem: the one option that the stem's closest sentence names.

    ``sentences`` are ``(score, text)``, best first. Among the sentences that state exactly
    one option (support ≥ 0.75), the best-scoring decides; a different option stated by an
    equally good sentence leaves it undecided.
    """
    best: float | None = None
    chosen: set[str] = set()
    for score, sentence in sentences:
        named = [k for k, v in question.options.items() if support(v, sentence) >= 0.75]
        if len(named) != 1:
            continue
        if best is None:
            best = score
        if score >= best - 1e-9:
            chosen.add(named[0])
    return sorted(chosen) if len(chosen) == 1 else []


def from_evidence(question: ExamQuestion, evidence: str, support: Callable[[str, str], float]) -> list[str]:
    """Letters the evidence supports, or ``[]`` when it cannot decide.

    Args:
        question: the parsed question.
        evidence: the part of a passage that best matches the stem.
        support: how strongly a text (option) is stated in the evidence, 0–1.
    """
    plain = {
        k: v
        for k, v in question.options.items()
        if not ALL_OF_ABOVE.search(v) and not NONE_OF_ABOVE.search(v)
    }
    scores = {k: support(v, evidence) for k, v in plain.items()}
    supported = sorted(k for k, s in scores.items() if s >= 0.75)
    unsupported = sorted(k for k, s in scores.items() if s < 0.4)
    all_of_above = [k for k, v in question.options.items() if ALL_OF_ABOVE.search(v)]
    if question.negated:
        if len(unsupported) == 1 and len(supported) == len(plain) - 1:
            return unsupported
        return []
    if all_of_above and len(plain) >= 2 and len(supported) == len(plain):
        return all_of_above
    if question.multiple:
        return supported if len(supported) >= 1 and not set(plain) - set(supported) - set(unsupported) else []
    if len(supported) == 1:
        return supported
    return []


def shared_words(options: dict[str, str], tokens: Callable[[str], Sequence[str]]) -> frozenset[str]:
    """Words every one of three or more options uses (``服务`` in ``服务具有无形性`` /
    ``服务的无偿性`` / …): they tell the options apart no better than the stem does."""
    if len(options) < 3:
        return frozenset()
    sets = [set(tokens(v)) for v in options.values()]
    return frozenset(set.intersection(*sets))


def number_unit(question: ExamQuestion) -> str | None:
    """The measure word right after the blank (``有( )项``, ``概括为( )个字``) when every
    option is a bare number: then an option counts only as that number with that word.

    >>> number_unit(parse_exam("核心要素有( )项。A.6 B.8 C.10"))
    '项'
    """
    if not all(_NUMBER.fullmatch(v.strip()) for v in question.options.values()):
        return None
    m = _BLANK_UNIT.search(question.stem)
    return squash(m.group(1)) if m else None


def option_support(
    option: str,
    evidence: str,
    tokens: Callable[[str], Sequence[str]],
    shared: frozenset[str] = frozenset(),
    unit: str | None = None,
) -> float:
    """1.0 when the option is stated verbatim in the evidence, else the share of its
    tokens (words and bigrams, less the ``shared`` words of all options) that the evidence
    contains. A number option with a ``unit`` (:func:`number_unit`) is stated only as that
    number followed by the unit (``8项``; the ``6`` of a list number ``6.`` does not count)."""
    if unit is not None:
        number = re.escape(option.strip())
        return 1.0 if re.search(rf"(?<![\d.]){number}{re.escape(unit)}", squash(evidence)) else 0.0
    opt = _squash(option)
    if opt and opt in _squash(evidence):
        return 1.0
    words = [w for w in tokens(option) if w not in shared] or list(tokens(option))
    if not words:
        return 0.0
    have = set(tokens(evidence))
    return sum(1 for w in words if w in have) / len(words)
