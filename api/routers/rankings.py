"""GET /api/rankings: streams ranked by mean objects per frame over one or several classes and a window.

The ranking rule and its minimum evidence are dbt's (the video_rankings view, see api.queries); this module
only asks it for the request's classes, window and "now".

The hot endpoint of the UI: async, answers served from a short TTL cache (settings.api_cache_seconds)
keyed by the normalised query; a miss runs the query in the threadpool on the pooled engine.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.concurrency import run_in_threadpool

from api import queries
from api.cache import rankings_key
from api.deps import engine_for, now_dep, settings_dep
from api.errors import responses
from api.logic import normalise_objects, ranking_items
from api.params import DEFAULT_WINDOW, RANKINGS_LIMIT, RANKINGS_LIMIT_MAX, RANKINGS_LIMIT_MIN
from api.schemas import RankingsResponse, StreamOut, Window
from core.settings import Settings

router = APIRouter(tags=["rankings"])


def compute_rankings(settings: Settings, objects: list[str], window: Window, limit: int, now: datetime) -> bytes:
    try:
        with engine_for(settings).connect() as conn:
            rows = queries.rankings(conn, settings.api_marts_schema, objects, window.hours, now, limit)
    except queries.MartsMissing:
        return RankingsResponse(objects=objects, window=window, items=[],
                                analytics_built=False).model_dump_json().encode()
    items = ranking_items(rows, objects, lambda row: StreamOut(**queries.stream_dict(row)))
    return RankingsResponse(objects=objects, window=window, items=items).model_dump_json().encode()


@router.get("/rankings", response_model=RankingsResponse, summary="Streams ranked by objects per frame",
            responses=responses(422, 503))
async def rankings(
    request: Request,
    object: Annotated[list[str], Query(min_length=1, description="A class, e.g. person or traffic light; repeatable.")],
    window: Window = DEFAULT_WINDOW,
    limit: Annotated[int, Query(ge=RANKINGS_LIMIT_MIN, le=RANKINGS_LIMIT_MAX)] = RANKINGS_LIMIT,
    settings: Settings = Depends(settings_dep),
    now: datetime = Depends(now_dep),
) -> Response:
    objects = normalise_objects(object)
    key = rankings_key(objects, window.value, limit)
    body = await request.app.state.cache.get_or_compute(
        key, lambda: run_in_threadpool(compute_rankings, settings, objects, window, limit, now)
    )
    return Response(content=body, media_type="application/json")
