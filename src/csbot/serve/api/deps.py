"""What routes get through ``Annotated`` dependencies: the assistant, the question log, the settings."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, HTTPException, Request

from csbot.serve.assistant import Assistant
from csbot.serve.log_writer import LogWriter
from csbot.serve.reload import LiveAssistant
from csbot.settings import Settings


def get_assistant(request: Request) -> Assistant:
    """The assistant for the index being served, one for the whole request (a new index is
    switched in between requests, :mod:`csbot.serve.reload`); 503 with the reason while no
    index has loaded."""
    live: LiveAssistant = request.app.state.live
    assistant = live.current()
    if assistant is None:
        raise HTTPException(status_code=503, detail=live.error or "index not loaded")
    return assistant


def get_live(request: Request) -> LiveAssistant:
    live: LiveAssistant = request.app.state.live
    return live


def get_question_log(request: Request) -> LogWriter | None:
    """The question log's writer, or None when logging is turned off (``CSBOT_LOG_QUESTIONS=0``)."""
    log: LogWriter | None = request.app.state.log
    return log


def get_settings(request: Request) -> Settings:
    """The settings the service was created with."""
    settings: Settings = request.app.state.settings
    return settings


AssistantDep = Annotated[Assistant, Depends(get_assistant)]
QuestionLogDep = Annotated[LogWriter | None, Depends(get_question_log)]
SettingsDep = Annotated[Settings, Depends(get_settings)]
LiveDep = Annotated[LiveAssistant, Depends(get_live)]


def check_length(question: str, settings: Settings, spare: int = 0) -> None:
    """422 when what the student typed is longer than ``settings.max_question_chars``
    (plus ``spare``: room for a follow-up joined to the question it leans on)."""
    length, limit = len(question), settings.max_question_chars + spare
    if length > limit:
        raise HTTPException(
            status_code=422, detail=f"the question is {length} characters long; the limit is {limit}"
        )
