"""Questions: ``/api/ask`` (one question) and ``/api/chat`` (a conversation, follow-ups resolved)."""

from __future__ import annotations

from fastapi import APIRouter

from csbot.records import Answer
from csbot.serve.api.deps import AssistantDep, QuestionLogDep, SettingsDep, check_length
from csbot.serve.api.models import AnswerOut, AskRequest, ChatRequest
from csbot.serve.followup import MAX_FOLLOW_UP_CHARS, resolve_followup
from csbot.serve.log_writer import LogWriter

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
    resolved = resolve_followup(question, body.earlier_questions)
    # the earlier question it leans on was within the limit when it was asked
    check_length(resolved, settings, spare=MAX_FOLLOW_UP_CHARS + 1)
    answer = assistant.ask(resolved, top_k=body.top_k, check_length=False)
    return AnswerOut.from_answer(
        answer,
        question=question,
        resolved_question=resolved if resolved != question.strip() else None,
        question_id=_record(log, question, answer),
    )


def _record(log: LogWriter | None, question: str, answer: Answer) -> int | None:
    """The question's id in the log (for feedback), or None when logging is off or full."""
    if log is None:
        return None
    top = answer.citations[0].doc_id if answer.citations else None
    return log.record(question, answer.confident, top, off_topic=answer.off_topic)
