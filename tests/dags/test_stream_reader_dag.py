"""dag.test() of stream_reader against the real runtime: two live HLS streams are read into the frames topic
by one mapped reader task each (`streamscope reader --stream ID --duration S`); a paused stream gets none."""

from __future__ import annotations

import time

import pytest

from core import registry
from core.broker import subscribe
from core.db.engine import session_scope
from core.settings import get_settings
from core.source_policy import SourcePolicy
from stream_reader.testsrc import LiveHLSSource

DURATION_S = 6


@pytest.fixture
def frames_topic(monkeypatch, unique_topic: str) -> str:
    """A frames topic of this test's own, seen by the reader subprocesses through the environment."""
    monkeypatch.setenv("STREAMSCOPE_FRAMES_TOPIC", unique_topic)
    monkeypatch.setenv("STREAMSCOPE_READER_METRICS_PORT", "0")
    get_settings.cache_clear()
    yield unique_topic
    get_settings.cache_clear()


def frame_keys(consumer, expected: set[str], timeout_s: float = 20.0) -> dict[str, int]:
    """Frames received per key (stream id) until every expected key was seen (or the timeout)."""
    counts: dict[str, int] = {}
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            message = consumer.receive(timeout_millis=1000)
        except Exception:  # pulsar.Timeout: nothing more yet
            if expected <= set(counts):
                break
            continue
        counts[message.partition_key()] = counts.get(message.partition_key(), 0) + 1
        consumer.acknowledge(message)
    return counts


LOCAL = SourcePolicy(allow_local=True)  # the test streams are on 127.0.0.1


@pytest.mark.slow
def test_one_reader_task_per_active_stream_frames_reach_the_topic(
    runtime, clean_tables, dagbag, frames_topic
):
    with LiveHLSSource("bus", width=320, height=180, fps=15) as bus, \
            LiveHLSSource("zidane", width=320, height=180, fps=15) as zidane:
        with session_scope(runtime) as session:
            ids = [registry.register(session, source.url, name=source.scene, fps=2.0, check=False, policy=LOCAL).id
                   for source in (bus, zidane)]
            paused = registry.register(session, "http://127.0.0.1:9/paused.m3u8", name="paused", check=False,
                                       policy=LOCAL).id
            registry.pause(session, paused)
        consumer = subscribe(runtime.model_copy(update={"frames_topic": frames_topic}), frames_topic, "dag-test")
        try:
            run = dagbag.get_dag("stream_reader").test(run_conf={"duration_s": DURATION_S})
            assert run.state == "success"
            readers = [ti for ti in run.get_task_instances() if ti.task_id == "read_stream"]
            assert sorted(ti.rendered_map_index for ti in readers) == [f"stream {i}" for i in ids]
            assert all(ti.state == "success" for ti in readers)
            counts = frame_keys(consumer, {str(i) for i in ids})
        finally:
            consumer.close()
    assert set(counts) == {str(i) for i in ids}, counts  # both streams' frames, none of the paused one
    assert all(n >= 3 for n in counts.values()), counts
