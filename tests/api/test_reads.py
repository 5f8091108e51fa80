"""Public reads against the embedded Postgres with known rows (see fixture_data.py for the arithmetic)."""

from __future__ import annotations

from datetime import timedelta

import pytest

MART_NAMES = ("stream_hours", "object_counts", "video_rankings", "overall_object_ranking", "stream_class_baselines",
              "trending_now")


def ids(items) -> list[int]:
    return [item["id"] for item in items]


def test_health_reports_the_database_and_version(client) -> None:
    health = client.get("/api/health").json()
    assert {k: health[k] for k in ("status", "database", "version", "analytics_built", "reasons")} == {
        "status": "ok", "database": True, "version": "0.1.0", "analytics_built": True, "reasons": []}
    assert [(m["name"], m["exists"]) for m in health["marts"]] == [(name, True) for name in MART_NAMES]


def test_streams_list_filters_by_status_and_text_and_pages(client) -> None:
    page = client.get("/api/streams").json()
    assert (page["total"], page["limit"], page["offset"]) == (5, 50, 0)
    assert ids(page["items"]) == [1, 2, 3, 4, 5]
    first = page["items"][0]
    assert first == {
        "id": 1, "canonical_id": "youtube:aaaaaaaaaaa", "url": "https://www.youtube.com/watch?v=aaaaaaaaaaa",
        "kind": "youtube", "name": "Times Square", "title": "Times Square live cam", "channel": "EarthCam",
        "is_live": True, "fps": 1.0, "status": "live", "status_reason": None,
        "created_at": first["created_at"], "last_frame_at": first["last_frame_at"],
        "snapshot_url": "/api/streams/1/snapshot",
    }
    assert first["created_at"].endswith("Z") and first["last_frame_at"].endswith("Z")
    assert page["items"][1]["snapshot_url"] is None and page["items"][2]["last_frame_at"] is None

    assert ids(client.get("/api/streams", params={"status": "live"}).json()["items"]) == [1, 2, 5]
    both = client.get("/api/streams", params=[("status", "paused"), ("status", "failed")]).json()
    assert ids(both["items"]) == [3, 4] and both["total"] == 2
    assert ids(client.get("/api/streams", params={"q": "SHIBUYA"}).json()["items"]) == [2]
    assert ids(client.get("/api/streams", params={"q": "cams.example"}).json()["items"]) == [2, 3, 4]
    # LIKE wildcards in the text are literal characters.
    assert ids(client.get("/api/streams", params={"q": "street_100%"}).json()["items"]) == [5]
    assert client.get("/api/streams", params={"q": "100%%"}).json()["total"] == 0

    second = client.get("/api/streams", params={"limit": 2, "offset": 2}).json()
    assert (ids(second["items"]), second["total"], second["limit"], second["offset"]) == ([3, 4], 5, 2, 2)


def test_stream_detail_has_latest_session_health_and_top_objects(client, base) -> None:
    detail = client.get("/api/streams/1").json()
    assert detail["name"] == "Times Square"
    health = detail["health"]
    assert health["session_id"] == "sess-new"  # the latest session, not the older one
    assert (health["frames_read"], health["frames_published"], health["stalls"], health["reconnects"]) == (
        7000, 6990, 2, 1)
    assert (health["width"], health["height"], health["source_fps"], health["bitrate"]) == (1280, 720, 30.0, 2500000)
    assert health["startup_seconds"] == 1.2 and health["last_error"] is None
    # Last 24 h of stream 1: 6,000 frames; person 12,900, traffic light 4,200, car 1,800, dog 600 detections.
    top = [(o["object"], o["mean_per_frame"], o["max_per_frame"], o["unique_objects"]) for o in detail["top_objects"]]
    assert top == [("person", 2.15, 8, 65), ("traffic light", 0.7, 2, 5), ("car", 0.3, 3, 20), ("dog", 0.1, 1, 1)]

    quiet = client.get("/api/streams/4").json()
    assert quiet["health"] is None and quiet["top_objects"] == [] and quiet["status"] == "failed"


def test_unknown_stream_is_404_everywhere(client) -> None:
    for path in ("/api/streams/77", "/api/streams/77/objects", "/api/streams/77/snapshot"):
        answer = client.get(path)
        assert answer.status_code == 404, path
        assert answer.json()["error"]["status"] == 404 and "77" in answer.json()["error"]["message"]


def ranking(client, *objects: str, **params) -> list[tuple[int, float]]:
    answer = client.get("/api/rankings", params=[("object", o) for o in objects] + list(params.items()))
    assert answer.status_code == 200, answer.text
    return [(item["stream"]["id"], round(item["score"], 6)) for item in answer.json()["items"]]


