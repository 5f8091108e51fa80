"""Live updates over a real socket: uvicorn on 127.0.0.1 in a thread, httpx reading the event stream, rows written
to the embedded Postgres by plain SQL (as the reader, the aggregator and the anomaly job write them): each change
arrives as an event, resume with Last-Event-ID replays what was missed, a gone client is let go, the bound holds,
and the Lambda deployment refuses cleanly."""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import httpx
import pytest
import uvicorn
from sqlalchemy import text

from core.settings import Settings
from tests.conftest import free_port

DEADLINE_S = 20.0


@dataclass
class Served:
    url: str
    app: object
    settings: Settings


def serve(settings: Settings) -> Iterator[Served]:
    from api.app import create_app

    app = create_app(settings, serve_ui=False)
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + DEADLINE_S
    while not server.started:
        assert time.monotonic() < deadline and thread.is_alive(), "uvicorn did not start"
        time.sleep(0.02)
    try:
        yield Served(f"http://127.0.0.1:{port}", app, settings)
    finally:
        server.should_exit = True
        thread.join(10)


@pytest.fixture
def served(runtime: Settings) -> Iterator[Served]:
    yield from serve(runtime.model_copy(update={"live_heartbeat_s": 0.5, "live_poll_s": 0.5,
                                                "live_max_clients": 3}))


def sql(settings: Settings, statement: str, **params) -> list:
    from core.db.engine import get_engine

    with get_engine(settings).begin() as conn:
        result = conn.execute(text(statement), params)
        return result.all() if result.returns_rows else []


@pytest.fixture
def stream_id(runtime: Settings) -> int:
    name = f"live-{uuid.uuid4().hex[:8]}"
    rows = sql(runtime, "INSERT INTO streams (canonical_id, url, kind, name, fps, status) VALUES "
                        "(:c, :u, 'hls', :n, 1, 'pending') RETURNING id", c=name, u=f"http://127.0.0.1/{name}", n=name)
    return int(rows[0][0])


class EventReader:
    """Parses text/event-stream from an httpx streaming response (the fields EventSource reads)."""

    def __init__(self, response: httpx.Response):
        self.lines = response.iter_lines()
        self.comments: list[str] = []

    def next(self) -> dict:
        event: dict = {}
        for line in self.lines:
            if line == "":
                if "event" in event or "data" in event:
                    return event
                continue
            if line.startswith(":"):
                self.comments.append(line[1:].strip())
                continue
            name, _, value = line.partition(":")
            event[name] = value[1:] if value.startswith(" ") else value
        raise AssertionError("the event stream ended")

    def until(self, kind: str) -> dict:
        deadline = time.monotonic() + DEADLINE_S
        while time.monotonic() < deadline:
            event = self.next()
            if event.get("event") == kind:
                return {**event, "data": json.loads(event["data"])}
        raise AssertionError(f"no {kind} event within {DEADLINE_S} s")


def open_stream(client: httpx.Client, url: str, headers: dict | None = None):
    return client.stream("GET", url, headers=headers, timeout=httpx.Timeout(DEADLINE_S))


def write_window(settings: Settings, stream_id: int, start: datetime) -> None:
    sql(settings, "INSERT INTO frame_windows (stream_id, window_start, model, window_end, frames, first_capture_at, "
                  "last_capture_at) VALUES (:s, :w, 'yolo11n', :e, 60, :w, :e)",
        s=stream_id, w=start, e=start + timedelta(minutes=1))


