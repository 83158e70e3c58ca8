"""Near-duplicate grouping: the prefix filter finds exactly the groups a full scan finds."""

from __future__ import annotations

import random
from difflib import SequenceMatcher

from hypothesis import given, settings
from hypothesis import strategies as st

from csbot.text.near_duplicates import group


def _full_scan(questions: list[str], threshold: float) -> list[tuple[str, list[str]]]:
    """The grouping ``csbot gaps`` used before: every question against every group."""
    groups: list[tuple[str, list[str]]] = []
    for q in questions:
        for rep, members in groups:
            if SequenceMatcher(None, rep, q, autojunk=False).ratio() >= threshold:
                members.append(q)
                break
        else:
            groups.append((q, [q]))
    return groups


SMALL = "客户服务投诉处理满意度怎么是什么的了吗呢管理沟通技巧电话流程"
LARGE = "".join(chr(0x4E00 + 37 * i) for i in range(600))  # a log's questions use many characters


def _variants(rng: random.Random, n: int, alphabet: str = SMALL) -> list[str]:
    """Questions as a log holds them: a few topics, each asked with small edits."""
    topics = ["".join(rng.choices(alphabet, k=rng.randint(3, 14))) for _ in range(max(1, n // 6))]
    out = []
    for _ in range(n):
        chars = list(rng.choice(topics))
        for _ in range(rng.randint(0, 3)):
            op, at = rng.random(), rng.randrange(len(chars) + 1)
            if op < 0.4:
                chars.insert(at, rng.choice(alphabet))
            elif op < 0.7 and chars:
                del chars[min(at, len(chars) - 1)]
            elif chars:
                chars[min(at, len(chars) - 1)] = rng.choice(alphabet)
        out.append("".join(chars))
    return out


@settings(max_examples=60, deadline=None)
@given(seed=st.integers(0, 10**6), n=st.integers(0, 80), threshold=st.sampled_from([0.5, 0.8, 0.9]))
def test_same_groups_as_a_full_scan(seed: int, n: int, threshold: float) -> None:
    questions = _variants(random.Random(seed), n)
    assert group(questions, str, threshold) == _full_scan(questions, threshold)


@given(st.lists(st.text(alphabet="ab客户 ?", max_size=8), max_size=30))
def test_same_groups_on_short_and_empty_strings(questions: list[str]) -> None:
    assert group(questions, str, 0.8) == _full_scan(questions, 0.8)


def test_ten_thousand_questions_compare_few_pairs() -> None:
    """Scaling: the old full scan made ~10⁷ comparisons here; the timed figure is in make bench."""
    questions = _variants(random.Random(7), 10_000, LARGE)
    calls = 0
    real_ratio = SequenceMatcher.ratio

    def counting(self: SequenceMatcher) -> float:  # type: ignore[type-arg]
        nonlocal calls
        calls += 1
        return real_ratio(self)

    SequenceMatcher.ratio = counting  # type: ignore[method-assign]
    try:
        groups = group(questions, str, 0.8)
    finally:
        SequenceMatcher.ratio = real_ratio  # type: ignore[method-assign]
    assert sum(len(m) for _, m in groups) == len(questions)
    assert calls < 30 * len(questions)
