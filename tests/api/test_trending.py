"""GET /api/trending over dbt's baselines and trending_now, built by dbt from known rows (tests/api/fixture_data).

On top of the known rows, three weeks of history at this hour of the week (a week, two and three ago):
stream 1's person mean was 2.0, 2.5 and 1.5 (median 2.0, MAD 0.5) and is 2.0 now (1,200 / 600): score 0.
Stream 2's was 1.0 each week (MAD 0) and is 5.0 now (6,000 / 1,200): score (5 - 1) / (0 + 0.1) = 40.
Stream 5 has 20 frames this hour, below min_frames (30): not ranked.
"""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from sqlalchemy import text

from tests.api.conftest import MARTS_SCHEMA, make_client, reseed
from tests.api.marts import insert_object_counts, insert_stream_hours

HISTORY = [(1, 7200), (1, 9000), (1, 5400), (2, 3600), (2, 3600), (2, 3600), (5, 3600), (5, 3600)]  # weeks 1..


@pytest.fixture(scope="module")
def trending_client(runtime, marts, base, now):
    from core.db.engine import get_engine
    from dbt_analytics.runner import run_dbt, settings_vars

    reseed(runtime, marts, base)
    hours, counts = [], []
    for i, (stream, detections) in enumerate(HISTORY):
        hour = base - timedelta(weeks=i % 3 + 1)
        hours.append(dict(stream_id=stream, hour=hour, frames=3600, windows=60, minutes_observed=60.0))
        counts.append(dict(stream_id=stream, object_class="person", hour=hour, frames=3600, detections=detections,
                           mean_per_frame=detections / 3600, max_per_frame=9, unique_objects=1))
    with get_engine(runtime).begin() as conn:
        insert_stream_hours(conn, marts, hours)
        insert_object_counts(conn, marts, counts)
    settings = runtime.model_copy(update={"dbt_schema": MARTS_SCHEMA})
    result = run_dbt(settings, ["run", "--select", "stream_class_baselines", "--vars",
                                json.dumps({**settings_vars(settings), "as_of": now.isoformat()})], capture=True)
    assert result.returncode == 0, result.stdout[-3000:]
    api_settings = runtime.model_copy(update={"api_marts_schema": marts})
    with make_client(api_settings, now) as client:
        yield client
    with get_engine(runtime).begin() as conn:
        conn.execute(text(f"TRUNCATE {marts}.stream_class_baselines"))


def test_the_stream_most_above_its_normal_comes_first(trending_client, base):
    answer = trending_client.get("/api/trending").json()
    assert (answer["object"], answer["hour"][:13], answer["min_score"]) == (None, base.isoformat()[:13], 0.0)
    assert answer["hour_of_week"] == base.weekday() * 24 + base.hour and answer["analytics_built"] is True
    got = [(i["rank"], i["stream"]["id"], i["object"], round(i["score"], 6)) for i in answer["items"]]
    assert got == [(1, 2, "person", 40.0), (2, 1, "person", 0.0)]
    first = answer["items"][0]
    assert (first["observed"], first["expected"], first["mad"], first["frames"], first["detections"]) == (
        5.0, 1.0, 0.0, 1200, 6000)
    assert (first["history_weeks"], first["history_hours"], first["stream"]["name"]) == (3, 3, "Shibuya Crossing")


def test_a_class_and_a_minimum_score(trending_client):
    assert [i["stream"]["id"] for i in trending_client.get("/api/trending", params={"min_score": 1}).json()[
        "items"]] == [2]
    person = trending_client.get("/api/trending", params={"object": " Person ", "limit": 1}).json()
    assert person["object"] == "person" and [i["stream"]["id"] for i in person["items"]] == [2]
    assert trending_client.get("/api/trending", params={"object": "car"}).json()["items"] == []
    everything = trending_client.get("/api/trending", params={"min_score": -1000}).json()["items"]
    assert [i["stream"]["id"] for i in everything] == [2, 1]  # stream 5: 20 frames this hour, not ranked


@pytest.mark.parametrize(("params", "field"), [
    ({"limit": 0}, "limit"), ({"limit": 101}, "limit"), ({"min_score": "lots"}, "min_score"),
    ({"min_score": 1e9}, "min_score"), ({"min_score": "nan"}, "min_score"), ({"object": "  "}, "object"),
    ({"object": "x" * 201}, "object"), ({"object": "per\x01son"}, "object"),
])
def test_bad_parameters_are_refused_with_the_field(trending_client, params, field):
    answer = trending_client.get("/api/trending", params=params)
    assert answer.status_code == 422, answer.text
    assert answer.json()["error"]["field"] == field and answer.json()["error"]["message"]
