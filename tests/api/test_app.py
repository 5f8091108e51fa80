"""The app around the endpoints: error shape, OpenAPI, the web UI at /, the CLI command, metrics."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from tests.api.conftest import make_client


def assert_error(answer, status: int, field: str | None = None) -> dict:
    assert answer.status_code == status, answer.text
    body = answer.json()
    assert set(body) == {"error"} and set(body["error"]) == {"status", "message", "field"}
    assert body["error"]["status"] == status and body["error"]["message"]
    assert body["error"]["field"] == field
    return body["error"]


def test_errors_have_one_shape(client) -> None:
    assert assert_error(client.get("/api/nothing/here"), 404)["message"] == "nothing at /api/nothing/here"
    error = assert_error(client.put("/api/streams"), 405)
    assert error["message"] == "PUT is not allowed on /api/streams"
    assert client.put("/api/streams").headers["allow"] == "GET, POST"
    error = assert_error(client.get("/api/streams?limit=abc"), 422, "limit")
    assert error["message"] == "limit: Input should be a valid integer, unable to parse string as an integer"
    assert_error(client.get("/api/streams?status=sleeping"), 422, "status")
    assert_error(client.get("/api/streams/abc"), 422, "stream_id")
    assert_error(client.get("/api/streams/0"), 422, "stream_id")
    assert_error(client.get("/api/streams", params={"q": "a\x00b"}), 422, "q")
    assert_error(client.get("/api/streams/1/objects", params={"to": "12"}), 422, "to")


def test_database_outage_is_a_503_in_the_error_shape(api_settings, tmp_path) -> None:
    down = api_settings.model_copy(update={"database_url": "", "data_dir": tmp_path})
    with make_client(down) as client:
        error = assert_error(client.get("/api/streams"), 503)
        assert "database" in error["message"]
        health = client.get("/api/health").json()
        assert {k: health[k] for k in ("status", "database", "analytics_built", "reasons")} == {
            "status": "degraded", "database": False, "analytics_built": False,
            "reasons": ["the database does not answer"]}


def test_openapi_documents_every_endpoint_with_schemas(client) -> None:
    spec = client.get("/openapi.json").json()
    operations = {(method.upper(), path) for path, item in spec["paths"].items() for method in item}
    assert operations == {
        ("GET", "/api/health"), ("GET", "/api/streams"), ("POST", "/api/streams"), ("GET", "/api/streams/{stream_id}"),
        ("PATCH", "/api/streams/{stream_id}"), ("DELETE", "/api/streams/{stream_id}"),
        ("GET", "/api/streams/{stream_id}/snapshot"), ("GET", "/api/streams/{stream_id}/objects"),
        ("GET", "/api/rankings"), ("GET", "/api/objects"),
        ("GET", "/api/alerts/rules"), ("POST", "/api/alerts/rules"), ("GET", "/api/alerts/rules/{rule_id}"),
        ("PATCH", "/api/alerts/rules/{rule_id}"), ("DELETE", "/api/alerts/rules/{rule_id}"),
        ("GET", "/api/alerts/rules/{rule_id}/history"),
    }
    for path, item in spec["paths"].items():
        for method, operation in item.items():
            ok = operation["responses"].get("200") or operation["responses"].get("201")
            if ok:
                content = ok["content"]
                schema = content.get("application/json", content.get("image/jpeg", {})).get("schema")
                assert schema, (method, path)
            for code, response in operation["responses"].items():
                if code.startswith(("4", "5")):
                    assert response["content"]["application/json"]["schema"] == {
                        "$ref": "#/components/schemas/ErrorResponse"}, (method, path, code)
            # writes need the token; so do the alert rules' reads (a webhook URL is often a credential)
            needs_token = method in ("post", "patch", "delete") or path.startswith("/api/alerts/")
            assert ("security" in operation) == needs_token, (method, path)
    assert "HTTPValidationError" not in spec["components"]["schemas"]
    assert spec["components"]["securitySchemes"]["HTTPBearer"]["scheme"] == "bearer"


@pytest.fixture
def ui_dist(tmp_path):
    dist = tmp_path / "dist"
    (dist / "assets").mkdir(parents=True)
    (dist / "index.html").write_text("<!doctype html><div id=root>streamscope</div>")
    (dist / "assets" / "app-1234.js").write_text("console.log('ui')")
    (dist / "favicon.svg").write_text("<svg/>")
    (tmp_path / "secret.txt").write_text("not for the web")
    return dist


def test_the_web_ui_is_served_at_root_with_spa_fallback(api_settings, seeded, ui_dist) -> None:
    from api.app import create_app

    with TestClient(create_app(api_settings.model_copy(update={"api_static_dir": str(ui_dist)}))) as client:
        for path in ("/", "/streams/3", "/rankings?object=person"):
            page = client.get(path)
            assert page.status_code == 200 and "streamscope" in page.text, path
            assert page.headers["content-type"].startswith("text/html")
        asset = client.get("/assets/app-1234.js")
        assert asset.text == "console.log('ui')" and "immutable" in asset.headers["cache-control"]
        assert client.get("/favicon.svg").text == "<svg/>"
        assert "not for the web" not in client.get("/..%2Fsecret.txt").text
        assert "not for the web" not in client.get("/assets/../../secret.txt").text
        # The API stays JSON under /api, including its 404s.
        assert client.get("/api/streams").json()["total"] == 5
        assert_error(client.get("/api/nope"), 404)
        assert_error(client.get("/api"), 404)
        assert client.get("/openapi.json").json()["info"]["title"] == "streamscope API"


def test_without_a_built_ui_root_is_a_404(client) -> None:
    assert_error(client.get("/streams/3"), 404)


def test_metrics_count_requests_by_route(client) -> None:
    client.get("/api/streams/1")
    client.get("/api/streams/2")
    text = client.get("/metrics").text
    assert 'streamscope_api_requests_total{method="GET",route="/api/streams/{stream_id}",status="200"} 2.0' in text


def test_the_cli_has_an_api_command() -> None:
    from core.cli import app

    result = CliRunner().invoke(app, ["api", "--help"])
    assert result.exit_code == 0 and "--host" in result.output and "--port" in result.output
