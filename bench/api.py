"""Benchmark of GET /api/rankings: the service as configured vs a naive connection-per-request variant.

Starts a private embedded Postgres, fills the marts with a realistic amount of data (default 100 streams x
30 days of hours, ~8 classes per stream-hour), then runs three uvicorn servers on 127.0.0.1, one after the
other, in subprocesses:

  service   `streamscope api` as shipped: pooled engine + 5 s answer cache (settings.api_cache_seconds)
  pooled    the same app with the cache off (STREAMSCOPE_API_CACHE_SECONDS=0): every request queries
  naive     cache off and a new database connection per request (psycopg.connect through a NullPool)

The load generator (this process, asyncio + uvloop, raw HTTP/1.1 keep-alive) sends requests at a fixed rate
(open loop: latency is measured from each request's scheduled time, so a slow server cannot hide its queue),
cycling through 32 query strings (8 class sets x 4 windows). It then measures the closed-loop capacity.
Usage: PYTHONPATH=$PWD python bench/api.py [--rate 1000] [--seconds 10] [--streams 100] [--days 30]
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if sys.path and Path(sys.path[0]).resolve() == Path(__file__).resolve().parent:
    sys.path[0] = str(ROOT)  # this file is named api.py: keep it from shadowing the api package

import argparse  # noqa: E402
import asyncio  # noqa: E402
import io  # noqa: E402
import os  # noqa: E402
import random  # noqa: E402
import shutil  # noqa: E402
import socket  # noqa: E402
import statistics  # noqa: E402
import subprocess  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from collections import Counter  # noqa: E402
from datetime import UTC, datetime, timedelta  # noqa: E402
from urllib.parse import urlencode  # noqa: E402

from core.processes import terminate  # noqa: E402

CLASS_SETS = [["person"], ["car"], ["traffic light"], ["person", "car"], ["bus"], ["truck", "car"], ["bicycle"],
              ["dog", "person"]]
WINDOWS = ["1h", "6h", "24h", "7d"]
COCO_COMMON = ["person", "car", "traffic light", "bus", "truck", "bicycle", "dog", "motorcycle", "handbag",
               "backpack", "umbrella", "bench", "bird", "stop sign"]


# ------------------------------------------------------------------------------------------------- data


def fill(settings, streams: int, days: int, seed: int = 7) -> tuple[int, int]:
    """Streams, sessions and the two marts with COPY (dbt's views on them: build_views); returns (stream_hours
    rows, object_counts rows)."""
    import psycopg

    from core.embedded import database_url
    from tests.api.marts import MARTS_DDL

    rng = random.Random(seed)
    base = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    hours, counts = io.StringIO(), io.StringIO()
    n_hours = n_counts = 0
    with psycopg.connect(database_url(settings), autocommit=True) as conn:
        conn.execute(MARTS_DDL.format(schema="public"))
        with conn.cursor().copy("COPY streams (id, canonical_id, url, kind, name, fps, status) FROM STDIN") as copy:
            for i in range(1, streams + 1):
                copy.write_row((i, f"youtube:bench{i:06d}", f"https://www.youtube.com/watch?v=bench{i:06d}",
                                "youtube", f"Bench cam {i}", 1.0, "live"))
        conn.execute("SELECT setval(pg_get_serial_sequence('streams', 'id'), %s)", (streams,))
        for stream in range(1, streams + 1):
            busy = rng.uniform(0.2, 8.0)
            classes = rng.sample(COCO_COMMON, k=rng.randint(4, 12))
            for h in range(days * 24):
                if rng.random() < 0.03:
                    continue  # an outage hour: no frames
                hour = base - timedelta(hours=h)
                minutes = 60 if h else 30
                frames = minutes * 60 if rng.random() > 0.1 else rng.randint(300, 3000)
                hours.write(f"{stream}\t{hour.isoformat()}\t{frames}\t{minutes}\t{float(minutes)}\n")
                n_hours += 1
                for rank, cls in enumerate(classes):
                    mean = busy / (rank + 1) * rng.uniform(0.5, 1.5)
                    detections = int(mean * frames)
                    if detections == 0:
                        continue
                    counts.write(f"{stream}\t{cls}\t{hour.isoformat()}\t{frames}\t{detections}\t"
                                 f"{detections / frames}\t{int(mean * 3) + 1}\t{int(mean * 10)}\n")
                    n_counts += 1
        with conn.cursor().copy("COPY stream_hours FROM STDIN") as copy:
            copy.write(hours.getvalue())
        with conn.cursor().copy("COPY object_counts FROM STDIN") as copy:
            copy.write(counts.getvalue())
        conn.execute("ANALYZE")
    return n_hours, n_counts


# ---------------------------------------------------------------------------------------------- servers


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_server(variant: str, env: dict[str, str], port: int, log_path: Path) -> subprocess.Popen:
    if variant == "naive":
        command = [sys.executable, str(Path(__file__).resolve()), "--serve-naive", str(port)]
    else:
        command = [sys.executable, "-m", "core.cli", "api", "--port", str(port)]
    extra = {"STREAMSCOPE_API_CACHE_SECONDS": "0"} if variant in ("pooled", "naive") else {}
    with open(log_path, "ab") as log:
        process = subprocess.Popen(command, cwd=ROOT, env={**env, **extra}, stdout=log, stderr=subprocess.STDOUT,
                                   stdin=subprocess.DEVNULL)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{variant} server exited; see {log_path}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return process
        except OSError:
            time.sleep(0.1)
    process.kill()
    raise RuntimeError(f"{variant} server did not listen within 30 s")


def stop_server(process: subprocess.Popen) -> None:
    terminate(process)


def serve_naive(port: int) -> None:
    """The same app, but every rankings request opens (and closes) its own database connection."""
    import uvicorn
    from sqlalchemy import create_engine
    from sqlalchemy.pool import NullPool

    import api.routers.rankings as rankings
    from api.app import create_app
    from core.db.engine import sqlalchemy_url
    from core.embedded import database_url
    from core.settings import get_settings

    settings = get_settings()
    naive = create_engine(sqlalchemy_url(database_url(settings)), poolclass=NullPool)  # psycopg.connect per use
    rankings.engine_for = lambda _settings: naive
    uvicorn.run(create_app(), host="127.0.0.1", port=port, log_level="info")


def cpu_seconds(pid: int, children: bool = False) -> float:
    """User + system CPU time of a process (and, optionally, of its exited children) from /proc."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    ticks = int(fields[11]) + int(fields[12]) + ((int(fields[13]) + int(fields[14])) if children else 0)
    return ticks / os.sysconf("SC_CLK_TCK")


