"""README screenshots from a real ``streamscope demo`` run, taken with Chromium (playwright, /usr/bin/chromium).

    python scripts/screenshots.py                      # starts a demo in a temporary data directory
    python scripts/screenshots.py --url http://127.0.0.1:8000 --data-dir .streamscope   # a demo already running

It waits until the Rankings page ranks at least three streams for ``person``, then writes ``docs/img/rankings.png``
and ``docs/img/stream-detail.png``. The browser test of the demo (tests/e2e/test_demo.py) uses the same pieces.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update"]
STREAMSCOPE = str(Path(sys.executable).with_name("streamscope"))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def get_json(url: str) -> dict:
    with urllib.request.urlopen(url, timeout=10) as response:
        return json.loads(response.read())


def person_rankings(base_url: str) -> list[dict]:
    """The API's person rankings, or [] while the marts or the API are not there yet."""
    try:
        return get_json(f"{base_url}/api/rankings?object=person&window=1h")["items"]
    except (OSError, ValueError, KeyError):
        return []


@dataclass
class DemoRun:
    """``streamscope demo`` as a child process on free ports in its own data directory; stopped by PID."""

    data_dir: Path
    window_seconds: int = 60
    dbt_every_s: float = 30.0
    port: int = field(default_factory=free_port)
    process: subprocess.Popen | None = None
    started_at: float = 0.0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def log_path(self) -> Path:
        return self.data_dir / "demo-console.log"

    def start(self) -> DemoRun:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        env = {k: v for k, v in os.environ.items() if not k.startswith("STREAMSCOPE_")}
        env.update(STREAMSCOPE_DATA_DIR=str(self.data_dir), STREAMSCOPE_EMBEDDED_PULSAR_PORT=str(free_port()),
                   STREAMSCOPE_READER_METRICS_PORT=str(free_port()),
                   STREAMSCOPE_DETECTOR_METRICS_PORT=str(free_port()),
                   STREAMSCOPE_AGGREGATOR_METRICS_PORT=str(free_port()),
                   YOLO_OFFLINE="1", YOLO_AUTOINSTALL="false")
        self.started_at = time.monotonic()
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                [STREAMSCOPE, "demo", "--port", str(self.port), "--source-port", str(free_port()),
                 "--window-seconds", str(self.window_seconds), "--dbt-every", str(self.dbt_every_s),
                 "--report-every", "10"],
                env=env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            )
        return self

    def state(self) -> dict:
        """The demo's state file: its streams with their ids and the PIDs of their sources."""
        return json.loads((self.data_dir / "demo.json").read_text())

    def console(self) -> str:
        return self.log_path.read_text(errors="replace")

    def stop(self) -> int | None:
        """Ctrl-C, as a person stops it; the demo stops its own children."""
        if self.process is None:
            return None
        if self.process.poll() is None:
            self.process.send_signal(2)  # SIGINT
            try:
                self.process.wait(60)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)
        return self.process.returncode


def wait_for_rankings(base_url: str, count: int, timeout_s: float) -> list[dict]:
    """Poll until at least ``count`` streams are ranked for person, each with a snapshot."""
    deadline = time.monotonic() + timeout_s
    items: list[dict] = []
    while time.monotonic() < deadline:
        items = person_rankings(base_url)
        if len(items) >= count and all(item["stream"].get("snapshot_url") for item in items):
            return items
        time.sleep(2)
    raise TimeoutError(f"{len(items)} streams ranked for person after {timeout_s:.0f} s (wanted {count})")


def take_screenshots(browser, base_url: str, stream_id: int, out_dir: Path) -> list[Path]:
    """Rankings (the page's own default class) and one stream's detail page, as a newcomer sees them."""
    from playwright.sync_api import expect

    out_dir.mkdir(parents=True, exist_ok=True)
    context = browser.new_context(base_url=base_url, viewport={"width": 1280, "height": 900})
    page = context.new_page()
    written = []
    try:
        page.goto("/")
        expect(page.get_by_test_id("ranking-card").nth(2)).to_be_visible(timeout=30_000)
        page.wait_for_load_state("networkidle")
        written.append(out_dir / "rankings.png")
        page.screenshot(path=str(written[-1]), full_page=True)
        page.goto(f"/streams/{stream_id}?range=1h")
        expect(page.get_by_test_id("objects-chart")).to_be_visible(timeout=30_000)
        page.wait_for_load_state("networkidle")
        written.append(out_dir / "stream-detail.png")
        page.screenshot(path=str(written[-1]), full_page=True)
    finally:
        context.close()
    return written


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", help="A running demo's UI; default: start one")
    parser.add_argument("--data-dir", type=Path, help="That demo's data directory (for its state file)")
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "img")
    parser.add_argument("--timeout", type=float, default=300, help="Seconds to wait for three ranked streams")
    args = parser.parse_args()

    from playwright.sync_api import sync_playwright

    demo = None
    if args.url is None:
        demo = DemoRun(Path(tempfile.mkdtemp(prefix="streamscope-screenshots-"))).start()
        print(f"started streamscope demo on {demo.url} (data in {demo.data_dir})", flush=True)
    base_url = args.url or demo.url
    try:
        items = wait_for_rankings(base_url, 3, args.timeout)
        print(f"{len(items)} streams ranked for person: "
              + ", ".join(f"#{i['rank']} {i['stream']['name']} {i['score']:.2f}" for i in items), flush=True)
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
            try:
                for path in take_screenshots(browser, base_url, items[0]["stream"]["id"], args.out):
                    print(f"wrote {path}", flush=True)
            finally:
                browser.close()
    finally:
        if demo is not None:
            demo.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
