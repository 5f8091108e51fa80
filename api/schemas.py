"""Request and response bodies of the HTTP API (its OpenAPI document: /api/openapi.json, frontend/openapi.json);
every endpoint declares one of these."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, StrictBool, field_validator

from core.db.models import SourceKind, StreamStatus


class Window(StrEnum):
    """Ranking windows; hours whose start lies within the last ``window`` are counted."""

    H1 = "1h"
    H6 = "6h"
    H24 = "24h"
    D7 = "7d"

    @property
    def hours(self) -> int:
        return {"1h": 1, "6h": 6, "24h": 24, "7d": 168}[self.value]


class Bucket(StrEnum):
    MINUTE = "minute"
    HOUR = "hour"


# ------------------------------------------------------------------------------------------------ errors


class ErrorDetail(BaseModel):
    status: int = Field(examples=[422])
    message: str = Field(examples=["the URL has no host"])
    field: str | None = Field(None, examples=["url"])


class ErrorResponse(BaseModel):
    """The one shape of every 4xx/5xx answer."""

    error: ErrorDetail


# ----------------------------------------------------------------------------------------------- streams


class StreamOut(BaseModel):
    id: int
    canonical_id: str
    url: str
    kind: SourceKind
    name: str
    title: str | None
    channel: str | None
    is_live: bool | None
    fps: float
    status: StreamStatus
    status_reason: str | None
    created_at: datetime
    last_frame_at: datetime | None
    snapshot_url: str | None = Field(description="Latest annotated frame, or null when there is none.")


class StreamPage(BaseModel):
    items: list[StreamOut]
    total: int
    limit: int
    offset: int


class HealthOut(BaseModel):
    """Figures of the stream's latest reader session."""

    session_id: str
    started_at: datetime
    startup_seconds: float | None
    frames_read: int
    frames_published: int
    stalls: int
    reconnects: int
    width: int | None
    height: int | None
    source_fps: float | None
    bitrate: int | None
    last_frame_at: datetime | None
    last_error: str | None


class ObjectFigures(BaseModel):
    object: str
    mean_per_frame: float = Field(description="Detections / frames processed (zeros and empty frames included).")
    max_per_frame: int
    unique_objects: int
    detections: int | None = Field(None, description="Detections the mean rests on (rankings); a class with fewer "
                                   "than the minimum (settings.api_min_detections) is not ranked for the stream.")


ANALYTICS_DOC = "false until the first dbt build has made the marts: the figures are then empty, not missing."


class StreamDetail(StreamOut):
    health: HealthOut | None
    top_objects: list[ObjectFigures] = Field(description="Classes seen in the last 24 h, by mean per frame.")
    analytics_built: bool = Field(True, description=ANALYTICS_DOC)


def _encodable(value: str | None) -> str | None:
    """Refuse text Postgres cannot store (lone surrogates, NUL) before it reaches the database."""
    if value is None:
        return value
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError("the text is not valid Unicode") from None
    if "\x00" in value:
        raise ValueError("the text contains a NUL character")
    return value


# Documented limits; core.registry enforces them (after stripping the name), with its own readable reasons.
FPS_DOC = {"exclusiveMinimum": 0, "maximum": 30}
NAME_DOC = {"minLength": 1, "maxLength": 200}


class StreamCreate(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"url": "https://www.youtube.com/watch?v=dQw4w9WgXcQ",
                                                               "name": "Times Square", "fps": 1.0}]})

    url: str = Field(max_length=4096, description="YouTube URL or id, @handle/live, or an http(s)/rtsp/file URL.")
    name: str | None = Field(None, max_length=1000, description="Display name (default: the stream's title).",
                             json_schema_extra=NAME_DOC)
    fps: float | None = Field(None, description="Frames sampled per second (default 1).", json_schema_extra=FPS_DOC)
    check: StrictBool = Field(True, description="Resolve the URL with yt-dlp before storing it.")

    _text = field_validator("url", "name")(_encodable)


