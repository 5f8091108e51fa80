"""Bodies of the zones and lines endpoints (api/routers/zones.py)."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from api.schemas import StreamOut, Window

PointsIn = list[list[float]]
POINTS_DOC = ("Normalised [x, y] pairs (x rightwards, y downwards, each in [0, 1]). A zone: 3-32 points of a polygon "
              "that does not cross itself; a line: 2 points, start and end. Crossing from the line's left to its "
              "right-hand side, seen walking from start to end on the picture, is 'in'.")


class ZoneCreate(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"kind": "line", "name": "door", "points": [[0.5, 0.98], [0.5, 0.35]]}]})

    kind: Literal["zone", "line"]
    name: str = Field(max_length=200, description="Unique per stream and kind; at most 64 characters.")
    points: PointsIn = Field(max_length=64, description=POINTS_DOC)


class ZonePatch(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(None, max_length=200)
    points: PointsIn | None = Field(None, max_length=64, description=POINTS_DOC)


class ZoneOut(BaseModel):
    id: int
    stream_id: int
    kind: Literal["zone", "line"]
    name: str
    version: int = Field(description="Starts at 1; every edit adds one. Statistics name the version they used.")
    points: list[list[float]]
    created_at: datetime
    updated_at: datetime


class ZoneList(BaseModel):
    items: list[ZoneOut]
    anchor: str = Field("bottom-centre", description="The point of a box that is counted: its bottom centre.")


class ZoneClassFigures(BaseModel):
    object: str
    mean_per_frame: float | None = Field(None, description="Zones: objects inside per frame (zeros included).")
    max_per_frame: int | None = None
    objects: int | None = Field(None, description="Zones: distinct tracks seen inside.")
    dwell_seconds: float | None = Field(None, description="Zones: summed time of tracks inside.")
    crossings_in: int | None = None
    crossings_out: int | None = None


class ZonePoint(BaseModel):
    bucket: datetime
    frames: int = 0
    mean_per_frame: float | None = None
    crossings_in: int | None = None
    crossings_out: int | None = None


class ZoneFigures(BaseModel):
    id: int
    kind: Literal["zone", "line"]
    name: str
    version: int
    frames: int = Field(description="Frames the figures rest on (over the window, at this version).")
    classes: list[ZoneClassFigures]
    series: list[ZonePoint]


class ZoneFiguresResponse(BaseModel):
    stream_id: int
    window: Window
    bucket: Literal["minute", "hour"]
    items: list[ZoneFigures]


class CrossingRankItem(BaseModel):
    rank: int
    stream: StreamOut
    line_id: int
    line_name: str
    crossings_in: int
    crossings_out: int
    crossings_per_hour: float = Field(description="(in + out) per hour the stream was observed.")
    hours_observed: float


class CrossingRankingResponse(BaseModel):
    object: str
    window: Window
    items: list[CrossingRankItem]
    analytics_built: bool = True
