"""Hits → :class:`Answer`: the answering span, honest confidence, exam choice, citations."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from csbot.answer.exam import (
    ALL_OF_ABOVE,
    Choice,
    ExamQuestion,
    from_evidence,
    from_question_bank,
    number_unit,
    option_support,
    parse_exam,
    shared_words,
    single_from_sentences,
)
from csbot.answer.highlight import term_spans
from csbot.answer.qtypes import LIST_Q
from csbot.answer.spans import extract_span
from csbot.records import Answer, Citation, DocumentInfo, Hit
from csbot.search.query import is_cross_lingual, retrieval_text
from csbot.search.retriever import Retriever
from csbot.text.normalise import squash
from csbot.text.segmenter import char_bigrams, tokenize
from csbot.text.sentences import Span, windows

# Calibrated on eval/questions.jsonl (see README "Confidence"): e5 cosines bunch between
# 0.75 and 0.95, so the dense score alone only vouches for very close passages; otherwise
# the passage must also hold a fair share of the question's informative words.
DENSE_ALONE = 0.92
DENSE_FLOOR = 0.82
COVERAGE_MIN = 0.30
COVERAGE_BM25_ONLY = 0.50
# A question with no Chinese in it (English): cross-lingual cosines run lower (0.77–0.87 on
# the dev set for answerable questions) and off-topic English questions reach 0.84 too, so
# the cosine never vouches alone; the top passage must also hold COVERAGE_MIN of the
# question's phrases through their dictionary translations (csbot.glossary).
DENSE_CROSS_LINGUAL = 0.75
STEM_MATCH = 0.35  # a passage must hold this share of the stem's (IDF-weighted) words in one sentence
ITEM_SHARE = 0.5  # and the sentence that decides at least half as much
NOT_COVERED = "资料中没有找到可靠的答案：学习材料似乎没有讲到这一点，下面是最接近的相关段落。"
UNDECIDED = "资料不足以判断这道题的答案，下面是最相关的段落。"


def is_confident(top: Hit | None, coverage: float, mode: str = "hybrid", cross_lingual: bool = False) -> bool:
    """Trust the top hit when ``dense ≥ 0.92``, or ``dense ≥ 0.82`` and ``coverage ≥ 0.30``.

    ``dense`` is the cosine between question and passage; ``coverage`` is the IDF-weighted
    share of the question's words in the passage (:meth:`Retriever.coverage`). BM25-only
    retrieval has no cosine and trusts ``coverage ≥ 0.50``; a question without Chinese
    (``cross_lingual``) needs ``dense ≥ 0.75`` and ``coverage ≥ 0.30``, its coverage counted
    through the glossary's translations.
    """
    if top is None:
        return False
    if mode == "bm25":
        return coverage >= COVERAGE_BM25_ONLY
    if cross_lingual:
        return top.dense_score >= DENSE_CROSS_LINGUAL and coverage >= COVERAGE_MIN
    return top.dense_score >= DENSE_ALONE or (top.dense_score >= DENSE_FLOOR and coverage >= COVERAGE_MIN)


@dataclass
class _Extract:
    rank: int
    span: Span


def _citation(rank: int, hit: Hit, documents: dict[str, DocumentInfo]) -> Citation:
    p = hit.passage
    title = documents[p.doc_id].title if p.doc_id in documents else p.doc_id
    return Citation(rank, p.doc_id, title, p.section, p.text, p.line_start, p.line_end, hit.score)


def _bank_answer_span(text: str, choice: Choice) -> Span:
    """The stored key's option (``D、首因效应``) or the reference answer, verbatim."""
    letters = choice.suggested
    if len(letters) == 1:
        m = re.search(rf"{letters[0]}\s*[、.．]\s*(.+?)(?=[B-E]\s*[、.．]|正确答案|参考答案|$)", text, re.S)
        if m:
            return Span(m.start(), m.end())
    key = re.search(r"(正确答案|参考答案)\s*[:：].*", text, re.S)
    return Span(key.start(), key.end()) if key else Span(0, len(text))