def postgres_cpu_seconds(postmaster: int) -> float:
    """The server's CPU: the postmaster with its exited backends, plus the backends still running."""
    total = cpu_seconds(postmaster, children=True)
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            if int(stat.read_text().rsplit(")", 1)[1].split()[1]) == postmaster:
                total += cpu_seconds(int(stat.parent.name))
        except (OSError, ValueError, IndexError):
            continue
    return total


# ------------------------------------------------------------------------------------------------- load


class Client:
    """Minimal HTTP/1.1 keep-alive GET client over asyncio streams (fast enough for thousands of req/s)."""

    def __init__(self, host: str, port: int, connections: int, timeout: float = 10.0):
        self.host, self.port, self.timeout = host, port, timeout
        self.pool: asyncio.Queue = asyncio.Queue()
        for _ in range(connections):
            self.pool.put_nowait(None)
        self.statuses: Counter[int | str] = Counter()

    async def get(self, path: str) -> bool:
        """One GET; True when answered. A kept-alive connection the server closed meanwhile is reopened once."""
        conn = await self.pool.get()
        try:
            for attempt in range(2):
                reused = conn is not None
                if conn is None:
                    conn = await asyncio.open_connection(self.host, self.port)
                try:
                    status = await self._exchange(conn, path)
                except (ConnectionError, asyncio.IncompleteReadError) as error:
                    conn[1].close()
                    conn = None
                    if reused and attempt == 0 and (not isinstance(error, asyncio.IncompleteReadError)
                                                    or not error.partial):
                        continue  # the server timed the idle connection out: not the request's fault
                    raise
                self.statuses[status] += 1
                return status == 200
        except (TimeoutError, OSError, asyncio.IncompleteReadError, ValueError) as error:
            self.statuses[type(error).__name__] += 1
            if conn is not None:
                conn[1].close()
            conn = None
            return False
        finally:
            self.pool.put_nowait(conn)
        return False

    async def _exchange(self, conn, path: str) -> int:
        reader, writer = conn
        writer.write(f"GET {path} HTTP/1.1\r\nHost: {self.host}\r\n\r\n".encode())
        head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), self.timeout)
        length = 0
        for line in head.split(b"\r\n")[1:]:
            if line[:15].lower() == b"content-length:":
                length = int(line[15:])
        await asyncio.wait_for(reader.readexactly(length), self.timeout)
        return int(head[9:12])

    async def close(self) -> None:
        while not self.pool.empty():
            conn = self.pool.get_nowait()
            if conn is not None:
                conn[1].close()


