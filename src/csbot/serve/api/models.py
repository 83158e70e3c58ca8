"""The API's request and response models; responses are built from the records of csbot.records."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from csbot.records import Answer, Citation, DocumentInfo
from csbot.text.normalise import has_lone_surrogate, is_blank

if TYPE_CHECKING:
    from csbot.reports.syllabus import DocumentCoverage, SectionHit

# A bound on any text field, for safety only: the question limit the service enforces is
# settings.max_question_chars (CSBOT_MAX_QUESTION_CHARS), checked by the routes.
MAX_FIELD_CHARS = 20_000
MAX_SOURCE_LINES = 400
DEFAULT_SOURCE_LINES = 200


def checked_text(value: str, what: str = "the question", required: bool = True) -> str:
    """``value`` if it is text a reader can see: a lone surrogate (``"\\ud800"``) cannot be
    answered or echoed as UTF-8, and a question of only zero-width or control characters is
    empty."""
    if has_lone_surrogate(value):
        raise ValueError(f"{what} holds a character that is not valid text (a lone surrogate)")
    if required and is_blank(value):
        raise ValueError(f"{what} is empty")
    return value


class AskRequest(BaseModel):
    """A question; ``top_k`` citations (1–20); ``explain`` adds ranks, scores and timings."""

    model_config = ConfigDict(extra="forbid")
    question: str = Field(..., max_length=MAX_FIELD_CHARS, examples=["投诉处理的六步法是什么?"])
    top_k: int = Field(5, ge=1, le=20)
    explain: bool = False

    @field_validator("question")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        return checked_text(value)


class Message(BaseModel):
    model_config = ConfigDict(extra="forbid")
    role: Literal["user", "assistant"]
    content: str = Field(..., max_length=MAX_FIELD_CHARS)

    @field_validator("content")
    @classmethod
    def _text(cls, value: str) -> str:
        return checked_text(value, "a message", required=False)


class ChatRequest(BaseModel):
    """A conversation; the last message must be the user's question."""

    model_config = ConfigDict(extra="forbid")
    messages: list[Message] = Field(..., min_length=1, max_length=50)
    top_k: int = Field(5, ge=1, le=20)

    @field_validator("messages")
    @classmethod
    def _ends_with_user(cls, value: list[Message]) -> list[Message]:
        if value[-1].role != "user":
            raise ValueError("the last message must be the user's question")
        checked_text(value[-1].content)
        return value

    @property
    def question(self) -> str:
        """What the student just typed."""
        return self.messages[-1].content

    @property
    def earlier_questions(self) -> list[str]:
        """The student's turns before the last, oldest first."""
        return [m.content for m in self.messages[:-1] if m.role == "user"]


class AnswerOut(BaseModel):
    """The same JSON as ``csbot ask --json``."""

    question: str
    answer: str | None
    confident: bool
    confidence: float = Field(..., ge=0.0, le=1.0)
    outcome: Literal["confident", "likely", "not-covered"]
    citations: list[Citation]
    answer_citation: int | None
    answer_lines: list[int] | None
    highlights: list[list[list[int]]]
    message: str | None
    off_topic: bool = False
    choice: dict[str, Any] | None = None
    explain: dict[str, Any] | None = None
    resolved_question: str | None = None
    question_id: int | None = None

    @classmethod
    def from_answer(
        cls,
        answer: Answer,
        *,
        question: str | None = None,
        resolved_question: str | None = None,
        question_id: int | None = None,
    ) -> AnswerOut:
        """``answer`` as every interface shows it (:meth:`Answer.to_dict`).

        Args:
            question: the question as the student typed it, when not ``answer.question``.
            resolved_question: the question answered, when a follow-up made it differ.
            question_id: the question's id in the log, for feedback.

        The optional fields that stay None are left unset, and so out of the JSON (the
        routes exclude unset fields).
        """
        added = {"question": question, "resolved_question": resolved_question, "question_id": question_id}
        return cls.model_validate(answer.to_dict() | {k: v for k, v in added.items() if v is not None})


