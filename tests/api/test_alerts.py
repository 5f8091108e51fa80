"""/api/alerts/rules: CRUD with the token (the secret shown once, never again), delivery history, and hostile
input refused with the field named (unknown class, negative minutes, local webhooks when not allowed, 10 kB
names), each refusal leaving the table as it was."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from core.db.engine import session_scope
from core.db.models import AlertRule
from tests.api.conftest import AUTH, make_client

RULE = {"name": "Crowd at the stop", "condition": "count_above", "object_class": "Person", "threshold": 5,
        "minutes": 3, "stream_ids": [1], "webhook_url": "http://127.0.0.1:9/hook"}


def rules_in_table(settings) -> int:
    with session_scope(settings) as session:
        return session.scalar(select(func.count()).select_from(AlertRule))


@pytest.fixture
def clean_rules(api_settings):
    with session_scope(api_settings) as session:
        session.query(AlertRule).delete()
    yield


def test_create_list_pause_resume_delete(write_client, api_settings, clean_rules, caplog) -> None:
    caplog.set_level("DEBUG")
    answer = write_client.post("/api/alerts/rules", headers=AUTH, json=RULE)
    assert answer.status_code == 201, answer.text
    created = answer.json()
    assert created["secret"].startswith("whsec_") and len(created["secret"]) > 40
    assert answer.headers["cache-control"] == "no-store"
    assert answer.headers["location"] == f"/api/alerts/rules/{created['id']}"
    assert (created["object_class"], created["cooldown_s"], created["paused"]) == ("person", 600, False)
    listed = write_client.get("/api/alerts/rules", headers=AUTH)
    assert listed.status_code == 200
    assert [r["id"] for r in listed.json()["items"]] == [created["id"]]
    assert "secret" not in listed.json()["items"][0] and created["secret"] not in listed.text
    one = write_client.get(f"/api/alerts/rules/{created['id']}", headers=AUTH).json()
    assert "secret" not in one and one["name"] == RULE["name"]
    paused = write_client.patch(f"/api/alerts/rules/{created['id']}", headers=AUTH, json={"paused": True})
    assert paused.status_code == 200 and paused.json()["paused"] is True
    resumed = write_client.patch(f"/api/alerts/rules/{created['id']}", headers=AUTH, json={"paused": False})
    assert resumed.json()["paused"] is False
    history = write_client.get(f"/api/alerts/rules/{created['id']}/history", headers=AUTH)
    assert history.status_code == 200 and history.json() == {"rule_id": created["id"], "items": []}
    assert write_client.delete(f"/api/alerts/rules/{created['id']}", headers=AUTH).status_code == 204
    assert write_client.get(f"/api/alerts/rules/{created['id']}", headers=AUTH).status_code == 404
    assert write_client.delete(f"/api/alerts/rules/{created['id']}", headers=AUTH).status_code == 404
    assert created["secret"] not in caplog.text  # never logged


@pytest.mark.parametrize(("method", "path", "body"), [
    ("get", "/api/alerts/rules", None), ("post", "/api/alerts/rules", RULE),
    ("patch", "/api/alerts/rules/1", {"paused": True}), ("delete", "/api/alerts/rules/1", None),
    ("get", "/api/alerts/rules/1/history", None),
])  # fmt: skip
def test_every_alerts_endpoint_needs_the_token(write_client, api_settings, clean_rules, method, path, body) -> None:
    answer = write_client.request(method.upper(), path, json=body, headers={"Authorization": "Bearer wrong"})
    assert answer.status_code == 401
    assert rules_in_table(api_settings) == 0


HOSTILE = [
    ({"object_class": "unicorn"}, "object_class", "unknown object class"),
    ({"minutes": -5}, "minutes", "between 0 and"),
    ({"name": "x" * 10_000}, "name", "at most 1000"),
    ({"name": "x" * 300}, "name", "longer than 200"),
    ({"name": "  "}, "name", ""),
    ({"condition": "always"}, "condition", ""),
    ({"threshold": -1}, "threshold", "between 0"),
    ({"stream_ids": [99999]}, "stream_ids", "no stream with id 99999"),
    ({"stream_ids": list(range(1, 200))}, "stream_ids", ""),
    ({"cooldown_s": -1}, "cooldown_s", ""),
    ({"webhook_url": "file:///etc/passwd"}, "webhook_url", "scheme"),
    ({"webhook_url": "ftp://example.com/x"}, "webhook_url", "scheme"),
    ({"webhook_url": "x" * 3000}, "webhook_url", ""),
    ({"payload_format": "xml"}, "payload_format", ""),
    ({"surprise": 1}, "surprise", ""),
]


@pytest.mark.parametrize(("changes", "field", "reason"), HOSTILE)
def test_hostile_rules_are_refused_with_the_field(write_client, api_settings, clean_rules, changes, field,
                                                  reason) -> None:
    answer = write_client.post("/api/alerts/rules", headers=AUTH, json={**RULE, **changes})
    assert answer.status_code == 422, answer.text
    error = answer.json()["error"]
    assert error["field"] == field and reason in error["message"]
    assert rules_in_table(api_settings) == 0


@pytest.mark.parametrize("url", ["http://127.0.0.1:8080/hook", "http://10.1.2.3/hook", "http://169.254.169.254/x",
                                 "http://localhost:9/hook", "http://[::ffff:127.0.0.1]/", "http://2130706433/",
                                 "http://hooks.internal/x"])
def test_webhooks_to_local_addresses_are_refused_unless_allowed(api_settings, now, fresh, clean_rules, url) -> None:
    strict = api_settings.model_copy(update={"allow_local_sources": False})
    with make_client(strict, now) as client:
        answer = client.post("/api/alerts/rules", headers=AUTH, json={**RULE, "webhook_url": url})
    assert answer.status_code == 422, answer.text
    assert answer.json()["error"]["field"] == "webhook_url"
    assert rules_in_table(api_settings) == 0
