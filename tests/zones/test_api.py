"""The zones API: token-protected CRUD with validation naming the field, versions on every edit, figures and
series from the aggregator's rows, and the crossing ranking from the marts."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import text

from core.db.engine import get_engine
from tests.aggregator.helpers import register_streams
from tests.api.conftest import AUTH, TOKEN, make_client

SCHEMA = "zones_test_marts"
ZONE = {"kind": "zone", "name": "door", "points": [[0.55, 0.55], [0.95, 0.55], [0.95, 0.99], [0.55, 0.99]]}
LINE = {"kind": "line", "name": "middle", "points": [[0.5, 0.98], [0.5, 0.35]]}
NOW = datetime.now(UTC).replace(minute=30, second=0, microsecond=0)
HOUR = NOW.replace(minute=0)
# What the dbt models line_crossing_hours and stream_hours look like (the columns the API reads).
MARTS = f"""
CREATE SCHEMA IF NOT EXISTS {SCHEMA};
DROP TABLE IF EXISTS {SCHEMA}.stream_hours, {SCHEMA}.line_crossing_hours;
CREATE TABLE {SCHEMA}.stream_hours (stream_id integer, hour timestamptz, frames bigint, windows bigint,
                                    minutes_observed double precision);
CREATE TABLE {SCHEMA}.line_crossing_hours (stream_id integer, line_id integer, line_version integer,
                                           line_name text, object_class text, hour timestamptz,
                                           crossings_in bigint, crossings_out bigint)