def test_status_window_and_anomaly_changes_arrive_as_events(served: Served, stream_id: int) -> None:
    start = datetime(2026, 12, 2, 12, 0, tzinfo=UTC)
    with httpx.Client() as client, open_stream(client, f"{served.url}/api/streams/{stream_id}/events") as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        reader = EventReader(response)
        hello = reader.until("hello")
        assert hello["data"]["listening"] is True and int(hello["id"]) == hello["data"]["position"]
        assert hello["retry"] == str(served.settings.live_retry_ms)

        write_window(served.settings, stream_id, start)
        window = reader.until("window")
        assert window["data"]["stream_id"] == stream_id and window["data"]["frames"] == 60
        assert datetime.fromisoformat(window["data"]["window_start"]) == start

        sql(served.settings, "UPDATE streams SET status = 'live', status_reason = NULL WHERE id = :s", s=stream_id)
        status = reader.until("status")
        assert status["data"]["status"] == "live" and int(status["id"]) > int(window["id"])

        sql(served.settings, "INSERT INTO anomaly_events (stream_id, object_class, kind, started_at, observed, "
                             "expected, score) VALUES (:s, 'person', 'spike', :w, 12, 3, 7.5)", s=stream_id, w=start)
        anomaly = reader.until("anomaly")
        assert anomaly["data"]["kind"] == "spike" and anomaly["data"]["object_class"] == "person"
        assert anomaly["data"]["score"] == 7.5

        rule = sql(served.settings, "INSERT INTO alert_rules (name, condition, webhook_url, secret) VALUES "
                                    "('r', 'anomaly_score', 'http://127.0.0.1:9/hook', 'not-in-events') RETURNING id")
        sql(served.settings, "INSERT INTO alert_firings (rule_id, stream_id, episode_key, delivery_id, started_at, "
                             "last_seen_at, fired_at, summary) VALUES (:r, :s, 'k', :d, :w, :w, :w, 'people spike')",
            r=rule[0][0], s=stream_id, d=str(uuid.uuid4()), w=start)
        alert = reader.until("alert")
        assert alert["data"]["summary"] == "people spike" and alert["data"]["rule_id"] == rule[0][0]
        assert "not-in-events" not in json.dumps(alert["data"])  # the rule's secret is not in its firings

        # An unrelated column change of the stream is no status event; the idle stream gets heartbeats.
        sql(served.settings, "UPDATE streams SET name = name || '-x' WHERE id = :s", s=stream_id)
        heartbeats, events = 0, []
        deadline = time.monotonic() + DEADLINE_S
        while heartbeats < 2 and time.monotonic() < deadline:
            line = next(reader.lines)
            heartbeats += line == ": heartbeat"
            if line.startswith("event:"):
                events.append(line)
        assert heartbeats == 2 and events == []


def test_other_streams_are_filtered_and_the_all_streams_feed_sees_them(served: Served, stream_id: int,
                                                                       runtime: Settings) -> None:
    other = sql(runtime, "INSERT INTO streams (canonical_id, url, kind, name, fps, status) VALUES (:c, 'http://x', "
                         "'hls', :c, 1, 'pending') RETURNING id", c=f"other-{uuid.uuid4().hex[:8]}")[0][0]
    start = datetime(2026, 12, 2, 13, 0, tzinfo=UTC)
    with httpx.Client() as client, \
            open_stream(client, f"{served.url}/api/streams/{stream_id}/events") as mine, \
            open_stream(client, f"{served.url}/api/events") as every:
        one, all_ = EventReader(mine), EventReader(every)
        one.until("hello"), all_.until("hello")
        write_window(served.settings, other, start)
        write_window(served.settings, stream_id, start)
        seen = [all_.until("window")["data"]["stream_id"], all_.until("window")["data"]["stream_id"]]
        assert seen == [other, stream_id]
        assert one.until("window")["data"]["stream_id"] == stream_id  # the other stream's window was skipped


def test_resume_with_last_event_id_replays_what_was_missed(served: Served, stream_id: int) -> None:
    start = datetime(2026, 12, 2, 14, 0, tzinfo=UTC)
    url = f"{served.url}/api/streams/{stream_id}/events"
    with httpx.Client() as client:
        with open_stream(client, url) as response:
            reader = EventReader(response)
            reader.until("hello")
            write_window(served.settings, stream_id, start)
            last = reader.until("window")["id"]
        hub = served.app.state.live_hub
        # While nobody listens (the hub stopped with its last client), two windows are written.
        write_window(served.settings, stream_id, start + timedelta(minutes=1))
        write_window(served.settings, stream_id, start + timedelta(minutes=2))
        with open_stream(client, url, headers={"Last-Event-ID": last}) as response:
            reader = EventReader(response)
            assert reader.until("hello").get("id") is None  # the browser keeps its own last id
            missed = [reader.until("window")["data"]["window_start"] for _ in range(2)]
        assert [datetime.fromisoformat(w) for w in missed] == [start + timedelta(minutes=1),
                                                              start + timedelta(minutes=2)]
        assert hub is served.app.state.live_hub