class FeedbackRequest(BaseModel):
    """A student's mark on an answer: helpful or not, with an optional short comment."""

    model_config = ConfigDict(extra="forbid")
    question_id: int = Field(..., ge=1, le=2**62)
    helpful: bool
    comment: str = Field("", max_length=500)

    @field_validator("comment")
    @classmethod
    def _text(cls, value: str) -> str:
        return checked_text(value, "the comment", required=False)


class FeedbackOut(BaseModel):
    ok: bool


class SourceSection(BaseModel):
    section: str
    text: str
    line_start: int
    line_end: int
    strength: float

    @classmethod
    def from_hit(cls, hit: SectionHit) -> SourceSection:
        return cls(
            section=hit.section,
            text=hit.text,
            line_start=hit.line_start,
            line_end=hit.line_end,
            strength=hit.strength,
        )


class DocumentSources(BaseModel):
    doc_id: str
    title: str
    strength: float
    teaches: bool  # False: a requirement document (exam syllabus, standard) that names the point
    sections: list[SourceSection]

    @classmethod
    def from_coverage(cls, found: DocumentCoverage) -> DocumentSources:
        return cls(
            doc_id=found.doc_id,
            title=found.title,
            strength=found.strength,
            teaches=found.teaches,
            sections=[SourceSection.from_hit(s) for s in found.sections],
        )


class SourcesOut(BaseModel):
    point: str
    documents: list[DocumentSources]

    @classmethod
    def from_coverage(cls, point: str, found: list[DocumentCoverage]) -> SourcesOut:
        return cls(point=point, documents=[DocumentSources.from_coverage(d) for d in found])


class DocumentOut(BaseModel):
    doc_id: str
    title: str
    kind: str
    level: str
    script: str

    @classmethod
    def from_info(cls, info: DocumentInfo) -> DocumentOut:
        return cls(doc_id=info.doc_id, title=info.title, kind=info.kind, level=info.level, script=info.script)


class SourceLine(BaseModel):
    number: int
    text: str


class SourceOut(BaseModel):
    doc_id: str
    title: str
    start: int
    end: int
    total_lines: int
    lines: list[SourceLine]

    @classmethod
    def window(cls, info: DocumentInfo, lines: list[str], start: int, end: int | None) -> SourceOut:
        """Raw lines ``start``–``end`` of a document, 1-based and inclusive.

        The range is clamped to the document and to at most 400 lines; without ``end`` it
        is 200 lines, and an ``end`` before ``start`` gives the one line ``start``.
        """
        total = len(lines)
        first = min(max(1, start), max(total, 1))
        wanted = end if end is not None else first + DEFAULT_SOURCE_LINES - 1
        last = min(max(first, wanted), total, first + MAX_SOURCE_LINES - 1)
        return cls(
            doc_id=info.doc_id,
            title=info.title,
            start=first,
            end=last,
            total_lines=total,
            lines=[SourceLine(number=n, text=lines[n - 1]) for n in range(first, last + 1)],
        )


class HealthOut(BaseModel):
    status: str
    model: str
    passage_count: int
    corpus_hash: str
    built_at: str
    question_log: dict[str, Any] | None = None  # status, pending, written, failed, dropped, last_error
    reload: dict[str, Any] | None = None  # reloads, last_reload, error (a new index refused)

    @classmethod
    def from_manifest(
        cls, manifest: dict[str, Any], log: dict[str, Any] | None = None, reload: dict[str, Any] | None = None
    ) -> HealthOut:
        """The service is up, which index it answers from, and how the question log is doing."""
        return cls(
            question_log=log,
            reload=reload,
            status="ok",
            model=manifest["model"],
            passage_count=manifest["passage_count"],
            corpus_hash=manifest["corpus_hash"],
            built_at=manifest["built_at"],
        )
