"""The trainer page: what students asked that the material lacks, and answers marked not
helpful. Student data, so it is off unless ``CSBOT_TRAINER_TOKEN`` is set, and the data
comes only to a request that sends that token (``Authorization: Bearer …``); the page itself
holds no data and asks for the token."""

from __future__ import annotations

import hmac
from dataclasses import asdict
from typing import Annotated, Any

from fastapi import APIRouter, Header, HTTPException
from fastapi.responses import FileResponse

from csbot.serve.api.deps import SettingsDep
from csbot.serve.log_writer import open_log
from csbot.settings import Settings

router = APIRouter()
OFF = "the trainer page is off; set CSBOT_TRAINER_TOKEN on the server to turn it on"


def _require_on(settings: Settings) -> None:
    if not settings.trainer_token:
        raise HTTPException(status_code=404, detail=OFF)


@router.get("/trainer", include_in_schema=False)
def trainer_page(settings: SettingsDep) -> FileResponse:
    _require_on(settings)
    return FileResponse(settings.web_dir / "trainer.html", media_type="text/html")


@router.get("/api/trainer/gaps")
def trainer_gaps(
    settings: SettingsDep, authorization: Annotated[str | None, Header()] = None
) -> dict[str, Any]:
    """Most asked questions without a confident answer (near-duplicates grouped) and answers
    marked not helpful. 404 while the page is off; 401 without the right token."""
    _require_on(settings)
    sent = (authorization or "").removeprefix("Bearer ").strip()
    if not hmac.compare_digest(
        sent.encode("utf-8", "replace"), settings.trainer_token.strip().encode("utf-8")
    ):
        raise HTTPException(
            status_code=401, detail="send the trainer token", headers={"WWW-Authenticate": "Bearer"}
        )
    log = open_log(settings, busy_timeout=2.0)
    try:
        return {
            "logged": log.count(),
            "off_topic": log.off_topic(),
            "unanswered": [asdict(g) for g in log.gaps(limit=50)],
            "not_helpful": [asdict(m) for m in log.unhelpful(limit=50)],
        }
    finally:
        log.close()
