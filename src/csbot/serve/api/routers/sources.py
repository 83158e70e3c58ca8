"""For trainers: which documents cover a knowledge point, and the coverage report (page and CSV)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import HTMLResponse, Response

from csbot.reports.coverage_page import report_for
from csbot.reports.syllabus import sources as find_sources
from csbot.serve.api.deps import AssistantDep, SettingsDep, check_length
from csbot.serve.api.models import MAX_FIELD_CHARS, SourcesOut

router = APIRouter()


@router.get("/api/sources")
def sources_of(
    assistant: AssistantDep,
    settings: SettingsDep,
    q: Annotated[str, Query(min_length=1, max_length=MAX_FIELD_CHARS)],
) -> SourcesOut:
    """Every document and section that covers a knowledge point: the study material that
    teaches it, strongest first, then the requirement documents that only name it
    (``teaches`` false)."""
    check_length(q, settings)
    return SourcesOut.from_coverage(q, find_sources(assistant, q))


@router.get("/coverage", include_in_schema=False)
def coverage_page(assistant: AssistantDep) -> HTMLResponse:
    """The coverage report of the index being served, in Chinese: built on the first request
    (or ahead, at start-up) and kept until the index changes. 503 while no index has loaded."""
    return HTMLResponse(report_for(assistant).html())


@router.get("/coverage.csv", include_in_schema=False)
def coverage_csv(assistant: AssistantDep) -> Response:
    return Response(
        report_for(assistant).csv(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="coverage.csv"'},
    )
