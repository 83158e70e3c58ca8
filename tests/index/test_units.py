"""What the model embeds for each dense unit (index/build.py: unit_text)."""

from __future__ import annotations

from csbot.index.build import dense_units, unit_text
from csbot.records import Passage


def _passage(text: str, section: str = "客服管理基础知识 › 第三章 › 2.服務的內涵") -> Passage:
    return Passage(0, "doc", section, text, 1, 1, "text", ((0, 1),))


def test_a_sentence_window_is_embedded_under_its_heading_in_simplified_form() -> None:
    p = _passage("服務有五個特性。無形性是指服務看不見。")
    windows = [(a, b) for _, a, b in dense_units([p]) if (a, b) != (0, len(p.text))]
    assert windows, "the passage has sentence windows"
    a, b = windows[-1]
    assert p.text[a:b] == "無形性是指服務看不見。"
    assert unit_text(p, a, b) == "2.服务的内涵：无形性是指服务看不见。"


def test_the_whole_passage_and_a_sentence_opening_with_its_heading_stay_as_written() -> None:
    p = _passage("2.服务的内涵 服务就是为一定的对象工作。其他内容在这里。", "基础知识 › 2.服务的内涵")
    assert unit_text(p, 0, len(p.text)) == p.text
    assert unit_text(p, 0, 12) == p.text[:12]  # opens with the heading: not repeated