async def fixed_rate(port: int, paths: list[str], rate: float, seconds: float, connections: int = 256) -> dict:
    """Open-loop load: request i is due at t0 + i/rate; its latency counts from then.

    A server that falls more than 2 s behind is overloaded: sending stops there (the figures then describe
    the requests sent so far, and ``overloaded`` says when it happened) instead of queueing for minutes.
    """
    loop = asyncio.get_running_loop()
    client = Client("127.0.0.1", port, connections)
    latencies: list[float] = []
    outstanding = 0

    async def one(path: str, due: float) -> None:
        nonlocal outstanding
        try:
            if await client.get(path):
                latencies.append(loop.time() - due)
        finally:
            outstanding -= 1

    total = int(rate * seconds)
    start = loop.time() + 0.05
    tasks, i, overloaded = [], 0, None
    while i < total:
        now = loop.time()
        if outstanding > 2 * rate:
            overloaded = now - start
            break
        while i < total and start + i / rate <= now:
            outstanding += 1
            tasks.append(asyncio.create_task(one(paths[i % len(paths)], start + i / rate)))
            i += 1
        await asyncio.sleep(max(0.0, start + i / rate - loop.time()))
    sent_for = loop.time() - start
    pending = (await asyncio.wait(tasks, timeout=15))[1] if tasks else set()
    for task in pending:
        task.cancel()
    await asyncio.gather(*pending, return_exceptions=True)
    await client.close()
    result = summarise(latencies, client.statuses, sent_for)
    result.update(sent=i, unanswered=len(pending), overloaded=overloaded)
    return result


async def closed_loop(port: int, paths: list[str], seconds: float, concurrency: int = 32) -> dict:
    """Capacity: ``concurrency`` clients, each sending its next request as soon as the last one is answered."""
    loop = asyncio.get_running_loop()
    client = Client("127.0.0.1", port, concurrency)
    latencies: list[float] = []
    stop = loop.time() + seconds

    async def worker(offset: int) -> None:
        i = offset
        while loop.time() < stop:
            began = loop.time()
            if await client.get(paths[i % len(paths)]):
                latencies.append(loop.time() - began)
            i += concurrency

    began = loop.time()
    await asyncio.gather(*(worker(k) for k in range(concurrency)))
    elapsed = loop.time() - began
    await client.close()
    return summarise(latencies, client.statuses, elapsed)


def summarise(latencies: list[float], statuses: Counter, elapsed: float) -> dict:
    ordered = sorted(latencies)

    def pct(p: float) -> float:
        return ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))] * 1000 if ordered else float("nan")

    return {"requests": len(ordered), "rps": len(ordered) / elapsed, "p50": pct(50), "p90": pct(90),
            "p99": pct(99), "max": ordered[-1] * 1000 if ordered else float("nan"),
            "mean": statistics.fmean(ordered) * 1000 if ordered else float("nan"),
            "ok": statuses.get(200, 0), "other": {k: v for k, v in statuses.items() if k != 200}}