class StreamPatch(BaseModel):
    model_config = ConfigDict(extra="forbid")  # {"url": ...} is refused, not silently ignored

    paused: StrictBool | None = Field(None, description="true pauses; false resumes a paused stream.")
    fps: float | None = Field(None, json_schema_extra=FPS_DOC)
    name: str | None = Field(None, max_length=1000, json_schema_extra=NAME_DOC)

    _text = field_validator("name")(_encodable)


# ---------------------------------------------------------------------------------------------- rankings


class RankingItem(BaseModel):
    rank: int
    stream: StreamOut
    score: float = Field(description="Sum over the selected classes of their mean objects per frame.")
    frames: int
    minutes_observed: float
    per_object: list[ObjectFigures]


class RankingsResponse(BaseModel):
    objects: list[str]
    window: Window
    items: list[RankingItem]
    analytics_built: bool = Field(True, description=ANALYTICS_DOC)


class ObjectRank(BaseModel):
    object: str
    rank: int
    mean_per_frame: float = Field(description="Detections of the class / frames of all streams in the window.")
    streams: int = Field(description="Streams where the class was seen.")
    frames: int = Field(description="Frames of all streams in the window.")


class ObjectsResponse(BaseModel):
    window: Window
    items: list[ObjectRank]
    analytics_built: bool = Field(True, description=ANALYTICS_DOC)


# ---------------------------------------------------------------------------------------------- trending


class TrendingItem(BaseModel):
    rank: int
    stream: StreamOut
    object: str = Field(description="The class (the stream's highest-scoring one unless the request names one).")
    observed: float = Field(description="Mean objects per frame this UTC hour so far (zeros included).")
    expected: float = Field(description="The stream's median hourly mean for this hour of the week (its baseline).")
    mad: float = Field(description="Median absolute deviation of those hourly means.")
    score: float = Field(description="(observed - expected) / (1.4826 * mad + floor): how far above its own normal.")
    frames: int = Field(description="Frames processed this hour so far.")
    detections: int
    history_hours: int = Field(description="Hourly means the baseline rests on.")
    history_weeks: int = Field(description="Weeks of history the baseline rests on.")


class TrendingResponse(BaseModel):
    object: str | None = Field(description="The class asked for, or null: each stream by its top class.")
    hour: datetime = Field(description="The UTC hour scored (the current one).")
    hour_of_week: int = Field(ge=0, le=167, description="Its hour of the week, Monday 00h UTC = 0.")
    min_score: float
    items: list[TrendingItem]
    analytics_built: bool = Field(True, description=ANALYTICS_DOC)


# ------------------------------------------------------------------------------------------- time series


class SeriesPoint(BaseModel):
    t: datetime
    mean_per_frame: float
    max_per_frame: int
    unique_objects: int
    frames: int


class Series(BaseModel):
    object: str
    points: list[SeriesPoint]


class SeriesResponse(BaseModel):
    bucket: Bucket
    series: list[Series]
    analytics_built: bool = Field(True, description=ANALYTICS_DOC)


# ------------------------------------------------------------------------------------------------ health


class MartHealth(BaseModel):
    name: str
    exists: bool
    newest_source_at: datetime | None = Field(description="Newest source row the mart includes (its freshness).")
    age_seconds: float | None = Field(description="Seconds since newest_source_at.")


class ServiceHealth(BaseModel):
    """Each dependency on its own: "ok" only when the database answers and the marts exist."""

    status: Literal["ok", "degraded"]
    database: bool
    version: str
    analytics_built: bool = Field(False, description=ANALYTICS_DOC)
    marts: list[MartHealth] = Field(default_factory=list)
    last_window_at: datetime | None = Field(None, description="When the aggregator last wrote a window.")
    last_window_age_seconds: float | None = None
    reasons: list[str] = Field(default_factory=list, description="What is not ok, in words.")
