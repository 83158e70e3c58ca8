"""Chunking: a cleaned :class:`Document` → :class:`Passage` records that follow its structure.

The scraped material runs headings, list items and exam items together on very long
lines, so structure is found inside lines as well as at line starts:

* headings — ``第一章`` / ``Ⅰ`` / ``《…》培训大纲`` / ``题库一`` (level 1), ``第一节`` /
  ``单元1`` / ``案例一`` (2), ``一、`` (3), ``(一)`` / ``1.1`` (4), short ``5.客户服务16大管理原则``
  lines and numbered questions ``2.请简述…`` (5);
* exam items — a stem, its options ``A、…E、`` and ``正确答案:B`` stay in one passage;
  several items on one line are split by their running numbers;
* everything else is packed into passages of roughly 80–400 characters, an enumerated
  list staying with its lead sentence where it fits. A passage never crosses a document
  and knows its raw line span;
* a passage made mostly of questions without answers (a 题库 list, a sample paper) is
  kind ``questions``, and one of an exam syllabus or under a training outline's heading
  (``《客户投诉管理》培训大纲``) kind ``outline``: they name topics without teaching them, and
  retrieval ranks them below passages that answer.
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass

from csbot.records import Document, Passage
from csbot.text.normalise import normalize
from csbot.text.patterns import ANSWER_KEY, LETTER, LETTER_MARK, PAREN_BLANK
from csbot.text.sentences import ends_lead, sentences

MAX_CHARS = 400
MIN_CHARS = 80
TITLE_CHARS = 20
SEP = " › "

_CN = "一二三四五六七八九十"
# 《客户服务的价值》培训大纲, 《客户服务管理师》三级模拟考试题含答案
TITLED_PAPER = r"《[^》]{2,20}》[^。，,:：]{0,20}?(大纲|试题|考试题|练习题|题库|答案)"
HEADING_PATTERNS: tuple[tuple[int, re.Pattern[str]], ...] = (
    (1, re.compile(rf"^(第[{_CN}百\d]+章|[ⅠⅡⅢⅣⅤⅥⅦⅧⅨⅩ](?![、.])|题库[{_CN}\d]+|{TITLED_PAPER})")),
    (2, re.compile(rf"^(第[{_CN}\d]+节|单元\s?\d+)")),
    (3, re.compile(rf"^([{_CN}]{{1,3}}、|案例[{_CN}\d]+)")),
    (4, re.compile(rf"^([(（][{_CN}]{{1,3}}[)）]|\d\.\d{{1,2}}(?!\.\d)\s)")),
    (5, re.compile(r"^\d\.\d\.\d\s")),
)
NUMBERED = re.compile(r"^\d{1,2}\s?[.、．](?!\d)")
QUESTION_WORDS = re.compile(r"请?简述|试述|论述|什么是|请问|如何|为什么|哪些|是什么|[?？]")

# Places inside a line where a new block starts.
INLINE_BREAKS = (
    re.compile(rf"(?<=[。；;:：.!?！？)）\s\d])(?=第[{_CN}\d]+[章节](?![、,，]))"),
    re.compile(rf"(?<=[^{_CN}第])(?=第[{_CN}\d]+[章节][^、,，])"),
    re.compile(r"(?=题库[一二三四五六七八九十\d]+[:：])"),
    re.compile(rf"(?<=[。；;:：.!?！？\s])(?=案例[{_CN}\d]+)"),
    re.compile(r"(?<=[。；;:：.!?！？\s])(?=单元\s?\d+\s)"),
    re.compile(rf"(?<!{LETTER}{LETTER_MARK})(?={TITLED_PAPER})"),
    re.compile(r"(?<=[。;；.\s])(?=[ⅠⅡⅢ][^\s、.])"),
    re.compile(rf"(?<=[。；;:：.!?！？)）\s\d])(?=[(（][{_CN}]{{1,3}}[)）])"),
    re.compile(r"(?<=[^\d.])(?=\d\.\d{1,2}(\.\d)?\s)"),
    re.compile(r"(?<=[。；;.!?！？\s])(?=\d{1,2}[.、．]\s?(请?简述|试述|论述|请问|什么是))"),
)
OPTION = re.compile(rf"(?<![A-Za-z])({LETTER})(?:{LETTER_MARK}|\s(?=[^\sA-Za-z]))")
OPTION_LINE = re.compile(r"^[(（]?A[)）]?[、.．\s]")  # an item's first option opening a line
LEADING_NUMBER = re.compile(r"^\d{1,3}[、.．]")
ITEM_NUMBER = re.compile(r"(?<!\d)(\d{1,3})[、.．](?!\d)")
SENTENCE_END = re.compile(r"(?<=[。！？!?；;])")
# A sentence that asks rather than tells: ends in a question mark, or sets a task
# (``3. 解释什么是客户体验…``, ``簡述優質客戶服務的特征``).
ASKS = re.compile(
    r"[?？]\s*$|^\s*(?:\d{1,2}\s*[.、．]\s*)?(?:请|請)?(?:简述|簡述|试述|試述|论述|論述|列举|列舉|解释|解釋|描述|说明|說明|谈谈|談談|请回答|請回答)"
)
QUESTIONS_SHARE = 0.5
OUTLINE = re.compile(r"培训大纲")


@dataclass
class _Block:
    start: int
    end: int
    level: int = 0  # heading level 1–5, 0 for body text
    exam: bool = False


def _has_options(text: str) -> bool:
    letters = [m.group(1) for m in OPTION.finditer(text)]
    return "A" in letters and "B" in letters


def _exam_item_starts(line: str) -> list[int]:
    """Offsets where exam items begin inside one line: running numbers n, n+1, …

    Each next number must follow an option (``D、…``) or an answer (``正确答案:B``), so
    list numbers inside a stem do not split it.
    """
    starts: list[int] = []
    expected: int | None = None
    last = 0
    for m in ITEM_NUMBER.finditer(line):
        n = int(m.group(1))
        if expected is None:
            after_options = _has_options(line[: m.start()])
            if m.start() == 0 or line[m.start() - 1] in "。)）:： " or after_options:
                starts.append(m.start())
                expected, last = n + 1, m.start()
        elif n == expected:
            between = line[last : m.start()]
            if _has_options(between) or ANSWER_KEY.search(between):
                starts.append(m.start())
                expected, last = n + 1, m.start()
    return starts


def _split_points(line: str) -> set[int]:
    points: set[int] = set()
    for pattern in INLINE_BREAKS:
        points.update(m.start() for m in pattern.finditer(line))
    points.update(m.end() for m in ANSWER_KEY.finditer(line))
    if _has_options(line) or ANSWER_KEY.search(line):
        points.update(_exam_item_starts(line))
    # Chinese-numbered headings 一、二、… only when they run in order within the line.
    expected = 0
    for m in re.finditer(rf"(?<![{_CN}第])([{_CN}]{{1,2}})、", line):
        numeral = m.group(1)
        value = _CN.index(numeral[-1]) + 1 if len(numeral) == 1 else 10 + _CN.index(numeral[-1]) + 1
        if value == 1 or value == expected + 1:
            points.add(m.start())
            expected = value
    points.discard(0)
    return {p for p in points if 0 < p < len(line)}


def heading_level(text: str) -> int:
    """The heading level (1–5) a block starts with, or 0 for body text.

    >>> heading_level("第三章"), heading_level("(一)客户的定义"), heading_level("客户是指…")
    (1, 4, 0)
    """
    for level, pattern in HEADING_PATTERNS:
        if pattern.match(text):
            return level
    if NUMBERED.match(text):
        core = re.sub(r"[★☆]|[(（]背[)）]", "", text).rstrip()
        short_title = len(core) <= 50 and not re.search(r"[。;；]", core)
        list_lead = len(core) <= 80 and core.endswith((":", "："))
        question = len(core) <= 60 and bool(QUESTION_WORDS.search(core))
        if short_title or list_lead or question:
            return 5
    return 0


def heading_title(text: str) -> str:
    """The words of a heading shown in a section path (``5.客户服务16大管理原则★(背)`` → ``5.客户服务16大管理原则``)."""
    title = re.split(r"[,，。:：;；(（★☆]", text.strip(), maxsplit=1)[0].strip()
    if not title:
        title = text.strip()
    return title if len(title) <= TITLE_CHARS else title[:TITLE_CHARS] + "…"


def _blocks(doc: Document) -> list[_Block]:
    text = doc.text
    blocks: list[_Block] = []
    offset = 0
    for line in text.split("\n"):
        cuts = sorted({0, *_split_points(line), len(line)})
        for a, b in zip(cuts, cuts[1:], strict=False):
            piece = line[a:b]
            lead = len(piece) - len(piece.lstrip())
            trail = len(piece.rstrip())
            if trail <= lead:
                continue
            block_text = piece[lead:trail]
            if blocks and (
                (OPTION_LINE.match(block_text) and not blocks[-1].exam and _ends_stem(text, blocks[-1]))
                or (
                    blocks[-1].exam
                    and _continues_options(text[blocks[-1].start : blocks[-1].end], block_text)
                )
            ):
                blocks[-1].end = offset + a + trail
                blocks[-1].exam = True
                continue
            blocks.append(_Block(offset + a + lead, offset + a + trail, level=heading_level(block_text)))
        offset += len(line) + 1
    for block in blocks:
        body = text[block.start : block.end]
        if _has_options(body) and (re.search(rf"{PAREN_BLANK}|_{{3,}}", body) or ANSWER_KEY.search(body)):
            block.exam, block.level = True, 0
    return blocks


def _continues_options(item: str, block_text: str) -> bool:
    """Whether ``block_text`` carries on the options of ``item`` onto a new line
    (``B.…`` after ``A.…``, or the rest of option C before ``D.…``)."""
    letters = [m.group(1) for m in OPTION.finditer(item)]
    if not letters or ANSWER_KEY.search(item) or LEADING_NUMBER.match(block_text):
        return False
    following = chr(ord(letters[-1]) + 1)
    return any(m.group(1) == following for m in OPTION.finditer(block_text))


def _ends_stem(text: str, block: _Block) -> bool:
    """A block that an options line (``A、…``) belongs to: a numbered stem with a blank."""
    body = text[block.start : block.end]
    return bool(NUMBERED.match(body) or re.search(rf"{PAREN_BLANK}|_{{3,}}", body))


def _pieces(text: str, start: int, end: int) -> list[tuple[int, int]]:
    """Split an over-long span at sentence ends (then spaces, then hard) into ≤ MAX_CHARS."""
    if end - start <= MAX_CHARS:
        return [(start, end)]
    cuts = [start + m.start() for m in SENTENCE_END.finditer(text[start:end])]
    if len([c for c in cuts if start < c < end]) == 0:
        cuts = [start + m.end() for m in re.finditer(r"\s+", text[start:end])]
    spans: list[tuple[int, int]] = []
    a = start
    last_ok = None
    for c in [*cuts, end]:
        if c <= a:
            continue
        if c - a > MAX_CHARS:
            if last_ok is not None and last_ok > a:
                spans.append((a, last_ok))
                a = last_ok
            while c - a > MAX_CHARS:
                spans.append((a, a + MAX_CHARS))
                a += MAX_CHARS
        last_ok = c
    if a < end:
        spans.append((a, end))
    return [(x, y) for x, y in spans if text[x:y].strip()]


def chunk_document(doc: Document, first_id: int = 0) -> list[Passage]:
    """Cut one cleaned document into passages.

    Args:
        doc: the cleaned document.
        first_id: the ``passage_id`` of the first passage (ids run on across documents).
    """
    chunker = _Chunker(doc, first_id)
    for block in blocks_of(doc):
        chunker.feed(block)
    chunker.flush()
    return chunker.passages


class _Chunker:
    """Packs a document's blocks into passages under the headings seen so far."""

    def __init__(self, doc: Document, first_id: int) -> None:
        self.doc = doc
        self.text = doc.text
        self.first_id = first_id
        self.stack: list[tuple[int, str]] = []  # open headings: (level, title)
        self.passages: list[Passage] = []
        self.buf: list[_Block] = []
        self.buf_section = ""
        self.leads_list = (
            0  # heading level of a question or "…:" lead that opened the buffer; its items follow
        )

    def section(self) -> str:
        return SEP.join([self.doc.info.title, *(t for _, t in self.stack)])

    def feed(self, block: _Block) -> None:
        body = self.text[block.start : block.end]
        buf = self.buf
        if block.exam:
            self.flush()
            self.emit(block.start, block.end, self.section(), "exam-item")
            return
        size = (block.end - buf[0].start) if buf else 0
        opens_list = bool(QUESTION_WORDS.search(body)) or ends_lead(body)
        sibling = block.level == self.leads_list
        if block.level >= 3 and self.leads_list and not sibling and size <= MAX_CHARS and not opens_list:
            buf.append(block)
            return
        if block.level:
            only_headings = all(u.level for u in buf) and sum(u.end - u.start for u in buf) < MIN_CHARS
            if not only_headings:
                self.flush()
            while self.stack and self.stack[-1][0] >= block.level:
                self.stack.pop()
            self.stack.append((block.level, heading_title(body)))
            self.buf_section = self.section()
            self.buf.append(block)
            self.leads_list = block.level if opens_list else 0
            return
        if buf and size > MAX_CHARS and buf[-1].end - buf[0].start >= MIN_CHARS:
            self.flush()
        if not self.buf:
            self.buf_section = self.section()
        self.buf.append(block)

    def flush(self) -> None:
        self.leads_list = 0
        buf, text = self.buf, self.text
        if buf:
            start, end = buf[0].start, buf[-1].end
            kind = "list" if any(NUMBERED.match(text[u.start : u.end]) for u in buf[1:]) else "text"
            for a, b in _pieces(text, start, end):
                self.emit(a, b, self.buf_section, kind)
        self.buf = []

    def emit(self, start: int, end: int, sect: str, kind: str) -> None:
        doc = self.doc
        raw = self.text[start:end]
        body = raw.strip()
        if not body:
            return
        start += len(raw) - len(raw.lstrip())
        end = start + len(body)
        if kind != "exam-item" and asks_share(body) >= QUESTIONS_SHARE:
            kind = "questions"
        elif kind != "exam-item" and is_outline(doc.info.kind, sect):
            kind = "outline"
        line_map = [(0, doc.raw_line_at(start))]
        # only the raw lines inside the passage (a bisection, not a walk over every line)
        lo, hi = bisect.bisect_right(doc.line_starts, start), bisect.bisect_left(doc.line_starts, end)
        for offset, number in zip(doc.line_starts[lo:hi], doc.line_numbers[lo:hi], strict=True):
            if number != line_map[-1][1]:
                line_map.append((offset - start, number))
        self.passages.append(
            Passage(
                passage_id=self.first_id + len(self.passages),
                doc_id=doc.info.doc_id,
                section=sect,
                text=body,
                line_start=doc.raw_line_at(start),
                line_end=doc.raw_line_at(max(start, end - 1)),
                kind=kind,
                line_map=tuple(line_map),
            )
        )


def is_outline(doc_kind: str, section: str) -> bool:
    """Whether a passage only names what is to be learnt: any passage of an exam syllabus,
    or one under a heading that names a training outline (``《客户投诉管理》培训大纲``).
    (Only the syllabus's aims and topic lists, by their headings, measured worse on the
    development split: questions about the syllabus itself lost their answers, 0.976 -> 0.940.)

    >>> is_outline("study-notes", "讲议 › 《客户投诉管理》培训大纲 › 单元1"), is_outline("study-notes", "讲议 › 第一章")
    (True, False)
    """
    return doc_kind == "exam-syllabus" or bool(OUTLINE.search(normalize(section)))


def asks_share(text: str) -> float:
    """The share of ``text`` (in characters) in sentences that ask rather than tell: a
    passage of mostly such sentences (a question list, a sample paper) answers nothing."""
    spans = sentences(text)
    total = sum(s.end - s.start for s in spans)
    asking = sum(s.end - s.start for s in spans if ASKS.search(text[s.start : s.end]))
    return asking / total if total else 0.0


def blocks_of(doc: Document) -> list[_Block]:
    """The structural blocks of a document (exposed for tests and ``csbot clean``)."""
    return _blocks(doc)
