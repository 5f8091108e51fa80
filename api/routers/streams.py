"""/api/streams: list, show, register, change and remove streams; the latest snapshot of a stream.

Writes go through core.registry (the CLI's validation and rules) and need a bearer token. Registration
may probe the URL with yt-dlp, which blocks: these endpoints are plain ``def`` and run in the threadpool.
"""

from __future__ import annotations

from datetime import timedelta
from email.utils import format_datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Header, Path, Query, Request, Response
from sqlalchemy.orm import Session

from api import queries
from api.deps import now_dep, prober_dep, require_token, session_dep, settings_dep
from api.errors import ApiError, responses
from api.logic import as_utc, check_text
from api.schemas import HealthOut, ObjectFigures, StreamCreate, StreamDetail, StreamOut, StreamPage, StreamPatch
from core import registry
from core.db.models import StreamStatus
from core.registry import Prober
from core.settings import Settings
from core.source_policy import SourcePolicy

router = APIRouter(prefix="/streams", tags=["streams"])
StreamId = Annotated[int, Path(ge=1, le=2_147_483_647, description="The stream's id.")]
WRITE = [Depends(require_token)]


def stream_or_404(session: Session, stream_id: int) -> dict:
    data = queries.get_stream(session, stream_id)
    if data is None:
        raise ApiError(404, f"no stream with id {stream_id}")
    return data


def forget_cached(request: Request) -> None:
    """Rankings embed stream objects: drop cached answers after a write in this process."""
    cache = getattr(request.app.state, "cache", None)
    if cache is not None:
        cache.clear()


@router.get("", response_model=StreamPage, summary="List streams", responses=responses(422, 503))
def list_streams(
    status: Annotated[list[StreamStatus] | None, Query(description="Only these statuses (repeatable).")] = None,
    q: Annotated[str | None, Query(max_length=200, description="Text in the name, title or canonical id.")] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
    session: Session = Depends(session_dep),
) -> StreamPage:
    statuses = [s.value for s in status or []]
    items, total = queries.list_streams(session, statuses, check_text(q, "q") or None, limit, offset)
    return StreamPage(items=[StreamOut(**item) for item in items], total=total, limit=limit, offset=offset)


@router.get("/{stream_id}", response_model=StreamDetail, summary="One stream with health and top objects",
            responses=responses(404, 422, 503))
def get_stream(
    stream_id: StreamId,
    session: Session = Depends(session_dep),
    settings: Settings = Depends(settings_dep),
    now=Depends(now_dep),
) -> StreamDetail:
    data = stream_or_404(session, stream_id)
    health = queries.latest_health(session, stream_id)
    try:
        top = queries.top_objects(session, settings.api_marts_schema, stream_id, now - timedelta(hours=24), now)
        built = True
    except queries.MartsMissing:
        top, built = [], False
    return StreamDetail(
        **data,
        analytics_built=built,
        health=HealthOut(**health) if health else None,
        top_objects=[ObjectFigures(object=r.object_class, mean_per_frame=r.mean_per_frame,
                                   max_per_frame=r.max_per_frame, unique_objects=r.unique_objects) for r in top],
    )


@router.post("", response_model=StreamOut, status_code=201, dependencies=WRITE, summary="Register a stream",
             responses=responses(401, 409, 413, 415, 422, 429, 503))
def create_stream(
    body: StreamCreate,
    request: Request,
    response: Response,
    session: Session = Depends(session_dep),
    settings: Settings = Depends(settings_dep),
    prober: Prober = Depends(prober_dep),
) -> StreamOut:
    stream = registry.register(
        session, body.url, name=body.name, fps=body.fps, default_fps=settings.default_fps, check=body.check,
        timeout_s=settings.resolve_timeout_s, prober=prober, policy=SourcePolicy.from_settings(settings),
    )
    session.commit()
    forget_cached(request)
    response.headers["Location"] = f"/api/streams/{stream.id}"
    return StreamOut(**stream_or_404(session, stream.id))


@router.patch("/{stream_id}", response_model=StreamOut, dependencies=WRITE, summary="Pause, resume, rename, set fps",
              responses=responses(401, 404, 413, 415, 422, 429, 503))
def patch_stream(
    stream_id: StreamId,
    body: StreamPatch,
    request: Request,
    session: Session = Depends(session_dep),
) -> StreamOut:
    stream = registry.get(session, stream_id)
    # Validate everything before changing anything: a refusal leaves the stream as it was.
    name, fps = registry.validate_name(body.name), registry.validate_fps(body.fps)
    if body.paused is True:
        registry.pause(session, stream_id)
    elif body.paused is False and stream.status == StreamStatus.PAUSED:
        registry.resume(session, stream_id)
    registry.update(session, stream_id, name=name, fps=fps)
    session.commit()
    forget_cached(request)
    return StreamOut(**stream_or_404(session, stream_id))


@router.delete("/{stream_id}", status_code=204, response_class=Response, dependencies=WRITE,
               summary="Remove a stream and its statistics",
               responses=responses(401, 404, 413, 422, 429, 503))
def delete_stream(stream_id: StreamId, request: Request, session: Session = Depends(session_dep)) -> Response:
    registry.remove(session, stream_id)
    session.commit()
    forget_cached(request)
    return Response(status_code=204)


SNAPSHOT_RESPONSES = {
    200: {"content": {"image/jpeg": {"schema": {"type": "string", "format": "binary"}}},
          "description": "The latest annotated frame."},
    304: {"description": "The client's copy (If-None-Match) is current."},
    **responses(404, 422, 503),
}


def _etags(header: str | None) -> list[str]:
    if not header:
        return []
    return [tag.strip().removeprefix("W/").strip('"') for tag in header.split(",") if tag.strip()][:16]


@router.get("/{stream_id}/snapshot", response_class=Response, summary="Latest annotated frame (JPEG)",
            responses=SNAPSHOT_RESPONSES)
def get_snapshot(
    stream_id: StreamId,
    if_none_match: Annotated[str | None, Header(max_length=2000)] = None,
    session: Session = Depends(session_dep),
) -> Response:
    known = _etags(if_none_match)
    found = queries.snapshot(session, stream_id, known)
    if found is None:
        raise ApiError(404, f"no snapshot for stream {stream_id}")
    etag, captured_at, jpeg = found
    headers = {
        "ETag": f'"{etag}"',
        "Cache-Control": "public, max-age=5, must-revalidate",
        "Last-Modified": format_datetime(as_utc(captured_at), usegmt=True),
    }
    if jpeg is None or "*" in known:
        return Response(status_code=304, headers=headers)
    return Response(content=bytes(jpeg), media_type="image/jpeg", headers=headers)
