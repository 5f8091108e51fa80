"""/api/objects (overall ranking of classes) and /api/streams/{id}/objects (a stream's time series)."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Request, Response
from fastapi.concurrency import run_in_threadpool
from pydantic import BeforeValidator
from sqlalchemy.orm import Session

from api import queries
from api.cache import objects_key
from api.deps import engine_for, now_dep, session_dep, settings_dep
from api.errors import ApiError, responses
from api.logic import normalise_objects, object_items, series_items, series_range
from api.params import DEFAULT_WINDOW
from api.schemas import Bucket, ObjectsResponse, SeriesResponse, Window
from core.settings import Settings

router = APIRouter(tags=["objects"])


def _iso_only(value: object) -> object:
    """pydantic also reads bare numbers as Unix times; the API takes ISO 8601 text only."""
    if isinstance(value, str) and re.fullmatch(r"\s*[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?\s*", value):
        raise ValueError("give an ISO 8601 date and time, e.g. 2026-11-23T10:00:00Z")
    return value


IsoDatetime = Annotated[datetime, BeforeValidator(_iso_only)]


def compute_objects(settings: Settings, window: Window, now: datetime) -> bytes:
    try:
        with engine_for(settings).connect() as conn:
            rows = queries.overall_objects(conn, settings.api_marts_schema, window.hours, now)
    except queries.MartsMissing:
        return ObjectsResponse(window=window, items=[], analytics_built=False).model_dump_json().encode()
    return ObjectsResponse(window=window, items=object_items(rows)).model_dump_json().encode()


@router.get("/objects", response_model=ObjectsResponse, summary="Overall ranking of object classes",
            responses=responses(422, 503))
async def objects(
    request: Request,
    window: Window = DEFAULT_WINDOW,
    settings: Settings = Depends(settings_dep),
    now: datetime = Depends(now_dep),
) -> Response:
    body = await request.app.state.cache.get_or_compute(
        objects_key(window.value), lambda: run_in_threadpool(compute_objects, settings, window, now)
    )
    return Response(content=body, media_type="application/json")


@router.get("/streams/{stream_id}/objects", response_model=SeriesResponse, tags=["streams"],
            summary="A stream's objects per minute or hour", responses=responses(404, 422, 503))
def stream_objects(
    stream_id: Annotated[int, Path(ge=1, le=2_147_483_647)],
    start: Annotated[IsoDatetime | None, Query(alias="from", description="Start (ISO 8601); default to - 24h.")] = None,
    end: Annotated[IsoDatetime | None, Query(alias="to", description="End (ISO 8601, exclusive); default now.")] = None,
    bucket: Bucket = Bucket.HOUR,
    object: Annotated[list[str] | None, Query(description="Only these classes (repeatable); default all seen.")] = None,
    session: Session = Depends(session_dep),
    settings: Settings = Depends(settings_dep),
    now: datetime = Depends(now_dep),
) -> SeriesResponse:
    begin, finish = series_range(start, end, bucket.value, now)
    classes = normalise_objects(object) if object else None
    if queries.get_stream(session, stream_id) is None:
        raise ApiError(404, f"no stream with id {stream_id}")
    try:
        rows = queries.series(session, settings.api_marts_schema, stream_id, begin, finish,
                              bucket is Bucket.MINUTE, classes)
    except queries.MartsMissing:
        return SeriesResponse(bucket=bucket, series=[], analytics_built=False)
    return SeriesResponse(bucket=bucket, series=series_items(rows))
