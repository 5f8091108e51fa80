"""The aggregator against the real servers: exact rows, kill -9, duplicates, two processes, Postgres outage."""

from __future__ import annotations

import json
import time
from datetime import timedelta

import pytest
from typer.testing import CliRunner

from core import embedded
from core.broker import subscribe
from core.cli import app
from core.db.engine import dispose_engines
from tests.aggregator.helpers import (
    AggregatorProcess,
    count_windows,
    diff,
    publish,
    reference,
    register_streams,
    tables,
    wait_until,
)
from tests.aggregator.sim import T0, message
from tests.conftest import free_port, runtime_settings

S = timedelta(seconds=1)


def traffic(stream_ids: list[int], seconds: range, session: str = "r1") -> list:
    """One frame per second per stream, interleaved; people come and go (track ids), cars sometimes; frames
    without objects; now and then a duplicate and a frame later than the allowed lateness."""
    out = []
    for t in seconds:
        for n, stream_id in enumerate(stream_ids):
            people = [("person", 100 * n + t // 7 + k) for k in range((t + n) % 4)]
            cars = [("car", 1_000 + t // 13)] if (t * (n + 1)) % 5 == 0 else []
            out.append(message(stream_id, session, t, t * 1_000, people + cars))
            if t % 17 == 5:
                out.append(out[-1])  # a duplicate, right behind
            if t % 23 == 22 and t > 30:
                out.append(message(stream_id, session, 100_000 + t, (t - 25) * 1_000, [("person", 1)]))  # late
    return out


def test_known_messages_give_exact_rows_and_stats(settings, unique_topic, tmp_path) -> None:
    (stream, unregistered) = (*register_streams(settings, 1), 999_999)
    dead_reader = subscribe(settings, settings.dead_letter_topic(unique_topic), "inspect")
    subscribe(settings, unique_topic, "agg").close()  # the subscription exists before the first message
    dup = message(stream, "a", 1, 4_000, [("person", 1), ("car", 7)])
    publish(settings, unique_topic, [
        message(stream, "a", 0, 0, [("person", 1), ("person", 2)]),
        dup,
        dup,  # the same stream, session and sequence: counted once
        message(stream, "a", 2, 8_000, []),  # nothing in this frame: a zero, not a gap
        message(stream, "a", 3, 12_000, [("person", 2), ("person", 3)]),
        message(stream, "a", 4, 13_500, []),  # event time 13.5 s = 10 s + 3 s lateness: [0, 10) closes
        message(stream, "a", 5, 9_000, [("person", 8)]),  # 4.5 s behind: beyond the 3.6 s horizon, put aside
        message(stream, "b", 0, 15_000, [("person", 1)]),  # a new reader session: track 1 is a new object
        dup,  # after its window was written: still a duplicate
        message(unregistered, "a", 0, 0, []),
        b"this is not a detection message",
    ])
    summary = AggregatorProcess(settings, unique_topic, "agg", tmp_path, idle_exit=1.5,
                                STREAMSCOPE_LATE_HORIZON_HOURS="0.001").wait()
    assert summary | {"seconds": 0, "active_seconds": 0} == {
        "received": 11, "counted": 6, "duplicates": 2, "late": 1, "dead_letters": 2, "streams_lost": 0, "windows": 2,
        "store_retries": 0, "seconds": 0, "active_seconds": 0,
    }
    t = lambda seconds: T0 + seconds * S  # noqa: E731
    assert tables(settings, [stream]) == {
        "frame_windows": {
            (stream, t(0), "m1", t(10), 3, 1, t(0), t(8)),
            (stream, t(10), "m1", t(20), 3, 2, t(12), t(15)),
        },
        "object_stats": {
            (stream, t(0), "m1", "car", t(10), 2, 3, 1, 1 / 3, 1, 0, 1),
            (stream, t(0), "m1", "person", t(10), 0, 3, 3, 1.0, 2, 0, 2),
            (stream, t(10), "m1", "person", t(20), 0, 3, 3, 1.0, 2, 0, 2),  # track 2 was counted in [0, 10)
        },
        "late_detections": {(stream, "a", 5, t(9))},
    }
    reasons = sorted(dead_reader.receive(timeout_millis=10_000).properties()["dead_letter_reason"] for _ in range(2))
    assert reasons[0].startswith("invalid detection message") and reasons[1] == f"stream {unregistered} is not " \
        "registered"
    dead_reader.close()

    shown = CliRunner().invoke(app, ["stats", "--stream", str(stream), "--json"])
    assert shown.exit_code == 0, shown.output
    (entry,) = json.loads(shown.stdout)
    assert (entry["window_start"], entry["frames"]) == (t(10).isoformat(), 3)
    assert {c["object_class"]: (c["window_start"], c["mean_per_frame"], c["unique_objects"])
            for c in entry["classes"]} == {"person": (t(10).isoformat(), 1.0, 2), "car": (t(0).isoformat(), 1 / 3, 1)}
    text_out = CliRunner().invoke(app, ["stats", "--since", "3650d"])
    assert text_out.exit_code == 0 and f"stream {stream} 'agg-0' (m1)" in text_out.stdout
    assert "person" in text_out.stdout
    recent = CliRunner().invoke(app, ["stats", "--stream", str(stream), "--since", "1h", "--json"])
    assert json.loads(recent.stdout) == []  # these windows are months old
    assert CliRunner().invoke(app, ["stats", "--since", "soon"]).exit_code == 2


def test_kill_9_then_restart_gives_the_table_of_an_uninterrupted_run(settings, unique_topic, tmp_path) -> None:
    streams = register_streams(settings, 3)
    first, second = traffic(streams, range(0, 47)), traffic(streams, range(47, 80))
    subscribe(settings, unique_topic, "agg").close()
    publish(settings, unique_topic, first)
    port = free_port()
    horizon = {"STREAMSCOPE_LATE_HORIZON_HOURS": "0.005"}  # 18 s: the traffic's frames 25 s late are put aside
    victim = AggregatorProcess(settings, unique_topic, "agg", tmp_path, idle_exit=None,
                               STREAMSCOPE_AGGREGATOR_METRICS_PORT=str(port), **horizon)
    # [0, 10) .. [30, 40) close on event time (46 s >= 40 s + 3 s); [40, 50) stays open (in memory and snapshot).
    wait_until(lambda: count_windows(settings, streams) >= 12, 60, "four windows per stream")
    # [40, 50) of each stream open; the gauge is set last, once the batch is written and acknowledged.
    settled = {"streamscope_aggregator_open_windows": 3, "streamscope_aggregator_windows_written_total": 12}
    wait_until(lambda: settled.items() <= scrape(port).items(), 30, "metrics of the last batch")
    metrics = scrape(port)
    assert metrics["streamscope_aggregator_messages_total"] == len(first)
    assert metrics["streamscope_aggregator_windows_written_total"] == 12
    assert metrics["streamscope_aggregator_late_messages_total"] == sum(1 for m in first if m.seq >= 100_000)
    assert metrics["streamscope_aggregator_flush_seconds_count"] >= 1
    # Between batches: what it received is committed and acknowledged. (A batch in flight would come back too,
    # but pulsar-lite 0.2.0 redelivers a dead consumer's messages one per key and only when something else
    # triggers a dispatch, which a test without live traffic cannot promise.)
    time.sleep(0.5)
    victim.kill()
    written = tables(settings, streams)
    assert len(written["frame_windows"]) == 12
    publish(settings, unique_topic, second)
    summary = AggregatorProcess(settings, unique_topic, "agg", tmp_path, idle_exit=1.5, **horizon).wait()
    assert summary["counted"] > 0
    expected = reference(first + second, streams, horizon_s=18)
    got = tables(settings, streams)
    assert got == expected, diff(got, expected)
    assert len(expected["frame_windows"]) == 24 and expected["late_detections"]
    assert written["frame_windows"] <= expected["frame_windows"]


def scrape(port: int) -> dict[str, float]:
    """The aggregator's /metrics, unlabelled samples only."""
    import urllib.request

    body = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10).read().decode()
    return {line.split()[0]: float(line.split()[1]) for line in body.splitlines()
            if line and not line.startswith("#") and "{" not in line}


def test_two_processes_write_the_same_table_as_one(settings, unique_topic, tmp_path) -> None:
    streams = register_streams(settings, 12)
    messages = traffic(streams, range(0, 35))
    pair = [AggregatorProcess(settings, unique_topic, "agg", tmp_path, idle_exit=2.0, name=f"agg-{i}")
            for i in range(2)]
    for process in pair:
        process.wait_ready()
    publish(settings, unique_topic, messages)
    summaries = [process.wait() for process in pair]
    assert all(s["counted"] > 0 for s in summaries), summaries  # both took part (Key_Shared split the streams)
    assert tables(settings, streams) == reference(messages, streams)
    # Delivery is at least once: now and then (2 runs in about 40 here) pulsar-lite hands a few messages to both
    # processes; acknowledgements still in flight when the first closed its consumer would explain it. The second
    # finds them committed already: duplicates, not counted again.
    on_time = {m.identity for m in messages if m.seq < 100_000}  # the late ones carry sequences from 100,000
    assert sum(s["counted"] for s in summaries) == len(on_time), summaries
    assert sum(s["counted"] + s["duplicates"] + s["late"] for s in summaries) >= len(messages), summaries


@pytest.mark.slow
def test_postgres_stopped_for_10_s_loses_nothing(tmp_path, unique_topic) -> None:
    settings = runtime_settings(tmp_path / "data")
    embedded.up(settings)
    try:
        streams = register_streams(settings, 2)
        first, second = traffic(streams, range(0, 30)), traffic(streams, range(30, 61), session="r2")
        subscribe(settings, unique_topic, "agg").close()
        publish(settings, unique_topic, first)
        process = AggregatorProcess(settings, unique_topic, "agg", tmp_path, idle_exit=6.0)
        wait_until(lambda: count_windows(settings, streams) >= 4, 60, "two windows per stream")
        dispose_engines()
        embedded.stop_postgres(settings)
        stopped = time.monotonic()
        publish(settings, unique_topic, second)  # closes windows the aggregator cannot write now
        time.sleep(max(0.0, 10 - (time.monotonic() - stopped)))
        assert process.process.poll() is None
        embedded.start_postgres(settings)
        summary = process.wait(timeout_s=90)
        assert summary["store_retries"] > 0
        assert "store unavailable" in process.log()
        assert tables(settings, streams) == reference(first + second, streams)
    finally:
        dispose_engines()
        from core.broker import close_clients

        close_clients()
        embedded.down(settings)


@pytest.fixture(autouse=True)
def _fresh_clients():
    """Tests here restart servers; pooled connections must not leak from one to the next."""
    yield
    dispose_engines()

