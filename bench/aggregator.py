"""Benchmark: detection messages per second from Pulsar into Postgres, the aggregator vs a naive consumer.

Both run in this process against an embedded runtime of their own (a temporary data directory): the same kind
of messages (one per stream and second of event time, 0-6 objects of 3 classes with track ids that live for a
while) are published first, then consumed. The aggregator counts from its first received batch to its last
commit; the naive consumer decodes each message, upserts its counts into the same tables, commits and
acknowledges, one message at a time (what the earlier system did, minus the bugs).

    PYTHONPATH=$PWD python bench/aggregator.py [--messages 60000] [--streams 50] [--naive 1000] [--rounds 3]

Rounds alternate the two consumers so that both see the same machine load (the figures that matter on a shared
machine are the ratios measured side by side).
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import random
import statistics
import sys
import tempfile
import threading
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

from core import embedded
from core.broker import close_clients, create_producer, subscribe
from core.db.engine import dispose_engines, session_scope
from core.db.models import Stream
from core.messages import Detection, DetectionMessage, decode_detections, encode_detections
from core.settings import Settings

T0 = datetime(2026, 1, 5, 8, 0, tzinfo=UTC)
CLASSES = [(0, "person"), (2, "car"), (9, "traffic light")]


def make_messages(stream_ids: list[int], count: int, seed: int = 7) -> list[bytes]:
    """``count`` encoded detection messages, interleaved over the streams, one per stream per second."""
    rng = random.Random(seed)
    tracks = {sid: [] for sid in stream_ids}  # live (class, track id, frames left) per stream
    next_track = dict.fromkeys(stream_ids, 1)
    out = []
    for i in range(count):
        sid = stream_ids[i % len(stream_ids)]
        second = i // len(stream_ids)
        live = [(c, t, left - 1) for c, t, left in tracks[sid] if left > 1]
        while len(live) < rng.randint(0, 6):
            live.append((rng.choice(CLASSES), next_track[sid], rng.randint(5, 40)))
            next_track[sid] += 1
        tracks[sid] = live
        detections = [
            Detection(class_id=c[0], class_name=c[1], confidence=0.6, box=(0.1, 0.2, 0.3, 0.4), track_id=t)
            for c, t, _ in live
        ]
        message = DetectionMessage(
            stream_id=sid, session_id="00000000-0000-0000-0000-000000000001", seq=second,
            capture_time=T0 + timedelta(seconds=second), model="yolo11n", weights_hash="0ebbc80d",
            image_width=1280, image_height=720, inference_ms=42.0, detections=detections,
        )
        out.append(encode_detections(message).payload)
    return out


def register(settings: Settings, count: int) -> list[int]:
    with session_scope(settings) as session:
        streams = [Stream(canonical_id=f"bench:{uuid.uuid4().hex}", url="http://127.0.0.1/b.m3u8", kind="hls",
                          name=f"bench-{i}", fps=1.0) for i in range(count)]
        session.add_all(streams)
        session.flush()
        return [s.id for s in streams]


def publish(settings: Settings, topic: str, payloads: list[bytes], stream_of: list[int]) -> None:
    producer = create_producer(settings, topic)
    for payload, sid in zip(payloads, stream_of, strict=True):
        producer.send_async(payload, lambda *_: None, partition_key=str(sid))
    producer.flush()
    producer.close()


def run_aggregator(settings: Settings, topic: str, profile: bool) -> tuple[int, float]:
    """(messages, seconds from the first batch received to the last commit)."""
    from aggregator import worker

    profiler = cProfile.Profile() if profile else None
    if profiler:
        profiler.enable()
    summary = worker.run(settings, topic=topic, subscription="bench", idle_exit_s=3.0, stop=threading.Event())
    if profiler:
        profiler.disable()
        pstats.Stats(profiler).sort_stats("cumulative").print_stats(30)
        pstats.Stats(profiler).sort_stats("tottime").print_stats(25)
    return summary.received, summary.active_seconds


NAIVE_FRAME = """
INSERT INTO frame_windows (stream_id, window_start, model, window_end, frames, sessions, first_capture_at,
                           last_capture_at)
VALUES (%s, %s, %s, %s, 1, 1, %s, %s)
ON CONFLICT (stream_id, window_start, model) DO UPDATE SET frames = frame_windows.frames + 1,
    last_capture_at = GREATEST(frame_windows.last_capture_at, EXCLUDED.last_capture_at)
"""
NAIVE_CLASS = """
INSERT INTO object_stats (stream_id, window_start, model, object_class, window_end, class_id, frames, detections,
                          mean_per_frame, max_per_frame, min_per_frame, unique_objects)
