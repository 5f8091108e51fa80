"""In real Chromium: draw a counting line and a zone on a stream's snapshot, save them with the token, then the
real aggregator counts the counting scene's tracks for that stream and the figures appear beside the chart."""

from __future__ import annotations

import json
import urllib.request
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import text

from core.broker import subscribe
from core.db.engine import get_engine
from stream_reader import scenes
from stream_reader.scene_lines import messages_from_truth
from tests.aggregator.helpers import AggregatorProcess, publish, register_streams
from tests.api.conftest import MARTS_SCHEMA, TOKEN
from tests.e2e.test_ui import CHROMIUM, CHROMIUM_ARGS, SHOTS, _serve
from tests.zones.helpers import SCENE, TRUTH_FPS, records

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def server(runtime, marts):
    """`streamscope api` serving frontend/dist (tests/e2e/test_ui.py's server: it writes the known rows first)."""
    yield from _serve(runtime, marts, MARTS_SCHEMA)


def add_snapshot(settings, stream: int) -> None:
    import cv2

    from stream_reader.compose import render

    ok, jpeg = cv2.imencode(".jpg", render(SCENE, 20.0))
    assert ok
    with get_engine(settings).begin() as conn:
        conn.execute(text("INSERT INTO snapshots (stream_id, captured_at, jpeg, width, height, model, counts) "
                          "VALUES (:s, now(), :j, :w, :h, 'yolo', '{}')"),
                     {"s": stream, "j": jpeg.tobytes(), "w": SCENE.width, "h": SCENE.height})


def click_at(page, overlay, x: float, y: float) -> None:
    box = overlay.bounding_box()
    page.mouse.click(box["x"] + x * box["width"], box["y"] + y * box["height"])


def test_draw_a_zone_and_a_line_on_the_snapshot_save_and_see_their_figures(runtime, server, unique_topic,
                                                                           tmp_path) -> None:
    from playwright.sync_api import expect, sync_playwright

    (stream,) = register_streams(runtime, 1)
    add_snapshot(runtime, stream)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        page = browser.new_context(base_url=server, viewport={"width": 1280, "height": 1000}).new_page()
        errors: list[str] = []
        page.on("pageerror", lambda error: errors.append(str(error)))
        expect.set_options(timeout=15_000)
        page.goto("/")
        page.evaluate(f"sessionStorage.setItem('streamscope.apiToken', '{TOKEN}')")
        page.goto(f"/streams/{stream}")
        expect(page.get_by_test_id("snapshot")).to_be_visible()
        expect(page.get_by_test_id("zone-figures-empty")).to_be_visible()
        overlay = page.get_by_test_id("zone-overlay")

        page.get_by_test_id("draw-line").click()
        (a, b) = scenes.COUNTING_LINE
        click_at(page, overlay, *a)
        expect(page.get_by_test_id("zone-save")).to_be_disabled()  # no name yet
        click_at(page, overlay, *b)
        page.get_by_test_id("zone-name").fill("middle")
        page.get_by_test_id("zone-save").click()
        expect(page.locator('[data-testid="line-shape"][data-name="middle"]')).to_be_visible()

        page.get_by_test_id("draw-zone").click()
        for corner in scenes.COUNTING_ZONE:
            click_at(page, overlay, *corner)
        page.get_by_test_id("zone-name").fill("right half")
        page.get_by_test_id("zone-save").click()
        expect(page.locator('[data-testid="zone-shape"][data-name="right half"]')).to_be_visible()
        line_figure = page.locator('[data-testid="zone-figure"][data-name="middle"]')
        expect(line_figure.get_by_test_id("line-in")).to_have_text("0")

        # A self-crossing zone is refused with the reason, nothing saved.
        page.get_by_test_id("draw-zone").click()
        for corner in ((0.1, 0.1), (0.4, 0.4), (0.4, 0.1), (0.1, 0.4)):
            click_at(page, overlay, *corner)
        page.get_by_test_id("zone-name").fill("bow tie")
        page.get_by_test_id("zone-save").click()
        expect(page.get_by_test_id("zone-error")).to_contain_text("points: the polygon crosses itself")
        page.get_by_test_id("zone-cancel").click()

        with urllib.request.urlopen(f"{server}/api/streams/{stream}/zones") as answer:
            saved = {z["name"]: z for z in json.load(answer)["items"]}
        assert set(saved) == {"middle", "right half"}
        flat = [v for point in saved["middle"]["points"] for v in point]
        assert flat == pytest.approx([*a, *b], abs=0.003)

        # The real aggregator counts one period of the scene's tracks at 5 frames/s for this stream.
        period = round(SCENE.period_s * TRUTH_FPS)
        start = datetime.now(UTC) - timedelta(seconds=SCENE.period_s + 5)
        messages = messages_from_truth(records()[:period], TRUTH_FPS // 5, SCENE.width, SCENE.height,
                                       stream_id=stream, start=start)
        subscribe(runtime, unique_topic, "agg").close()
        publish(runtime, unique_topic, messages)
        AggregatorProcess(runtime, unique_topic, "agg", tmp_path, idle_exit=1.5).wait(120)

        page.reload()
        expect(line_figure.get_by_test_id("line-in")).to_have_text(str(scenes.COUNTING_TRUTH["in"]))
        expect(line_figure.get_by_test_id("line-out")).to_have_text(str(scenes.COUNTING_TRUTH["out"]))
        zone_figure = page.locator('[data-testid="zone-figure"][data-name="right half"]')
        expect(zone_figure.get_by_test_id("zone-mean")).to_contain_text("per frame")
        SHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SHOTS / "stream-zones.png"), full_page=True)
        browser.close()
        assert errors == [], errors
