"""What a connected live-update client costs: memory of the API process, database connections, and the delay from
a committed window to its event at every client.

Starts a private embedded Postgres and `uvicorn api.app:app` (one process, 127.0.0.1), opens N event streams
(httpx, one asyncio loop in this process), writes windows one by one (as the aggregator does: an upsert of
``frame_windows``, whose trigger logs and NOTIFYs) and waits for each at all N clients. Prints the figures;
docs/benchmarks/live.md records them.

    PYTHONPATH=$PWD .venv/bin/python bench/live.py --clients 1,100,400 --events 20
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
from sqlalchemy import text

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def backends(engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(text("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                                     "AND pid <> pg_backend_pid()")).scalar() or 0)


async def client(http: httpx.AsyncClient, url: str, seen: dict[int, list[float]], opened: list[int]) -> None:
    """One EventSource-like reader: notes when each window (told apart by its frame count) arrived."""
    async with http.stream("GET", url) as response:
        assert response.status_code == 200, response.status_code
        event = ""
        async for line in response.aiter_lines():  # ends with a ReadError when the server goes
            if line.startswith("event:"):
                event = line[6:].strip()
                if event == "hello":
                    opened.append(1)
            elif line.startswith("data:") and event == "window":
                seen.setdefault(int(json.loads(line[5:])["frames"]), []).append(time.perf_counter())


async def run(base: str, engine, stream_id: int, n: int, events: int, pid: int) -> dict:
    seen: dict[int, list[float]] = {}
    opened: list[int] = []
    limits = httpx.Limits(max_connections=n + 10, max_keepalive_connections=0)
    async with httpx.AsyncClient(base_url=base, timeout=httpx.Timeout(60), limits=limits) as http:
        idle_rss, idle_backends = rss_mib(pid), backends(engine)
        tasks = [asyncio.create_task(client(http, f"/api/streams/{stream_id}/events", seen, opened))
                 for _ in range(n)]
        deadline = time.monotonic() + 120
        while len(opened) < n and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        assert len(opened) == n, f"only {len(opened)} of {n} streams opened"
        await asyncio.sleep(1)
        open_rss, open_backends = rss_mib(pid), backends(engine)
        delays = []
        start = datetime(2026, 1, 1, tzinfo=UTC) + timedelta(days=n)  # each round its own windows
        for i in range(events):
            frames = n * 100_000 + i
            with engine.begin() as conn:
                conn.execute(text("INSERT INTO frame_windows (stream_id, window_start, model, window_end, frames, "
                                  "first_capture_at, last_capture_at) VALUES (:s, :w, 'bench', :e, :f, :w, :e)"),
                             {"s": stream_id, "w": start + timedelta(minutes=i), "e": start + timedelta(minutes=i + 1),
                              "f": frames})
            committed = time.perf_counter()
            while len(seen.get(frames, [])) < n and time.perf_counter() - committed < 30:
                await asyncio.sleep(0.002)
            assert len(seen.get(frames, [])) == n, f"event {i} reached {len(seen.get(frames, []))} of {n}"
            delays.append(max(seen[frames]) - committed)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
    return {"clients": n, "rss_idle": idle_rss, "rss_open": open_rss, "backends_idle": idle_backends,
            "backends_open": open_backends, "p50": statistics.median(delays), "max": max(delays)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clients", default="1,100,400")
    parser.add_argument("--events", type=int, default=20)
    args = parser.parse_args()
    from core import embedded
    from core.db.engine import get_engine
    from core.db.migrate import upgrade
    from core.settings import Settings
    from tests.conftest import free_port

    workdir = Path(tempfile.mkdtemp(prefix="streamscope-bench-live-"))
    settings = Settings(data_dir=workdir / "data", database_url="", pulsar_url="")
    embedded.start_postgres(settings)
    server = None
    try:
        upgrade(settings)
        engine = get_engine(settings)
        with engine.begin() as conn:
            stream_id = conn.execute(text("INSERT INTO streams (canonical_id, url, kind, name, fps, status) VALUES "
                                          "('bench', 'http://127.0.0.1/x', 'hls', 'bench', 1, 'live') RETURNING id"
                                          )).scalar()
        port = free_port()
        env = {**os.environ, "PYTHONPATH": str(ROOT), "STREAMSCOPE_DATA_DIR": str(settings.data_dir),
               "STREAMSCOPE_DATABASE_URL": "", "STREAMSCOPE_LIVE_MAX_CLIENTS": "100000"}
        server = subprocess.Popen([sys.executable, "-m", "uvicorn", "api.app:app", "--host", "127.0.0.1", "--port",
                                   str(port), "--log-level", "warning"], cwd=ROOT, env=env)
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{base}/api/health", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline and server.poll() is None, "the API did not start"
            time.sleep(0.1)
        print(f"machine: {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f}; clients, server and "
              f"Postgres share them; {args.events} windows per row")
        print("clients  server RSS idle -> open (MiB)  per client (KiB)  DB backends idle -> open  "
              "commit->all clients p50 / max (ms)")
        for n in [int(c) for c in args.clients.split(",")]:
            r = asyncio.run(run(base, engine, int(stream_id), n, args.events, server.pid))
            per = (r["rss_open"] - r["rss_idle"]) * 1024 / n
            print(f"{n:7d}  {r['rss_idle']:8.1f} -> {r['rss_open']:8.1f}  {per:16.1f}  "
                  f"{r['backends_idle']:11d} -> {r['backends_open']:4d}  {r['p50'] * 1000:12.1f} / "
                  f"{r['max'] * 1000:.1f}")
    finally:
        if server is not None:
            from core.processes import terminate

            terminate(server)
        embedded.stop_postgres(settings)


if __name__ == "__main__":
    main()
