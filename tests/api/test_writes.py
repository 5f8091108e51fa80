"""Writes: token required (401 changes nothing), registry validation mapped to 422/409/404, real probing."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from tests.api.conftest import AUTH
from tests.conftest import free_port


def table_state(settings) -> list[tuple]:
    from core.db.engine import get_engine

    with get_engine(settings).connect() as conn:
        streams = conn.execute(text("SELECT id, name, fps, status FROM streams ORDER BY id")).all()
        snapshots = conn.execute(text("SELECT count(*) FROM snapshots")).scalar_one()
    return [tuple(row) for row in streams] + [("snapshots", snapshots)]


WRITES = [
    ("post", "/api/streams", {"url": "https://www.youtube.com/watch?v=ccccccccccc", "check": False}),
    ("patch", "/api/streams/1", {"paused": True, "name": "x"}),
    ("delete", "/api/streams/1", None),
]


@pytest.mark.parametrize(("method", "path", "body"), WRITES)
@pytest.mark.parametrize("headers", [
    {}, {"Authorization": "Bearer wrong"}, {"Authorization": "Basic dXNlcjpwYXNz"}, {"Authorization": "Bearer "},
    {"Authorization": AUTH["Authorization"] + "x"},
])
def test_writes_without_a_valid_token_are_401_and_change_nothing(write_client, api_settings, method, path, body,
                                                                 headers) -> None:
    before = table_state(api_settings)
    answer = write_client.request(method.upper(), path, json=body, headers=headers)
    assert answer.status_code == 401, answer.text
    assert answer.headers["www-authenticate"] == "Bearer"
    assert answer.json()["error"]["status"] == 401 and "token" in answer.json()["error"]["message"]
    assert table_state(api_settings) == before


def test_the_token_is_checked_before_the_body(write_client) -> None:
    answer = write_client.post("/api/streams", json={"url": 5})
    assert answer.status_code == 401


def test_register_without_check_then_list_show_and_rank(write_client) -> None:
    answer = write_client.post("/api/streams", headers=AUTH, json={
        "url": "https://youtu.be/ccccccccccc", "name": "  Night bridge ", "fps": 2, "check": False})
    assert answer.status_code == 201, answer.text
    created = answer.json()
    assert answer.headers["location"] == f"/api/streams/{created['id']}"
    assert created["id"] == 6
    assert {k: created[k] for k in ("canonical_id", "url", "kind", "name", "fps", "status", "snapshot_url")} == {
        "canonical_id": "youtube:ccccccccccc", "url": "https://www.youtube.com/watch?v=ccccccccccc",
        "kind": "youtube", "name": "Night bridge", "fps": 2.0, "status": "pending", "snapshot_url": None}
    assert write_client.get("/api/streams", params={"q": "night"}).json()["items"] == [created]
    assert write_client.get("/api/streams/6").json()["health"] is None


@pytest.mark.parametrize(("body", "status", "field", "reason"), [
    ({"url": "https://www.youtube.com/watch?v=aaaaaaaaaaa", "check": False}, 409, "url", "already registered"),
    ({"url": "aaaaaaaaaaa", "check": True}, 409, "url", "already registered"),
    ({"url": "ftp://example.com/x", "check": False}, 422, "url", "unsupported scheme"),
    ({"url": "not a url", "check": False}, 422, "url", "not allowed"),
    ({"url": "", "check": False}, 422, "url", "empty"),
    ({"url": "https://youtu.be/ddddddddddd", "fps": 0, "check": False}, 422, "fps", "fps"),
    ({"url": "https://youtu.be/ddddddddddd", "fps": 31, "check": False}, 422, "fps", "fps"),
    ({"url": "https://youtu.be/ddddddddddd", "name": "   ", "check": False}, 422, "name", "empty"),
    ({"url": 5}, 422, "url", "string"),
    ({"name": "no url"}, 422, "url", "required"),
    ({"url": "https://youtu.be/ddddddddddd", "fps": "fast"}, 422, "fps", "number"),
])
def test_refused_registrations_say_why_and_write_nothing(write_client, api_settings, body, status, field,
                                                         reason) -> None:
    before = table_state(api_settings)
    answer = write_client.post("/api/streams", headers=AUTH, json=body)
    assert answer.status_code == status, answer.text
    error = answer.json()["error"]
    assert (error["status"], error["field"]) == (status, field)
    assert reason in error["message"].lower()
    assert table_state(api_settings) == before


def test_register_checks_a_live_hls_stream_with_yt_dlp(write_client, live_hls) -> None:
    source = live_hls
    answer = write_client.post("/api/streams", headers=AUTH, json={"url": source.url})
    assert answer.status_code == 201, answer.text
    created = answer.json()
    assert (created["kind"], created["is_live"], created["canonical_id"]) == ("hls", True, f"hls:{source.url}")


def test_register_refuses_an_unreachable_stream(write_client, api_settings) -> None:
    before = table_state(api_settings)
    url = f"http://127.0.0.1:{free_port()}/live.m3u8"
    answer = write_client.post("/api/streams", headers=AUTH, json={"url": url})
    assert answer.status_code == 422
    error = answer.json()["error"]
    assert error["field"] == "url" and error["message"].startswith("cannot read this stream")
    assert table_state(api_settings) == before


def test_patch_pauses_resumes_renames_and_validates_first(write_client, api_settings) -> None:
    paused = write_client.patch("/api/streams/1", headers=AUTH, json={"paused": True})
    assert paused.status_code == 200 and paused.json()["status"] == "paused"
    assert paused.json()["status_reason"] == "paused by a person"
    resumed = write_client.patch("/api/streams/1", headers=AUTH, json={"paused": False, "fps": 0.5, "name": "TS"})
    assert [resumed.json()[k] for k in ("status", "fps", "name")] == ["pending", 0.5, "TS"]
    # paused=false on a stream that is not paused leaves its status alone.
    live = write_client.patch("/api/streams/2", headers=AUTH, json={"paused": False})
    assert live.json()["status"] == "live"

    before = table_state(api_settings)
    refused = write_client.patch("/api/streams/2", headers=AUTH, json={"paused": True, "fps": 99})
    assert refused.status_code == 422 and refused.json()["error"]["field"] == "fps"
    assert write_client.patch("/api/streams/2", headers=AUTH, json={"name": "\x07"}).json()["error"]["field"] == "name"
    assert table_state(api_settings) == before
    missing = write_client.patch("/api/streams/404", headers=AUTH, json={"paused": True})
    assert missing.status_code == 404 and missing.json()["error"]["message"] == "no stream with id 404"


def test_rename_shows_in_rankings_at_once(write_client) -> None:
    def first_name() -> str:
        return write_client.get("/api/rankings", params={"object": "person"}).json()["items"][0]["stream"]["name"]

    assert first_name() == "Shibuya Crossing"  # now cached
    write_client.patch("/api/streams/2", headers=AUTH, json={"name": "Shibuya"})
    assert first_name() == "Shibuya"


def test_delete_removes_the_stream_its_snapshot_and_its_ranking(write_client, api_settings) -> None:
    assert [i["stream"]["id"] for i in write_client.get("/api/rankings?object=person").json()["items"]] == [2, 1, 3]
    answer = write_client.delete("/api/streams/1", headers=AUTH)
    assert answer.status_code == 204 and answer.content == b""
    assert write_client.get("/api/streams/1").status_code == 404
    assert table_state(api_settings)[-1] == ("snapshots", 0)
    assert [i["stream"]["id"] for i in write_client.get("/api/rankings?object=person").json()["items"]] == [2, 3]
    again = write_client.delete("/api/streams/1", headers=AUTH)
    assert again.status_code == 404 and again.json()["error"]["status"] == 404


def test_cors_allows_the_configured_origin_only(write_client) -> None:
    preflight = {"Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "authorization"}
    ok = write_client.options("/api/streams", headers={"Origin": "http://localhost:5173", **preflight})
    assert ok.status_code == 200 and ok.headers["access-control-allow-origin"] == "http://localhost:5173"
    other = write_client.get("/api/streams", headers={"Origin": "http://evil.example"})
    assert "access-control-allow-origin" not in other.headers
