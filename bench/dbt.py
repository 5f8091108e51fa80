"""Benchmark: `streamscope dbt build` on 1 million object_stats rows (generated with generate_series).

Starts its own embedded Postgres in a temporary data directory (or uses STREAMSCOPE_DATABASE_URL with
--external), writes N streams x W one-minute windows x C classes of statistics ending now, then times:
  1. the first build (every model from scratch, plus all data tests; repeated with --full-refresh),
  2. an incremental build after one new hour of statistics arrived,
  3. a build with nothing new,
each --repeat times, and prints the medians of the wall times and of dbt's own per-model times
(run_results.json), and the ratios between them.

    PYTHONPATH=$PWD python bench/dbt.py                       # 20 x 5000 x 10 = 1,000,000 rows
    PYTHONPATH=$PWD python bench/dbt.py --streams 4 --windows 500 --classes 5   # quick check
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import text  # noqa: E402

from core.settings import Settings  # noqa: E402

CLASSES = ["person", "car", "bicycle", "motorcycle", "bus", "truck", "traffic light", "dog", "umbrella", "handbag",
           "backpack", "bench", "bird", "cat", "chair", "bottle"]


WINDOWS_SQL = """
WITH w AS (
    SELECT s AS stream_id, date_trunc('minute', now()) + make_interval(mins => :off - i) AS start,
           50 + (i * 7 + s) % 11 AS frames
    FROM generate_series(1, :streams) AS s, generate_series(1, :windows) AS i
)
"""

FRAME_WINDOWS_SQL = WINDOWS_SQL + """
INSERT INTO frame_windows (stream_id, window_start, model, window_end, frames, sessions, first_capture_at,
                           last_capture_at, updated_at)
SELECT stream_id, start, 'yolo11n', start + interval '1 minute', frames, 1, start, start + interval '59 seconds',
       CASE WHEN :written_live THEN now() ELSE start + interval '70 seconds' END
FROM w
"""

OBJECT_STATS_SQL = WINDOWS_SQL + """
, c AS (SELECT k, (CAST(:names AS text[]))[k] AS name FROM generate_series(1, :classes) AS k)
INSERT INTO object_stats (stream_id, window_start, model, object_class, window_end, class_id, frames, detections,
                          mean_per_frame, max_per_frame, min_per_frame, unique_objects, updated_at)
SELECT w.stream_id, w.start, 'yolo11n', c.name, w.start + interval '1 minute', c.k, w.frames, d.det,
       d.det::float8 / w.frames, d.det / w.frames + 3, 0, d.det % 4,
       CASE WHEN :written_live THEN now() ELSE w.start + interval '70 seconds' END
FROM w CROSS JOIN c
CROSS JOIN LATERAL (
    SELECT (w.stream_id * 31 + c.k * 17 + extract(epoch FROM w.start)::bigint / 60) % (c.k * 40 + 1) AS det
) AS d
"""


def generate(engine, streams: int, windows: int, classes: int, *, offset_minutes: int = 0, live: bool = False) -> None:
    """Streams, then `windows` one-minute windows per stream ending `offset_minutes` from now, C classes each.

    Frames per window vary (50-60) and so do detections, so the aggregates are not trivially constant. History
    is stamped (updated_at) as the aggregator writes it, 10 s after each window's end; ``live`` rows now().
    """
    params = {"streams": streams, "windows": windows, "off": offset_minutes, "written_live": live}
    with engine.begin() as conn:
        conn.execute(text(
            "INSERT INTO streams (id, canonical_id, url, kind, name, fps, status) "
            "SELECT s, 'hls:bench-' || s, 'http://127.0.0.1/' || s || '.m3u8', 'hls', 'bench ' || s, 1.0, 'live' "
            "FROM generate_series(1, :n) AS s ON CONFLICT (id) DO NOTHING"
        ), {"n": streams})
        conn.execute(text("SELECT setval('streams_id_seq', greatest(:n, 1))"), {"n": streams})
        conn.execute(text(FRAME_WINDOWS_SQL), params)
        conn.execute(text(OBJECT_STATS_SQL), {**params, "classes": classes, "names": CLASSES[:classes]})
        conn.execute(text("ANALYZE frame_windows; ANALYZE object_stats"))


def build(args: list[str]) -> tuple[float, dict]:
    """`streamscope dbt build ARGS` as a user runs it; wall seconds and dbt's run_results."""
    started = time.perf_counter()
    result = subprocess.run([sys.executable, "-m", "core.cli", "dbt", "build", *args], capture_output=True,
                            text=True, cwd=ROOT, check=False)
    wall = time.perf_counter() - started
    if result.returncode:
        sys.exit(f"dbt build failed:\n{result.stdout[-5000:]}\n{result.stderr[-2000:]}")
    target = Path(os.environ["STREAMSCOPE_DATA_DIR"]) / "dbt" / "target"
    return wall, json.loads((target / "run_results.json").read_text())


