"""`streamscope alerts ...`: add prints the secret once, list never shows it, refusals exit 2 naming the field,
pause/resume/remove, and history after a pass has delivered to a real receiver."""

from __future__ import annotations

import json
from datetime import timedelta

from typer.testing import CliRunner

from alerts import delivery
from core.cli import app
from tests.alerts.conftest import add_stream, add_windows, minute
from tests.alerts.receiver import Receiver

runner = CliRunner()


def cli(*args: str):
    return runner.invoke(app, list(args))


def test_rules_through_the_cli(runtime, clean_tables):
    stream = add_stream(runtime)
    with Receiver() as receiver:
        refused = cli("alerts", "add", "--name", "x", "--condition", "count_above", "--class", "unicorn",
                      "--threshold", "5", "--minutes", "3", "--webhook", receiver.url)
        assert refused.exit_code == 2 and "(object_class)" in refused.output
        negative = cli("alerts", "add", "--name", "x", "--condition", "stream_down", "--minutes", "-3",
                       "--webhook", receiver.url)
        assert negative.exit_code == 2 and "(minutes)" in negative.output
        added = cli("alerts", "add", "--name", "Busy", "--condition", "count_above", "--class", "person",
                    "--threshold", "5", "--minutes", "3", "--stream", str(stream), "--cooldown", "0",
                    "--webhook", receiver.url, "--json")
        assert added.exit_code == 0, added.output
        rule = json.loads(added.output)
        assert rule["secret"].startswith("whsec_") and rule["stream_ids"] == [stream]
        listed = cli("alerts", "list", "--json")
        assert json.loads(listed.output)[0]["id"] == rule["id"] and rule["secret"] not in listed.output
        assert cli("alerts", "pause", str(rule["id"])).exit_code == 0
        assert json.loads(cli("alerts", "list", "--json").output)[0]["paused"] is True
        add_windows(runtime, stream, minute() - timedelta(minutes=5), [7, 7, 7, 7])
        assert json.loads(cli("alerts", "evaluate", "--once").output)["fired"] == 0  # paused
        assert cli("alerts", "resume", str(rule["id"])).exit_code == 0
        evaluated = cli("--verbose", "alerts", "evaluate", "--once")  # every log line, libraries' included
        assert rule["secret"] not in evaluated.output + evaluated.stderr
        result = json.loads(evaluated.stdout)
        assert (result["fired"], result["deliveries"]) == (1, {"delivered": 1})
        (request,) = receiver.wait_for(1, 10)
        assert delivery.verify(rule["secret"], request.headers, request.body)
    history = json.loads(cli("alerts", "history", str(rule["id"]), "--json").output)
    assert [(h["state"], [a["status"] for a in h["attempts"]]) for h in history] == [("delivered", ["delivered"])]
    assert "attempt 1: delivered" in cli("alerts", "history", str(rule["id"])).output
    assert cli("alerts", "remove", str(rule["id"])).exit_code == 0
    assert cli("alerts", "remove", str(rule["id"])).exit_code == 3
    assert cli("alerts", "list").output.strip() == "no alert rules"
