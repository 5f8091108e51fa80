"""The AWS Lambda handler with API Gateway v2 (HTTP API) events, against the embedded Postgres."""

from __future__ import annotations

import base64
import json
from types import SimpleNamespace

import pytest

from tests.api.conftest import MARTS_SCHEMA, TOKEN


def http_api_event(method: str, path: str, query: str = "", body: dict | None = None,
                   headers: dict[str, str] | None = None) -> dict:
    """An API Gateway HTTP API (payload format 2.0) event as AWS sends it."""
    all_headers = {
        "accept": "application/json", "host": "abc123.execute-api.eu-west-1.amazonaws.com",
        "user-agent": "curl/8.5.0", "x-amzn-trace-id": "Root=1-67891233-abcdef012345678912345678",
        "x-forwarded-for": "203.0.113.7", "x-forwarded-port": "443", "x-forwarded-proto": "https",
        **({"content-type": "application/json"} if body is not None else {}), **(headers or {}),
    }
    return {
        "version": "2.0", "routeKey": "$default", "rawPath": path, "rawQueryString": query, "headers": all_headers,
        "requestContext": {
            "accountId": "123456789012", "apiId": "abc123", "domainName": all_headers["host"],
            "domainPrefix": "abc123", "requestId": "JKJaXmPLvHcESHA=", "routeKey": "$default", "stage": "$default",
            "time": "23/Nov/2026:18:30:00 +0000", "timeEpoch": 1795458600000,
            "http": {"method": method, "path": path, "protocol": "HTTP/1.1", "sourceIp": "203.0.113.7",
                     "userAgent": "curl/8.5.0"},
        },
        "body": None if body is None else json.dumps(body), "isBase64Encoded": False,
    }


CONTEXT = SimpleNamespace(function_name="streamscope-api", memory_limit_in_mb=512, aws_request_id="req-1",
                          invoked_function_arn="arn:aws:lambda:eu-west-1:123456789012:function:streamscope-api",
                          get_remaining_time_in_millis=lambda: 29000)


@pytest.fixture
def handler(runtime, marts, fresh, monkeypatch):
    """The deployed handler module, configured through the environment as on Lambda."""
    from core.settings import get_settings

    monkeypatch.setenv("STREAMSCOPE_API_TOKENS", json.dumps([TOKEN]))
    monkeypatch.setenv("STREAMSCOPE_API_MARTS_SCHEMA", MARTS_SCHEMA)
    get_settings.cache_clear()
    from api import lambda_handler

    lambda_handler.app.state.cache.clear()
    yield lambda_handler.handler
    get_settings.cache_clear()


def call(handler, *args, **kwargs) -> tuple[int, dict, object]:
    result = handler(http_api_event(*args, **kwargs), CONTEXT)
    body = result["body"]
    if result.get("isBase64Encoded"):
        return result["statusCode"], result["headers"], base64.b64decode(body)
    return result["statusCode"], result["headers"], json.loads(body) if body else None


def test_reads_through_the_handler(handler) -> None:
    status, headers, body = call(handler, "GET", "/api/streams/1")
    assert status == 200 and headers["content-type"] == "application/json"
    assert body["name"] == "Times Square" and body["health"]["session_id"] == "sess-new"
    status, _, body = call(handler, "GET", "/api/rankings", "object=traffic%20light&object=person&window=24h")
    assert status == 200 and body["objects"] == ["traffic light", "person"]
    assert [item["stream"]["id"] for item in body["items"]] == [3, 1, 2]
    status, headers, jpeg = call(handler, "GET", "/api/streams/1/snapshot")
    assert status == 200 and headers["content-type"] == "image/jpeg" and jpeg[:2] == b"\xff\xd8"


def test_writes_through_the_handler_need_the_token(handler) -> None:
    body = {"url": "https://www.youtube.com/watch?v=eeeeeeeeeee", "name": "From Lambda", "check": False}
    status, _, answer = call(handler, "POST", "/api/streams", body=body)
    assert status == 401 and answer["error"]["status"] == 401
    status, headers, answer = call(handler, "POST", "/api/streams", body=body,
                                   headers={"authorization": f"Bearer {TOKEN}"})
    assert status == 201 and answer["name"] == "From Lambda" and headers["location"] == f"/api/streams/{answer['id']}"
    status, _, listed = call(handler, "GET", "/api/streams", "q=from%20lambda")
    assert [s["id"] for s in listed["items"]] == [answer["id"]]


def test_404_and_422_through_the_handler(handler) -> None:
    status, _, answer = call(handler, "GET", "/api/streams/999")
    assert (status, answer) == (404, {"error": {"status": 404, "message": "no stream with id 999", "field": None}})
    status, _, answer = call(handler, "GET", "/api/rankings", "window=24h")
    assert status == 422 and answer["error"]["field"] == "object"
    status, _, answer = call(handler, "POST", "/api/streams", body={"url": "ftp://x.example/a", "check": False},
                             headers={"authorization": f"Bearer {TOKEN}"})
    assert status == 422 and answer["error"]["field"] == "url" and "unsupported scheme" in answer["error"]["message"]