# ------------------------------------------------------------------------------------------------- main


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rate", type=float, default=1000.0, help="Requests per second (fixed-rate phase).")
    parser.add_argument("--seconds", type=float, default=10.0, help="Length of each measured phase.")
    parser.add_argument("--warmup", type=float, default=2.0)
    parser.add_argument("--streams", type=int, default=100)
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--variants", default="service,pooled,naive")
    parser.add_argument("--serve-naive", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve_naive:
        serve_naive(args.serve_naive)
        return

    try:
        import uvloop

        uvloop.install()
    except ImportError:
        pass
    from core import embedded
    from core.db.migrate import upgrade
    from core.settings import Settings

    workdir = Path(tempfile.mkdtemp(prefix="streamscope-bench-api-"))
    os.chmod(workdir, 0o755)
    settings = Settings(data_dir=workdir / "data", database_url="", pulsar_url="")
    env = {**os.environ, "STREAMSCOPE_DATA_DIR": str(settings.data_dir), "PYTHONPATH": str(ROOT),
           "STREAMSCOPE_DATABASE_URL": "", "STREAMSCOPE_PULSAR_URL": ""}
    paths = [f"/api/rankings?{urlencode([('object', o) for o in objs] + [('window', w), ('limit', 20)])}"
             for objs in CLASS_SETS for w in WINDOWS]
    random.Random(1).shuffle(paths)
    try:
        embedded.start_postgres(settings)
        upgrade(settings)
        began = time.perf_counter()
        n_hours, n_counts = fill(settings, args.streams, args.days)
        from tests.api.marts import build_views

        build_views(settings, "public")  # dbt's ranking views over the two tables (what the API reads)
        print(f"data: {args.streams} streams, {n_hours:,} stream_hours rows, {n_counts:,} object_counts rows "
              f"({time.perf_counter() - began:.1f} s to load); {len(paths)} distinct query strings")
        print(f"machine: {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f} at start; "
              "load generator and servers share them")
        postmaster = embedded.postmaster_info(settings).pid
        results = {}
        for variant in args.variants.split(","):
            phases = {}
            # Each phase on a fresh server: an overloaded server would still be draining its backlog.
            for phase in ("fixed", "capacity"):
                port = free_port()
                server = start_server(variant, env, port, workdir / f"{variant}.log")
                try:
                    asyncio.run(fixed_rate(port, paths, min(args.rate, 200), args.warmup))  # warm pool and cache
                    cpu_before = (cpu_seconds(server.pid), postgres_cpu_seconds(postmaster))
                    if phase == "fixed":
                        result = asyncio.run(fixed_rate(port, paths, args.rate, args.seconds))
                    else:
                        result = asyncio.run(closed_loop(port, paths, args.seconds / 2))
                    api_cpu = cpu_seconds(server.pid) - cpu_before[0]
                    db_cpu = postgres_cpu_seconds(postmaster) - cpu_before[1]
                    answered = max(result["requests"], 1)
                    result.update(api_cpu_ms=api_cpu / answered * 1000, db_cpu_ms=db_cpu / answered * 1000)
                    phases[phase] = result
                finally:
                    stop_server(server)
            fixed, capacity = phases["fixed"], phases["capacity"]
            results[variant] = (fixed, capacity)
            verdict = "kept up"
            if fixed["overloaded"] is not None:
                verdict = f"OVERLOADED after {fixed['overloaded']:.1f} s (2 s behind), {fixed['unanswered']} unanswered"
            print(f"\n[{variant}] fixed rate {args.rate:.0f}/s for {args.seconds:.0f} s: {verdict}; "
                  f"{fixed['sent']} sent, p50 {fixed['p50']:.1f} ms, p90 {fixed['p90']:.1f} ms, "
                  f"p99 {fixed['p99']:.1f} ms, max {fixed['max']:.0f} ms; 200s {fixed['ok']}, other {fixed['other']}")
            print(f"[{variant}] capacity (32 concurrent, closed loop): {capacity['rps']:.0f} req/s, "
                  f"p50 {capacity['p50']:.1f} ms, p99 {capacity['p99']:.1f} ms; other {capacity['other']}")
            print(f"[{variant}] CPU per answered request (capacity phase): API process "
                  f"{capacity['api_cpu_ms']:.2f} ms, Postgres {capacity['db_cpu_ms']:.2f} ms")
        print(f"\nload average at the end: {os.getloadavg()[0]:.1f}")
        if "service" in results:
            service = results["service"]
            for other in ("pooled", "naive"):
                if other in results:
                    fixed, capacity = results[other]
                    cpu = (capacity["api_cpu_ms"] + capacity["db_cpu_ms"]) / (
                        service[1]["api_cpu_ms"] + service[1]["db_cpu_ms"])
                    print(f"service vs {other}: CPU per request x{cpu:.1f} less")
                    print(f"service vs {other}: capacity x{service[1]['rps'] / capacity['rps']:.1f}, "
                          f"p99 at {args.rate:.0f}/s {service[0]['p99']:.1f} ms vs {fixed['p99']:.1f} ms "
                          f"(x{fixed['p99'] / service[0]['p99']:.1f}){' (overloaded)' if fixed['overloaded'] else ''}")
    finally:
        embedded.stop_postgres(settings)
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
