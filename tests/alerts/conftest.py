"""Alert tests: streams and windows written straight into the tables the evaluator reads, a real receiver."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import insert

from core import alert_rules, registry
from core.db.engine import session_scope
from core.db.models import AnomalyEvent, FrameWindow, ObjectStat
from core.settings import Settings
from core.source_policy import SourcePolicy

LOCAL = SourcePolicy(allow_local=True, schemes=frozenset({"http", "https"}))  # the receivers are on 127.0.0.1


def minute(now: datetime | None = None) -> datetime:
    moment = now or datetime.now(UTC)
    return moment.replace(second=0, microsecond=0)


def add_stream(settings: Settings, url: str = "http://127.0.0.1:9/cam.m3u8", name: str = "Cam") -> int:
    with session_scope(settings) as session:
        return registry.register(session, url, name=name, check=False, policy=SourcePolicy(allow_local=True)).id


def add_windows(settings: Settings, stream_id: int, start: datetime, means: list[float], *, cls: str = "person",
                frames: int = 60, seconds: int = 60) -> None:
    """One closed window per mean (``frames`` frames each); a mean of None leaves a gap (no frames)."""
    with session_scope(settings) as session:
        for i, mean in enumerate(means):
            if mean is None:
                continue
            begin = start + timedelta(seconds=i * seconds)
            end = begin + timedelta(seconds=seconds)
            session.execute(insert(FrameWindow).values(
                stream_id=stream_id, window_start=begin, window_end=end, model="yolo11n", frames=frames,
                first_capture_at=begin, last_capture_at=end - timedelta(seconds=1)))
            detections = round(mean * frames)
            if detections:
                session.execute(insert(ObjectStat).values(
                    stream_id=stream_id, window_start=begin, window_end=end, model="yolo11n", object_class=cls,
                    class_id=0, frames=frames, detections=detections, mean_per_frame=detections / frames,
                    max_per_frame=int(mean) + 1, min_per_frame=0))


def add_anomaly(settings: Settings, stream_id: int, started_at: datetime, score: float, *, cls: str = "person",
                kind: str = "spike", ended_at: datetime | None = None) -> int:
    with session_scope(settings) as session:
        event = AnomalyEvent(stream_id=stream_id, object_class=cls, kind=kind, started_at=started_at,
                             ended_at=ended_at, observed=9.0, expected=2.0, score=score)
        session.add(event)
        session.flush()
        return event.id


def add_rule(settings: Settings, url: str, *, created_ago: timedelta | None = None, **values) -> tuple[int, str]:
    """A rule as the API would store it; ``created_ago`` backdates it (a new rule ignores episodes long over)."""
    raw = {"name": "busy", "condition": "count_above", "object_class": "person", "threshold": 5.0, "minutes": 3,
           "webhook_url": url, "cooldown_s": 0, **values}
    with session_scope(settings) as session:
        spec = alert_rules.validate_rule(raw, is_known_class=alert_rules.class_checker(session), policy=LOCAL)
        rule, secret = alert_rules.create(session, spec)
        if created_ago is not None:
            rule.created_at = datetime.now(UTC) - created_ago
        return rule.id, secret
