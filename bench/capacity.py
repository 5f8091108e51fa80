"""Capacity: the most streams at 1 frame/s one machine sustains end to end (reader -> detector -> aggregator).

    PYTHONPATH=$PWD python bench/capacity.py [--streams 8,12,16,20] [--seconds 60] [--backend auto]
    PYTHONPATH=$PWD python bench/capacity.py --streams 16 --detectors 1,2,3   # scale-out on this machine

For each stream count N, a fresh set of topics and N registered streams, every one reading the same synthetic live
HLS source (``LiveHLSSource``, 1280x720, 10 frames/s, one ffmpeg encoder, so N streams do not mean N encoders;
each stream is its own URL, ``?copy=i``, and its own reader session) at 1 frame/s. The real processes run:
``streamscope reader`` (all N streams), ``streamscope detector`` (the configured or given backend), ``streamscope
aggregator``. A probe subscription on the detections topic measures the detector lag (receive time minus capture
time) of every detection message. N is sustained when, over the last half of ``--seconds``, the lag stays under
``--max-lag`` seconds (10) and the detector's output rate keeps up with N frames/s (within 10%). After the readers
stop the detector drains; the aggregator's frame windows in Postgres are then compared with the frames published.
Other work on the machine takes cores from the detector: the load average is printed with each figure.

With ``--detectors 1,2,3`` the first stream count is offered to 1, then 2, then 3 detector processes sharing the
Key_Shared subscription (each with ``--threads`` CPU threads, default 1 when several run): each trial prints the
detection rate over the second half (the sum over the processes), each process's frames, and whether every
published frame was aggregated exactly once. On one machine the processes share its cores, so the sum cannot
grow much; the point is that it does not fall and nothing is lost.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from core import embedded
from core.broker import close_clients, subscribe
from core.db.engine import dispose_engines, session_scope
from core.messages import decode_detections
from core.registry import register
from core.settings import Settings
from core.source_policy import SourcePolicy
from stream_reader.testsrc import LiveHLSSource
from tests.e2e.harness import Pipeline, query


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def add_streams(settings: Settings, url: str, count: int, tag: str) -> list[int]:
    with session_scope(settings) as session:
        policy = SourcePolicy(allow_local=True)  # the benchmark's source is on 127.0.0.1
        streams = [register(session, f"{url}?copy={tag}-{i}", name=f"capacity {tag} {i}", fps=1.0, check=False,
                            policy=policy) for i in range(count)]
        return [stream.id for stream in streams]


def build_exports(settings: Settings, backend: str) -> None:
    """Build (and cache in the data dir) the export the detector processes will load, outside the timed part."""
    from detector.model import Detector

    update = {"detector_backend": backend} if backend else {}
    detector = Detector(settings.model_copy(update=update))
    print(json.dumps({"detector": detector.describe()}), flush=True)


def trial(settings: Settings, url: str, count: int, args, log_dir: Path, detectors: int = 1) -> dict:
    tag = uuid.uuid4().hex[:6]
    stream_ids = add_streams(settings, url, count, tag)
    overrides = {"STREAMSCOPE_DETECTOR_BACKEND": args.backend} if args.backend else {}
    threads = args.threads if args.threads is not None else (0 if detectors == 1 else 1)
    overrides["STREAMSCOPE_DETECTOR_THREADS"] = str(threads)
    overrides["STREAMSCOPE_MODEL_CACHE_DIR"] = str(settings.models_dir)  # the export build_exports made
    if args.scale_out:  # an overloaded detector lets a stream fall silent for longer than the harness's 4 s
        overrides["STREAMSCOPE_WINDOW_IDLE_TIMEOUT_S"] = "30"
    pipeline = Pipeline(settings, log_dir / f"n{count}-d{detectors}-{tag}", overrides=overrides)
    names = ["detector"] if detectors == 1 else [f"detector-{i}" for i in range(detectors)]
    probe = subscribe(settings, settings.topic(pipeline.overrides["STREAMSCOPE_DETECTIONS_TOPIC"]),
                      f"capacity-probe-{tag}")
    lags: list[tuple[float, float]] = []  # (seconds since start, lag)
    try:
        pipeline.start("aggregator", "aggregator")
        for name in names:
            pipeline.start(name, "detector", "--json")
        ready = time.time() + args.startup  # the model loads (exports were built beforehand) before frames flow
        while not all("detector consuming" in pipeline.log(name) for name in names) and time.time() < ready:
            time.sleep(0.5)
        started = time.time()
        chosen = [arg for stream_id in stream_ids for arg in ("--stream", str(stream_id))]
        pipeline.start("reader", "reader", *chosen, "--duration", str(args.seconds))
        deadline = started + args.seconds + 5
        while time.time() < deadline:
            _receive(probe, lags, started)
        pipeline.wait("reader", 60)
        drain_started = time.time()
        idle_since = time.time()
        while time.time() - idle_since < 5 and time.time() - drain_started < 120:
            if _receive(probe, lags, started):
                idle_since = time.time()
        drained_s = max(0.0, idle_since - drain_started)
        # the idle timeout closes the last ones
        _wait_for_windows(settings, stream_ids, len(lags), timeout=90 if args.scale_out else 60)
    finally:
        pipeline.stop_all()
        probe.close()
    half = [lag for at, lag in lags if args.seconds / 2 <= at <= args.seconds]
    rate = len(half) / (args.seconds / 2)
    published = _published(pipeline)
    aggregated = _aggregated(settings, stream_ids)
    per_process = [_detector_frames(pipeline.log(name)) for name in names]
    result = {
        "streams": count, "detectors": detectors, "threads_per_detector": threads,
        "frames_per_detector": per_process, "detections_messages": len(lags), "published": published,
        "aggregated_frames": int(aggregated),
        "rate_second_half": round(rate, 2), "max_lag_second_half_s": round(max(half), 2) if half else None,
        "median_lag_second_half_s": round(statistics.median(half), 2) if half else None,
        "drain_after_readers_s": round(drained_s, 1), "load_average": round(os.getloadavg()[0], 2),
    }
    result["sustained"] = bool(half) and max(half) < args.max_lag and rate >= 0.9 * count
    late = _late(settings, stream_ids)
    result["late_frames"] = late
    result["nothing_lost"] = bool(published) and int(aggregated) + late == published
    return result


def _late(settings: Settings, stream_ids: list[int]) -> int:
    rows = query(settings, "SELECT count(*) AS n FROM late_detections WHERE stream_id = ANY(:ids)", ids=stream_ids)
    return int(rows[0]["n"])


def _detector_frames(log: str) -> int | None:
    """The frames a detector process says it processed (its ``--json`` line at exit)."""
    for line in reversed(log.splitlines()):
        if line.startswith("{") and '"frames"' in line:
            return json.loads(line)["frames"]
    return None


def _aggregated(settings: Settings, stream_ids: list[int]) -> int:
    rows = query(settings, "SELECT COALESCE(SUM(frames), 0) AS n FROM frame_windows WHERE stream_id = ANY(:ids)",
                 ids=stream_ids)
    return int(rows[0]["n"])


def _wait_for_windows(settings: Settings, stream_ids: list[int], detected: int, timeout: float) -> None:
    deadline = time.time() + timeout
    while _aggregated(settings, stream_ids) < detected and time.time() < deadline:
        time.sleep(1)


def _receive(probe, lags: list, started: float) -> int:
    import pulsar

    try:
        message = probe.receive(timeout_millis=500)
    except pulsar.Timeout:
        return 0
    now = time.time()
    detection = decode_detections(message.data())
    lags.append((now - started, now - detection.capture_time.timestamp()))
    probe.acknowledge(message)
    return 1


def _published(pipeline: Pipeline) -> int | None:
    """Frames the reader says it published (its summary lines)."""
    import re

    numbers = re.findall(r"(\d+) frames published", pipeline.log("reader"))
    return sum(int(n) for n in numbers) if numbers else None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--streams", default="8,12,16,20", help="Comma-separated stream counts, tried in order.")
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--startup", type=float, default=90.0, help="Longest wait for the detector to start.")
    parser.add_argument("--max-lag", type=float, default=10.0)
    parser.add_argument("--backend", default="", help="Detector backend (default: the detector's setting).")
    parser.add_argument("--detectors", default="1", help="Comma-separated detector process counts: with more "
                        "than one, the first stream count is offered to each (scale-out on this machine).")
    parser.add_argument("--threads", type=int, default=None, help="CPU threads per detector (default: all for "
                        "one process, 1 each when several share the machine).")
    args = parser.parse_args()
    detector_counts = [int(n) for n in args.detectors.split(",")]
    args.scale_out = len(detector_counts) > 1
    results = []
    with tempfile.TemporaryDirectory(prefix="streamscope-capacity-") as tmp:
        settings = Settings(data_dir=Path(tmp) / "data", database_url="", pulsar_url="",
                            embedded_pulsar_port=free_port())
        os.environ["STREAMSCOPE_DATA_DIR"] = str(settings.data_dir)
        embedded.up(settings)
        try:
            build_exports(settings, args.backend)
            with LiveHLSSource("bus", width=1280, height=720, fps=10) as source:
                if len(detector_counts) > 1:
                    plan = [(int(args.streams.split(",")[0]), n) for n in detector_counts]
                else:
                    plan = [(int(n), detector_counts[0]) for n in args.streams.split(",")]
                for count, detectors in plan:
                    result = trial(settings, source.url, count, args, Path(tmp) / "logs", detectors)
                    results.append(result)
                    print(json.dumps(result), flush=True)
        finally:
            close_clients()
            dispose_engines()
            embedded.down(settings)
    if len(detector_counts) > 1:
        rates = [r["rate_second_half"] for r in results]
        print(json.dumps({"scale_out": [{k: r[k] for k in ("detectors", "rate_second_half", "frames_per_detector",
                                                             "published", "aggregated_frames", "late_frames",
                                                             "nothing_lost", "load_average")} for r in results],
                          "rate_never_fell_by_5_percent": all(b >= 0.95 * a for a, b in itertools.pairwise(rates)),
                          "nothing_lost": all(r["nothing_lost"] for r in results)}))
        return
    sustained = [r["streams"] for r in results if r["sustained"]]
    print(json.dumps({"most_streams_sustained": max(sustained) if sustained else 0, "trials": results}))


if __name__ == "__main__":
    main()
