"""The default schedule, at full length (slow): with the receiver down for 2 minutes, the delivery is retried on
the default backoff (10 s doubling, STREAMSCOPE_ALERTS_RETRY_*) and arrives once; and the evaluator at its default
interval (20 s) delivers a firing within a minute of the window being written. Both print what they measured."""

from __future__ import annotations

import threading
import time
from datetime import timedelta

import pytest

from alerts import delivery, worker
from tests.alerts.conftest import add_rule, add_stream, add_windows, minute
from tests.alerts.receiver import Receiver
from tests.alerts.test_delivery import attempts, outbox_states, poll
from tests.conftest import free_port

pytestmark = pytest.mark.slow


def test_receiver_down_for_two_minutes_on_the_default_schedule(runtime, clean_tables):
    settings = runtime  # default retry schedule and evaluation interval
    stream = add_stream(settings)
    add_windows(settings, stream, minute() - timedelta(minutes=6), [6, 6, 6, 6])
    port = free_port()
    rule, secret = add_rule(settings, f"http://127.0.0.1:{port}/hook")
    stop = threading.Event()
    loop = threading.Thread(target=worker.run, args=(settings,), kwargs={"stop": stop})
    started = time.monotonic()
    loop.start()
    try:
        poll(lambda: attempts(settings, rule), 60, "the first attempt")
        time.sleep(max(0.0, 120 - (time.monotonic() - started)))  # the outage itself: 2 minutes, by definition
        with Receiver(port=port) as receiver:
            (request,) = receiver.wait_for(1, 240)
            poll(lambda: outbox_states(settings) == ["delivered"], 30, "the delivery recorded")
            stop.set()
            loop.join(60)
            assert len(receiver.requests) == 1
    finally:
        stop.set()
        loop.join(60)
    tries = attempts(settings, rule)
    assert delivery.verify(secret, request.headers, request.body)
    assert [s for _, s in tries] == ["failed"] * (len(tries) - 1) + ["delivered"]
    print(f"down 120 s; delivered {request.at - started:.0f} s after the firing, at attempt {len(tries)}")


def test_a_firing_is_delivered_within_a_minute_of_its_window(runtime, clean_tables):
    stream = add_stream(runtime)
    add_windows(runtime, stream, minute() - timedelta(minutes=6), [6, 6])  # too short yet
    with Receiver() as receiver:
        add_rule(runtime, receiver.url)
        stop = threading.Event()
        loop = threading.Thread(target=worker.run, args=(runtime,), kwargs={"stop": stop})
        loop.start()
        try:
            time.sleep(5)  # the evaluator is mid-interval when the window closes, as it would be
            written = time.monotonic()
            add_windows(runtime, stream, minute() - timedelta(minutes=4), [6])  # the third minute: fires
            (request,) = receiver.wait_for(1, 120)
        finally:
            stop.set()
            loop.join(60)
    interval = runtime.alerts_eval_interval_s
    print(f"window written -> POST received: {request.at - written:.1f} s (evaluation interval {interval:g} s)")
