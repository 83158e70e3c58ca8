"""Query analysis, once per question: the retrieval form, its tokens, word pairs and, for an
English question, the material's words for its phrases. Every later stage reads the
:class:`Query` instead of tokenising or translating the question again."""

from __future__ import annotations

import re
from dataclasses import dataclass

from csbot.index.glossary import Translation
from csbot.index.protocols import LoadedIndex
from csbot.text.normalise import fold_width, is_cjk, normalize
from csbot.text.patterns import ANSWER_TAIL, BLANK, LATER_LETTER, LETTER, LETTER_MARK, PAREN_LETTER

# A、 A. A． (A) A) — an option letter, when it starts a line or follows a space, a
# punctuation mark, or the end of the stem's blank.
_OPTION_LETTER = re.compile(
    rf"(?:^|(?<=[\s。;；,，:：)）?？]))(?:{PAREN_LETTER}|{LETTER}(?:[、.．:：]|\s+(?=[^\sA-Za-z])))"
    rf"|(?<=[\u4e00-\u9fff]){LATER_LETTER}{LETTER_MARK}(?=\S)"
)


def retrieval_text(question: str) -> str:
    """The question as retrieval should see it: option letters, blanks and answer keys
    removed, options kept as words.

    >>> retrieval_text("以所谓的以貌取人是指( )。A、晕轮效应 B、首因效应")
    '以所谓的以貌取人是指 。 晕轮效应 首因效应'
    """
    text = fold_width(question)
    text = ANSWER_TAIL.sub(" ", text)
    text = BLANK.sub(" ", text)
    text = _OPTION_LETTER.sub(" ", text)
    return re.sub(r"\s+", " ", text).strip()


# A question about the course itself (its exam, syllabus, chapters' requirements, textbook,
# training modules) is answered by the outlines that only name what other questions ask:
# retrieval does not demote them for it (:func:`csbot.search.fusion.naming_kinds`). Matched
# in simplified, lower-cased form; 绩效考核 (staff appraisal) is the subject, not the exam.
ABOUT_COURSE = re.compile(
    r"自考|自学考试|大纲|考纲|(?<!绩效)考核|考点|题型|识记|领会|模块|单元|教材|学分|课程代码"
    r"|第[一二三四五六七八九十\d]+章|[这那本][一个]?章"
    r"|syllabus|\bmodules?\b|\bunits?\b|\bexams?\b|\bcourse\b|\bchapters?\b|\btextbook"
)


def is_about_course(question: str) -> bool:
    """Whether ``question`` asks about the course itself rather than its subject.

    >>> is_about_course("自考第三章要識記哪些概念?"), is_about_course("投诉处理有哪几步?")
    (True, False)
    """
    return ABOUT_COURSE.search(normalize(question)) is not None


def is_cross_lingual(question: str) -> bool:
    """A question with no Chinese character in it (English, in practice)."""
    return not any(is_cjk(c) for c in question)


@dataclass(frozen=True)
class Phrase:
    """Words of a question the material says otherwise, and the material's words for them,
    each as its BM25 tokens: an English phrase and its translations (``make suggestion`` →
    (提出, 建议)), or a Chinese word the corpus never uses and its synonyms (及格 → (合格,))."""

    source: str
    translations: tuple[tuple[str, ...], ...]


@dataclass(frozen=True)
class Query:
    """A question as every stage reads it.

    Attributes:
        text: the question as asked.
        retrieval: :func:`retrieval_text` of it (what is embedded and tokenised).
        tokens: BM25 tokens of ``retrieval``, bigrams included.
        words: its informative words (no bigrams): what term overlap weighs.
        terms: the BM25 query: ``tokens`` the corpus uses; for an English question the
            material's words its phrases translate to.
        pairs: adjacent ``words`` the word-pair index knows.
        english: an English question's phrases and untranslated words (None for Chinese).
        phrases: ``english``'s phrases with their translations tokenised; for a Chinese
            question, its words the corpus never uses that have synonyms it does use
            (:mod:`csbot.index.synonyms`: 及格 → 合格), each a phrase of those synonyms.
        about_course: :func:`is_about_course`: the question asks about the course itself.
    """

    text: str
    retrieval: str
    tokens: tuple[str, ...]
    words: tuple[str, ...]
    terms: tuple[str, ...]
    pairs: tuple[str, ...] = ()
    english: Translation | None = None
    phrases: tuple[Phrase, ...] = ()
    about_course: bool = False

    @property
    def highlight_terms(self) -> list[str]:
        """The words worth marking in a passage: the question's words and bigrams of two or
        more characters; for an English question, the material's words it translates to."""
        if self.english is not None:
            return list(self.terms)
        bridged = [t for p in self.phrases for head in p.translations for t in head]
        return list(dict.fromkeys([t for t in self.tokens if len(t) >= 2] + bridged))


def _bridges(words: tuple[str, ...], index: LoadedIndex) -> tuple[Phrase, ...]:
    """The question's words the corpus never uses, each with the synonyms it does use."""
    synonyms = index.glossary.synonyms
    if not synonyms:
        return ()
    vocab = index.lexical.vocab
    out = []
    for w in dict.fromkeys(words):
        if w in vocab or w not in synonyms:
            continue
        heads = tuple(h for s in synonyms[w] if (h := tuple(index.segmenter.tokenize(s, bigrams=False))))
        if heads:
            out.append(Phrase(w, heads))
    return tuple(out)


def analyse(question: str, index: LoadedIndex) -> Query:
    """Read ``question`` once against the loaded index's vocabulary and glossary."""
    seg = index.segmenter
    retrieval = retrieval_text(question)
    tokens = tuple(seg.tokenize(retrieval))
    words = tuple(seg.tokenize(retrieval, bigrams=False))
    vocab = index.lexical.vocab
    if not is_cross_lingual(question):
        pairs = tuple(f"{a} {b}" for a, b in zip(words, words[1:], strict=False))
        return Query(
            text=question,
            retrieval=retrieval,
            tokens=tokens,
            words=words,
            terms=tuple(t for t in tokens if t in vocab),
            pairs=tuple(p for p in pairs if p in index.pairs.vocab),
            phrases=_bridges(words, index),
            about_course=is_about_course(question),
        )
    english = index.glossary.translate(retrieval)
    phrases = tuple(
        Phrase(g.english, tuple(tuple(seg.tokenize(w, bigrams=False)) for w in g.words))
        for g in english.groups
    )
    terms = dict.fromkeys(t for p in phrases for head in p.translations for t in head if t in vocab)
    return Query(
        question, retrieval, tokens, words, tuple(terms), (), english, phrases, is_about_course(question)
    )
