"""The web service: thin FastAPI routes over the same :class:`Assistant` the CLI uses."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated, Any, Literal

from fastapi import Depends, FastAPI, HTTPException, Query, Request
from fastapi.responses import FileResponse, JSONResponse
from fastapi.staticfiles import StaticFiles
from pydantic import BaseModel, ConfigDict, Field, field_validator

from csbot.errors import CsbotError, QuestionError, UnknownDocumentError
from csbot.records import Citation
from csbot.reports.syllabus import sources as find_sources
from csbot.serve.assistant import Assistant
from csbot.serve.followup import resolve_followup
from csbot.serve.question_log import QuestionLog
from csbot.settings import Settings, load_settings, quiet_offline_env

MAX_QUESTION_CHARS = 1000


class AskRequest(BaseModel):
    """A question; ``top_k`` citations (1–20); ``explain`` adds ranks, scores and timings."""

    model_config = ConfigDict(extra="forbid")
    question: str = Field(..., max_length=MAX_QUESTION_CHARS, examples=["投诉处理的六步法是什么?"])
    top_k: int = Field(5, ge=1, le=20)
    explain: bool = False

    @field_validator("question")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("the question is empty")
        return value


class Message(BaseModel):
    model_config = ConfigDict(extra="forbid")
    role: Literal["user", "assistant"]
    content: str = Field(..., max_length=20_000)


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
        text = value[-1].content
        if not text.strip():
            raise ValueError("the question is empty")
        if len(text) > MAX_QUESTION_CHARS:
            raise ValueError(f"the question is longer than {MAX_QUESTION_CHARS} characters")
        return value


class AnswerOut(BaseModel):
    """The same JSON as ``csbot ask --json``."""

    question: str
    answer: str | None
    confident: bool
    citations: list[Citation]
    answer_citation: int | None
    answer_lines: list[int] | None
    highlights: list[list[list[int]]]
    message: str | None
    choice: dict[str, Any] | None = None
    explain: dict[str, Any] | None = None
    resolved_question: str | None = None
    question_id: int | None = None


class FeedbackRequest(BaseModel):
    """A student's mark on an answer: helpful or not, with an optional short comment."""

    model_config = ConfigDict(extra="forbid")
    question_id: int = Field(..., ge=1, le=2**62)
    helpful: bool
    comment: str = Field("", max_length=500)


class FeedbackOut(BaseModel):
    ok: bool


class SourceSection(BaseModel):
    section: str
    text: str
    line_start: int
    line_end: int
    strength: float


class DocumentSources(BaseModel):
    doc_id: str
    title: str
    strength: float
    sections: list[SourceSection]


class SourcesOut(BaseModel):
    point: str
    documents: list[DocumentSources]


class DocumentOut(BaseModel):
    doc_id: str
    title: str
    kind: str
    level: str
    script: str


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


class HealthOut(BaseModel):
    status: str
    model: str
    passage_count: int
    corpus_hash: str
    built_at: str


def get_assistant(request: Request) -> Assistant:
    assistant: Assistant | None = getattr(request.app.state, "assistant", None)
    if assistant is None:
        raise HTTPException(
            status_code=503, detail=getattr(request.app.state, "load_error", "index not loaded")
        )
    return assistant


AssistantDep = Annotated[Assistant, Depends(get_assistant)]


