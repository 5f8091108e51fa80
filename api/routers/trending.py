"""GET /api/trending: the streams most above their own normal right now.

The score and its minimum evidence are dbt's (trending_now over stream_class_baselines: a robust z of this
hour's mean per frame against the stream's median and MAD for this hour of the week); this module reads the
view's ranks for the request's "now".
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Query
from fastapi.concurrency import run_in_threadpool

from api import queries
from api.deps import engine_for, now_dep, settings_dep
from api.errors import responses
from api.logic import as_utc, hour_of_week, normalise_objects, trending_items
from api.params import RANKINGS_LIMIT, RANKINGS_LIMIT_MAX, RANKINGS_LIMIT_MIN
from api.schemas import StreamOut, TrendingResponse
from core.settings import Settings

router = APIRouter(tags=["rankings"])

MIN_SCORE_BOUND = 1000.0


def compute_trending(settings: Settings, object_class: str | None, limit: int, min_score: float,
                     now: datetime) -> TrendingResponse:
    hour = as_utc(now).replace(minute=0, second=0, microsecond=0)
    shape = {"object": object_class, "hour": hour, "hour_of_week": hour_of_week(hour), "min_score": min_score}
    try:
        with engine_for(settings).connect() as conn:
            rows = queries.trending(conn, settings.api_marts_schema, now, limit, object_class, min_score)
    except queries.MartsMissing:
        return TrendingResponse(**shape, items=[], analytics_built=False)
    items = trending_items(rows, lambda row: StreamOut(**queries.stream_dict(row)))
    return TrendingResponse(**shape, items=items)


@router.get("/trending", response_model=TrendingResponse, summary="Streams most above their own normal now",
            responses=responses(422, 503))
async def trending(
    object: Annotated[str | None, Query(max_length=200, description="Only this class (e.g. person); default: "
                                        "each stream by its highest-scoring class.")] = None,
    limit: Annotated[int, Query(ge=RANKINGS_LIMIT_MIN, le=RANKINGS_LIMIT_MAX)] = RANKINGS_LIMIT,
    min_score: Annotated[float, Query(ge=-MIN_SCORE_BOUND, le=MIN_SCORE_BOUND, allow_inf_nan=False,
                                      description="Leave out streams scoring below this (0: at or above normal).")
                         ] = 0.0,
    settings: Settings = Depends(settings_dep),
    now: datetime = Depends(now_dep),
) -> TrendingResponse:
    object_class = normalise_objects([object])[0] if object is not None else None
    return await run_in_threadpool(compute_trending, settings, object_class, limit, min_score, now)