def model_times(results: dict) -> dict[str, float]:
    return {r["unique_id"].split(".")[-1]: r["execution_time"] for r in results["results"]
            if r["unique_id"].startswith("model.")}


def tests_time(results: dict) -> float:
    return sum(r["execution_time"] for r in results["results"] if r["unique_id"].startswith("test."))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--streams", type=int, default=20)
    parser.add_argument("--windows", type=int, default=5000, help="one-minute windows per stream")
    parser.add_argument("--classes", type=int, default=10)
    parser.add_argument("--repeat", type=int, default=3, help="builds of each kind (medians are printed)")
    parser.add_argument("--keep", action="store_true", help="keep the temporary data directory")
    options = parser.parse_args()

    from core import embedded
    from core.db.engine import dispose_engines, get_engine
    from core.db.migrate import upgrade

    data_dir = Path(tempfile.mkdtemp(prefix="streamscope-bench-dbt-"))
    os.environ["STREAMSCOPE_DATA_DIR"] = str(data_dir)
    os.environ.setdefault("DBT_SEND_ANONYMOUS_USAGE_STATS", "False")
    settings = Settings(data_dir=data_dir, database_url="")
    embedded.start_postgres(settings)
    try:
        upgrade(settings)
        engine = get_engine(settings)
        rows = options.streams * options.windows * options.classes
        load_before = os.getloadavg()
        started = time.perf_counter()
        generate(engine, options.streams, options.windows, options.classes)
        generated = time.perf_counter() - started
        print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}")
        print(f"statistics: {rows:,} object_stats rows + {options.streams * options.windows:,} frame_windows rows "
              f"({options.streams} streams x {options.windows} windows x {options.classes} classes), "
              f"generated in {generated:.1f} s")

        runs: dict[str, list[tuple[float, dict]]] = {"full": [], "incremental": [], "idle": []}
        for _ in range(options.repeat):
            runs["full"].append(build(["--full-refresh"]))
        for attempt in range(options.repeat):  # one more hour of statistics arrives before each build
            generate(engine, options.streams, 60, options.classes, offset_minutes=60 * (attempt + 1), live=True)
            runs["incremental"].append(build([]))
        for _ in range(options.repeat):
            runs["idle"].append(build([]))
        new_rows = options.streams * 60 * options.classes

        def median(values: list[float]) -> float:
            return statistics.median(values)

        def summary(key: str) -> tuple[float, float, float, dict[str, float]]:
            walls = [wall for wall, _ in runs[key]]
            models = [sum(model_times(results).values()) for _, results in runs[key]]
            tests = [tests_time(results) for _, results in runs[key]]
            per_model = {name: median([model_times(results)[name] for _, results in runs[key]])
                         for name in model_times(runs[key][0][1])}
            return median(walls), median(models), median(tests), per_model

        print(f"\nmedians of {options.repeat} builds each; load average before: {load_before}")
        print(f"{'build':40} {'wall s':>7} {'models s':>9} {'tests s':>8}")
        table = {}
        for key, label in (("full", "1. first build (--full-refresh)"),
                           ("incremental", f"2. incremental, +{new_rows:,} rows (1 hour)"),
                           ("idle", "3. incremental, nothing new")):
            table[key] = summary(key)
            wall, models, tests, _ = table[key]
            print(f"{label:40} {wall:7.1f} {models:9.2f} {tests:8.2f}")
        print("\nper model, median s:      full  incremental")
        for name, seconds in table["full"][3].items():
            print(f"  {name:22} {seconds:8.2f} {table['incremental'][3][name]:12.2f}")
        inc_models = sum(table["incremental"][3][m] for m in ("stream_hours", "object_counts"))
        full_models = sum(table["full"][3][m] for m in ("stream_hours", "object_counts"))
        print(f"\nratios incremental / full: wall {table['incremental'][0] / table['full'][0]:.2f}, "
              f"models {table['incremental'][1] / table['full'][1]:.2f}, "
              f"stream_hours + object_counts {inc_models / full_models:.2f}")
        print(f"first build: {rows / table['full'][0]:,.0f} statistics rows/s (wall, tests and dbt start-up included)")
        print(f"load average after: {os.getloadavg()}")
    finally:
        dispose_engines()
        embedded.stop_postgres(settings)
        if not options.keep:
            shutil.rmtree(data_dir, ignore_errors=True)


if __name__ == "__main__":
    main()
