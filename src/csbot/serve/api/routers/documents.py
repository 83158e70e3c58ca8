"""The corpus: the list of documents and their raw source lines."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, HTTPException, Query

from csbot.serve.api.deps import AssistantDep
from csbot.serve.api.models import DocumentOut, SourceOut

router = APIRouter()

Line = Annotated[int, Query(ge=-(10**9), le=10**9)]
MaybeLine = Annotated[int | None, Query(ge=-(10**9), le=10**9)]


@router.get("/api/documents")
def documents(assistant: AssistantDep) -> list[DocumentOut]:
    return [DocumentOut.from_info(d) for d in assistant.documents.values()]


@router.get("/api/documents/{doc_id}")
def source(doc_id: str, assistant: AssistantDep, start: Line = 1, end: MaybeLine = None) -> SourceOut:
    """Raw source lines ``start``–``end`` (1-based, clamped to the document, at most 400)."""
    if doc_id not in assistant.documents:  # only ids of the corpus ever reach the disk
        raise HTTPException(status_code=404, detail=f"unknown document {doc_id!r}")
    return SourceOut.window(assistant.documents[doc_id], assistant.raw_lines[doc_id], start, end)