def test_rankings_by_one_class_and_window(client) -> None:
    # 24 h: stream 2 13,200/4,800; stream 1 12,900/6,000; stream 3 900/1,800; stream 5 has < 30 frames.
    assert ranking(client, "person") == [(2, 2.75), (1, 2.15), (3, 0.5)]
    # 1 h: only the current hour counts.
    assert ranking(client, "person", window="1h") == [(2, 5.0), (1, 2.0)]
    # 7 d adds stream 1's hour three days ago: 48,900 / 9,600.
    assert ranking(client, "person", window="7d") == [(1, 5.09375), (2, 2.75), (3, 0.5)]
    assert ranking(client, "person", limit=1) == [(2, 2.75)]
    assert ranking(client, "giraffe") == []


def test_rankings_multi_word_and_several_classes(client) -> None:
    answer = client.get("/api/rankings", params={"object": "traffic light"}).json()
    assert answer["objects"] == ["traffic light"] and answer["window"] == "24h"
    assert [(i["rank"], i["stream"]["id"], i["score"]) for i in answer["items"]] == [(1, 3, 3.0), (2, 1, 0.7)]
    # Spelling variants of the same class name are one class.
    assert ranking(client, "  Traffic   Light ") == [(3, 3.0), (1, 0.7)]

    # Sum of means over the classes: stream 3 (900+5,400)/1,800, stream 1 (12,900+4,200)/6,000, stream 2 2.75.
    both = client.get("/api/rankings", params=[("object", "person"), ("object", "traffic light")]).json()
    assert both["objects"] == ["person", "traffic light"]
    assert [(i["stream"]["id"], round(i["score"], 6)) for i in both["items"]] == [(3, 3.5), (1, 2.85), (2, 2.75)]
    first = both["items"][0]
    assert (first["rank"], first["frames"], first["minutes_observed"]) == (1, 1800, 30.0)
    assert first["per_object"] == [
        {"object": "person", "mean_per_frame": 0.5, "max_per_frame": 1, "unique_objects": 3, "detections": 900},
        {"object": "traffic light", "mean_per_frame": 3.0, "max_per_frame": 4, "unique_objects": 6,
         "detections": 5400},
    ]
    # A class a stream never showed is a zero in per_object.
    third = both["items"][2]
    assert third["per_object"][1] == {"object": "traffic light", "mean_per_frame": 0.0, "max_per_frame": 0,
                                      "unique_objects": 0, "detections": 0}
    assert third["stream"]["name"] == "Shibuya Crossing" and third["minutes_observed"] == 80.0


def test_rankings_ties_go_to_more_frames_then_lower_id(client) -> None:
    # dog: stream 1 600/6,000 = 0.1, stream 3 180/1,800 = 0.1; stream 1 has more frames.
    assert ranking(client, "dog") == [(1, 0.1), (3, 0.1)]


@pytest.mark.slow
def test_a_class_on_too_little_evidence_is_not_ranked_for_the_stream(runtime, api_settings, seeded, now) -> None:
    """Stream 3's 180 dog detections are below a minimum of 200; stream 1's 600 are not (issue 17). The rule is
    dbt's: the setting reaches the video_rankings view as a var when the marts are built, and what the API
    answers follows it (issue 20)."""
    from tests.api.conftest import MARTS_SCHEMA, make_client
    from tests.api.marts import build_views

    strict_settings = api_settings.model_copy(update={"api_min_detections": 200})
    build_views(runtime.model_copy(update={"api_min_detections": 200}), MARTS_SCHEMA)
    try:
        with make_client(strict_settings, now) as strict:
            assert ranking(strict, "dog") == [(1, 0.1)]
            # With another class above the minimum the stream stays, the weak class adds nothing to its score.
            both = strict.get("/api/rankings", params=[("object", "dog"), ("object", "person")]).json()
            third = next(item for item in both["items"] if item["stream"]["id"] == 3)
            assert third["score"] == 0.5 and third["per_object"][0]["detections"] == 0
    finally:
        build_views(runtime, MARTS_SCHEMA)
    with make_client(api_settings, now) as default:
        assert ranking(default, "dog") == [(1, 0.1), (3, 0.1)]


@pytest.mark.parametrize(("params", "field"), [
    ({}, "object"), ({"object": "person", "window": "2h"}, "window"), ({"object": "person", "limit": 0}, "limit"),
    ({"object": "  "}, "object"), ({"object": "per\x01son"}, "object"),
])
def test_rankings_refuse_bad_parameters_with_the_field(client, params, field) -> None:
    answer = client.get("/api/rankings", params=params)
    assert answer.status_code == 422
    assert answer.json()["error"]["field"] == field and answer.json()["error"]["message"]


