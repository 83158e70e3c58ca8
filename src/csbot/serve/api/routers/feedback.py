"""Students' marks on answers, stored in the question log."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException

from csbot.serve.api.deps import QuestionLogDep
from csbot.serve.api.models import FeedbackOut, FeedbackRequest

router = APIRouter()


@router.post("/api/feedback")
def feedback(body: FeedbackRequest, log: QuestionLogDep) -> FeedbackOut:
    if log is None:
        raise HTTPException(status_code=409, detail="question logging is turned off (CSBOT_LOG_QUESTIONS=0)")
    if not log.mark(body.question_id, body.helpful, body.comment.strip()):
        raise HTTPException(status_code=404, detail=f"no logged question {body.question_id}")
    return FeedbackOut(ok=True)
