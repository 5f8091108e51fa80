"""Alert rules: validate, create, list, pause, resume and delete them; read their delivery history.

One implementation for the API, the CLI and the UI (through the API), like core.registry for streams: the rule
table is the contract between whoever writes rules and the alerts component that evaluates them. Validation runs
before anything is written and names the field at fault (registry.InvalidInput -> 422 with ``field``).
"""

from __future__ import annotations

import math
import secrets
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, exists, select
from sqlalchemy.orm import Session

from core.classes import known_classes, normalise_class
from core.db.models import AlertDelivery, AlertFiring, AlertOutbox, AlertRule, ObjectStat, Stream
from core.registry import InvalidInput, validate_name
from core.source_policy import SourcePolicy, SourceRefused

CONDITIONS = ("count_above", "count_below", "anomaly_score", "stream_down")
PAYLOAD_FORMATS = ("json", "slack")
MAX_MINUTES = 7 * 24 * 60
MAX_COOLDOWN_S = 7 * 24 * 3600
MAX_STREAMS = 100
MAX_URL_LENGTH = 2000
MAX_THRESHOLD = 1e6


class RuleNotFound(LookupError):
    def __init__(self, rule_id: int):
        super().__init__(f"no alert rule with id {rule_id}")
        self.rule_id = rule_id


@dataclass(frozen=True)
class RuleSpec:
    """A validated rule: what the alerts component evaluates."""

    name: str
    stream_ids: list[int] | None  # None: every stream
    object_class: str  # '' = any class (anomaly_score) or none (stream_down)
    condition: str
    threshold: float
    minutes: int
    webhook_url: str
    payload_format: str = "json"
    cooldown_s: int = 600


