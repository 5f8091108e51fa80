"""Delivery against a real receiver on 127.0.0.1: one signed POST per episode; a receiver that is down is
retried until the POST arrives once; an evaluator killed (kill -9) mid-delivery loses nothing.

The retry schedule is a setting (STREAMSCOPE_ALERTS_RETRY_INITIAL_S / _MAX_S, 10 s doubling to 300 s by
default); these tests use 0.5 s doubling to 2 s, so "down for a while" is a few seconds here, not 2 minutes."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from datetime import timedelta
from pathlib import Path

from sqlalchemy import select, update

from alerts import delivery, worker
from core.db.engine import session_scope
from core.db.models import AlertDelivery, AlertFiring, AlertOutbox, Stream
from core.processes import terminate
from tests.alerts.conftest import add_anomaly, add_rule, add_stream, add_windows, minute
from tests.alerts.receiver import Receiver
from tests.conftest import free_port

ROOT = Path(__file__).resolve().parents[2]


def fast(settings):
    return settings.model_copy(update={"alerts_retry_initial_s": 0.5, "alerts_retry_max_s": 2.0,
                                       "alerts_delivery_timeout_s": 5.0, "alerts_lease_s": 10.0})


def bodies(received) -> list[dict]:
    return [json.loads(r.body) for r in received]


def attempts(settings, rule_id: int) -> list[tuple[int, str]]:
    with session_scope(settings) as session:
        return list(session.execute(
            select(AlertDelivery.attempt, AlertDelivery.status)
            .join(AlertFiring, AlertFiring.id == AlertDelivery.firing_id)
            .where(AlertFiring.rule_id == rule_id).order_by(AlertDelivery.firing_id, AlertDelivery.attempt)
        ).tuples())  # fmt: skip


def outbox_states(settings) -> list[str]:
    with session_scope(settings) as session:
        return list(session.scalars(select(AlertOutbox.state).order_by(AlertOutbox.firing_id)))


def poll(condition, timeout_s: float, what: str):
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"not within {timeout_s} s: {what}")


def test_one_signed_post_per_episode(runtime, clean_tables):
    settings = fast(runtime)
    stream = add_stream(settings)
    start = minute() - timedelta(minutes=20)
    # Two episodes above 5 people per frame for 3+ minutes, a 2-minute blip that is too short, zeros around.
    add_windows(settings, stream, start, [1, 1, 6, 6, 6, 6, 1, 0, 7, 7, 7, 1, 9, 9, 1])
    with Receiver() as receiver:
        count_rule, secret = add_rule(settings, receiver.url, name="crowd", minutes=3,
                                      created_ago=timedelta(hours=1))
        spike_rule, spike_secret = add_rule(settings, receiver.url, name="spike", condition="anomaly_score",
                                            threshold=4.0, minutes=0, created_ago=timedelta(hours=1))
        add_anomaly(settings, stream, start + timedelta(minutes=5), score=6.5)
        add_anomaly(settings, stream, start + timedelta(minutes=9), score=2.0)  # below k: no alert
        for _ in range(3):  # evaluated again and again: still one POST per episode
            worker.run_pass(settings)
        received = receiver.wait_for(3, 10)
        # The windows that close next make a third episode (after one window under the threshold).
        add_windows(settings, stream, start + timedelta(minutes=15), [8, 8, 8])
        worker.run_pass(settings)
        worker.run_pass(settings)
        received = receiver.wait_for(4, 10)
        assert len(receiver.requests) == 4  # each pass returns after its deliveries: nothing is still in flight
    by_rule: dict[int, list] = {}
    for request, body in zip(received, bodies(received), strict=True):
        rule_secret = secret if body["rule"]["id"] == count_rule else spike_secret
        assert delivery.verify(rule_secret, request.headers, request.body)
        assert not delivery.verify(rule_secret, request.headers, request.body + b"x")
        assert request.headers["X-Streamscope-Delivery"] == body["id"]
        by_rule.setdefault(body["rule"]["id"], []).append(body["episode"]["started_at"])
    assert sorted(by_rule[count_rule]) == [(start + timedelta(minutes=m)).isoformat() for m in (2, 8, 15)]
    assert by_rule[spike_rule] == [(start + timedelta(minutes=5)).isoformat()]
    assert outbox_states(settings) == ["delivered"] * 4
    assert {status for _, status in attempts(settings, count_rule)} == {"delivered"}


def test_a_new_rule_fires_on_what_is_going_on_not_on_episodes_long_over(runtime, clean_tables):
    settings = fast(runtime)
    stream = add_stream(settings)
    start = minute() - timedelta(minutes=40)
    add_windows(settings, stream, start, [6, 6, 6, 6, 0])  # over half an hour ago
    recent = minute() - timedelta(minutes=4)
    add_windows(settings, stream, recent, [7, 7, 7])  # still going
    with Receiver() as receiver:
        add_rule(settings, receiver.url)
        worker.run_pass(settings)
        (request,) = receiver.wait_for(1, 10)
        worker.run_pass(settings)
        assert len(receiver.requests) == 1
    assert json.loads(request.body)["episode"]["started_at"] == recent.isoformat()


def test_stream_down_fires_once(runtime, clean_tables):
    settings = fast(runtime)
    stream = add_stream(settings)
    with session_scope(settings) as session:
        session.execute(update(Stream).where(Stream.id == stream).values(
            status="reconnecting", status_changed_at=minute() - timedelta(minutes=12)))
    with Receiver() as receiver:
        _, secret = add_rule(settings, receiver.url, condition="stream_down", object_class="", minutes=10)
        worker.run_pass(settings)
        with session_scope(settings) as session:  # reconnecting -> failed: the same outage
            session.execute(update(Stream).where(Stream.id == stream).values(
                status="failed", status_changed_at=minute() - timedelta(minutes=11)))
        worker.run_pass(settings)
        (request,) = receiver.wait_for(1, 10)
        assert delivery.verify(secret, request.headers, request.body)
        assert json.loads(request.body)["rule"]["condition"] == "stream_down"
        assert len(receiver.requests) == 1


def test_a_receiver_down_for_a_while_gets_the_post_once(runtime, clean_tables):
    settings = fast(runtime)
    stream = add_stream(settings)
    add_windows(settings, stream, minute() - timedelta(minutes=6), [6, 6, 6, 6])
    port = free_port()  # nothing listens there yet: connection refused
    rule, secret = add_rule(settings, f"http://127.0.0.1:{port}/hook")
    stop = threading.Event()
    loop = threading.Thread(target=worker.run, args=(settings,), kwargs={"stop": stop, "interval_s": 0.2})
    down_since = time.monotonic()
    loop.start()
    try:
        poll(lambda: len(attempts(settings, rule)) >= 3, 30, "three failed attempts")
        with Receiver(port=port) as receiver:
            (request,) = receiver.wait_for(1, 30)
            poll(lambda: outbox_states(settings) == ["delivered"], 10, "the delivery recorded")
            tries = attempts(settings, rule)
            stop.set()
            loop.join(30)
            assert len(receiver.requests) == 1
    finally:
        stop.set()
        loop.join(30)
    assert delivery.verify(secret, request.headers, request.body)
    assert [status for _, status in tries[:-1]] == ["failed"] * (len(tries) - 1) and tries[-1][1] == "delivered"
    print(f"receiver down {request.at - down_since:.1f} s; delivered at attempt {len(tries)}")
    with session_scope(settings) as session:
        errors = list(session.scalars(select(AlertDelivery.error).where(AlertDelivery.status == "failed")))
    assert all("ConnectError" in error for error in errors)


def _evaluator(args: list[str], **env) -> subprocess.Popen:
    environment = {**os.environ, "PYTHONPATH": str(ROOT), **env}
    return subprocess.Popen([sys.executable, "-m", "core.cli", "alerts", "evaluate", *args], cwd=ROOT,
                            env=environment, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE)


def test_an_evaluator_killed_mid_delivery_loses_nothing(runtime, clean_tables):
    stream = add_stream(runtime)
    add_windows(runtime, stream, minute() - timedelta(minutes=6), [6, 6, 6, 6])
    env = {"STREAMSCOPE_ALERTS_LEASE_S": "2", "STREAMSCOPE_ALERTS_DELIVERY_TIMEOUT_S": "30",
           "STREAMSCOPE_ALERTS_RETRY_INITIAL_S": "0.5"}
    with Receiver(hold=True) as receiver:
        rule, secret = add_rule(runtime, receiver.url)
        first = _evaluator(["--once"], **env)
        try:
            receiver.wait_for(1, 60)  # the POST is in flight: the receiver holds it
        finally:
            os.kill(first.pid, signal.SIGKILL)
            first.wait(10)
        assert attempts(runtime, rule) == [(1, "sending")] and outbox_states(runtime) == ["pending"]
        receiver.release.set()
        second = _evaluator(["--interval", "0.3"], **env)
        try:
            poll(lambda: outbox_states(runtime) == ["delivered"], 60, "the second evaluator's delivery")
        finally:
            terminate(second)
        received = list(receiver.requests)
    # At least once: the killed worker's POST reached the receiver, the next one sends it again with the same
    # idempotency id, and a receiver that keeps one per id keeps exactly one.
    assert len(received) == 2
    assert {r.headers["X-Streamscope-Delivery"] for r in received} == {json.loads(received[0].body)["id"]}
    assert all(delivery.verify(secret, r.headers, r.body) for r in received)
    assert attempts(runtime, rule) == [(1, "interrupted"), (2, "delivered")]
