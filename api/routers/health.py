"""GET /api/health: each dependency on its own (database, dbt marts and their freshness, last window written).

"ok" means the database answers and the marts exist; on a fresh install before the first dbt build the answer
is "degraded" with the reason, so a monitor (and a person) sees why the rankings are empty.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from importlib import metadata

from fastapi import APIRouter, Depends
from fastapi.concurrency import run_in_threadpool

from api import queries
from api.deps import engine_for, settings_dep
from api.schemas import MartHealth, ServiceHealth
from core.settings import Settings

log = logging.getLogger(__name__)
router = APIRouter(tags=["health"])


def version() -> str:
    try:
        return metadata.version("streamscope")
    except metadata.PackageNotFoundError:
        return "0.1.0"


def _age(moment: datetime | None, now: datetime) -> float | None:
    return None if moment is None else max(0.0, (now - moment).total_seconds())


def report(settings: Settings) -> ServiceHealth:
    now = datetime.now(UTC)
    try:
        with engine_for(settings).connect() as conn:
            marts = queries.mart_health(conn, settings.api_marts_schema)
            last_window = queries.last_window_at(conn)
    except Exception as error:  # the answer is "no database", whatever the cause
        log.warning("health: database check failed: %s", error)
        return ServiceHealth(status="degraded", database=False, version=version(),
                             reasons=["the database does not answer"])
    built = all(mart["exists"] for mart in marts)
    reasons = [] if built else ["the analytics have not been built yet (the first dbt build makes them)"]
    return ServiceHealth(
        status="ok" if built else "degraded", database=True, version=version(), analytics_built=built,
        marts=[MartHealth(**mart, age_seconds=_age(mart["newest_source_at"], now)) for mart in marts],
        last_window_at=last_window, last_window_age_seconds=_age(last_window, now), reasons=reasons,
    )


@router.get("/health", response_model=ServiceHealth, summary="Service and dependency health")
async def health(settings: Settings = Depends(settings_dep)) -> ServiceHealth:
    return await run_in_threadpool(report, settings)
