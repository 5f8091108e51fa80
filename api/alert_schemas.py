"""Request and response bodies of /api/alerts (kept apart from api/schemas.py: one module per resource that
grows in parallel). Limits here bound what reaches core.alert_rules, which gives the readable reasons."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, StrictBool, field_validator

from api.schemas import NAME_DOC, _encodable

Condition = Literal["count_above", "count_below", "anomaly_score", "stream_down"]


class AlertRuleCreate(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{
        "name": "Crowd at the stop", "condition": "count_above", "object_class": "person", "threshold": 5,
        "minutes": 3, "stream_ids": [1], "webhook_url": "https://hooks.example.com/streamscope"}]})

    name: str = Field(max_length=1000, description="What the rule is called.", json_schema_extra=NAME_DOC)
    condition: Condition = Field(description="count_above / count_below: mean objects per frame of the class above "
                                 "/ below `threshold` for `minutes`; anomaly_score: an anomaly event with |score| "
                                 "above `threshold`; stream_down: the stream down for `minutes`.")
    object_class: str = Field("", max_length=100, description="Class (count rules; optional for anomaly_score; "
                              "none for stream_down).")
    threshold: float = Field(0.0, description="Objects per frame, or the anomaly score k.")
    minutes: int = Field(0, description="How long the condition must hold (count and stream_down rules).")
    stream_ids: list[int] | None = Field(None, max_length=100, description="Only these streams; null = all.")
    webhook_url: str = Field(max_length=2000, description="http(s) URL that receives the signed POSTs.")
    payload_format: Literal["json", "slack"] = Field("json", description="slack: Slack's incoming-webhook body.")
    cooldown_s: int | None = Field(None, description="No second firing for a stream within this (default 600).")

    _text = field_validator("name", "object_class", "webhook_url")(_encodable)


class AlertRulePatch(BaseModel):
    model_config = ConfigDict(extra="forbid")

    paused: StrictBool = Field(description="true pauses the rule; false resumes it.")


class AlertRuleOut(BaseModel):
    id: int
    name: str
    condition: Condition
    object_class: str
    threshold: float
    minutes: int
    stream_ids: list[int] | None
    webhook_url: str
    payload_format: Literal["json", "slack"]
    cooldown_s: int
    paused: bool
    created_at: datetime


class AlertRuleCreated(AlertRuleOut):
    secret: str = Field(description="Signs every delivery (HMAC-SHA256). Shown this once: store it now.")


class AlertRuleList(BaseModel):
    items: list[AlertRuleOut]


class DeliveryAttempt(BaseModel):
    attempt: int
    status: Literal["sending", "delivered", "failed", "interrupted"]
    started_at: datetime
    http_status: int | None
    latency_ms: float | None
    error: str | None


class AlertFiringOut(BaseModel):
    id: int
    stream_id: int
    object_class: str
    episode_key: str
    delivery_id: str = Field(description="The X-Streamscope-Delivery header: receivers keep one POST per id.")
    started_at: datetime
    fired_at: datetime
    observed: float | None
    summary: str
    state: Literal["pending", "delivered", "failed"]
    delivered_at: datetime | None
    attempts: list[DeliveryAttempt]


class AlertHistory(BaseModel):
    rule_id: int
    items: list[AlertFiringOut]
