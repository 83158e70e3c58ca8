"""Whether the service is up, and which index it answers from."""

from __future__ import annotations

from fastapi import APIRouter

from csbot.serve.api.deps import AssistantDep, QuestionLogDep
from csbot.serve.api.models import HealthOut

router = APIRouter()


@router.get("/api/health")
def health(assistant: AssistantDep, log: QuestionLogDep) -> HealthOut:  # 503 while the index is not loaded
    return HealthOut.from_manifest(assistant.manifest, log.status() if log is not None else None)
