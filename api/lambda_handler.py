"""AWS Lambda entry point: API Gateway (HTTP API, payload v2) events -> the ASGI app, through Mangum.

At cold start the secrets named by ``STREAMSCOPE_DATABASE_SECRET_ARN`` and ``STREAMSCOPE_API_TOKENS_SECRET_ARN``
are read (core.secrets). A secret that cannot be read logs one clear error and every request answers 503
(it is tried again at most every ``RETRY_SECONDS``, so a fixed secret is picked up without a redeploy): the
function never fails at import, which Lambda would retry as a crash loop. Lifespan is off (the app needs no
start-up work); the pooled engine lives as long as the Lambda container.
"""

from __future__ import annotations

import json
import logging
import time

from mangum import Mangum

from api.app import app
from core import secrets

log = logging.getLogger("streamscope.lambda")
RETRY_SECONDS = 30.0

_asgi = Mangum(app, lifespan="off")
_state: dict[str, object] = {"error": None, "tried": 0.0}


def load_secrets() -> str | None:
    """Read the secrets; the error message (also logged) or None."""
    _state["tried"] = time.monotonic()
    try:
        secrets.apply()
    except secrets.SecretError as error:
        log.error("configuration error, answering 503: %s", error)
        _state["error"] = str(error)
        return str(error)
    secrets.watch_rotation()
    _state["error"] = None
    return None


def unavailable() -> dict:
    """A 503 in API Gateway's format, shaped like the app's own errors; the detail is in the log only."""
    body = {"error": {"status": 503, "message": "the service is misconfigured (its secrets cannot be read); "
                      "the operators are told in the log", "field": None}}
    return {"statusCode": 503, "isBase64Encoded": False, "body": json.dumps(body),
            "headers": {"content-type": "application/json", "retry-after": str(int(RETRY_SECONDS))}}


def handler(event: dict, context: object) -> dict:
    """The Lambda handler (``api.lambda_handler.handler``)."""
    waiting = time.monotonic() - float(_state["tried"]) < RETRY_SECONDS
    if _state["error"] is not None and (waiting or load_secrets() is not None):
        return unavailable()
    return _asgi(event, context)


load_secrets()  # cold start