def _number(value: Any, field: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise InvalidInput(f"{field} must be a finite number", field)
    return float(value)


def _whole(value: Any, field: str, low: int, high: int, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int | float) or value != int(value):
        raise InvalidInput(f"{field} must be a whole number of {what}", field)
    if not low <= int(value) <= high:
        raise InvalidInput(f"{field} must be between {low} and {high} {what}, not {int(value)}", field)
    return int(value)


def validate_class(name: Any, condition: str, is_known: Callable[[str], bool]) -> str:
    if name is None or name == "":
        if condition in ("count_above", "count_below"):
            raise InvalidInput(f"a {condition} rule needs an object class", "object_class")
        return ""
    if not isinstance(name, str) or len(name) > 100:
        raise InvalidInput("object_class must be a class name of at most 100 characters", "object_class")
    if any(ord(ch) < 32 or ord(ch) == 127 for ch in name):
        raise InvalidInput("object_class contains control characters", "object_class")
    if condition == "stream_down":
        raise InvalidInput("a stream_down rule takes no object class", "object_class")
    cleaned = normalise_class(name)
    if not is_known(cleaned):
        raise InvalidInput(f"unknown object class {cleaned!r}: the detector never reports it (e.g. person, car, "
                           "traffic light)", "object_class")
    return cleaned


def validate_webhook(url: Any, policy: SourcePolicy) -> str:
    if not isinstance(url, str) or not url.strip():
        raise InvalidInput("webhook_url is required", "webhook_url")
    url = url.strip()
    if len(url) > MAX_URL_LENGTH:
        raise InvalidInput(f"webhook_url is longer than {MAX_URL_LENGTH} characters", "webhook_url")
    try:
        policy.check_connect(url)
    except SourceRefused as refused:
        raise InvalidInput(f"webhook_url: {refused.reason}", "webhook_url") from None
    return url


def validate_rule(raw: Mapping[str, Any], *, is_known_class: Callable[[str], bool], policy: SourcePolicy,
                  default_cooldown_s: int = 600) -> RuleSpec:
    """A :class:`RuleSpec` from user input (API body, CLI options), or InvalidInput naming the field."""
    name = validate_name(raw.get("name")) if raw.get("name") is not None else None
    if not name:
        raise InvalidInput("name is required", "name")
    condition = raw.get("condition")
    if condition not in CONDITIONS:
        raise InvalidInput(f"condition must be one of {', '.join(CONDITIONS)}", "condition")
    streams = raw.get("stream_ids")
    if streams is not None:
        if not isinstance(streams, list | tuple) or not streams or len(streams) > MAX_STREAMS:
            raise InvalidInput(f"stream_ids must be a list of 1 to {MAX_STREAMS} stream ids, or null for all",
                               "stream_ids")
        streams = sorted({_whole(s, "stream_ids", 1, 2_147_483_647, "(ids)") for s in streams})
    object_class = validate_class(raw.get("object_class"), condition, is_known_class)
    threshold = _number(raw.get("threshold", 0.0), "threshold")
    if condition in ("count_above", "count_below") and not 0 <= threshold <= MAX_THRESHOLD:
        raise InvalidInput(f"threshold (objects per frame) must be between 0 and {MAX_THRESHOLD:g}", "threshold")
    if condition == "anomaly_score" and not 0 < threshold <= MAX_THRESHOLD:
        raise InvalidInput("threshold (the anomaly score k) must be above 0", "threshold")
    minutes = _whole(raw.get("minutes", 0), "minutes", 0, MAX_MINUTES, "minutes")
    if condition != "anomaly_score" and minutes < 1:
        raise InvalidInput(f"a {condition} rule needs minutes of at least 1", "minutes")
    fmt = raw.get("payload_format") or "json"
    if fmt not in PAYLOAD_FORMATS:
        raise InvalidInput(f"payload_format must be one of {', '.join(PAYLOAD_FORMATS)}", "payload_format")
    cooldown = raw.get("cooldown_s")
    cooldown_s = default_cooldown_s if cooldown is None else _whole(cooldown, "cooldown_s", 0, MAX_COOLDOWN_S,
                                                                     "seconds")
    url = validate_webhook(raw.get("webhook_url"), policy)
    return RuleSpec(name=name, stream_ids=streams, object_class=object_class, condition=condition,
                    threshold=0.0 if condition == "stream_down" else threshold, minutes=minutes, webhook_url=url,
                    payload_format=fmt, cooldown_s=cooldown_s)


def class_checker(session: Session, configured: Sequence[str] = ()) -> Callable[[str], bool]:
    """Known: a COCO class, a configured one, or one the detector has already recorded (custom models)."""
    known = known_classes(configured)

    def is_known(name: str) -> bool:
        if name in known:
            return True
        return bool(session.scalar(select(exists().where(ObjectStat.object_class == name))))

    return is_known


def new_secret() -> str:
    """The rule's signing secret: 256 random bits, shown once."""
    return "whsec_" + secrets.token_urlsafe(32)


def create(session: Session, spec: RuleSpec) -> tuple[AlertRule, str]:
    """Store the rule; returns it with its secret (the only time the secret leaves the database)."""
    if spec.stream_ids:
        found = set(session.scalars(select(Stream.id).where(Stream.id.in_(spec.stream_ids))))
        missing = [s for s in spec.stream_ids if s not in found]
        if missing:
            raise InvalidInput(f"no stream with id {missing[0]}", "stream_ids")
    secret = new_secret()
    rule = AlertRule(name=spec.name, stream_ids=spec.stream_ids, object_class=spec.object_class,
                     condition=spec.condition, threshold=spec.threshold, minutes=spec.minutes,
                     webhook_url=spec.webhook_url, payload_format=spec.payload_format, secret=secret,
                     cooldown_s=spec.cooldown_s, paused=False)
    session.add(rule)
    session.flush()
    return rule, secret


def get(session: Session, rule_id: int) -> AlertRule:
    rule = session.get(AlertRule, rule_id)
    if rule is None:
        raise RuleNotFound(rule_id)
    return rule


def list_rules(session: Session) -> list[AlertRule]:
    return list(session.scalars(select(AlertRule).order_by(AlertRule.id)))


def set_paused(session: Session, rule_id: int, paused: bool) -> AlertRule:
    rule = get(session, rule_id)
    rule.paused = paused
    session.flush()
    return rule


def remove(session: Session, rule_id: int) -> None:
    """Delete the rule with its firings, pending deliveries and history (ON DELETE CASCADE)."""
    get(session, rule_id)
    session.execute(delete(AlertRule).where(AlertRule.id == rule_id))


def public_dict(rule: AlertRule) -> dict[str, Any]:
    """The rule as the API and the CLI show it: everything but the secret."""
    return {"id": rule.id, "name": rule.name, "stream_ids": rule.stream_ids, "object_class": rule.object_class,
            "condition": rule.condition, "threshold": rule.threshold, "minutes": rule.minutes,
            "webhook_url": rule.webhook_url, "payload_format": rule.payload_format, "cooldown_s": rule.cooldown_s,
            "paused": rule.paused, "created_at": rule.created_at}


def history(session: Session, rule_id: int, limit: int = 50) -> list[dict[str, Any]]:
    """The rule's latest firings, newest first, each with its delivery state and every attempt."""
    get(session, rule_id)
    rows = session.execute(
        select(AlertFiring, AlertOutbox).outerjoin(AlertOutbox, AlertOutbox.firing_id == AlertFiring.id)
        .where(AlertFiring.rule_id == rule_id).order_by(AlertFiring.fired_at.desc(), AlertFiring.id.desc())
        .limit(limit)
    ).all()  # fmt: skip
    ids = [firing.id for firing, _ in rows]
    attempts: dict[int, list[dict[str, Any]]] = {i: [] for i in ids}
    if ids:
        for d in session.scalars(select(AlertDelivery).where(AlertDelivery.firing_id.in_(ids))
                                 .order_by(AlertDelivery.firing_id, AlertDelivery.attempt)):
            attempts[d.firing_id].append({"attempt": d.attempt, "status": d.status, "started_at": d.started_at,
                                          "http_status": d.http_status, "latency_ms": d.latency_ms,
                                          "error": d.error})
    return [{"id": f.id, "stream_id": f.stream_id, "object_class": f.object_class, "episode_key": f.episode_key,
             "delivery_id": f.delivery_id, "started_at": f.started_at, "fired_at": f.fired_at,
             "observed": f.observed, "summary": f.summary,
             "state": outbox.state if outbox is not None else "pending",
             "delivered_at": outbox.delivered_at if outbox is not None else None,
             "attempts": attempts[f.id]} for f, outbox in rows]
