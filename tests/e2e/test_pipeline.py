"""The whole pipeline end to end, and under faults, with every component a real process.

synthetic live stream (bus.jpg: a bus and 4 people) → reader → Pulsar → detector (real YOLO) → Pulsar →
aggregator → Postgres → dbt → API. The fault runs replay one recorded set of frames, so each disturbed run is
compared with an undisturbed run on the same input: no window may be missing and none counted twice.
"""

from __future__ import annotations

import signal
import time
from pathlib import Path

import pytest

from core import embedded
from core.broker import close_clients, create_producer, send, subscribe
from core.db.engine import dispose_engines, session_scope
from core.messages import FrameMeta, decode_frame, encode_frame
from core.registry import register
from core.source_policy import SourcePolicy
from stream_reader.testsrc import KNOWN_PEOPLE, LiveHLSSource
from tests.conftest import free_port, make_runtime
from tests.e2e.harness import Pipeline, get_json, query, wait_until

READ_SECONDS = 30
FPS = 2


def add_stream(settings, url: str, name: str) -> int:
    with session_scope(settings) as session:
        # The test streams are on 127.0.0.1: allowed explicitly (the harness sets it for the reader too).
        stream = register(session, url, name=name, fps=FPS, check=False, policy=SourcePolicy(allow_local=True))
        return stream.id


def window_table(settings, stream_id: int) -> tuple[list[tuple], list[tuple]]:
    """The stream's windows and per-class rows, without the stream id (so runs can be compared)."""
    frames = query(settings, "SELECT window_start, frames FROM frame_windows WHERE stream_id = :s ORDER BY 1",
                   s=stream_id)
    classes = query(settings, "SELECT window_start, object_class, frames, detections, max_per_frame, min_per_frame "
                              "FROM object_stats WHERE stream_id = :s ORDER BY 1, 2", s=stream_id)
    return [tuple(r.values()) for r in frames], [tuple(r.values()) for r in classes]


@pytest.fixture(scope="module")
def own_runtime(tmp_path_factory):
    """A runtime of this module's own: the fault tests restart its servers."""
    with make_runtime(tmp_path_factory.mktemp("e2e") / "data") as settings:
        yield settings


@pytest.mark.slow  # 110 s: the chain's parts are in the default suite; make demo and make test-slow run it whole
def test_live_stream_to_rankings_api(own_runtime, tmp_path) -> None:
    settings = own_runtime
    pipeline = Pipeline(settings, tmp_path / "logs")
    with LiveHLSSource("bus", width=1280, height=720, fps=15) as source:
        stream_id = add_stream(settings, source.url, "bus street")
        pipeline.start("detector", "detector", "--idle-exit", "15")
        # A first INT8 export (model cache cold) can outlast the aggregator's idle exit: start it once the
        # detector consumes.
        wait_until(lambda: "detector consuming" in pipeline.log("detector"), 300, what="the detector subscribed")
        pipeline.start("aggregator", "aggregator", "--idle-exit", "20")
        pipeline.run("reader", "--stream", str(stream_id), "--duration", str(READ_SECONDS), timeout=READ_SECONDS + 60)
    pipeline.wait("detector", 120)
    pipeline.wait("aggregator", 120)
    published = query(settings, "SELECT sum(frames_published) AS n FROM reader_sessions WHERE stream_id = :s",
                      s=stream_id)[0]["n"]
    aggregated = query(settings, "SELECT sum(frames) AS n FROM frame_windows WHERE stream_id = :s", s=stream_id)[0]["n"]
    assert published >= READ_SECONDS * FPS * 0.8
    assert aggregated == published, "every published frame is counted once"

    pipeline.run("dbt", "build", "--vars", '{"min_frames": 10}')
    port = free_port()
    pipeline.start("api", "api", "--host", "127.0.0.1", "--port", str(port))
    base = f"http://127.0.0.1:{port}/api"
    try:
        wait_until(lambda: _answers(base + "/health"), 60, what="the API")
        people = get_json(base + "/rankings?object=person&window=24h")
        row = next(item for item in people["items"] if item["stream"]["id"] == stream_id)
        expected = KNOWN_PEOPLE["bus"]
        # bus.jpg's fourth person stands cut off at the picture's left edge, and the pan moves them in and out of
        # view: at the default confidence (0.35, chosen against ground truth in docs/benchmarks/fidelity.md) they
        # are found in about a fifth of the frames (measured: torch 3.3, OpenVINO INT8 3.2 per frame). So: never
        # fewer than the three people in full view, never more than the four plus 10%.
        assert expected - 1 <= row["score"] <= 1.1 * expected, row
        buses = get_json(base + "/rankings?object=bus&window=24h")
        assert stream_id in [item["stream"]["id"] for item in buses["items"]]
    finally:
        pipeline.stop_all()


def _answers(url: str) -> bool:
    try:
        get_json(url)
        return True
    except OSError:
        return False


@pytest.fixture(scope="module")
def recorded_frames(own_runtime, tmp_path_factory):
    """Frames of a real reader run on the bus stream, recorded once for every fault run to replay."""
    settings = own_runtime
    pipeline = Pipeline(settings, tmp_path_factory.mktemp("record"))
    consumer = subscribe(settings, pipeline.overrides["STREAMSCOPE_FRAMES_TOPIC"], "recorder")
    with LiveHLSSource("bus", width=960, height=540, fps=15) as source:
        stream_id = add_stream(settings, source.url, "recorded")
        pipeline.run("reader", "--stream", str(stream_id), "--duration", "25", timeout=90)
    frames = []
    while True:
        try:
            message = consumer.receive(timeout_millis=3000)
        except Exception:  # pulsar.Timeout: the topic is drained
            break
        frames.append(decode_frame(message.properties(), message.event_timestamp(), message.data()))
        consumer.acknowledge(message)
    consumer.close()
    assert len(frames) >= 40
    return frames


