"""The web UI end to end: Debian's Chromium (Playwright) against uvicorn serving the API and frontend/dist.

The server is `streamscope api` in a subprocess on 127.0.0.1 with the known rows of tests/api (real "now",
so the data sit in the current and earlier hours). Selectors and flows: frontend/E2E.md. Screenshots of
each view go to frontend/test-results/.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.request
from datetime import UTC, datetime
from pathlib import Path

import pytest

from core.processes import terminate
from tests.api.conftest import MARTS_SCHEMA, TOKEN, reseed
from tests.api.fixture_data import current_base
from tests.conftest import free_port

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[2]
DIST = ROOT / "frontend" / "dist"
SHOTS = ROOT / "frontend" / "test-results"
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update"]


def require(condition: bool, reason: str) -> None:
    """Missing prerequisites skip locally but fail in CI, where `make test` provides them."""
    if not condition:
        if os.environ.get("CI"):
            pytest.fail(reason)
        pytest.skip(reason)


@pytest.fixture(scope="module")
def server(runtime, marts):
    yield from _serve(runtime, marts, MARTS_SCHEMA)


@pytest.fixture(scope="module")
def server_without_marts(runtime, marts):
    """A fresh install in its first minutes: streams and windows exist, the first dbt build has not run."""
    yield from _serve(runtime, marts, "marts_not_built_yet")


def _serve(runtime, marts, schema: str):
    require((DIST / "index.html").is_file(), "frontend/dist is not built (make frontend)")
    require(CHROMIUM.is_file(), "Debian's chromium is not installed (make chromium)")
    now = datetime.now(UTC)
    reseed(runtime, marts, current_base(now), now)
    port = free_port()
    env = {**os.environ, "PYTHONPATH": str(ROOT), "STREAMSCOPE_DATA_DIR": str(runtime.data_dir),
           "STREAMSCOPE_DATABASE_URL": "", "STREAMSCOPE_API_TOKENS": json.dumps([TOKEN]),
           "STREAMSCOPE_API_MARTS_SCHEMA": schema, "STREAMSCOPE_API_STATIC_DIR": str(DIST)}
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


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser, server):
    from playwright.sync_api import expect

    expect.set_options(timeout=10_000)
    context = browser.new_context(base_url=server, viewport={"width": 1280, "height": 900})
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    yield page
    context.close()
    assert errors == [], f"JavaScript errors in the page: {errors}"


def shot(page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def card_ids(page) -> list[str]:
    return page.get_by_test_id("ranking-card").evaluate_all("cards => cards.map(c => c.dataset.streamId)")


def test_rankings_for_a_multi_word_class_then_two_classes(page) -> None:
    from playwright.sync_api import expect

    page.goto("/")
    expect(page.get_by_test_id("view-rankings")).to_be_visible()
    page.wait_for_url("**/?object=*")  # opens on the most common class
    expect(page.get_by_test_id("ranking-card").first).to_be_visible()
    page.get_by_role("combobox", name="Object classes").press("Backspace")  # removes it
    page.wait_for_url("**/?window=24h")
    page.get_by_role("combobox", name="Object classes").fill("traffic light")
    page.get_by_role("option", name="traffic light").click()
    page.wait_for_url("**/?object=traffic%20light&window=24h")
    expect(page.get_by_test_id("ranking-card")).to_have_count(2)
    # Harbour cam 5,400 / 1,800 = 3.0 per frame before Times Square 4,200 / 6,000 = 0.7.
    assert card_ids(page) == ["3", "1"]
    expect(page.get_by_test_id("ranking-card").first.get_by_test_id("ranking-link")).to_have_text("Harbour cam")
    shot(page, "rankings-traffic-light")

    page.goto("/?object=person&object=traffic%20light&window=24h")
    expect(page.get_by_test_id("rankings-summary")).to_contain_text("person and traffic light")
    expect(page.get_by_test_id("ranking-card")).to_have_count(3)
    assert card_ids(page) == ["3", "1", "2"]  # sums of means: 3.5, 2.85, 2.75
    expect(page.get_by_test_id("ranking-breakdown").first).to_be_visible()
    shot(page, "rankings-two-classes")

    page.get_by_test_id("window-picker-1h").click()
    page.wait_for_url("**window=1h**")
    expect(page.get_by_test_id("ranking-card")).to_have_count(2)
    assert card_ids(page) == ["2", "1"]  # this hour only: 5.0 and 3.0


def test_stream_detail_shows_its_chart(page) -> None:
    from playwright.sync_api import expect

    page.goto("/?object=person&object=traffic%20light&window=24h")
    page.locator('[data-testid="ranking-card"][data-stream-id="1"]').get_by_test_id("ranking-link").click()
    page.wait_for_url("**/streams/1**")
    view = page.get_by_test_id("view-stream")
    expect(view).to_have_attribute("aria-busy", "false")
    expect(page.get_by_test_id("stream-title")).to_contain_text("Times Square")
    expect(page.get_by_test_id("objects-chart")).to_be_visible()
    expect(page.locator(".recharts-line").first).to_be_visible()
    expect(page.get_by_test_id("top-object-row").first).to_have_attribute("data-object", "person")
    expect(page.get_by_test_id("stream-health")).to_be_visible()
    expect(page.get_by_test_id("snapshot").first).to_be_visible()
    shot(page, "stream-detail")

    page.goto("/streams/999")
    expect(page.get_by_test_id("view-stream-not-found")).to_be_visible()


def test_register_a_stream_with_the_token_and_see_errors(page, server, live_hls) -> None:
    from playwright.sync_api import expect

    page.goto("/")
    page.get_by_test_id("nav-streams").click()
    expect(page.get_by_test_id("view-streams")).to_be_visible()
    expect(page.get_by_test_id("stream-row")).to_have_count(5)
    page.get_by_test_id("token-input").fill(TOKEN)
    page.get_by_test_id("token-save").click()
    expect(page.get_by_test_id("token-saved")).to_be_visible()

    # A real local live HLS stream: the server resolves it with yt-dlp (see test_unticked_check_... below).
    page.get_by_test_id("url-input").fill(live_hls.url)
    page.get_by_test_id("name-input").fill("E2E cam")
    page.get_by_test_id("register-submit").click()
    expect(page.get_by_test_id("register-success")).to_be_visible(timeout=30_000)
    row = page.get_by_test_id("stream-row").filter(has_text="E2E cam")
    expect(row).to_be_visible()
    expect(row).to_have_attribute("data-status", "pending")
    with urllib.request.urlopen(f"{server}/api/streams?q=E2E") as answer:
        listed = [(s["canonical_id"], s["is_live"]) for s in json.load(answer)["items"]]
    assert listed == [(f"hls:{live_hls.url}", True)]
    shot(page, "streams-registered")

    page.get_by_test_id("url-input").fill("not a url")
    page.get_by_test_id("register-submit").click()
    error = page.get_by_test_id("url-error")
    expect(error).to_contain_text("not allowed in a stream URL")
    expect(page.get_by_test_id("url-input")).to_have_attribute("aria-invalid", "true")
    shot(page, "register-error")

    page.get_by_test_id("url-input").fill(live_hls.url)
    page.get_by_test_id("register-submit").click()
    expect(page.get_by_test_id("url-error")).to_contain_text("already registered")

    row.get_by_test_id("pause-stream").click()
    expect(row).to_have_attribute("data-status", "paused")
    row.get_by_test_id("remove-stream").click()
    row.get_by_test_id("confirm-remove").click()
    expect(row).to_have_count(0)
    expect(page.get_by_test_id("stream-row")).to_have_count(5)


def test_a_wrong_token_is_refused_and_forgotten(page) -> None:
    from playwright.sync_api import expect

    page.goto("/streams")
    page.get_by_test_id("token-input").fill("not-the-token")
    page.get_by_test_id("token-save").click()
    page.locator('[data-testid="stream-row"][data-stream-id="2"]').get_by_test_id("pause-stream").click()
    expect(page.get_by_test_id("token-error")).to_be_visible()
    expect(page.locator('[data-testid="stream-row"][data-stream-id="2"]')).to_have_attribute("data-status", "live")
    shot(page, "token-refused")


def test_unticked_check_registers_without_probing(page) -> None:
    from playwright.sync_api import expect

    page.goto("/streams")
    page.get_by_test_id("token-input").fill(TOKEN)
    page.get_by_test_id("token-save").click()
    page.get_by_test_id("url-input").fill("https://unreachable.invalid/live/cam.m3u8")
    page.get_by_test_id("check-input").uncheck()
    with page.expect_request(lambda request: request.method == "POST") as sent:
        page.get_by_test_id("register-submit").click()
    assert sent.value.post_data_json.get("check") is False
    expect(page.get_by_test_id("register-success")).to_be_visible()


def test_a_fresh_install_without_marts_shows_no_error_and_passes_the_csp(browser, server_without_marts) -> None:
    """Issue 22: before the first dbt build the UI says the statistics are being prepared; no error, no CSP
    violation (the server sends a policy without 'unsafe-inline')."""
    from playwright.sync_api import expect

    context = browser.new_context(base_url=server_without_marts, viewport={"width": 1280, "height": 900})
    page = context.new_page()
    problems: list[str] = []
    page.on("pageerror", lambda error: problems.append(str(error)))
    page.on("console", lambda msg: problems.append(msg.text) if msg.type == "error" else None)
    answer = page.goto("/")
    assert "script-src 'self'" in answer.headers["content-security-policy"]
    page.goto("/?object=person")
    expect(page.get_by_test_id("analytics-not-built")).to_be_visible()
    page.goto("/objects")
    expect(page.get_by_test_id("analytics-not-built")).to_be_visible()
    page.goto("/streams")
    expect(page.get_by_test_id("streams-list")).to_be_visible()
    page.goto("/streams/1")
    expect(page.get_by_test_id("stream-health")).to_be_visible()
    assert page.get_by_role("alert").count() == 0, page.get_by_role("alert").all_inner_texts()
    shot(page, "fresh-install-no-marts")
    context.close()
    assert problems == [], problems
