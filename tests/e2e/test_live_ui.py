"""Live updates in the browser: Debian's Chromium with the real EventSource against `streamscope api` (the
fixtures of test_ui.py). An open stream page shows a status change and a new window written to Postgres, and the
rankings page reloads on a new window, without a page reload and well inside the 30 s polling interval."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import text

from tests.e2e.test_ui import browser, page, server  # noqa: F401  (fixtures)

pytestmark = pytest.mark.browser
LIVE_TIMEOUT_MS = 15_000  # below the 30 s polling interval: only an event can make it in time


def sql(runtime, statement: str, **params) -> list:
    from core.db.engine import get_engine

    with get_engine(runtime).begin() as conn:
        result = conn.execute(text(statement), params)
        return result.all() if result.returns_rows else []


def write_window(runtime, stream_id: int) -> datetime:
    start = datetime.now(UTC).replace(second=0, microsecond=0) + timedelta(minutes=5)
    sql(runtime, "INSERT INTO frame_windows (stream_id, window_start, model, window_end, frames, first_capture_at, "
                 "last_capture_at) VALUES (:s, :w, 'live-ui-test', :e, 60, :w, :e) "
                 "ON CONFLICT (stream_id, window_start, model) DO UPDATE SET frames = frame_windows.frames + 1",
        s=stream_id, w=start, e=start + timedelta(minutes=1))
    return start


def test_an_open_stream_page_shows_a_status_change_and_a_new_window_without_reload(page, runtime) -> None:  # noqa: F811
    from playwright.sync_api import expect

    stream_id, status = sql(runtime, "SELECT id, status FROM streams ORDER BY id LIMIT 1")[0]
    new_status = "ended" if status != "ended" else "live"
    page.goto(f"/streams/{stream_id}")
    expect(page.get_by_test_id("live-mode")).to_have_attribute("data-mode", "live")
    badge = page.get_by_test_id("stream-title").get_by_test_id("status-badge")
    expect(badge).to_have_attribute("data-status", status)
    page.evaluate("window.__notReloaded = true")

    sql(runtime, "UPDATE streams SET status = :s, status_changed_at = now() WHERE id = :i", s=new_status, i=stream_id)
    expect(badge).to_have_attribute("data-status", new_status, timeout=LIVE_TIMEOUT_MS)
    write_window(runtime, stream_id)
    expect(page.get_by_test_id("live-last-window")).to_contain_text("Latest window", timeout=LIVE_TIMEOUT_MS)
    assert page.evaluate("window.__notReloaded") is True


def test_the_rankings_page_reloads_on_a_new_window(page, runtime) -> None:  # noqa: F811
    from playwright.sync_api import expect

    page.goto("/")
    expect(page.get_by_test_id("ranking-card").first).to_be_visible()
    expect(page.get_by_test_id("live-mode")).to_have_attribute("data-mode", "live")
    stream_id = sql(runtime, "SELECT id FROM streams ORDER BY id LIMIT 1")[0][0]
    with page.expect_response(lambda r: "/api/rankings" in r.url, timeout=LIVE_TIMEOUT_MS):
        write_window(runtime, stream_id)
