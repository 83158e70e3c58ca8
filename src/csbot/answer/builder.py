"""Hits → :class:`Answer`: the answering span, honest confidence, exam choice, citations."""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np

from csbot.answer.confidence import Outcome, Signals, assess
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
from csbot.answer.offtopic import detector_for
from csbot.answer.qtypes import LIST_Q
from csbot.answer.span_model import SpanModel
from csbot.answer.span_model import features as span_features
from csbot.answer.spans import extract_span, span_candidates
from csbot.records import Answer, Citation, DocumentInfo, Hit
from csbot.search.fusion import naming_kinds
from csbot.search.overlap import TermWeights, unseen_share
from csbot.search.query import Query
from csbot.text.normalise import squash
from csbot.text.patterns import KEY_LABEL, LATER_LETTER, LETTER_MARK
from csbot.text.segmenter import char_bigrams
from csbot.text.sentences import Span, windows

STEM_MATCH = 0.35  # a passage must hold this share of the stem's (IDF-weighted) words in one sentence
ITEM_SHARE = 0.5  # and the sentence that decides at least half as much
NOT_COVERED = "没有找到有把握的答案：资料可能没有讲到这一点，也可能用了别的说法；下面是最接近的段落。"
UNDECIDED = "资料不足以判断这道题的答案，下面是最相关的段落。"
LIKELY = "这可能是答案，但不确定：问题的说法和资料不完全一样，请对照下面的出处核实。"
OFF_TOPIC = (
    "这个问题看起来不在客户服务管理师学习资料的范围内，资料里没有讲。"
    "如果问的是课程内容，可以换个说法再问；下面是资料中最接近的段落，可能与问题无关。"
)


class Reader(Protocol):
    """What answering needs from retrieval (:class:`csbot.search.retriever.Retriever`): a
    question read once, term weights, tokens, the term overlap of a passage, and the model's
    vector of a question (1 × d; the off-topic detector reads it) and what the labelled
    questions nearest it say (:mod:`csbot.search.asked`)."""

    weights: TermWeights
    held_out: int | None  # the fold a development question is answered without (csbot eval)

    def analyse(self, question: str) -> Query: ...

    def overlap(self, query: Query, passage_text: str) -> float: ...

    def tokenize(self, text: str, bigrams: bool = True) -> list[str]: ...

    def query_vector(self, text: str) -> np.ndarray: ...

    def asked_near(self, query: Query) -> tuple[float, float, float]: ...


@dataclass
class Pick:
    """The span an answer is taken from: citation ``rank`` (1-based), characters ``span``."""

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
        m = re.search(
            rf"{letters[0]}\s*{LETTER_MARK}\s*(.+?)(?={LATER_LETTER}\s*{LETTER_MARK}|{KEY_LABEL}|$)",
            text,
            re.S,
        )
        if m:
            return Span(m.start(), m.end())
    key = re.search(rf"({KEY_LABEL})\s*[:：].*", text, re.S)
    return Span(key.start(), key.end()) if key else Span(0, len(text))