def test_objects_overall_ranking(client) -> None:
    # 24 h, all streams: 12,620 frames; person 27,100 in 4 streams, traffic light 9,600 in 2, car 5,400, dog 780.
    answer = client.get("/api/objects").json()
    assert answer["window"] == "24h"
    got = [(i["object"], i["rank"], round(i["mean_per_frame"], 6), i["streams"], i["frames"]) for i in answer["items"]]
    assert got == [
        ("person", 1, round(27100 / 12620, 6), 4, 12620), ("traffic light", 2, round(9600 / 12620, 6), 2, 12620),
        ("car", 3, round(5400 / 12620, 6), 2, 12620), ("dog", 4, round(780 / 12620, 6), 2, 12620),
    ]
    hour = client.get("/api/objects", params={"window": "1h"}).json()["items"]
    assert [(i["object"], i["frames"]) for i in hour] == [("person", 1820), ("traffic light", 1820)]


def test_hourly_series_has_zero_points_where_frames_were_processed(client, base) -> None:
    answer = client.get("/api/streams/1/objects").json()
    assert answer["bucket"] == "hour"
    series = {s["object"]: s["points"] for s in answer["series"]}
    assert [s["object"] for s in answer["series"]] == ["person", "traffic light", "car", "dog"]
    hours = [base - timedelta(hours=18), base - timedelta(hours=1), base]
    stamps = [h.strftime("%Y-%m-%dT%H:%M:%SZ") for h in hours]
    assert [(p["t"], p["mean_per_frame"], p["frames"]) for p in series["person"]] == [
        (stamps[0], 0.5, 1800), (stamps[1], 3.0, 3600), (stamps[2], 2.0, 600)]
    assert [p["mean_per_frame"] for p in series["traffic light"]] == [0.0, 1.0, 1.0]
    assert series["car"][1] == {"t": stamps[1], "mean_per_frame": 0.5, "max_per_frame": 3, "unique_objects": 20,
                                "frames": 3600}


def test_minute_series_from_the_windows_and_a_class_filter(client, base) -> None:
    params = {"bucket": "minute", "from": base.isoformat(), "to": (base + timedelta(minutes=10)).isoformat()}
    answer = client.get("/api/streams/1/objects", params=params).json()
    assert answer["bucket"] == "minute"
    series = {s["object"]: [(p["mean_per_frame"], p["max_per_frame"], p["frames"]) for p in s["points"]]
              for s in answer["series"]}
    assert series == {"person": [(2.0, 3, 60), (0.0, 0, 60), (1.0, 1, 60)],
                      "traffic light": [(0.0, 0, 60), (0.5, 1, 60), (0.0, 0, 60)]}
    only = client.get("/api/streams/1/objects", params=[*params.items(), ("object", "Traffic Light"),
                                                        ("object", "giraffe")]).json()
    assert [(s["object"], len(s["points"])) for s in only["series"]] == [("traffic light", 3), ("giraffe", 3)]
    # A naive "to" is UTC; an older range than the data is empty.
    old = client.get("/api/streams/1/objects", params={"from": "2020-01-01T00:00:00", "to": "2020-01-02T00:00:00"})
    assert old.json() == {"bucket": "hour", "series": [], "analytics_built": True}


@pytest.mark.parametrize("params", [
    {"from": "2026-01-02T00:00:00Z", "to": "2026-01-01T00:00:00Z"},
    {"bucket": "minute", "from": "2026-01-01T00:00:00Z", "to": "2026-02-01T00:00:00Z"},
    {"from": "yesterday"}, {"bucket": "second"}, {"to": "0001-01-01T00:00:00Z"},
])
def test_series_refuses_bad_ranges(client, params) -> None:
    answer = client.get("/api/streams/1/objects", params=params)
    assert answer.status_code == 422, answer.text
    assert answer.json()["error"]["field"] in ("from", "to", "bucket")


def test_snapshot_is_a_jpeg_with_etag_and_304(client) -> None:
    first = client.get("/api/streams/1/snapshot")
    assert first.status_code == 200 and first.headers["content-type"] == "image/jpeg"
    assert first.content[:2] == b"\xff\xd8"
    etag = first.headers["etag"]
    assert etag.startswith('"') and "max-age" in first.headers["cache-control"] and first.headers["last-modified"]
    again = client.get("/api/streams/1/snapshot", headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.content == b"" and again.headers["etag"] == etag
    assert client.get("/api/streams/1/snapshot", headers={"If-None-Match": '"stale", W/' + etag}).status_code == 304
    assert client.get("/api/streams/1/snapshot", headers={"If-None-Match": '"stale"'}).status_code == 200
    missing = client.get("/api/streams/2/snapshot")
    assert missing.status_code == 404 and missing.json()["error"]["message"] == "no snapshot for stream 2"
