"""The evaluator process: evaluate every rule, then deliver what is due, every ``alerts_eval_interval_s``
(``streamscope alerts evaluate``; the demo runs it, the alerts DAG runs one pass a minute)."""

from __future__ import annotations

import logging
import threading
from dataclasses import asdict
from typing import Any

from alerts import evaluator, outbox
from core.db.engine import session_factory
from core.settings import Settings

log = logging.getLogger(__name__)


def run_pass(settings: Settings, clock: outbox.Clock = outbox.utcnow,
             stop: threading.Event | None = None) -> dict[str, Any]:
    """One evaluation (committed) and the deliveries due after it."""
    factory = session_factory(settings)
    with factory() as session, session.begin():
        summary = evaluator.evaluate(session, clock())
    delivered = outbox.deliver_due(factory, settings, clock=clock,
                                   should_stop=(stop.is_set if stop is not None else lambda: False))
    return {**asdict(summary), "deliveries": delivered}


def run(settings: Settings, *, stop: threading.Event, interval_s: float | None = None) -> int:
    """Passes until ``stop`` is set; a pass that fails (database restarting) is logged and the next one tried."""
    interval = interval_s or settings.alerts_eval_interval_s
    passes = 0
    while not stop.is_set():
        try:
            result = run_pass(settings, stop=stop)
            if result["fired"] or result["deliveries"]:
                log.info("alerts pass: %s", result)
        except Exception as error:  # keep evaluating; the error is logged (never a secret)
            log.warning("alerts pass failed: %s: %s", type(error).__name__, str(error)[:300])
        passes += 1
        stop.wait(interval)
    return passes
