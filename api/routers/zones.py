"""/api/streams/{id}/zones: a stream's zones and counting lines (token-protected writes), their figures and
series; /api/rankings/crossings: the lines most crossed per hour.

Definitions are validated by ``core.zones`` (422 naming the field: closed non-self-intersecting polygons of at
most 32 points, lines of non-zero length, coordinates in [0, 1], names of at most 64 characters). Every edit is
a new version; the aggregator picks it up within ``STREAMSCOPE_ZONE_REFRESH_S``.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Path, Query, Request, Response
from sqlalchemy.orm import Session

from api import zone_queries
from api.deps import now_dep, require_token, session_dep, settings_dep
from api.errors import responses
from api.logic import check_text
from api.params import DEFAULT_WINDOW
from api.queries import MartsMissing, stream_dict
from api.routers.streams import StreamId, forget_cached
from api.schemas import StreamOut, Window
from api.zone_schemas import (
    CrossingRankingResponse,
    CrossingRankItem,
    ZoneCreate,
    ZoneFigures,
    ZoneFiguresResponse,
    ZoneList,
    ZoneOut,
    ZonePatch,
)
from core import zones
from core.settings import Settings

router = APIRouter(tags=["zones"])
ZoneId = Annotated[int, Path(ge=1, le=2_147_483_647, description="The zone's or line's id.")]
WRITE = [Depends(require_token)]


@router.get("/streams/{stream_id}/zones", response_model=ZoneList, summary="A stream's zones and lines",
            responses=responses(404, 422, 503))
def list_zones(stream_id: StreamId, session: Session = Depends(session_dep)) -> ZoneList:
    return ZoneList(items=[ZoneOut(**zones.as_dict(z)) for z in zones.list_zones(session, stream_id)])


@router.post("/streams/{stream_id}/zones", response_model=ZoneOut, status_code=201, dependencies=WRITE,
             summary="Add a zone or a line", responses=responses(401, 404, 409, 413, 415, 422, 429, 503))
def create_zone(stream_id: StreamId, body: ZoneCreate, request: Request, response: Response,
                session: Session = Depends(session_dep)) -> ZoneOut:
    zone = zones.create(session, stream_id, body.kind, body.name, body.points)
    session.commit()
    forget_cached(request)
    response.headers["Location"] = f"/api/streams/{stream_id}/zones/{zone.id}"
    return ZoneOut(**zones.as_dict(zone))


@router.patch("/streams/{stream_id}/zones/{zone_id}", response_model=ZoneOut, dependencies=WRITE,
              summary="Rename or reshape (a new version)", responses=responses(401, 404, 409, 413, 415, 422, 429, 503))
def patch_zone(stream_id: StreamId, zone_id: ZoneId, body: ZonePatch, request: Request,
               session: Session = Depends(session_dep)) -> ZoneOut:
    zone = zones.update(session, stream_id, zone_id, name=body.name, points=body.points)
    session.commit()
    forget_cached(request)
    return ZoneOut(**zones.as_dict(zone))


@router.delete("/streams/{stream_id}/zones/{zone_id}", status_code=204, response_class=Response,
               dependencies=WRITE, summary="Remove (its statistics stay)",
               responses=responses(401, 404, 413, 422, 429, 503))
def delete_zone(stream_id: StreamId, zone_id: ZoneId, request: Request,
                session: Session = Depends(session_dep)) -> Response:
    zones.remove(session, stream_id, zone_id)
    session.commit()
    forget_cached(request)
    return Response(status_code=204)


@router.get("/streams/{stream_id}/zone-figures", response_model=ZoneFiguresResponse,
            summary="Occupancy per zone and crossings per line, over a window and per bucket",
            responses=responses(404, 422, 503))
def zone_figures(
    stream_id: StreamId,
    window: Window = DEFAULT_WINDOW,
    bucket: Literal["minute", "hour"] = "minute",
    session: Session = Depends(session_dep),
    now: datetime = Depends(now_dep),
) -> ZoneFiguresResponse:
    since = now - timedelta(hours=window.hours)
    conn = session.connection()
    items = [ZoneFigures(**zone_queries.figures(conn, stream_id, z, since, now, bucket))
             for z in zones.list_zones(session, stream_id)]
    return ZoneFiguresResponse(stream_id=stream_id, window=window, bucket=bucket, items=items)


@router.get("/rankings/crossings", response_model=CrossingRankingResponse,
            summary="Lines most crossed per hour by one class", responses=responses(422, 503))
def crossing_rankings(
    object: Annotated[str, Query(min_length=1, max_length=100, description="A class, e.g. person.")] = "person",
    window: Window = DEFAULT_WINDOW,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    session: Session = Depends(session_dep),
    settings: Settings = Depends(settings_dep),
    now: datetime = Depends(now_dep),
) -> CrossingRankingResponse:
    name = (check_text(object, "object") or "").strip().lower()
    try:
        rows = zone_queries.crossing_ranking(session.connection(), settings.api_marts_schema, name,
                                             now - timedelta(hours=window.hours), now, settings.api_min_frames, limit)
    except MartsMissing:
        return CrossingRankingResponse(object=name, window=window, items=[], analytics_built=False)
    items = [CrossingRankItem(rank=i + 1, stream=StreamOut(**stream_dict(r)), line_id=r.line_id,
                              line_name=r.line_name, crossings_in=r.n_in, crossings_out=r.n_out,
                              crossings_per_hour=float(r.per_hour), hours_observed=float(r.hours))
             for i, r in enumerate(rows)]
    return CrossingRankingResponse(object=name, window=window, items=items)