VALUES (%s, %s, %s, %s, %s, %s, 1, %s, %s, %s, 0, 0)
ON CONFLICT (stream_id, window_start, model, object_class) DO UPDATE SET
    detections = object_stats.detections + EXCLUDED.detections,
    max_per_frame = GREATEST(object_stats.max_per_frame, EXCLUDED.max_per_frame)
"""


def run_naive(settings: Settings, topic: str, count: int, window_s: int) -> tuple[int, float]:
    """Receive, decode, upsert, commit and acknowledge one message at a time."""
    import psycopg

    from aggregator.store import libpq_url

    consumer = subscribe(settings, topic, "naive")
    conn = psycopg.connect(libpq_url(embedded.database_url(settings)))
    done, started = 0, None
    while done < count:
        message = consumer.receive(timeout_millis=10_000)
        started = started or time.perf_counter()
        detection = decode_detections(message.data())
        moment = detection.capture_time
        start = datetime.fromtimestamp(int(moment.timestamp()) // window_s * window_s, tz=UTC)
        end = start + timedelta(seconds=window_s)
        with conn.cursor() as cur:
            cur.execute(NAIVE_FRAME, (detection.stream_id, start, detection.model, end, moment, moment))
            counts: dict[tuple[int, str], int] = {}
            for d in detection.detections:
                counts[(d.class_id, d.class_name)] = counts.get((d.class_id, d.class_name), 0) + 1
            for (class_id, name), n in counts.items():
                cur.execute(NAIVE_CLASS, (detection.stream_id, start, detection.model, name, end, class_id, n,
                                          float(n), n))
        conn.commit()
        consumer.acknowledge(message)
        done += 1
    elapsed = time.perf_counter() - started
    conn.close()
    consumer.close()
    return done, elapsed


def one_round(settings: Settings, args: argparse.Namespace) -> tuple[float, float]:
    """Publish fresh messages for fresh streams, then run both consumers; returns their rates (messages/s)."""
    streams, naive_streams = register(settings, args.streams), register(settings, args.streams)
    fast_topic, naive_topic = f"bench-agg-{uuid.uuid4().hex[:6]}", f"bench-naive-{uuid.uuid4().hex[:6]}"
    subscribe(settings, fast_topic, "bench").close()
    subscribe(settings, naive_topic, "naive").close()
    payloads, naive_payloads = make_messages(streams, args.messages), make_messages(naive_streams, args.naive)
    publish(settings, fast_topic, payloads, [streams[i % len(streams)] for i in range(len(payloads))])
    publish(settings, naive_topic, naive_payloads,
            [naive_streams[i % len(naive_streams)] for i in range(len(naive_payloads))])
    naive_n, naive_s = run_naive(settings, naive_topic, args.naive, settings.window_seconds)
    fast_n, fast_s = run_aggregator(settings, fast_topic, args.profile)
    print(f"  naive {naive_n:>7} messages in {naive_s:6.2f} s = {naive_n / naive_s:>8,.0f}/s   "
          f"aggregator {fast_n:>7} messages in {fast_s:6.2f} s = {fast_n / fast_s:>8,.0f}/s   "
          f"ratio {(fast_n / fast_s) / (naive_n / naive_s):5.1f}x", flush=True)
    return naive_n / naive_s, fast_n / fast_s


def main() -> None:
    # Run as a file, this script's folder comes first on sys.path, and its name would shadow the aggregator package.
    sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=60_000, help="messages for the aggregator per round")
    parser.add_argument("--streams", type=int, default=50)
    parser.add_argument("--naive", type=int, default=1_000, help="messages for the (slow) naive consumer per round")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--profile", action="store_true", help="print a cProfile of each aggregator run")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="streamscope-bench-") as tmp:
        settings = Settings(data_dir=Path(tmp) / "data", database_url="", pulsar_url="",
                            embedded_pulsar_port=_free_port(), aggregator_metrics_port=0)
        embedded.up(settings)
        try:
            sample = make_messages([1], 1_000)
            print(f"{args.rounds} rounds; {args.streams} streams; messages of {sum(map(len, sample)) / 1000:.0f} bytes "
                  f"on average ({sum(len(decode_detections(p).detections) for p in sample) / 1000:.1f} objects)")
            rates = [one_round(settings, args) for _ in range(args.rounds)]
            naive, fast = statistics.median(r[0] for r in rates), statistics.median(r[1] for r in rates)
            ratios = sorted(f / n for n, f in rates)
            each = " / ".join(f"{r:.1f}x" for r in ratios)
            print(f"median: naive {naive:,.0f} messages/s, aggregator {fast:,.0f} messages/s; "
                  f"ratio per round {each} (median {statistics.median(ratios):.1f}x)")
        finally:
            close_clients()
            dispose_engines()
            embedded.down(settings)


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


if __name__ == "__main__":
    main()
