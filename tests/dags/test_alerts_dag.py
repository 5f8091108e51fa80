"""The alerts DAG's task against the real database and a real receiver: `streamscope alerts evaluate --once`
as a subprocess fires a rule on the windows written and delivers it once; the next run fires nothing."""

from __future__ import annotations

import json
from datetime import timedelta

from alerts import delivery
from dags.alerts_tasks import evaluate_command, run_evaluation
from tests.alerts.conftest import add_rule, add_stream, add_windows, minute
from tests.alerts.receiver import Receiver


def test_the_command_is_one_pass():
    assert evaluate_command()[1:] == ["alerts", "evaluate", "--once"]


def test_one_run_fires_and_delivers_the_next_fires_nothing(runtime, clean_tables):
    stream = add_stream(runtime)
    add_windows(runtime, stream, minute() - timedelta(minutes=5), [7, 7, 7, 7])
    with Receiver() as receiver:
        _, secret = add_rule(runtime, receiver.url)
        first = run_evaluation(timeout_s=120)
        second = run_evaluation(timeout_s=120)
        (request,) = receiver.wait_for(1, 10)
        assert len(receiver.requests) == 1
    assert (first["fired"], first["deliveries"]) == (1, {"delivered": 1})
    assert (second["fired"], second["deliveries"]) == (0, {})
    assert delivery.verify(secret, request.headers, request.body)
    assert json.loads(request.body)["stream"]["id"] == stream
