"""Secrets from AWS Secrets Manager: the database credentials and the API write tokens.

On AWS the Lambda and the pipeline tasks are given ``STREAMSCOPE_DATABASE_SECRET_ARN`` (the RDS-managed
master secret, ``{"username": ..., "password": ...}``; host, port and dbname are used when the secret has them)
and ``STREAMSCOPE_API_TOKENS_SECRET_ARN`` (a JSON list, ``{"tokens": [...]}`` or ``tok1,tok2``). ``apply()`` reads
both once at start-up and writes ``STREAMSCOPE_DATABASE_URL`` / ``STREAMSCOPE_API_TOKENS`` into the environment,
so the settings object stays the one source of configuration. RDS rotates the password: after an authentication
failure the database secret is read again (``watch_rotation``), and the next connection uses the new one.

boto3 is imported only when an ARN is set: laptops and tests without AWS never load it.
"""

from __future__ import annotations

import json
import logging
import os
import threading
from collections.abc import MutableMapping
from typing import Any
from urllib.parse import quote, urlsplit, urlunsplit

log = logging.getLogger(__name__)

DATABASE_SECRET_ENV = "STREAMSCOPE_DATABASE_SECRET_ARN"
TOKENS_SECRET_ENV = "STREAMSCOPE_API_TOKENS_SECRET_ARN"
DATABASE_URL_ENV = "STREAMSCOPE_DATABASE_URL"
TOKENS_ENV = "STREAMSCOPE_API_TOKENS"
AUTH_FAILED_SQLSTATES = {"28P01", "28000"}  # invalid_password, invalid_authorization_specification

_lock = threading.Lock()
_base_url: str | None = None  # the configured URL before credentials were put in (for refreshes)


class SecretError(RuntimeError):
    """A secret that cannot be read or does not have the expected shape; the message says which and why."""


# --- pure: secret values -> configuration ------------------------------------------------------------------


def database_url(base_url: str, secret: dict[str, Any]) -> str:
    """``base_url`` with the secret's credentials (and its host, port and dbname when present).

    A host starting with ``/`` is a Unix socket directory; it goes in the query (``?host=``) as libpq expects.
    """
    for field in ("username", "password"):
        if not isinstance(secret.get(field), str):
            raise SecretError(f"the database secret has no string field {field!r}")
    parts = urlsplit(base_url or "postgresql://")
    scheme = parts.scheme or "postgresql"
    host = str(secret.get("host") or parts.hostname or "")
    port = secret.get("port") or parts.port
    path = f"/{secret['dbname']}" if secret.get("dbname") else parts.path
    query = [q for q in parts.query.split("&") if q and not q.startswith("host=")]
    if host.startswith("/"):
        query.append("host=" + quote(host, safe="/"))
        host = ""
    if not host and not any(q.startswith("host=") for q in query):
        raise SecretError("no database host: neither STREAMSCOPE_DATABASE_URL nor the database secret names one")
    netloc = f"{quote(secret['username'], safe='')}:{quote(secret['password'], safe='')}@{host}"
    if host and port:
        netloc += f":{int(port)}"
    return urlunsplit((scheme, netloc, path, "&".join(query), ""))


def api_tokens(text: str) -> list[str]:
    """Tokens from a JSON list, ``{"tokens": [...]}`` or a comma-separated string; empty entries are refused."""
    stripped = text.strip()
    if stripped.startswith(("[", "{")):
        try:
            value = json.loads(stripped)
        except ValueError as error:
            raise SecretError(f"the API tokens secret is not valid JSON: {error}") from None
        if isinstance(value, dict):
            value = value.get("tokens")
        if not isinstance(value, list) or not all(isinstance(t, str) for t in value):
            raise SecretError('the API tokens secret must be a JSON list of strings or {"tokens": [...]}')
        tokens = [t.strip() for t in value]
    else:
        tokens = [t.strip() for t in stripped.split(",")]
    if not tokens or not all(tokens):
        raise SecretError("the API tokens secret holds no token (or an empty one)")
    return tokens