"""


@pytest.fixture
def client(runtime):
    settings = runtime.model_copy(update={"api_tokens": [TOKEN], "api_marts_schema": SCHEMA, "api_min_frames": 10})
    with make_client(settings, NOW) as test_client:
        yield test_client


@pytest.fixture
def stream(runtime) -> int:
    return register_streams(runtime, 1)[0]


def test_writes_need_the_token(client, stream) -> None:
    for method, path, body in [("POST", f"/api/streams/{stream}/zones", ZONE),
                               ("PATCH", f"/api/streams/{stream}/zones/1", {"name": "x"}),
                               ("DELETE", f"/api/streams/{stream}/zones/1", None)]:
        answer = client.request(method, path, json=body, headers={"Authorization": "Bearer nope"})
        assert answer.status_code == 401, answer.text
    assert client.get(f"/api/streams/{stream}/zones").json()["items"] == []


@pytest.mark.parametrize(("body", "field", "words"), [
    ({**ZONE, "points": [[0.1, 0.1], [0.9, 0.9], [0.9, 0.1], [0.1, 0.9]]}, "points", "crosses itself"),
    ({**ZONE, "points": [[0.1, 0.1], [0.2, 0.2]]}, "points", "at least 3"),
    ({**ZONE, "points": [[0.1, 0.1], [1.5, 0.2], [0.3, 0.9]]}, "points[1]", "[0, 1]"),
    ({**ZONE, "points": [[0.01 * i, (i % 2) * 0.5] for i in range(40)]}, "points", "at most 32"),
    ({**LINE, "points": [[0.5, 0.5], [0.5, 0.5]]}, "points", "shorter"),
    ({**LINE, "points": [[0.5, 0.5], [0.5, 0.9], [0.1, 0.1]]}, "points", "exactly 2"),
    ({**LINE, "name": "x" * 65}, "name", "at most 64"),
    ({**LINE, "name": "  "}, "name", "non-empty"),
    ({**LINE, "kind": "circle"}, "kind", ""),
    ({**LINE, "colour": "red"}, "colour", ""),
])
def test_bad_definitions_are_422_naming_the_field(client, stream, body, field: str, words: str) -> None:
    answer = client.post(f"/api/streams/{stream}/zones", json=body, headers=AUTH)
    assert answer.status_code == 422, answer.text
    error = answer.json()["error"]
    assert error["field"] == field and words in error["message"], error
    assert client.get(f"/api/streams/{stream}/zones").json()["items"] == []


def test_create_edit_version_remove(client, stream) -> None:
    made = client.post(f"/api/streams/{stream}/zones", json=LINE, headers=AUTH)
    assert made.status_code == 201, made.text
    line = made.json()
    assert (line["version"], line["name"], line["points"]) == (1, "middle", LINE["points"])
    assert made.headers["location"] == f"/api/streams/{stream}/zones/{line['id']}"
    assert client.post(f"/api/streams/{stream}/zones", json=LINE, headers=AUTH).status_code == 409
    assert client.post("/api/streams/999999/zones", json=LINE, headers=AUTH).status_code == 404
    edited = client.patch(f"/api/streams/{stream}/zones/{line['id']}", json={"points": [[0.4, 0.98], [0.4, 0.3]]},
                          headers=AUTH).json()
    assert (edited["version"], edited["points"], edited["name"]) == (2, [[0.4, 0.98], [0.4, 0.3]], "middle")
    renamed = client.patch(f"/api/streams/{stream}/zones/{line['id']}", json={"name": "door"}, headers=AUTH).json()
    assert renamed["version"] == 3
    bad = client.patch(f"/api/streams/{stream}/zones/{line['id']}", json={"points": [[0.4, 0.98]]}, headers=AUTH)
    assert bad.status_code == 422 and bad.json()["error"]["field"] == "points"
    with get_engine(client.app.state.settings).connect() as conn:
        versions = conn.execute(text("SELECT version, name FROM zone_versions WHERE zone_id = :z ORDER BY version"),
                                {"z": line["id"]}).all()
    assert [tuple(v) for v in versions] == [(1, "middle"), (2, "middle"), (3, "door")]
    assert client.delete(f"/api/streams/{stream}/zones/{line['id']}", headers=AUTH).status_code == 204
    assert client.get(f"/api/streams/{stream}/zones").json()["items"] == []
    assert client.delete(f"/api/streams/{stream}/zones/{line['id']}", headers=AUTH).status_code == 404
    # The name is free again once removed.
    assert client.post(f"/api/streams/{stream}/zones", json={**LINE, "name": "door"}, headers=AUTH).status_code == 201


def test_figures_series_and_ranking(client, stream, runtime) -> None:
    zone = client.post(f"/api/streams/{stream}/zones", json=ZONE, headers=AUTH).json()
    line = client.post(f"/api/streams/{stream}/zones", json=LINE, headers=AUTH).json()
    engine = get_engine(runtime)
    w0, w1 = HOUR + timedelta(minutes=1), HOUR + timedelta(minutes=2)
    with engine.begin() as conn:
        # Drawn before these windows (frames from before a version was drawn are not its denominator).
        conn.execute(text("UPDATE zone_versions SET created_at = :t WHERE zone_id = ANY(:ids)"),
                     {"t": HOUR - timedelta(hours=1), "ids": [zone["id"], line["id"]]})
        for start, frames in ((w0, 60), (w1, 40)):
            conn.execute(text(
                "INSERT INTO frame_windows (stream_id, window_start, model, window_end, frames, sessions, "
                "first_capture_at, last_capture_at) VALUES (:s, :w, 'm', :e, :f, 1, :w, :w)"),
                {"s": stream, "w": start, "e": start + timedelta(minutes=1), "f": frames})
        conn.execute(text(
            "INSERT INTO zone_occupancy (stream_id, window_start, model, zone_id, zone_version, object_class, "
            "window_end, frames, detections, mean_per_frame, max_per_frame, objects, dwell_seconds) VALUES "
            "(:s, :w, 'm', :z, 1, 'person', :e, 60, 90, 1.5, 3, 4, 70.0)"),
            {"s": stream, "w": w0, "e": w0 + timedelta(minutes=1), "z": zone["id"]})
        conn.execute(text(
            "INSERT INTO line_crossings (stream_id, window_start, model, line_id, line_version, object_class, "
            "window_end, crossings_in, crossings_out) VALUES (:s, :w, 'm', :z, 1, 'person', :e, 3, 2), "
            "(:s, :w2, 'm', :z, 1, 'person', :e2, 1, 0)"),
            {"s": stream, "w": w0, "e": w0 + timedelta(minutes=1), "w2": w1, "e2": w1 + timedelta(minutes=1),
             "z": line["id"]})
    answer = client.get(f"/api/streams/{stream}/zone-figures?window=1h&bucket=minute")
    assert answer.status_code == 200, answer.text
    items = {i["kind"]: i for i in answer.json()["items"]}
    assert items["zone"]["frames"] == 100 and items["zone"]["version"] == 1
    (person,) = items["zone"]["classes"]
    assert (person["mean_per_frame"], person["max_per_frame"], person["objects"]) == (0.9, 3, 4)
    assert [p["mean_per_frame"] for p in items["zone"]["series"]] == [1.5, 0.0]
    (crossed,) = items["line"]["classes"]
    assert (crossed["crossings_in"], crossed["crossings_out"]) == (4, 2)
    assert [(p["crossings_in"], p["crossings_out"]) for p in items["line"]["series"]] == [(3, 2), (1, 0)]

    missing = client.get("/api/rankings/crossings?object=person&window=24h").json()
    assert missing["analytics_built"] is False or missing["items"] == []
    with engine.begin() as conn:
        for statement in MARTS.split(";"):
            conn.execute(text(statement))
        conn.execute(text(f"INSERT INTO {SCHEMA}.stream_hours VALUES (:s, :h, 100, 2, 2.0)"),
                     {"s": stream, "h": HOUR})
        conn.execute(text(f"INSERT INTO {SCHEMA}.line_crossing_hours VALUES (:s, :l, 1, 'middle', 'person', :h, 4, 2)"),
                     {"s": stream, "l": line["id"], "h": HOUR})
    ranked = client.get("/api/rankings/crossings?object=Person&window=24h").json()
    assert ranked["analytics_built"] is True
    top = next(i for i in ranked["items"] if i["stream"]["id"] == stream)
    assert (top["line_name"], top["crossings_in"], top["crossings_out"]) == ("middle", 4, 2)
    assert top["crossings_per_hour"] == pytest.approx(6 / (2 / 60)) and top["hours_observed"] == pytest.approx(2 / 60)
    assert client.get("/api/rankings/crossings?object=" + "x" * 101).status_code == 422
