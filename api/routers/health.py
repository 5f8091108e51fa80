"""GET /api/health: is the service up and does the database answer."""

from __future__ import annotations

import logging
from importlib import metadata

from fastapi import APIRouter, Depends
from fastapi.concurrency import run_in_threadpool
from sqlalchemy import text

from api.deps import engine_for, settings_dep
from api.schemas import ServiceHealth
from core.settings import Settings

log = logging.getLogger(__name__)
router = APIRouter(tags=["health"])


def version() -> str:
    try:
        return metadata.version("streamscope")
    except metadata.PackageNotFoundError:
        return "0.1.0"


def database_answers(settings: Settings) -> bool:
    try:
        with engine_for(settings).connect() as conn:
            conn.execute(text("SELECT 1"))
        return True
    except Exception as error:  # the answer is "no", whatever the cause
        log.warning("health: database check failed: %s", error)
        return False


@router.get("/health", response_model=ServiceHealth, summary="Service and database health")
async def health(settings: Settings = Depends(settings_dep)) -> ServiceHealth:
    database = await run_in_threadpool(database_answers, settings)
    return ServiceHealth(status="ok" if database else "degraded", database=database, version=version())
