"""The one core every interface shares: load the index once, answer questions."""

from __future__ import annotations

from .answer import is_confident, make_answer
from .corpus import load_corpus
from .embedder import Embedder, make_embedder
from .errors import QuestionError
from .index_store import load_index
from .records import Answer
from .retrieve import Mode, Retriever
from .settings import Settings


class Assistant:
    """Answers questions from the index that ``settings`` points at."""

    def __init__(self, settings: Settings, embedder: Embedder | None = None) -> None:
        self.settings = settings
        index = load_index(settings)
        self.embedder = embedder or make_embedder(settings)
        self.retriever = Retriever(index, self.embedder, settings.candidates, settings.rrf_k)
        self.documents = {d.doc_id: d for d in load_corpus(settings.corpus_dir).documents}
        self.manifest = index.manifest

    def check_question(self, question: str) -> str:
        """The question stripped, or :class:`QuestionError` if empty or too long."""
        text = question.strip()
        if not text:
            raise QuestionError('the question is empty; type a question, e.g. csbot ask "什么是客我关系?"')
        limit = self.settings.max_question_chars
        if len(text) > limit:
            raise QuestionError(f"the question is {len(text)} characters long; the limit is {limit}")
        return text

    def ask(self, question: str, top_k: int | None = None, mode: Mode = "hybrid") -> Answer:
        """Answer one question with up to ``top_k`` citations."""
        text = self.check_question(question)
        k = top_k or self.settings.top_k
        if k < 1:
            raise QuestionError("top_k must be at least 1")
        hits = self.retriever.search(text, k=k, mode=mode)
        top = hits[0] if hits else None
        coverage = self.retriever.coverage(text, top.passage.text) if top else 0.0
        return make_answer(text, hits, self.documents, is_confident(top, coverage, mode))
