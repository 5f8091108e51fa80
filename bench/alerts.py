"""Benchmark of the anomaly job on a generated history: detections, their delay, and false alarms.

Starts a private embedded Postgres, writes a generated history (tests/alerts/synthetic_history.py: default 4
streams x 6 weeks of one-minute windows at 1 frame/s, daily and weekly patterns, week-to-week drift, noisy
counts), builds the real dbt baselines as of the start of each scored week and runs the real anomaly job over it
(tests/alerts/evaluate.py). Week 5 is quiet: every event there is a false alarm. Week 6 carries injected spikes,
drops, outages and freezes: each is matched to the event the job wrote, with its delay in windows.
Usage: PYTHONPATH=$PWD python bench/alerts.py [--weeks 6] [--window-seconds 60] [--fps 1] [--seed 20]
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if sys.path and Path(sys.path[0]).resolve() == Path(__file__).resolve().parent:
    sys.path[0] = str(ROOT)  # this file is named alerts.py: keep it from shadowing the alerts package


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--weeks", type=int, default=6)
    parser.add_argument("--window-seconds", type=int, default=60)
    parser.add_argument("--fps", type=float, default=1.0)
    parser.add_argument("--seed", type=int, default=20)
    parser.add_argument("--eval-interval-s", type=float, default=60.0,
                        help="how often the job runs (the DAG / demo), added to the detection delay")
    parser.add_argument("--keep", action="store_true", help="keep the temporary data directory")
    options = parser.parse_args()

    from core import embedded
    from core.db.engine import dispose_engines
    from core.db.migrate import upgrade
    from core.settings import Settings
    from tests.alerts.evaluate import evaluate
    from tests.alerts.synthetic_history import generate

    data_dir = Path(tempfile.mkdtemp(prefix="streamscope-bench-alerts-"))
    os.environ["STREAMSCOPE_DATA_DIR"] = str(data_dir)
    os.environ.setdefault("DBT_SEND_ANONYMOUS_USAGE_STATS", "False")
    settings = Settings(data_dir=data_dir, database_url="")
    embedded.start_postgres(settings)
    try:
        upgrade(settings)
        clock = time.perf_counter()
        history = generate(weeks=options.weeks, window_seconds=options.window_seconds, fps=options.fps,
                           seed=options.seed)
        generated = time.perf_counter() - clock
        report = evaluate(settings, history)
        window = history.window
        print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}")
        print(f"history: {len(history.streams)} streams x {history.weeks} weeks of {window.total_seconds():.0f} s "
              f"windows at {options.fps:g} frame/s = {len(history.windows):,} windows, seed {options.seed} "
              f"(generated in {generated:.1f} s)")
        print(f"thresholds: open |z| >= {settings.anomaly_threshold:g}, release below {settings.anomaly_release:g}, "
              f"floor {settings.trending_score_floor:g}, >= {settings.anomaly_min_window_frames} frames/window, "
              f">= {settings.trending_min_weeks} weeks of history; down/frozen after "
              f"{settings.anomaly_down_minutes:g} min without frames")
        print("timings (s): " + ", ".join(f"{k} {v:.1f}" for k, v in report.timings.items()))

        print(f"\ninjected episodes in week {history.weeks}: {len(history.injected)}, detected "
              f"{len(report.matched)}, missed {len(report.missed)}")
        print(f"{'kind':7} {'stream':>6} {'class':9} {'start (UTC)':17} {'min':>4} {'delay':>5} {'seen after':>10} "
              f"{'score':>7}")
        down = settings.anomaly_down_minutes * 60
        for injected in sorted(history.injected, key=lambda i: (i.kind, i.stream_id, i.start)):
            minutes = (injected.end - injected.start).total_seconds() / 60
            event = report.matched.get(injected)
            if event is None:
                print(f"{injected.kind:7} {injected.stream_id:6} {injected.object_class:9} "
                      f"{injected.start:%Y-%m-%d %H:%M} {minutes:4.0f}  MISSED")
                continue
            delay = report.delay_windows(injected)
            # When a job running every eval interval first writes it: the end of the flagging window (or the
            # down threshold after the last frame), plus at most one interval.
            seen = ((delay + 1) * window.total_seconds() if injected.kind in ("spike", "drop") else down)
            seen += options.eval_interval_s
            print(f"{injected.kind:7} {injected.stream_id:6} {injected.object_class or '-':9} "
                  f"{injected.start:%Y-%m-%d %H:%M} {minutes:4.0f} {delay:5d} {seen:9.0f}s {event.score or 0:7.1f}")
        delays = [report.delay_windows(i) for i in report.matched if i.kind in ("spike", "drop")]
        if delays:
            print(f"spikes and drops: max delay {max(delays)} windows (0 = flagged on the episode's first window); "
                  f"down/frozen: flagged {settings.anomaly_down_minutes:g} min after the last frame")
        streams = len(history.streams)
        print(f"\nquiet week {history.weeks - 1}: {len(report.quiet_events)} events over {streams} stream-weeks = "
              f"{len(report.quiet_events) / streams:.2f} false alarms per stream-week")
        for event in report.quiet_events:
            print(f"  false alarm: {event}")
        print(f"largest |z| of any window in the quiet week: {report.quiet_max_z:.2f} "
              f"(threshold {settings.anomaly_threshold:g})")
        print(f"episode week {history.weeks}: {len(report.unmatched)} events that match nothing injected")
        for event in report.unmatched:
            print(f"  unmatched: {event}")
    finally:
        dispose_engines()
        embedded.stop_postgres(settings)
        if not options.keep:
            shutil.rmtree(data_dir, ignore_errors=True)


if __name__ == "__main__":
    main()
