"""Webhook delivery: the payload, its signature, one POST, and what a failure means for the next attempt.

Every POST carries
- ``X-Streamscope-Timestamp``: Unix seconds when this attempt was signed (a receiver refuses old ones: replay);
- ``X-Streamscope-Signature``: ``v1=`` + hex HMAC-SHA256 of ``"<timestamp>.<body>"`` under the rule's secret;
- ``X-Streamscope-Delivery`` (and ``Idempotency-Key``): the firing's id, the same on every attempt, so a receiver
  that sees it twice (at-least-once delivery: a worker killed after the receiver answered sends again) keeps one.
The body is fixed when the firing is made (stored in the outbox) and identical on every attempt.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import httpx

from core.backoff import Backoff
from core.source_policy import SourcePolicy, SourceRefused

SIGNATURE_HEADER = "X-Streamscope-Signature"
TIMESTAMP_HEADER = "X-Streamscope-Timestamp"
DELIVERY_HEADER = "X-Streamscope-Delivery"
DEFAULT_TOLERANCE_S = 300
USER_AGENT = "streamscope-alerts/1"


def sign(secret: str, timestamp: int, body: bytes) -> str:
    digest = hmac.new(secret.encode(), str(timestamp).encode() + b"." + body, hashlib.sha256).hexdigest()
    return f"v1={digest}"


def verify(secret: str, headers: Mapping[str, str], body: bytes, *, now: float | None = None,
           tolerance_s: int = DEFAULT_TOLERANCE_S) -> bool:
    """What a receiver does (docs/operations.md has the same in a few lines): the signature matches and the
    timestamp is recent. ``headers`` is looked up case-insensitively."""
    lower = {k.lower(): v for k, v in headers.items()}
    try:
        timestamp = int(lower[TIMESTAMP_HEADER.lower()])
        given = lower[SIGNATURE_HEADER.lower()]
    except (KeyError, ValueError):
        return False
    if abs((time.time() if now is None else now) - timestamp) > tolerance_s:
        return False
    return hmac.compare_digest(given, sign(secret, timestamp, body))


def payload(fmt: str, *, delivery_id: str, rule: Mapping[str, Any], stream: Mapping[str, Any],
            episode: Mapping[str, Any], summary: str, fired_at: datetime) -> bytes:
    """The body: streamscope's JSON, or Slack's incoming-webhook shape (``text`` and one block)."""
    text = f"streamscope alert '{rule['name']}' on {stream['name']}: {summary}"
    if fmt == "slack":
        data: dict[str, Any] = {"text": text, "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": text}}]}
    else:
        data = {"id": delivery_id, "type": "alert.fired", "fired_at": fired_at.isoformat(), "rule": dict(rule),
                "stream": dict(stream), "episode": dict(episode), "summary": summary, "text": text}
    return json.dumps(data, separators=(",", ":"), default=str).encode()


def headers(secret: str, delivery_id: str, body: bytes, timestamp: int | None = None) -> dict[str, str]:
    ts = int(time.time()) if timestamp is None else timestamp
    return {"Content-Type": "application/json", "User-Agent": USER_AGENT, TIMESTAMP_HEADER: str(ts),
            SIGNATURE_HEADER: sign(secret, ts, body), DELIVERY_HEADER: delivery_id, "Idempotency-Key": delivery_id}


@dataclass(frozen=True)
class Outcome:
    delivered: bool
    retry: bool  # worth another attempt (network error, timeout, 408, 429, 5xx)
    http_status: int | None
    latency_ms: float
    error: str | None


def retryable(status: int | None) -> bool:
    """Network errors and the statuses that say "later"; any other 4xx will not change by retrying."""
    return status is None or status in (408, 425, 429) or status >= 500


def post(url: str, secret: str, delivery_id: str, body: bytes, *, timeout_s: float,
         policy: SourcePolicy) -> Outcome:
    """One signed POST. The URL is checked against the source policy again first (its name may resolve
    elsewhere since the rule was made); redirects are not followed (each hop would need the same check)."""
    started = time.monotonic()
    try:
        policy.check_connect(url)
    except SourceRefused as refused:
        return Outcome(False, False, None, 0.0, f"refused by the source policy: {refused.reason}")
    try:
        answer = httpx.post(url, content=body, headers=headers(secret, delivery_id, body), timeout=timeout_s,
                            follow_redirects=False)
    except httpx.HTTPError as error:
        return Outcome(False, True, None, (time.monotonic() - started) * 1000, f"{type(error).__name__}: {error}"[:500])
    latency = (time.monotonic() - started) * 1000
    if 200 <= answer.status_code < 300:
        return Outcome(True, False, answer.status_code, latency, None)
    return Outcome(False, retryable(answer.status_code), answer.status_code, latency,
                   f"HTTP {answer.status_code}: {answer.text[:200]}")


def retry_delay(attempts: int, initial_s: float, maximum_s: float) -> float:
    """Wait after the ``attempts``-th failure: core.backoff's exponential schedule with jitter."""
    backoff = Backoff(initial_s, maximum_s, jitter=0.2)
    backoff.failures = max(attempts - 1, 0)
    return backoff.next_delay()