def test_an_event_written_without_notify_arrives_by_the_poll(served: Served, stream_id: int) -> None:
    """The fallback: a log row whose NOTIFY never came (a pooler, a dropped LISTEN) is read within live_poll_s."""
    with httpx.Client() as client, open_stream(client, f"{served.url}/api/streams/{stream_id}/events") as response:
        reader = EventReader(response)
        reader.until("hello")
        sql(served.settings, "INSERT INTO live_events (stream_id, kind, payload) VALUES (:s, 'status', "
                             "CAST(:p AS jsonb))", s=stream_id, p=json.dumps({"status": "live"}))
        assert reader.until("status")["data"]["status"] == "live"


def test_gone_clients_are_let_go_and_the_bound_refuses_with_503(served: Served, stream_id: int) -> None:
    url = f"{served.url}/api/streams/{stream_id}/events"
    with httpx.Client() as client:
        streams = [open_stream(client, url) for _ in range(3)]
        readers = [EventReader(opened.__enter__()) for opened in streams]  # kept: a dropped reader closes
        for reader in readers:
            reader.until("hello")
        assert len(served.app.state.live_hub.subscribers) == 3
        refused = client.get(url, timeout=DEADLINE_S)
        assert refused.status_code == 503 and refused.headers["retry-after"] == "30"
        assert "live connections" in refused.json()["error"]["message"]
        for opened in streams:
            opened.__exit__(None, None, None)
    hub = served.app.state.live_hub
    deadline = time.monotonic() + DEADLINE_S
    while hub.subscribers and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not hub.subscribers and hub._task is None  # the hub stopped with its last client


def test_refusals_are_plain_json_errors(served: Served, stream_id: int) -> None:
    with httpx.Client(base_url=served.url, timeout=DEADLINE_S) as client:
        missing = client.get("/api/streams/2147483000/events")
        assert missing.status_code == 404 and missing.headers["content-type"] == "application/json"
        bad = client.get(f"/api/streams/{stream_id}/events", headers={"Last-Event-ID": "12; DROP"})
        assert bad.status_code == 422 and bad.json()["error"]["field"] == "Last-Event-ID"
        bad = client.get("/api/events", params={"after": "-1"})
        assert bad.status_code == 422 and bad.json()["error"]["field"] == "after"


def test_the_lambda_deployment_says_it_cannot_hold_a_stream(runtime: Settings, monkeypatch) -> None:
    from mangum import Mangum

    from api.app import create_app
    from tests.api.test_lambda import CONTEXT, http_api_event

    handler = Mangum(create_app(runtime, serve_ui=False), lifespan="off")
    answer = handler(http_api_event("GET", "/api/events", headers={"accept": "text/event-stream"}), CONTEXT)
    assert answer["statusCode"] == 501
    error = json.loads(answer["body"])["error"]
    assert "Lambda" in error["message"] and "poll" in error["message"]


def test_cursor_keeps_gaps_of_transactions_that_commit_late() -> None:
    from api.live_cursor import Cursor

    cursor = Cursor(last=10, gap_seconds=30)
    assert cursor.advance([11, 14], now=0) == [11, 14]
    assert cursor.pending_gaps(now=1) == [12, 13]
    assert cursor.advance([13, 14, 15], now=2) == [13, 15]  # 13 committed late; 14 is not delivered twice
    assert cursor.pending_gaps(now=40) == []  # 12 was rolled back: forgotten after gap_seconds
    assert cursor.advance([12], now=41) == []
