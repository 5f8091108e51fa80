"""Reader leases: one publishing run per stream, and consecutive scheduled runs handing over one session.

The store's rules against the real Postgres, then three overlapping runs of `streamscope reader` started the way
the stream_reader DAG starts them, on a real live HLS stream and the real broker.
"""

from __future__ import annotations

import itertools
import os
import threading
import time
from dataclasses import dataclass
from datetime import timedelta

import pytest
from sqlalchemy import text

from core.db.engine import get_engine
from stream_reader.connection import _after
from stream_reader.lease import Acquired, Continuation, HolderView, LeaseStore
from stream_reader.testsrc import LiveHLSSource, read_frame_number
from tests.reader.conftest import add_stream, decode, sessions_of


def test_a_held_lease_queues_the_next_run_and_hands_it_the_session(reader_settings) -> None:
    store = LeaseStore(reader_settings)
    stream_id = add_stream(reader_settings, "http://127.0.0.1:9/live.m3u8", fps=1)
    assert store.acquire(stream_id, "run-1", ready=False) == Acquired(None)
    assert store.acquire(stream_id, "run-2", ready=False) is None  # held: run-2 waits as the successor
    assert store.renew(stream_id, "run-1") == HolderView(True, successor_waiting=True)
    assert store.acquire(stream_id, "run-3", ready=True) is None  # a third run does not displace the successor
    assert store.acquire(stream_id, "run-2", ready=True) is None  # run-2's capture delivers
    assert store.renew(stream_id, "run-1") == HolderView(True, True, successor_ready=True)
    assert not store.release(stream_id, "run-2", Continuation("session-b", 0))  # only the holder releases
    assert store.release(stream_id, "run-1", Continuation("session-a", 13, 61.5))
    assert store.renew(stream_id, "run-1") == HolderView(held=False)
    assert store.acquire(stream_id, "run-2", ready=True) == Acquired(Continuation("session-a", 13, 61.5))
    assert store.renew(stream_id, "run-2") == HolderView(True)  # run-2's successor entry cleared


def test_a_lapsed_holder_is_replaced_with_a_new_session(reader_settings) -> None:
    """A run that stops renewing (killed) loses the stream after the ttl; what it sent last is unknown, so the
    next run starts a session of its own. The lapse is made in the table, not waited for."""
    store = LeaseStore(reader_settings)
    stream_id = add_stream(reader_settings, "http://127.0.0.1:9/live.m3u8", fps=1)
    assert store.acquire(stream_id, "killed", ready=True) == Acquired(None)
    store.renew(stream_id, "killed")
    assert store.acquire(stream_id, "next", ready=True) is None
    with get_engine(reader_settings).begin() as conn:
        conn.execute(text("UPDATE reader_leases SET expires_at = now() - interval '1 second' WHERE stream_id = :s"),
                     {"s": stream_id})
    assert store.acquire(stream_id, "next", ready=True) == Acquired(None)
    assert store.renew(stream_id, "killed") == HolderView(held=False)


@dataclass
class _Sample:
    media_s: float | None


def test_a_run_taking_over_sends_what_follows_the_previous_runs_last_frame() -> None:
    kept = [(_Sample(m), float(i)) for i, m in enumerate([10.0, 10.5, 11.0, 11.5])]
    assert _after(10.5, kept) == kept[2:]  # behind: 10.0 and 10.5 were sent already; ahead: 11.0 is not lost
    assert _after(11.5, kept) == []  # this capture lags: nothing new yet
    assert _after(500.0, kept) == kept[-1:]  # another time base (an RTSP capture starts at 0): the newest only
    assert _after(None, kept) == kept[-1:]


@pytest.mark.slow
def test_three_consecutive_scheduled_runs_read_one_session_at_the_configured_rate(reader_settings, collector) -> None:
    """Runs start every INTERVAL_S and read for INTERVAL_S + OVERLAP_S, as the DAG's (max_active_runs=2) do: one
    session id across the three, every sequence number once, and frames per minute within ±10% of the rate."""
    from dags.reader_tasks import run_reader

    interval_s, overlap_s, fps = 20, 8, 2.0
    env = {**os.environ, "STREAMSCOPE_FRAMES_TOPIC": reader_settings.frames_topic,
           "STREAMSCOPE_READER_METRICS_PORT": "0", "STREAMSCOPE_READER_HANDOVER_MAX_S": "20"}
    settings = reader_settings.model_copy(update={"reader_handover_max_s": 20})
    with LiveHLSSource("colors", width=640, height=360, fps=15) as source:
        stream_id = add_stream(reader_settings, source.url, fps=fps)
        errors: list[BaseException] = []

        def run() -> None:
            try:
                run_reader(stream_id, interval_s + overlap_s, env=env, settings=settings)
            except BaseException as error:
                errors.append(error)

        runs = []
        started = time.monotonic()
        for k in range(3):
            # the scheduler's clock: run k starts k intervals after the first
            while time.monotonic() < started + k * interval_s:
                time.sleep(0.2)
            runs.append(threading.Thread(target=run, name=f"run-{k}"))
            runs[-1].start()
        for thread in runs:
            thread.join(interval_s + overlap_s + 20 + 90)
        assert not errors, errors
    frames = sorted(collector.of(stream_id), key=lambda f: f.meta.seq)
    assert {f.meta.session_id for f in frames} == {frames[0].meta.session_id}, "one session across the runs"
    assert [f.meta.seq for f in frames] == list(range(len(frames))), "every sequence number once"
    times = [f.meta.capture_time for f in frames]
    assert all(a < b for a, b in itertools.pairwise(times)), "capture times increase with the sequence"
    numbers = [read_frame_number(decode(f)) for f in frames]
    assert all(a < b for a, b in itertools.pairwise(numbers)), "no source frame published twice"
    first, last = frames[0].meta.capture_time, frames[-1].meta.capture_time
    minutes = (last - first) / timedelta(minutes=1)
    rate = (len(frames) - 1) / minutes / 60
    # HLS segments arrive whole, so capture times come in bursts; the source's frame numbers show a gap instead.
    steps = [b - a for a, b in itertools.pairwise(numbers)]
    print(f"three runs: {len(frames)} frames over {minutes * 60:.1f} s = {rate * 60:.1f} frames/min "
          f"(configured {fps * 60:.0f}); source frames between published ones: median "
          f"{sorted(steps)[len(steps) // 2]}, largest {max(steps)}")
    assert abs(rate - fps) <= 0.1 * fps, f"{rate:.2f} frames/s against {fps}"
    assert max(steps) <= 2 * 15 / fps, f"{max(steps)} source frames skipped at once (a gap at a handover)"
    assert len(sessions_of(reader_settings, stream_id)) == 3  # one health row per run
