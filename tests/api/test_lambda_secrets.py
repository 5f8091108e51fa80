"""The Lambda handler reads its secrets from Secrets Manager (moto's server on 127.0.0.1) at cold start."""

from __future__ import annotations

import importlib
import json
import logging

import pytest

from core import secrets
from core.embedded import DATABASE_NAME
from tests.api.conftest import MARTS_SCHEMA, TOKEN
from tests.api.test_lambda import call

PASSWORD = "p@ss/w:rd?&"  # every character that must be quoted in a URL


@pytest.fixture(scope="module")
def moto_endpoint():
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture
def aws(moto_endpoint, monkeypatch):
    """A Secrets Manager client on moto; the code under test finds it through the standard AWS variables."""
    import boto3

    for name, value in {"AWS_ENDPOINT_URL": moto_endpoint, "AWS_DEFAULT_REGION": "eu-west-1",
                        "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}.items():
        monkeypatch.setenv(name, value)
    for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    # Whatever the secrets write into the environment is undone after the test.
    monkeypatch.setenv(secrets.DATABASE_URL_ENV, "")
    monkeypatch.setenv(secrets.TOKENS_ENV, "")
    monkeypatch.setenv("STREAMSCOPE_API_MARTS_SCHEMA", MARTS_SCHEMA)
    monkeypatch.setattr(secrets, "_base_url", None)
    yield boto3.client("secretsmanager")
    import os
    import sys

    from core.settings import get_settings

    for name in (secrets.DATABASE_SECRET_ENV, secrets.TOKENS_SECRET_ENV):
        os.environ.pop(name, None)
    if "api.lambda_handler" in sys.modules:  # leave a handler without secrets for the tests that follow
        importlib.reload(sys.modules["api.lambda_handler"])
    get_settings.cache_clear()


def put(client, name: str, value: str) -> str:
    try:
        return client.create_secret(Name=name, SecretString=value)["ARN"]
    except client.exceptions.ResourceExistsException:
        return client.put_secret_value(SecretId=name, SecretString=value)["ARN"]


def database_secret(runtime, password: str = PASSWORD) -> str:
    """What RDS stores, plus where the (embedded, Unix-socket) server is."""
    return json.dumps({"username": "postgres", "password": password, "host": str(runtime.postgres_dir),
                       "dbname": DATABASE_NAME})


def cold_start(monkeypatch, database_arn: str, tokens_arn: str):
    monkeypatch.setenv(secrets.DATABASE_SECRET_ENV, database_arn)
    monkeypatch.setenv(secrets.TOKENS_SECRET_ENV, tokens_arn)
    from api import lambda_handler

    module = importlib.reload(lambda_handler)  # a new Lambda container: the import is the cold start
    module.app.state.cache.clear()
    return module


def test_handler_reads_both_secrets_and_the_database_answers(runtime, marts, aws, monkeypatch) -> None:
    database_arn = put(aws, "streamscope/db", database_secret(runtime))
    tokens_arn = put(aws, "streamscope/tokens", json.dumps(["other-token", TOKEN]))
    module = cold_start(monkeypatch, database_arn, tokens_arn)
    from core.settings import get_settings

    assert get_settings().database_url.startswith("postgresql://postgres:p%40ss%2Fw%3Ard%3F%26@/streamscope?")
    status, _, body = call(module.handler, "GET", "/api/health")
    assert status == 200 and body["database"] is True and body["status"] == "ok"
    new = {"url": "https://www.youtube.com/watch?v=fffffffffff", "name": "Via secrets", "check": False}
    status, _, _ = call(module.handler, "POST", "/api/streams", body=new, headers={"authorization": "Bearer nope"})
    assert status == 401
    status, _, answer = call(module.handler, "POST", "/api/streams", body=new,
                             headers={"authorization": f"Bearer {TOKEN}"})
    assert status == 201 and answer["name"] == "Via secrets"


@pytest.mark.parametrize(("which", "value", "reason"), [
    ("database", '{"user": "postgres"}', "no string field 'username'"),
    ("database", "not json", "is not JSON"),
    ("tokens", "[1, 2]", "JSON list of strings"),
    ("missing", "", "ResourceNotFoundException"),
])
def test_a_wrong_secret_is_logged_and_answers_503(runtime, marts, aws, monkeypatch, caplog, which, value,
                                                  reason) -> None:
    database_arn = put(aws, "streamscope/db-ok", database_secret(runtime))
    tokens_arn = put(aws, "streamscope/tokens-ok", json.dumps([TOKEN]))
    if which == "database":
        database_arn = put(aws, "streamscope/db-bad", value)
    elif which == "tokens":
        tokens_arn = put(aws, "streamscope/tokens-bad", value)
    else:
        database_arn = database_arn.replace("db-ok", "db-deleted")
    with caplog.at_level(logging.ERROR, logger="streamscope.lambda"):
        module = cold_start(monkeypatch, database_arn, tokens_arn)  # the import itself does not raise
    errors = [r.getMessage() for r in caplog.records if r.levelno == logging.ERROR]
    assert len(errors) == 1 and reason in errors[0] and "configuration error" in errors[0]
    assert (database_arn if which != "tokens" else tokens_arn) in errors[0]
    for _ in range(2):  # every request, not only the first
        status, headers, body = call(module.handler, "GET", "/api/health")
        assert status == 503 and body["error"]["status"] == 503 and headers["retry-after"] == "30"
    assert len([r for r in caplog.records if r.levelno == logging.ERROR]) == 1  # retried at most every 30 s


def test_a_fixed_secret_is_picked_up_without_a_redeploy(runtime, marts, aws, monkeypatch) -> None:
    database_arn = put(aws, "streamscope/db-later", "{}")
    tokens_arn = put(aws, "streamscope/tokens-later", TOKEN)
    module = cold_start(monkeypatch, database_arn, tokens_arn)
    assert call(module.handler, "GET", "/api/health")[0] == 503
    put(aws, "streamscope/db-later", database_secret(runtime))
    monkeypatch.setattr(module, "RETRY_SECONDS", 0.0)
    status, _, body = call(module.handler, "GET", "/api/health")
    assert status == 200 and body["database"] is True


def test_a_rotated_password_is_read_again(runtime, aws, monkeypatch) -> None:
    database_arn = put(aws, "streamscope/db-rotating", database_secret(runtime, "first"))
    monkeypatch.setenv(secrets.DATABASE_SECRET_ENV, database_arn)
    monkeypatch.delenv(secrets.TOKENS_SECRET_ENV, raising=False)
    assert secrets.apply()
    from core.settings import get_settings

    assert ":first@" in get_settings().database_url
    assert secrets.refresh_database() is False  # nothing rotated yet
    put(aws, "streamscope/db-rotating", database_secret(runtime, "second"))
    assert secrets.refresh_database() is True
    assert ":second@" in get_settings().database_url


def test_only_authentication_failures_trigger_a_refresh() -> None:
    import psycopg

    with pytest.raises(psycopg.OperationalError) as refused:
        psycopg.connect("postgresql://nobody:wrong@127.0.0.1:1/x", connect_timeout=2)
    assert not secrets.is_auth_failure(refused.value)  # nothing listens: not a password problem
    assert secrets.is_auth_failure(psycopg.OperationalError('FATAL:  password authentication failed for user "a"'))


def test_database_url_keeps_the_configured_host() -> None:
    url = secrets.database_url("postgresql://streamscope@db.internal:5432/streamscope?sslmode=require",
                               {"username": "streamscope", "password": "a b"})
    assert url == "postgresql://streamscope:a%20b@db.internal:5432/streamscope?sslmode=require"
    assert secrets.api_tokens(" a, b ") == ["a", "b"] and secrets.api_tokens('{"tokens": ["c"]}') == ["c"]
    with pytest.raises(secrets.SecretError, match="no database host"):
        secrets.database_url("", {"username": "u", "password": "p"})


@pytest.fixture
def password_role(runtime):
    """A role that must give its password (the shared server trusts local users; this rule is for it alone)."""
    import psycopg

    from core.embedded import database_url as embedded_url

    hba = runtime.postgres_dir / "pg_hba.conf"
    original = hba.read_text()
    hba.write_text("local all rotator scram-sha-256\n" + original)
    with psycopg.connect(embedded_url(runtime), autocommit=True) as conn:
        conn.execute("DROP ROLE IF EXISTS rotator")
        conn.execute("CREATE ROLE rotator LOGIN PASSWORD 'first'")
        for schema in (MARTS_SCHEMA, "public"):  # what /api/health reads
            conn.execute(f"GRANT USAGE ON SCHEMA {schema} TO rotator")
            conn.execute(f"GRANT SELECT ON ALL TABLES IN SCHEMA {schema} TO rotator")
        conn.execute("SELECT pg_reload_conf()")
    try:
        yield lambda sql: psycopg.connect(embedded_url(runtime), autocommit=True).execute(sql).close()
    finally:
        hba.write_text(original)
        with psycopg.connect(embedded_url(runtime), autocommit=True) as conn:
            conn.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = 'rotator'")
            conn.execute("DROP OWNED BY rotator")  # its grants
            conn.execute("DROP ROLE IF EXISTS rotator")
            conn.execute("SELECT pg_reload_conf()")


def test_a_rotated_password_is_picked_up_after_the_authentication_failure(runtime, marts, aws, monkeypatch,
                                                                          password_role) -> None:
    def secret(password: str) -> str:
        return json.dumps({"username": "rotator", "password": password, "host": str(runtime.postgres_dir),
                           "dbname": DATABASE_NAME})

    database_arn = put(aws, "streamscope/db-rotated", secret("first"))
    tokens_arn = put(aws, "streamscope/tokens-rotated", TOKEN)
    module = cold_start(monkeypatch, database_arn, tokens_arn)
    assert call(module.handler, "GET", "/api/health")[2]["database"] is True
    # RDS rotation: the new password is set and stored; sessions end (here: by hand, as a restart would).
    put(aws, "streamscope/db-rotated", secret("second"))
    password_role("ALTER ROLE rotator PASSWORD 'second'")
    password_role("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = 'rotator'")
    assert call(module.handler, "GET", "/api/health")[2]["database"] is False  # refused: the secret is re-read
    status, _, body = call(module.handler, "GET", "/api/health")
    assert status == 200 and body["database"] is True


def test_the_cli_reads_the_secrets_and_names_a_wrong_one(runtime, aws, monkeypatch) -> None:
    """The pipeline tasks (the streamscope CLI) read the same secrets at start-up."""
    from typer.testing import CliRunner

    from core.cli import app

    database_arn = put(aws, "streamscope/db-cli", database_secret(runtime, "cli-password"))
    monkeypatch.setenv(secrets.DATABASE_SECRET_ENV, database_arn)
    monkeypatch.delenv(secrets.TOKENS_SECRET_ENV, raising=False)
    result = CliRunner().invoke(app, ["db", "current"])
    assert result.exit_code == 0, result.output
    from core.settings import get_settings

    assert ":cli-password@" in get_settings().database_url
    monkeypatch.setenv(secrets.DATABASE_SECRET_ENV, database_arn + "-gone")
    result = CliRunner().invoke(app, ["db", "current"])
    assert result.exit_code == 1 and "ResourceNotFoundException" in result.output