def create_app(settings: Settings | None = None, assistant: Assistant | None = None) -> FastAPI:
    """The service. The index and model load once at start-up (or ``assistant`` is given)."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        import anyio.to_thread

        # Few request threads, queued in order, beat many threads fighting over two cores:
        # measured p95 ≈ 300–360 ms with 2–4 threads vs 430–525 ms with anyio's default 40.
        anyio.to_thread.current_default_thread_limiter().total_tokens = active.request_threads
        if assistant is not None:
            app.state.assistant = assistant
        else:
            quiet_offline_env()
            try:
                app.state.assistant = Assistant(settings or load_settings())
                app.state.assistant.warm_up()
            except CsbotError as exc:  # serve /api/health and a clear 503 instead of crashing
                app.state.assistant = None
                app.state.load_error = str(exc)
        yield
        if app.state.log is not None:
            app.state.log.close()

    app = FastAPI(
        title="csbot",
        version="0.1.0",
        description="Answers from the 客户服务管理师 study material, with citations to the raw sources.",
        lifespan=lifespan,
    )
    if assistant is not None:  # also usable without running the lifespan (test clients)
        app.state.assistant = assistant
    active = settings or (assistant.settings if assistant is not None else load_settings())
    app.state.log = QuestionLog(active.data_dir / "questions.sqlite3") if active.log_questions else None

    def logged(answer: dict[str, Any]) -> dict[str, Any]:
        log: QuestionLog | None = app.state.log
        if log is not None:
            top = answer["citations"][0]["doc_id"] if answer["citations"] else None
            answer["question_id"] = log.record(answer["question"], answer["confident"], top)
        return answer

    @app.exception_handler(CsbotError)
    async def _domain_error(request: Request, exc: CsbotError) -> JSONResponse:
        status = (
            404 if isinstance(exc, UnknownDocumentError) else 422 if isinstance(exc, QuestionError) else 503
        )
        return JSONResponse(status_code=status, content={"detail": str(exc)})

    @app.post("/api/ask", response_model=AnswerOut, response_model_exclude_unset=True)
    def ask(body: AskRequest, assistant: AssistantDep) -> dict[str, Any]:
        return logged(assistant.ask(body.question, top_k=body.top_k, explain=body.explain).to_dict())

    @app.post("/api/chat", response_model=AnswerOut, response_model_exclude_unset=True)
    def chat(body: ChatRequest, assistant: AssistantDep) -> dict[str, Any]:
        history = [m.content for m in body.messages[:-1] if m.role == "user"]
        question = body.messages[-1].content
        resolved = resolve_followup(question, history)
        answer = assistant.ask(resolved, top_k=body.top_k).to_dict()
        answer["question"] = question
        if resolved != question.strip():
            answer["resolved_question"] = resolved
        return logged(answer)

    @app.post("/api/feedback", response_model=FeedbackOut)
    def feedback(body: FeedbackRequest) -> dict[str, bool]:
        log: QuestionLog | None = app.state.log
        if log is None:
            raise HTTPException(
                status_code=409, detail="question logging is turned off (CSBOT_LOG_QUESTIONS=0)"
            )
        if not log.mark(body.question_id, body.helpful, body.comment.strip()):
            raise HTTPException(status_code=404, detail=f"no logged question {body.question_id}")
        return {"ok": True}

    @app.get("/api/sources", response_model=SourcesOut)
    def sources_of(
        assistant: AssistantDep, q: Annotated[str, Query(min_length=1, max_length=MAX_QUESTION_CHARS)]
    ) -> dict[str, Any]:
        """Every document and section that covers a knowledge point, strongest first."""
        return {"point": q, "documents": [d.to_dict() for d in find_sources(assistant, q)]}

    @app.get("/api/documents", response_model=list[DocumentOut])
    def documents(assistant: AssistantDep) -> list[dict[str, str]]:
        return [
            {"doc_id": d.doc_id, "title": d.title, "kind": d.kind, "level": d.level, "script": d.script}
            for d in assistant.documents.values()
        ]

    @app.get("/api/documents/{doc_id}", response_model=SourceOut)
    def source(
        doc_id: str,
        assistant: AssistantDep,
        start: Annotated[int, Query(ge=-(10**9), le=10**9)] = 1,
        end: Annotated[int | None, Query(ge=-(10**9), le=10**9)] = None,
    ) -> dict[str, Any]:
        """Raw source lines ``start``–``end`` (1-based, clamped to the document, at most 400)."""
        if doc_id not in assistant.documents:  # only ids of the corpus ever reach the disk
            raise HTTPException(status_code=404, detail=f"unknown document {doc_id!r}")
        info = assistant.corpus.get(doc_id)
        lines = assistant.corpus.raw_lines(info)
        total = len(lines)
        first = min(max(1, start), max(total, 1))
        last = min(max(first, end if end is not None else first + 199), total, first + 399)
        return {
            "doc_id": doc_id,
            "title": info.title,
            "start": first,
            "end": last,
            "total_lines": total,
            "lines": [{"number": n, "text": lines[n - 1]} for n in range(first, last + 1)],
        }

    @app.get("/api/health", response_model=HealthOut)
    def health(request: Request) -> dict[str, Any]:
        assistant = getattr(request.app.state, "assistant", None)
        if assistant is None:
            raise HTTPException(
                status_code=503, detail=getattr(request.app.state, "load_error", "index not loaded")
            )
        m = assistant.manifest
        return {
            "status": "ok",
            "model": m["model"],
            "passage_count": m["passage_count"],
            "corpus_hash": m["corpus_hash"],
            "built_at": m["built_at"],
        }

    @app.get("/coverage", include_in_schema=False, response_model=None)
    def coverage_page(assistant: AssistantDep) -> FileResponse | JSONResponse:
        report = assistant.settings.reports_dir / "coverage.html"
        if not report.is_file():
            return JSONResponse(
                status_code=404, content={"detail": "no coverage report yet; run `csbot coverage`"}
            )
        return FileResponse(report, media_type="text/html")

    web_dir = active.web_dir
    if web_dir.is_dir():
        app.mount("/static", StaticFiles(directory=web_dir), name="static")

        @app.get("/", include_in_schema=False)
        def index() -> FileResponse:
            return FileResponse(web_dir / "index.html")

    return app