class AnswerBuilder:
    """Turns retrieval hits into an :class:`Answer` (one per question)."""

    def __init__(self, retriever: Retriever, documents: dict[str, DocumentInfo]) -> None:
        self.retriever = retriever
        self.documents = documents

    def highlight_terms(self, question: str) -> list[str]:
        """The question's words (and their bigrams) worth marking in a passage; for an
        English question, the material's words its phrases translate to."""
        if is_cross_lingual(question):
            return self.retriever.query_terms(question)
        return [t for t in tokenize(retrieval_text(question)) if len(t) >= 2]

    def _weight(self, question: str):  # type: ignore[no-untyped-def]
        """Sentence score: IDF of the question's words it holds, plus a little for each of
        the question's character bigrams it holds (a tie-break that favours wording close to
        the question's)."""
        words = set(tokenize(retrieval_text(question), bigrams=False))
        weights = {w: self.retriever.idf(w) for w in words}
        squashed = squash(retrieval_text(question))
        grams = set(char_bigrams(squashed))

        def score(sentence: str) -> float:
            have = set(tokenize(sentence, bigrams=False))
            flat = squash(sentence)
            return sum(v for w, v in weights.items() if w in have) + 0.1 * sum(1 for g in grams if g in flat)

        return score

    def build(self, question: str, hits: Sequence[Hit], mode: str = "hybrid") -> Answer:
        """The answer to ``question`` from ``hits`` (best first)."""
        hits = list(hits)
        exam = parse_exam(question)
        choice, bank_rank = self._bank(exam, question, hits)
        if bank_rank is not None and bank_rank > 1:  # the stored item answers ahead of anything else
            hits.insert(0, hits.pop(bank_rank - 1))
            bank_rank = 1
        top = hits[0] if hits else None
        coverage = self.retriever.coverage(question, top.passage.text) if top else 0.0
        cross_lingual = is_cross_lingual(question)
        confident = is_confident(top, coverage, mode, cross_lingual)
        extract: _Extract | None = None
        message = None
        if choice is not None and bank_rank is not None:
            confident = True
            extract = _Extract(bank_rank, _bank_answer_span(hits[0].passage.text, choice))
        elif exam is not None:
            choice, evidence_rank = self._from_evidence(exam, hits)
            if not choice.suggested:
                confident, message = False, UNDECIDED
            elif evidence_rank is not None:
                extract = self._span(question, hits, evidence_rank)
        elif confident and top is not None:
            extract = self._span(question, hits, 1)
        if not confident:
            message = message or NOT_COVERED
            extract = None
        terms = self.highlight_terms(question)
        citations = tuple(_citation(r, h, self.documents) for r, h in enumerate(hits, start=1))
        answer_text = lines = None
        if extract is not None:
            p = hits[extract.rank - 1].passage
            answer_text = p.text[extract.span.start : extract.span.end]
            lines = (p.raw_line_at(extract.span.start), p.raw_line_at(extract.span.end - 1))
        return Answer(
            question=question,
            answer=answer_text,
            confident=confident,
            citations=citations,
            answer_citation=extract.rank if extract else None,
            answer_lines=lines,
            highlights=tuple(tuple(term_spans(c.text, terms)) for c in citations),
            message=message,
            choice=choice.to_dict() if choice is not None else None,
        )

    def _span(self, question: str, hits: Sequence[Hit], rank: int) -> _Extract:
        hit = hits[rank - 1]
        p = hit.passage
        near = hit.dense_span if hit.dense_span and hit.dense_span != (0, len(p.text)) else None
        return _Extract(rank, extract_span(question, p.text, p.kind, self._weight(question), near=near))

    def _bank(
        self, exam: ExamQuestion | None, question: str, hits: Sequence[Hit]
    ) -> tuple[Choice | None, int | None]:
        """A stored exam item among the top hits that the question (nearly) is."""
        for rank, hit in enumerate(hits[:5], start=1):
            if hit.passage.kind == "exam-item":
                choice = from_question_bank(exam, question, hit.passage.text)
                if choice is not None:
                    return Choice(choice.options, choice.suggested, rank, "question-bank"), rank
        return None, None

    def _from_evidence(self, exam: ExamQuestion, hits: Sequence[Hit]) -> tuple[Choice, int | None]:
        """Score the options against the part of a study passage that answers the stem.

        A stem about a whole list (不属于, 以上都是, 多选) is checked against the list
        :func:`extract_span` picks for the stem; a single-choice stem against the sentence
        windows that name exactly one option (:func:`single_from_sentences`), and only then,
        if its words ask about a list (包括, 要素), against the list. Options that merely
        occur elsewhere in the passage do not count.
        """
        whole_list = (
            exam.negated or exam.multiple or any(ALL_OF_ABOVE.search(v) for v in exam.options.values())
        )
        weight = self._weight(exam.stem)
        floor = STEM_MATCH * weight(exam.stem)

        shared = shared_words(exam.options, tokenize)

        unit = number_unit(exam)

        def support(option: str, evidence: str) -> float:
            return option_support(option, evidence, tokenize, shared, unit)

        def from_list(hit: Hit) -> list[str]:
            text = hit.passage.text
            span = extract_span(exam.stem, text, hit.passage.kind, weight, allow_list=True)
            return from_evidence(exam, text[span.start : span.end], support)

        def from_sentences(hit: Hit) -> list[str]:
            text = hit.passage.text
            scored = [(weight(text[w.start : w.end]), text[w.start : w.end]) for w in windows(text)]
            if not scored or max(w for w, _ in scored) < floor:  # the passage is not about the stem
                return []
            # a sentence under a lead that carries the stem's words (“S”表示微笑待客 under
            # 英文中的服务(SERVICE)…) may hold fewer of them itself
            close = sorted((p for p in scored if p[0] >= floor * ITEM_SHARE), key=lambda p: -p[0])
            return single_from_sentences(exam, close, support)

        for rank, hit in enumerate(hits[:5], start=1):
            if hit.passage.kind == "exam-item":
                continue
            if whole_list:
                suggested = from_list(hit)
            else:
                suggested = from_sentences(hit) or (from_list(hit) if LIST_Q.search(exam.stem) else [])
            if suggested:
                return Choice(exam.options, suggested, rank, "evidence"), rank
        return Choice(exam.options, [], None, "undecided"), None
