"""The service: :func:`create_app` loads the assistant once and puts the routers together."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, JSONResponse, Response
from fastapi.staticfiles import StaticFiles

import csbot
from csbot.errors import CsbotError, QuestionError, UnknownDocumentError
from csbot.serve.api.routers import ask, documents, feedback, health, sources, trainer
from csbot.serve.assistant import Assistant
from csbot.serve.log_writer import LogWriter, open_log
from csbot.serve.reload import LiveAssistant
from csbot.settings import Settings, load_settings, quiet_offline_env

LOG_BUSY_SECONDS = 2.0  # the log's writer and feedback wait this long for another process's lock


def create_app(settings: Settings | None = None, assistant: Assistant | None = None) -> FastAPI:
    """The service. The index and model load once at start-up (or ``assistant`` is given).

    Also the factory ``csbot serve --workers N`` hands uvicorn (``csbot.serve.api.app:create_app``),
    which calls it without arguments: the settings then come from the environment.
    """
    active = settings or (assistant.settings if assistant is not None else load_settings())
    app = FastAPI(
        title="csbot",
        version=csbot.__version__,
        description="Answers from the 客户服务管理师 study material, with citations to the raw sources.",
        lifespan=_lifespan,
    )
    app.state.settings = active
    # Also usable without running the lifespan (test clients): loads on the first request.
    app.state.live = LiveAssistant(active, assistant)
    app.state.log = (
        LogWriter(open_log(active, busy_timeout=LOG_BUSY_SECONDS)) if active.log_questions else None
    )
    app.exception_handler(CsbotError)(_domain_error)
    app.exception_handler(RequestValidationError)(_invalid_request)
    app.middleware("http")(_guard)
    for router in (
        ask.router,
        feedback.router,
        sources.router,
        documents.router,
        health.router,
        trainer.router,
    ):
        app.include_router(router)
    if active.web_dir.is_dir():
        _serve_page(app, active.web_dir)
    return app


@asynccontextmanager
async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
    import anyio.to_thread

    settings: Settings = app.state.settings
    # Few request threads, queued in order, beat many threads fighting over two cores:
    # measured p95 ≈ 300–360 ms with 2–4 threads vs 430–525 ms with anyio's default 40.
    anyio.to_thread.current_default_thread_limiter().total_tokens = settings.request_threads
    quiet_offline_env()
    # Load now rather than on the first question; if it fails, /api/health and every
    # question get a clear 503 until an index that loads is built (no restart needed).
    await anyio.to_thread.run_sync(app.state.live.current)
    yield
    if app.state.log is not None:
        app.state.log.close()


async def _domain_error(request: Request, exc: CsbotError) -> JSONResponse:
    """A domain error as a status and its one-line message."""
    status = 404 if isinstance(exc, UnknownDocumentError) else 422 if isinstance(exc, QuestionError) else 503
    return JSONResponse(status_code=status, content={"detail": str(exc)})


# Requests are a question and a little context: anything over this is refused before parsing.
MAX_BODY_BYTES = 256 * 1024
# The pages (chat, coverage report, trainer) load only their own files: no inline script or
# style, no framing.
PAGE_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "object-src 'none'; base-uri 'none'; frame-ancestors 'none'"
)


async def _guard(request: Request, call_next: Any) -> Response:
    """413 for a body over :data:`MAX_BODY_BYTES` (by its declared length, or as it streams
    in), and the security headers on every response (the policy on csbot's own pages)."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > MAX_BODY_BYTES:
        return _too_large()
    if request.method in ("POST", "PUT", "PATCH") and not declared.isdigit():
        body = b""
        async for chunk in request.stream():
            body += chunk
            if len(body) > MAX_BODY_BYTES:
                return _too_large()
        request._body = body  # starlette reads the checked body from here
    response: Response = await call_next(request)
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["X-Frame-Options"] = "DENY"
    if request.url.path in ("/", "/coverage", "/trainer"):
        response.headers["Content-Security-Policy"] = PAGE_POLICY
    return response


def _too_large() -> JSONResponse:
    return JSONResponse(
        status_code=413, content={"detail": f"the request body is over {MAX_BODY_BYTES // 1024} KB"}
    )


async def _invalid_request(request: Request, exc: RequestValidationError) -> JSONResponse:
    """422 with where and what is wrong, never the input itself: echoed back, a lone
    surrogate or a non-finite number (``NaN``, ``1e400``) cannot be written as JSON, and a
    10 MB body would come back as a 10 MB error."""
    detail = [
        {
            "type": _printable(e.get("type", "")),
            "loc": [x if isinstance(x, int) else _printable(x) for x in e.get("loc", ())],
            "msg": _printable(e.get("msg", "")),
        }
        for e in exc.errors()[:20]
    ]
    return JSONResponse(status_code=422, content={"detail": detail})


def _printable(value: object, limit: int = 200) -> str:
    """A short string that JSON can carry (a field name the client sent may be anything)."""
    return str(value)[:limit].encode("utf-8", "replace").decode("utf-8")


def _serve_page(app: FastAPI, web_dir: Path) -> None:
    """The chat page at ``/``, its files under ``/static``."""
    app.mount("/static", StaticFiles(directory=web_dir), name="static")

    @app.get("/", include_in_schema=False)
    def index() -> FileResponse:
        return FileResponse(web_dir / "index.html")
