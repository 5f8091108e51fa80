"""Live updates as server-sent events: GET /api/events (every stream) and /api/streams/{id}/events (one).

Each event names what changed (``status``, ``window``, ``anomaly``; ``reset`` = reload everything) and carries
its log id, so a browser that reconnects sends ``Last-Event-ID`` and receives what it missed (as long as the log
keeps it, STREAMSCOPE_LIVE_RETENTION_MINUTES). An idle stream gets a comment line every ``live_heartbeat_s``.
The checks (Lambda, the connection bound, the stream's existence, a readable Last-Event-ID) run as a dependency,
before the response starts, so a refusal is an ordinary JSON error and EventSource gives up (the UI then polls).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from http import HTTPStatus
from typing import Annotated

from fastapi import APIRouter, Depends, Header, Path, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.sse import EventSourceResponse, ServerSentEvent
from sqlalchemy.orm import Session

from api import queries
from api.deps import engine_for, settings_dep
from api.errors import ApiError
from api.live import Event, Full, LiveHub, Subscriber, hub_for
from core.settings import Settings

router = APIRouter(tags=["live"])
LAMBDA_MESSAGE = ("live updates (server-sent events) are not served by this deployment: AWS Lambda answers each "
                  "request once and cannot hold a stream open; poll the JSON endpoints instead (the web UI does)")
# Refusals are JSON (the app's error shape), not events: said explicitly, else FastAPI files them under the
# route's media type.
RESPONSES: dict[int | str, dict] = {
    200: {"description": "An endless text/event-stream.", "content": {"text/event-stream": {}}},
    **{code: {"description": HTTPStatus(code).phrase,
              "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorResponse"}}}}
       for code in (404, 422, 500, 501, 503)},
}
LastEventId = Annotated[str | None, Header(alias="Last-Event-ID", max_length=20,
                                           description="Sent by the browser on reconnection: resume after it.")]
After = Annotated[str | None, Query(max_length=20, description="Resume after this event id (as Last-Event-ID).")]


@dataclass
class Slot:
    hub: LiveHub
    subscriber: Subscriber
    position: int  # the hub's position when the subscriber joined: later events come through its queue
    after: int | None


def parse_event_id(value: str | None, field: str) -> int | None:
    if value is None or value == "":
        return None
    if not value.isdigit():
        raise ApiError(422, f"{field} must be an event id (digits), got {value[:20]!r}", field=field)
    return int(value)


async def _open(request: Request, settings: Settings, stream_id: int | None, header: str | None,
                query: str | None) -> AsyncIterator[Slot]:
    if "aws.event" in request.scope:  # Mangum: API Gateway buffers the whole answer
        raise ApiError(501, LAMBDA_MESSAGE)
    after = parse_event_id(header, "Last-Event-ID")
    if after is None:
        after = parse_event_id(query, "after")
    if stream_id is not None:
        def exists() -> bool:
            with Session(engine_for(settings)) as session:
                return queries.get_stream(session, stream_id) is not None

        if not await run_in_threadpool(exists):
            raise ApiError(404, f"no stream with id {stream_id}")
    hub = hub_for(request.app, settings)
    try:
        subscriber = await hub.subscribe(stream_id)
    except Full:
        raise ApiError(503, f"already {settings.live_max_clients} live connections here; poll instead",
                       headers={"Retry-After": "30"}) from None
    except TimeoutError:
        raise ApiError(503, "live updates cannot reach the database now; poll instead",
                       headers={"Retry-After": "10"}) from None
    try:
        yield Slot(hub, subscriber, hub.position, after)
    finally:
        hub.unsubscribe(subscriber)


async def all_streams(request: Request, settings: Settings = Depends(settings_dep),
                      last_event_id: LastEventId = None, after: After = None) -> AsyncIterator[Slot]:
    async for slot in _open(request, settings, None, last_event_id, after):
        yield slot


async def one_stream(request: Request, stream_id: Annotated[int, Path(ge=1, le=2_147_483_647)],
                     settings: Settings = Depends(settings_dep), last_event_id: LastEventId = None,
                     after: After = None) -> AsyncIterator[Slot]:
    async for slot in _open(request, settings, stream_id, last_event_id, after):
        yield slot


def to_sse(event: Event) -> ServerSentEvent:
    data = {**event.payload, "stream_id": event.stream_id}
    return ServerSentEvent(event=event.kind, id=str(event.id) if event.id else None, data=data)


async def event_stream(request: Request, slot: Slot, settings: Settings) -> AsyncIterator[ServerSentEvent]:
    """Hello (with the position as id), the missed events when resuming, then the queue with heartbeats."""
    resuming = slot.after is not None and slot.after < slot.position
    yield ServerSentEvent(event="hello", retry=settings.live_retry_ms, id=None if resuming else str(slot.position),
                          data={"position": slot.position, "listening": slot.hub.listening,
                                "heartbeat_s": settings.live_heartbeat_s})
    replayed: set[int] = set()
    if resuming:
        assert slot.after is not None
        engine = engine_for(settings)
        events, complete = await run_in_threadpool(slot.hub.replay, engine, slot.after, slot.position,
                                                   slot.subscriber.stream_id)
        if not complete:
            yield ServerSentEvent(event="reset", id=str(slot.position), data={"reason": "missed events pruned"})
        else:
            for event in events:
                replayed.add(event.id)
                yield to_sse(event)
            yield ServerSentEvent(comment="resumed", id=str(slot.position))
    queue = slot.subscriber.queue
    while True:
        try:
            event = await asyncio.wait_for(queue.get(), settings.live_heartbeat_s)
        except TimeoutError:
            if await request.is_disconnected():
                return
            yield ServerSentEvent(comment="heartbeat")
            continue
        if event.id in replayed:
            continue
        if event.kind == "reset":
            yield ServerSentEvent(event="reset", id=str(slot.hub.position), data={"reason": "fell behind"})
            continue
        yield to_sse(event)


@router.get("/events", response_class=EventSourceResponse, summary="Live updates of every stream (SSE)",
            responses=RESPONSES)
async def all_events(request: Request, slot: Slot = Depends(all_streams),
                     settings: Settings = Depends(settings_dep)) -> AsyncIterator[ServerSentEvent]:
    async for item in event_stream(request, slot, settings):
        yield item


@router.get("/streams/{stream_id}/events", response_class=EventSourceResponse,
            summary="Live updates of one stream (SSE)", responses=RESPONSES)
async def stream_events(request: Request, slot: Slot = Depends(one_stream),
                        settings: Settings = Depends(settings_dep)) -> AsyncIterator[ServerSentEvent]:
    async for item in event_stream(request, slot, settings):
        yield item
