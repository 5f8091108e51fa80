"""A fresh install before the first dbt build, limits on writes, security headers (issue 22)."""

from __future__ import annotations

import pytest

from api.ratelimit import TokenBuckets
from tests.api.conftest import AUTH, make_client
from tests.api.test_reads import MART_NAMES


@pytest.fixture
def no_marts(api_settings, fresh, now):
    """The source tables hold rows, the marts schema does not exist: the state before the first dbt build."""
    settings = api_settings.model_copy(update={"api_marts_schema": "marts_not_built_yet"})
    with make_client(settings, now) as client:
        yield client


@pytest.mark.parametrize(("path", "params", "empty_key"), [
    ("/api/rankings", {"object": "person"}, "items"),
    ("/api/rankings", {"object": ["person", "traffic light"], "window": "7d"}, "items"),
    ("/api/objects", {}, "items"),
    ("/api/streams/1/objects", {}, "series"),
    ("/api/streams/1", {}, "top_objects"),
    ("/api/trending", {}, "items"),
])
def test_reads_before_the_marts_exist_are_empty_and_say_so(no_marts, path, params, empty_key) -> None:
    answer = no_marts.get(path, params=params)
    assert answer.status_code == 200, answer.text
    assert answer.json()[empty_key] == [] and answer.json()["analytics_built"] is False


def test_minute_series_and_stream_lists_do_not_need_the_marts(no_marts) -> None:
    assert no_marts.get("/api/streams").json()["total"] == 5
    minute = no_marts.get("/api/streams/1/objects", params={"bucket": "minute"}).json()
    assert minute["analytics_built"] is True


def test_health_names_each_dependency_before_and_after_the_marts(no_marts, client) -> None:
    before = no_marts.get("/api/health").json()
    assert (before["status"], before["database"], before["analytics_built"]) == ("degraded", True, False)
    assert [(m["name"], m["exists"]) for m in before["marts"]] == [(name, False) for name in MART_NAMES]
    assert "dbt" in before["reasons"][0]
    assert before["last_window_at"] is not None and before["last_window_age_seconds"] >= 0
    after = client.get("/api/health").json()
    assert (after["status"], after["analytics_built"], after["reasons"]) == ("ok", True, [])


def test_token_buckets_refill_at_their_rate() -> None:
    clock = [0.0]
    buckets = TokenBuckets(3, 0.5, clock=lambda: clock[0], max_keys=2)
    assert [buckets.take("a") for _ in range(3)] == [0.0, 0.0, 0.0]
    assert buckets.take("a") == pytest.approx(2.0)  # one token per 2 s
    clock[0] = 2.0
    assert buckets.take("a") == 0.0 and buckets.take("a") > 0
    assert buckets.take("b") == 0.0 and buckets.take("c") == 0.0  # "a" evicted (least recent): memory bounded
    assert len(buckets._buckets) == 2


def test_writes_are_rate_limited_per_token_and_per_address(api_settings, fresh, now) -> None:
    limited = api_settings.model_copy(update={"api_write_burst": 3, "api_write_per_minute": 1})
    with make_client(limited, now) as client:
        codes = [client.patch("/api/streams/1", headers=AUTH, json={"fps": 1}).status_code for _ in range(4)]
        assert codes == [200, 200, 200, 429]
        refused = client.patch("/api/streams/1", headers=AUTH, json={"fps": 1})
        assert int(refused.headers["retry-after"]) >= 1 and "wait" in refused.json()["error"]["message"]
        assert client.get("/api/streams/1").status_code == 200  # reads are not limited
    with make_client(limited, now) as client:  # another address cannot spend the token's budget ...
        for _ in range(3):
            client.patch("/api/streams/1", headers=AUTH, json={"fps": 1})
        other = {"Authorization": "Bearer another-token"}
        assert client.patch("/api/streams/1", headers=other, json={"fps": 1}).status_code == 429  # same address


def test_security_headers_on_the_api_and_the_ui(api_settings, tmp_path, now) -> None:
    (tmp_path / "index.html").write_text("<!doctype html><div id=root></div>")
    settings = api_settings.model_copy(update={"api_static_dir": str(tmp_path)})
    from fastapi.testclient import TestClient

    from api.app import create_app

    with TestClient(create_app(settings)) as client:
        for path in ("/api/health", "/", "/streams/3", "/api/nothing"):
            headers = client.get(path).headers
            csp = headers["content-security-policy"]
            assert "script-src 'self'" in csp and "unsafe-inline" not in csp and "frame-ancestors 'none'" in csp
            assert headers["x-content-type-options"] == "nosniff" and headers["x-frame-options"] == "DENY"
        assert "cdn.jsdelivr.net" in client.get("/docs").headers["content-security-policy"]
