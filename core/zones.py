"""A stream's zones and counting lines: create, edit (a new version), remove, list. Shared by the API and the CLI.

Refusals are :mod:`core.registry` errors (so the API maps them like the registry's: 422 naming the field, 404,
409). Removing keeps the row (``deleted_at``): statistics computed with it keep their name and version.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from core import geometry
from core.db.models import Stream, Zone, ZoneVersion
from core.registry import DuplicateStream, InvalidInput, StreamNotFound

KINDS = ("zone", "line")
MAX_PER_STREAM = 50


class ZoneNotFound(StreamNotFound):
    """No such zone or line on the stream (answered 404 like a missing stream)."""


def _checked(kind: str, name: object, points: object) -> tuple[str, list[list[float]]]:
    try:
        clean_name = geometry.validate_name(name)
        shape = geometry.validate_polygon(points) if kind == "zone" else geometry.validate_line(points)
    except geometry.GeometryError as bad:
        raise InvalidInput(bad.message, bad.field) from None
    return clean_name, [[round(x, 6), round(y, 6)] for x, y in shape]


def as_dict(zone: Zone) -> dict[str, Any]:
    return {"id": zone.id, "stream_id": zone.stream_id, "kind": zone.kind, "name": zone.name,
            "version": zone.version, "points": zone.points, "created_at": zone.created_at,
            "updated_at": zone.updated_at}


def list_zones(session: Session, stream_id: int) -> list[Zone]:
    if session.get(Stream, stream_id) is None:
        raise StreamNotFound(f"no stream with id {stream_id}")
    return list(session.scalars(select(Zone).where(Zone.stream_id == stream_id, Zone.deleted_at.is_(None))
                                .order_by(Zone.kind.desc(), Zone.id)))


def get_zone(session: Session, stream_id: int, zone_id: int) -> Zone:
    zone = session.get(Zone, zone_id)
    if zone is None or zone.stream_id != stream_id or zone.deleted_at is not None:
        raise ZoneNotFound(f"no zone or line {zone_id} on stream {stream_id}")
    return zone


def create(session: Session, stream_id: int, kind: str, name: object, points: object) -> Zone:
    if kind not in KINDS:
        raise InvalidInput("kind is zone (a polygon) or line (two points)", "kind")
    clean_name, shape = _checked(kind, name, points)
    existing = list_zones(session, stream_id)
    if len(existing) >= MAX_PER_STREAM:
        raise InvalidInput(f"a stream has at most {MAX_PER_STREAM} zones and lines", "kind")
    zone = Zone(stream_id=stream_id, kind=kind, name=clean_name, version=1, points=shape)
    session.add(zone)
    _flush_unique(session, kind, clean_name)
    session.add(ZoneVersion(zone_id=zone.id, version=1, name=clean_name, points=shape))
    session.flush()
    return zone


def update(session: Session, stream_id: int, zone_id: int, *, name: object = None, points: object = None) -> Zone:
    """Rename and/or reshape: always a new version (statistics name the version they were computed with)."""
    zone = get_zone(session, stream_id, zone_id)
    clean_name, shape = _checked(zone.kind, zone.name if name is None else name,
                                 zone.points if points is None else points)
    zone.version += 1
    zone.name, zone.points, zone.updated_at = clean_name, shape, datetime.now(UTC)
    _flush_unique(session, zone.kind, clean_name)
    session.add(ZoneVersion(zone_id=zone.id, version=zone.version, name=clean_name, points=shape))
    session.flush()
    return zone


def remove(session: Session, stream_id: int, zone_id: int) -> None:
    zone = get_zone(session, stream_id, zone_id)
    zone.deleted_at = datetime.now(UTC)
    session.flush()


def _flush_unique(session: Session, kind: str, name: str) -> None:
    try:
        with session.begin_nested():
            session.flush()
    except IntegrityError:
        raise DuplicateStream(f"this stream already has a {kind} named {name!r}", "name") from None