def replay(settings, frames, stream_id: int, topic: str) -> None:
    producer = create_producer(settings, topic)
    for frame in frames:
        meta = frame.meta
        send(producer, encode_frame(FrameMeta(stream_id, meta.session_id, meta.seq, meta.capture_time,
                                              meta.width, meta.height), frame.jpeg))
    producer.flush()
    producer.close()


def run_with_fault(settings, frames, tmp_path: Path, name: str, fault) -> tuple[list, list]:
    # A window also closes when its stream idles (on the aggregator's arrival clock) longer than the idle timeout;
    # frames after a longer fault re-open it (late data within the horizon), so 20 s only saves rewrites.
    pipeline = Pipeline(settings, tmp_path / name, overrides={"STREAMSCOPE_WINDOW_IDLE_TIMEOUT_S": "20"})
    stream_id = add_stream(settings, f"http://127.0.0.1:1/{name}.m3u8", name)
    replay(settings, frames, stream_id, pipeline.overrides["STREAMSCOPE_FRAMES_TOPIC"])
    pipeline.start("detector", "detector", "--idle-exit", "15")
    # The first run exports the INT8 model (35-60 s on a loaded machine): the aggregator's idle exit counts from
    # when detections can flow, not from the export.
    wait_until(lambda: "detector consuming" in pipeline.log("detector"), 300, what="the detector subscribed")
    pipeline.start("aggregator", "aggregator", "--idle-exit", "40")
    if fault is not None:
        wait_until(lambda: query(settings, "SELECT count(*) AS n FROM frame_windows WHERE stream_id = :s",
                                 s=stream_id)[0]["n"] >= 1, 180, what="a first window")
        fault(pipeline)
    pipeline.wait("detector", 300)
    pipeline.wait("aggregator", 300)
    return window_table(settings, stream_id)


def restart_pulsar(pipeline: Pipeline) -> None:
    close_clients()
    embedded.stop_pulsar(pipeline.settings)
    time.sleep(3)
    embedded.start_pulsar(pipeline.settings)


def restart_postgres(pipeline: Pipeline) -> None:
    dispose_engines()
    embedded.stop_postgres(pipeline.settings)
    time.sleep(10)
    embedded.start_postgres(pipeline.settings)


def kill_and_restart_workers(pipeline: Pipeline) -> None:
    pipeline.kill("detector", signal.SIGKILL)
    pipeline.kill("aggregator", signal.SIGKILL)
    # Only the workers are restarted: nothing is repaired by hand (core.broker copes with pulsar-lite's stalls).
    pipeline.start("detector", "detector", "--idle-exit", "15")
    pipeline.start("aggregator", "aggregator", "--idle-exit", "40")


@pytest.fixture(scope="module")
def baseline(own_runtime, recorded_frames, tmp_path_factory):
    """The undisturbed run on the recorded frames: every frame counted once."""
    table = run_with_fault(own_runtime, recorded_frames, tmp_path_factory.mktemp("baseline"), "baseline", None)
    frames_per_window, per_class = table
    assert sum(n for _, n in frames_per_window) == len(recorded_frames)
    assert any(cls == "person" for _, cls, *_ in per_class)
    return table


@pytest.mark.slow
@pytest.mark.parametrize(
    "fault", [restart_pulsar, restart_postgres, kill_and_restart_workers], ids=["pulsar", "postgres", "kill9"]
)
def test_a_fault_changes_no_window(own_runtime, recorded_frames, baseline, tmp_path, fault) -> None:
    assert run_with_fault(own_runtime, recorded_frames, tmp_path, fault.__name__, fault) == baseline


@pytest.mark.slow
def test_source_dropped_and_restored_loses_no_window(own_runtime, tmp_path) -> None:
    settings = own_runtime
    pipeline = Pipeline(settings, tmp_path / "logs")
    with LiveHLSSource("zidane", width=960, height=540, fps=15) as source:
        stream_id = add_stream(settings, source.url, "dropped")
        pipeline.start("detector", "detector", "--idle-exit", "20")
        pipeline.start("aggregator", "aggregator", "--idle-exit", "25")
        pipeline.start("reader", "reader", "--stream", str(stream_id), "--duration", "45")
        time.sleep(12)
        source.stop_producer()
        time.sleep(8)
        source.start_producer()
        pipeline.wait("reader", 120)
    pipeline.wait("detector", 180)
    pipeline.wait("aggregator", 180)
    sessions = query(settings, "SELECT count(*) AS n, sum(frames_published) AS published FROM reader_sessions "
                               "WHERE stream_id = :s", s=stream_id)[0]
    assert sessions["n"] >= 2, "the reader reconnected after the source came back"
    frames_per_window, _ = window_table(settings, stream_id)
    assert sum(n for _, n in frames_per_window) == sessions["published"]
    window = int(pipeline.overrides["STREAMSCOPE_WINDOW_SECONDS"])
    assert all(n <= FPS * window + 1 for _, n in frames_per_window), "no window counted twice"
