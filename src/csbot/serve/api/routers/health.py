"""Whether the service is up, and which index it answers from."""

from __future__ import annotations

from dataclasses import asdict

from fastapi import APIRouter

from csbot.serve.api.deps import AssistantDep, LiveDep, QuestionLogDep
from csbot.serve.api.models import HealthOut

router = APIRouter()


@router.get("/api/health")
def health(assistant: AssistantDep, live: LiveDep, log: QuestionLogDep) -> HealthOut:
    """503 while no index has loaded; else which index answers, reloads, the question log."""
    return HealthOut.from_manifest(
        assistant.manifest, log.status() if log is not None else None, asdict(live.status())
    )
