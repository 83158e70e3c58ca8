"""Questions: ``/api/ask`` (one question) and ``/api/chat`` (a conversation, follow-ups resolved)."""

from __future__ import annotations

from fastapi import APIRouter

from csbot.records import Answer
from csbot.serve.api.deps import AssistantDep, QuestionLogDep, SettingsDep, check_length
from csbot.serve.api.models import AnswerOut, AskRequest, ChatRequest
from csbot.serve.followup import resolve_followup
from csbot.serve.question_log import QuestionLog

router = APIRouter()


@router.post("/api/ask", response_model_exclude_unset=True)
def ask(body: AskRequest, assistant: AssistantDep, log: QuestionLogDep, settings: SettingsDep) -> AnswerOut:
    check_length(body.question, settings)
    answer = assistant.ask(body.question, top_k=body.top_k, explain=body.explain)
    return AnswerOut.from_answer(answer, question_id=_record(log, answer.question, answer))


@router.post("/api/chat", response_model_exclude_unset=True)
def chat(body: ChatRequest, assistant: AssistantDep, log: QuestionLogDep, settings: SettingsDep) -> AnswerOut:
    question = body.question
    check_length(question, settings)  # the limit is on what the student typed, not the resolved question
    resolved = fit_followup(
        resolve_followup(question, body.earlier_questions), question, settings.max_question_chars
    )
    answer = assistant.ask(resolved, top_k=body.top_k)
    return AnswerOut.from_answer(
        answer,
        question=question,
        resolved_question=resolved if resolved != question.strip() else None,
        question_id=_record(log, question, answer),
    )


def fit_followup(resolved: str, question: str, limit: int) -> str:
    """The resolved question cut to ``limit`` characters, keeping all of what the student typed.

    A follow-up is resolved as ``f"{earlier} {question}"``; the assistant refuses a question
    over the limit, so when the two together are too long, the earlier question is cut at
    the end, not the short turn the student typed.

    >>> fit_followup("投诉处理的六步法是什么? 那第二点呢?", "那第二点呢?", 12)
    '投诉处理 那第二点呢?'
    """
    if len(resolved) <= limit:
        return resolved
    typed = question.strip()
    earlier = resolved[: len(resolved) - len(typed) - 1]
    room = limit - len(typed) - 1
    return f"{earlier[:room].rstrip()} {typed}" if room > 0 else typed


def _record(log: QuestionLog | None, question: str, answer: Answer) -> int | None:
    """The question's id in the log (for feedback), or None when logging is off."""
    if log is None:
        return None
    top = answer.citations[0].doc_id if answer.citations else None
    return log.record(question, answer.confident, top)
