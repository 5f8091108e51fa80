"""The Trending page in Chromium on a generated history: the stream with a spike this hour is listed first.

Four weeks of hourly windows for the generated streams (tests/alerts/synthetic_history.py) up to the current
hour, with one injected person spike on stream 2 in the current hour; the real dbt models build the baselines
and trending_now (all the marts) into their own schema; `streamscope api` serves them to the built UI.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.request
from datetime import UTC, datetime, timedelta

import pytest

from core.processes import terminate
from tests.alerts.history_db import write_history
from tests.alerts.synthetic_history import Injected, generate
from tests.conftest import free_port
from tests.e2e.test_ui import CHROMIUM, DIST, ROOT, browser, page, require, shot  # noqa: F401  (fixtures)

pytestmark = pytest.mark.browser

SCHEMA = "trending_ui"
SPIKING = 2


@pytest.fixture(scope="module")
def server(runtime):
    from core.runtime import database_url
    from dbt_analytics.runner import run_dbt

    require((DIST / "index.html").is_file(), "frontend/dist is not built (make frontend)")
    require(CHROMIUM.is_file(), "Debian's chromium is not installed (make chromium)")
    hour = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    spike = Injected(SPIKING, "person", "spike", hour, hour + timedelta(hours=1))
    history = generate(weeks=4, window_seconds=3600, fps=1 / 60, seed=5, start=hour + timedelta(hours=1) -
                       timedelta(weeks=4), episodes=[spike])
    write_history(database_url(runtime), history)
    result = run_dbt(runtime.model_copy(update={"dbt_schema": SCHEMA}),
                     ["run", "--full-refresh"], capture=True, timeout_s=600)
    assert result.returncode == 0, result.stdout[-3000:]
    port = free_port()
    env = {**os.environ, "PYTHONPATH": str(ROOT), "STREAMSCOPE_DATA_DIR": str(runtime.data_dir),
           "STREAMSCOPE_DATABASE_URL": "", "STREAMSCOPE_API_MARTS_SCHEMA": SCHEMA,
           "STREAMSCOPE_API_STATIC_DIR": str(DIST)}
    process = subprocess.Popen([sys.executable, "-m", "core.cli", "api", "--port", str(port)], cwd=ROOT, env=env,
                               stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    base_url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            with urllib.request.urlopen(f"{base_url}/api/health", timeout=1) as answer:
                if json.load(answer)["database"]:
                    break
        except OSError:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            pytest.fail(f"the API server did not start: {process.stderr.read().decode()[-2000:]}")
        time.sleep(0.1)
    yield base_url
    terminate(process)


def test_the_spiking_stream_is_listed_first(server, page) -> None:  # noqa: F811  (the fixture)
    from playwright.sync_api import expect

    page.goto("/")
    page.get_by_test_id("nav-trending").click()
    page.wait_for_url("**/trending")
    expect(page.get_by_test_id("view-trending")).to_be_visible()
    rows = page.get_by_test_id("trending-row")
    expect(rows.first).to_be_visible()
    assert rows.first.get_attribute("data-stream-id") == str(SPIKING)
    expect(rows.first.get_by_test_id("trending-link")).to_have_text("Beach promenade")
    expect(rows.first).to_contain_text("person")
    assert float(rows.first.get_by_test_id("trending-score").inner_text()) > 6
    others = [float(s) for s in rows.get_by_test_id("trending-score").all_inner_texts()[1:]]
    assert all(score < 6 for score in others), others
    shot(page, "trending")

    page.get_by_test_id("trending-class").select_option("car")
    page.wait_for_url("**/trending?object=car")
    expect(page.get_by_test_id("view-trending")).to_be_visible()
    expect(page.get_by_test_id("trending-row").filter(has_text="Beach promenade")).to_have_count(0)
