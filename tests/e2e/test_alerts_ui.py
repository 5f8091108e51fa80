"""The Alerts page in Chromium against `streamscope api`: create a rule in the UI, see it fire on a generated
spike (closed windows written into the tables, then one evaluator pass), the signed POST reach a real receiver
(verified with the secret the page showed once), and the delivery in the rule's history; pause and delete."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from alerts import delivery, worker
from tests.alerts.conftest import add_stream, add_windows, minute
from tests.alerts.receiver import Receiver
from tests.api.conftest import TOKEN
from tests.e2e.test_ui import browser, page, server, shot  # noqa: F401  (fixtures)

pytestmark = pytest.mark.browser


def test_create_a_rule_see_it_fire_and_the_delivery_in_the_history(page, runtime) -> None:  # noqa: F811
    from playwright.sync_api import expect

    stream = add_stream(runtime, url="http://127.0.0.1:9/alerts-ui.m3u8", name="Bus stop (alerts test)")
    page.on("dialog", lambda dialog: dialog.accept())
    with Receiver() as receiver:
        page.goto("/alerts")
        expect(page.get_by_test_id("rules-need-token")).to_be_visible()
        page.get_by_test_id("token-input").fill(TOKEN)
        page.get_by_test_id("token-save").click()
        expect(page.get_by_test_id("rules-empty")).to_be_visible()

        page.get_by_test_id("rule-name").fill("Crowd at the bus stop")
        page.get_by_test_id("rule-condition").select_option("count_above")
        page.get_by_test_id("rule-class").fill("unicorn")
        page.get_by_test_id("rule-threshold").fill("5")
        page.get_by_test_id("rule-minutes").fill("3")
        page.get_by_test_id("rule-streams").fill(str(stream))
        page.get_by_test_id("rule-webhook").fill(receiver.url)
        page.get_by_test_id("rule-cooldown").fill("0")
        page.get_by_test_id("rule-submit").click()
        expect(page.get_by_test_id("rule-object_class-error")).to_contain_text("unknown object class")
        page.get_by_test_id("rule-class").fill("person")
        page.get_by_test_id("rule-submit").click()
        expect(page.get_by_test_id("rule-secret")).to_contain_text("whsec_")
        secret = page.get_by_test_id("rule-secret").inner_text().strip()
        expect(page.get_by_test_id("rule-row")).to_have_count(1)
        page.get_by_test_id("rule-history-toggle").click()
        expect(page.get_by_test_id("history-empty")).to_be_visible()

        # A generated spike: four closed windows of 7 people per frame, then the evaluator's pass.
        add_windows(runtime, stream, minute() - timedelta(minutes=6), [1, 7, 7, 7, 7])
        result = worker.run_pass(runtime)
        assert (result["fired"], result["deliveries"]) == (1, {"delivered": 1})
        (request,) = receiver.wait_for(1, 10)
        assert delivery.verify(secret, request.headers, request.body)
        assert json.loads(request.body)["stream"]["id"] == stream

        # The open history refreshes by itself (every 5 s): no reload.
        firing = page.get_by_test_id("firing")
        expect(firing).to_have_attribute("data-state", "delivered", timeout=15_000)
        expect(firing).to_contain_text("person")
        expect(page.get_by_test_id("attempt-status")).to_have_text(["delivered"])
        shot(page, "alerts-delivered")

        page.get_by_test_id("rule-toggle").click()
        expect(page.get_by_test_id("rule-state")).to_have_text("paused")
        page.get_by_test_id("rule-delete").click()
        expect(page.get_by_test_id("rules-empty")).to_be_visible()
        assert len(receiver.requests) == 1
