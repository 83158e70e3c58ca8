"""For trainers: which documents cover a knowledge point, and the syllabus coverage page."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import FileResponse, JSONResponse

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
    """Every document and section that covers a knowledge point, strongest first."""
    check_length(q, settings)
    return SourcesOut.from_coverage(q, find_sources(assistant, q))


@router.get("/coverage", include_in_schema=False, response_model=None)
def coverage_page(assistant: AssistantDep) -> FileResponse | JSONResponse:
    """The report ``csbot coverage`` wrote (503 like every page when the index did not load)."""
    report = assistant.settings.reports_dir / "coverage.html"
    if not report.is_file():
        return JSONResponse(
            status_code=404, content={"detail": "no coverage report yet; run `csbot coverage`"}
        )
    return FileResponse(report, media_type="text/html")
