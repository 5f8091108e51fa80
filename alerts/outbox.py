"""Delivering the outbox: claim one due row under a lease (committed), POST it, record the outcome (committed).

The claim and the outcome are separate transactions around the network call, so no transaction is held open
while a receiver is slow, and a worker killed between them leaves a row whose lease runs out: the next worker
marks the cut-short attempt ``interrupted`` and sends again (at-least-once; the idempotency id is the same).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session, sessionmaker

from alerts import delivery
from core.db.models import AlertDelivery, AlertFiring, AlertOutbox, AlertRule
from core.settings import Settings
from core.source_policy import SourcePolicy

log = logging.getLogger(__name__)
Clock = Callable[[], datetime]


def utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class Claim:
    firing_id: int
    delivery_row: int
    attempt: int
    url: str
    secret: str
    delivery_id: str
    body: bytes


def claim(session: Session, now: datetime, lease_s: float) -> Claim | None:
    """The oldest due row nobody holds (SKIP LOCKED: several workers never take the same one)."""
    row = session.execute(
        select(AlertOutbox, AlertFiring.delivery_id, AlertRule.webhook_url, AlertRule.secret)
        .join(AlertFiring, AlertFiring.id == AlertOutbox.firing_id).join(AlertRule, AlertRule.id == AlertFiring.rule_id)
        .where(AlertOutbox.state == "pending", AlertOutbox.next_attempt_at <= now,
               or_(AlertOutbox.lease_until.is_(None), AlertOutbox.lease_until < now))
        .order_by(AlertOutbox.next_attempt_at).limit(1).with_for_update(of=AlertOutbox, skip_locked=True)
    ).first()  # fmt: skip
    if row is None:
        return None
    outbox, delivery_id, url, secret = row
    session.execute(update(AlertDelivery).where(AlertDelivery.firing_id == outbox.firing_id,
                                                AlertDelivery.status == "sending")
                    .values(status="interrupted", error="the worker stopped before the answer was recorded"))
    outbox.attempts += 1
    outbox.lease_until = now + timedelta(seconds=lease_s)
    attempt = AlertDelivery(firing_id=outbox.firing_id, attempt=outbox.attempts, status="sending", started_at=now)
    session.add(attempt)
    session.flush()
    return Claim(outbox.firing_id, attempt.id, outbox.attempts, url, secret, delivery_id, outbox.body.encode())


def record(session: Session, claimed: Claim, outcome: delivery.Outcome, now: datetime, settings: Settings) -> str:
    """Store the attempt's outcome; returns the row's new state (delivered, pending or failed)."""
    attempt = session.get(AlertDelivery, claimed.delivery_row)
    outbox = session.get(AlertOutbox, claimed.firing_id, with_for_update=True)
    if attempt is None or outbox is None:
        return "gone"  # the rule was deleted meanwhile
    attempt.status = "delivered" if outcome.delivered else "failed"
    attempt.http_status, attempt.latency_ms, attempt.error = outcome.http_status, outcome.latency_ms, outcome.error
    outbox.lease_until = None
    if outcome.delivered:
        outbox.state, outbox.delivered_at, outbox.last_error = "delivered", now, None
    elif outcome.retry and outbox.attempts < settings.alerts_max_attempts:
        wait = delivery.retry_delay(outbox.attempts, settings.alerts_retry_initial_s, settings.alerts_retry_max_s)
        outbox.next_attempt_at, outbox.last_error = now + timedelta(seconds=wait), outcome.error
    else:
        outbox.state, outbox.last_error = "failed", outcome.error
    return outbox.state


def deliver_due(factory: sessionmaker[Session], settings: Settings, *, clock: Clock = utcnow,
                limit: int = 100, should_stop: Callable[[], bool] = lambda: False) -> dict[str, int]:
    """Deliver what is due now, one row at a time, at most ``limit`` rows; counts per resulting state."""
    policy = SourcePolicy.from_settings(settings, webhook=True)
    counts: dict[str, int] = {}
    for _ in range(limit):
        if should_stop():
            break
        with factory() as session, session.begin():
            claimed = claim(session, clock(), settings.alerts_lease_s)
        if claimed is None:
            break
        outcome = delivery.post(claimed.url, claimed.secret, claimed.delivery_id, claimed.body,
                                timeout_s=settings.alerts_delivery_timeout_s, policy=policy)
        with factory() as session, session.begin():
            state = record(session, claimed, outcome, clock(), settings)
        counts[state] = counts.get(state, 0) + 1
        log.info("delivery %s attempt %d: %s (%s, %.0f ms)", claimed.delivery_id, claimed.attempt, state,
                 outcome.http_status or outcome.error, outcome.latency_ms)
    return counts