class AnswerBuilder:
    """Turns retrieval hits into an :class:`Answer` (one per question)."""

    def __init__(
        self,
        reader: Reader,
        documents: dict[str, DocumentInfo],
        model: str = "",
        span_model: SpanModel | None = None,
    ) -> None:
        self.reader = reader
        self.documents = documents
        self.model = model  # the embedding model, whose calibration decides confidence
        self.span_model = span_model  # the learned span picker, if any (else the rules pick)

    def _weight(self, query: Query):  # type: ignore[no-untyped-def]
        """Sentence score: IDF of the question's words it holds, plus a little for each of
        the question's character bigrams it holds (a tie-break that favours wording close to
        the question's)."""
        idf = self.reader.weights.idf
        weights = {w: idf(w) for w in set(query.words)}
        if query.english is None:  # a word the corpus never uses, through its synonyms
            weights.update({t: idf(t) for p in query.phrases for head in p.translations for t in head})
        grams = set(char_bigrams(squash(query.retrieval)))
        tokenize = self.reader.tokenize

        def score(sentence: str) -> float:
            have = set(tokenize(sentence, bigrams=False))
            flat = squash(sentence)
            return sum(v for w, v in weights.items() if w in have) + 0.1 * sum(1 for g in grams if g in flat)

        return score

    def build(self, query: Query, hits: Sequence[Hit], mode: str = "hybrid", k: int | None = None) -> Answer:
        """The answer to ``query`` from ``hits`` (best first), citing the first ``k``
        (and the passage an answer comes from, if lower)."""
        hits = list(hits)
        exam = parse_exam(query.text)
        choice, bank_rank = self._bank(exam, query.text, hits)
        if bank_rank is not None and bank_rank > 1:  # the stored item answers ahead of anything else
            hits.insert(0, hits.pop(bank_rank - 1))
            bank_rank = 1
        top = hits[0] if hits else None
        extract, signals = self.candidate(query, hits, mode)
        probability, outcome = assess(self.model, top, signals, mode)
        flagged = mode == "hybrid" and self.off_topic(query)
        if flagged:
            outcome = Outcome.NOT_COVERED  # no span for a question the detector finds off topic
        message = None
        if choice is not None and bank_rank is not None:
            # the question is an item of the material, answered there by its stored key
            probability, outcome, flagged = 1.0, Outcome.CONFIDENT, False
            extract = Pick(bank_rank, _bank_answer_span(hits[0].passage.text, choice))
        elif exam is not None:
            choice, evidence_rank = self._from_evidence(exam, hits)
            extract = (
                self._span(query, hits, evidence_rank, learned=False) if evidence_rank is not None else None
            )
            if not choice.suggested:
                outcome, message = Outcome.NOT_COVERED, UNDECIDED
        if outcome is Outcome.NOT_COVERED:
            message, extract = message or (OFF_TOPIC if flagged else NOT_COVERED), None
        elif outcome is Outcome.LIKELY:
            message = LIKELY
        shown = max(k or len(hits), extract.rank if extract else 0)
        return self._answer(query, hits[:shown], probability, outcome, extract, message, choice, flagged)

    def off_topic(self, query: Query) -> bool:
        """Whether the off-topic detector of the model (:mod:`csbot.answer.offtopic`) flags
        the question (never without one, or without text the dense search embeds)."""
        detector = detector_for(self.model)
        if detector is None or not query.retrieval:
            return False
        return detector.off_topic(self.reader.query_vector(query.retrieval)[0])

    def candidate(
        self, query: Query, hits: Sequence[Hit], mode: str = "hybrid"
    ) -> tuple[Pick | None, Signals]:
        """The span the top passage gives, and what the confidence model reads about it
        (``csbot calibrate`` labels the same pair)."""
        pick = self._span(query, hits, 1) if hits else None
        return pick, self._signals(query, hits, pick, mode)

    def _signals(
        self, query: Query, hits: Sequence[Hit], extract: Pick | None, mode: str = "hybrid"
    ) -> Signals:
        """What the calibrated confidence model reads about the top passage (the questions
        asked before only in hybrid mode, the one the model decides in: a BM25-only question
        is not embedded for them)."""
        asked = self._asked(query) if mode == "hybrid" else {}
        if not hits:
            return Signals(
                dense=0.0,
                dense_margin=0.0,
                fused_margin=0.0,
                overlap=0.0,
                span_overlap=0.0,
                unseen=1.0,
                bm25_first=0.0,
                cross_lingual=float(query.english is not None),
                names_only=0.0,
                **asked,
            )
        top = hits[0]
        span = top.passage.text[extract.span.start : extract.span.end] if extract else top.passage.text
        return Signals(
            dense=top.dense_score,
            dense_margin=round(top.dense_score - max((h.dense_score for h in hits[1:]), default=0.0), 6),
            fused_margin=round(top.score - (hits[1].score if len(hits) > 1 else 0.0), 6),
            overlap=self.reader.overlap(query, top.passage.text),
            span_overlap=self.reader.overlap(query, span),
            unseen=unseen_share(query, self.reader.weights),
            bm25_first=1.0 if top.bm25_rank == 1 else 0.0,
            cross_lingual=1.0 if query.english is not None else 0.0,
            names_only=1.0 if top.passage.kind in naming_kinds(query.about_course) else 0.0,
            rerank=top.rerank if top.rerank is not None else math.nan,
            **asked,
        )

    def _asked(self, query: Query) -> dict[str, float]:
        share, answered, unanswered = self.reader.asked_near(query)
        return {"asked_share": share, "asked_answered": answered, "asked_unanswered": unanswered}

    def _answer(
        self,
        query: Query,
        hits: list[Hit],
        probability: float,
        outcome: Outcome,
        extract: Pick | None,
        message: str | None,
        choice: Choice | None,
        off_topic: bool = False,
    ) -> Answer:
        citations = tuple(_citation(r, h, self.documents) for r, h in enumerate(hits, start=1))
        answer_text = lines = None
        if extract is not None:
            p = hits[extract.rank - 1].passage
            answer_text = p.text[extract.span.start : extract.span.end]
            lines = (p.raw_line_at(extract.span.start), p.raw_line_at(extract.span.end - 1))
        terms = query.highlight_terms
        return Answer(
            question=query.text,
            answer=answer_text,
            confident=outcome is Outcome.CONFIDENT,
            citations=citations,
            answer_citation=extract.rank if extract else None,
            answer_lines=lines,
            highlights=tuple(tuple(term_spans(c.text, terms)) for c in citations),
            message=message,
            choice=choice.to_dict() if choice is not None else None,
            confidence=probability,
            outcome=outcome.value,
            off_topic=off_topic,
        )

    def _span(self, query: Query, hits: Sequence[Hit], rank: int, learned: bool = True) -> Pick:
        """The span of the ``rank``-th hit: the learned picker's choice when there is one
        (and the dense search compared the passage's units), else the rules'."""
        hit = hits[rank - 1]
        learned = learned and self.span_model is not None
        rule_span, options = self.span_options(query, hit, candidates=learned)
        if self.span_model is not None and options is not None:
            spans, x = options
            chosen = self.span_model.pick(x, [s.end - s.start for s in spans], self.reader.held_out)
            return Pick(rank, spans[chosen])
        return Pick(rank, rule_span)

    def explain_span(self, query: Query, hit: Hit) -> dict[str, Any]:
        """How the answer span of ``hit`` was chosen, for ``--explain``: by the picker (each
        candidate's characters and probability, and the length penalty) or by the rules."""
        rule_span, options = self.span_options(query, hit, candidates=self.span_model is not None)
        out: dict[str, Any] = {"chosen_by": "rules", "rules_span": [rule_span.start, rule_span.end]}
        if self.span_model is not None and options is not None:
            spans, x = options
            p = self.span_model.probabilities(x, self.reader.held_out)
            out.update(
                chosen_by="picker",
                length_penalty=self.span_model.length_penalty,
                candidates=[
                    {"span": [s.start, s.end], "probability": round(float(pi), 4)}
                    for s, pi in zip(spans, p, strict=True)
                ],
            )
        return out

    def span_options(
        self, query: Query, hit: Hit, candidates: bool = True
    ) -> tuple[Span, tuple[list[Span], np.ndarray] | None]:
        """The rules' span of ``hit``, and (with ``candidates``) its candidate spans with
        their features for the learned picker (:mod:`csbot.answer.span_model`; None for an
        exam item, or without the units' cosines)."""
        p = hit.passage
        near = hit.dense_span if hit.dense_span and hit.dense_span != (0, len(p.text)) else None
        weight = self._weight(query)
        found = (
            span_candidates(query.text, p.text, p.kind, weight, near) if candidates and hit.units else None
        )
        if found is None:
            return extract_span(query.text, p.text, p.kind, weight, near=near), None
        rule_span = found.spans[found.rule]
        overlap = self.reader.overlap
        return rule_span, span_features(
            query.text, p.text, found, near, hit.units, rule_span, lambda t: overlap(query, t)
        )

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
        weight = self._weight(self.reader.analyse(exam.stem))
        floor = STEM_MATCH * weight(exam.stem)
        tokenize = self.reader.tokenize
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