def is_auth_failure(error: BaseException) -> bool:
    """Did Postgres refuse the credentials (as opposed to being down or unreachable)?"""
    original = getattr(error, "orig", None) or error
    if getattr(original, "sqlstate", None) in AUTH_FAILED_SQLSTATES:
        return True
    return "password authentication failed" in str(original)


# --- I/O: Secrets Manager ----------------------------------------------------------------------------------


def fetch(arn: str) -> str:
    """The current SecretString of ``arn`` (region and endpoint from the usual AWS environment)."""
    import boto3  # only where a secret is configured
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        answer = boto3.client("secretsmanager").get_secret_value(SecretId=arn)
    except ClientError as error:
        code = error.response.get("Error", {}).get("Code", "error")
        raise SecretError(f"cannot read secret {arn}: {code}: {error}") from None
    except BotoCoreError as error:
        raise SecretError(f"cannot read secret {arn}: {error}") from None
    if "SecretString" not in answer:
        raise SecretError(f"secret {arn} has no SecretString (binary secrets are not supported)")
    return answer["SecretString"]


def _database_secret(arn: str) -> dict[str, Any]:
    text = fetch(arn)
    try:
        value = json.loads(text)
    except ValueError:
        raise SecretError(f"secret {arn} is not JSON with username and password") from None
    if not isinstance(value, dict):
        raise SecretError(f"secret {arn} is not a JSON object with username and password")
    return value


def apply(environ: MutableMapping[str, str] | None = None) -> bool:
    """Read the configured secrets into ``environ`` (default ``os.environ``); False when none is configured.

    Raises SecretError naming the secret and the reason; nothing is changed then.
    """
    global _base_url
    env = os.environ if environ is None else environ
    database_arn, tokens_arn = env.get(DATABASE_SECRET_ENV, ""), env.get(TOKENS_SECRET_ENV, "")
    if not database_arn and not tokens_arn:
        return False
    updates: dict[str, str] = {}
    with _lock:
        if database_arn:
            if _base_url is None:
                _base_url = env.get(DATABASE_URL_ENV, "")
            try:
                updates[DATABASE_URL_ENV] = database_url(_base_url, _database_secret(database_arn))
            except SecretError as error:
                raise SecretError(f"{DATABASE_SECRET_ENV}={database_arn}: {error}") from None
        if tokens_arn:
            try:
                updates[TOKENS_ENV] = json.dumps(api_tokens(fetch(tokens_arn)))
            except SecretError as error:
                raise SecretError(f"{TOKENS_SECRET_ENV}={tokens_arn}: {error}") from None
        env.update(updates)
    _settings_changed()
    log.info("secrets read: %s", ", ".join(sorted(k for k in (DATABASE_SECRET_ENV, TOKENS_SECRET_ENV) if env.get(k))))
    return True


def refresh_database(environ: MutableMapping[str, str] | None = None) -> bool:
    """Read the database secret again (after a rotation); True when the URL changed."""
    env = os.environ if environ is None else environ
    arn = env.get(DATABASE_SECRET_ENV, "")
    if not arn:
        return False
    with _lock:
        base = env.get(DATABASE_URL_ENV, "") if _base_url is None else _base_url
        new = database_url(base, _database_secret(arn))
        changed = new != env.get(DATABASE_URL_ENV)
        env[DATABASE_URL_ENV] = new
    if changed:
        log.warning("database secret changed (rotated): new connections use the new password")
        _settings_changed()
    return changed


def _settings_changed() -> None:
    from core.settings import get_settings

    get_settings.cache_clear()


_watching = False


def watch_rotation() -> None:
    """After an authentication failure on any engine, read the database secret again (once per failure).

    The failing request still fails (the API answers 503); the next one connects with the new password,
    because the settings then carry the new URL and the engines are cached per URL.
    """
    global _watching
    if _watching:
        return
    from sqlalchemy import Engine, event

    def on_error(context) -> None:
        if not is_auth_failure(context.original_exception):
            return
        try:
            refresh_database()
        except Exception as error:  # never mask the original failure
            log.error("database authentication failed and the secret could not be read again: %s", error)

    event.listen(Engine, "handle_error", on_error)
    _watching = True
