"""Helpers of the tests against the real servers: streams, publishing, aggregator subprocesses, table dumps."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterable
from pathlib import Path

from sqlalchemy import text

from aggregator.pipeline import Aggregator
from aggregator.windows import DEFAULT_HORIZON_S, WindowMachine
from core.broker import create_producer, send
from core.db.engine import session_scope
from core.db.models import Stream
from core.messages import DetectionMessage, encode_detections
from core.settings import Settings
from tests.aggregator.sim import Log, MemoryStore

REPO = Path(__file__).resolve().parents[2]
WINDOW_S, LATENESS_S, IDLE_S = 10, 3, 300  # idle timeout far beyond a test: windows close on event time


def register_streams(settings: Settings, count: int) -> list[int]:
    with session_scope(settings) as session:
        streams = [Stream(canonical_id=f"test:{uuid.uuid4().hex}", url="http://127.0.0.1/x.m3u8", kind="hls",
                          name=f"agg-{i}", fps=1.0) for i in range(count)]
        session.add_all(streams)
        session.flush()
        return [s.id for s in streams]


def publish(settings: Settings, topic: str, messages: Iterable[DetectionMessage | bytes]) -> None:
    producer = create_producer(settings, topic)
    for item in messages:
        if isinstance(item, bytes):
            producer.send(item, partition_key="0")
        else:
            send(producer, encode_detections(item), callback=lambda *_: None)
    producer.flush()
    producer.close()


def aggregator_env(settings: Settings, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("STREAMSCOPE_")}
    env.update(
        PYTHONPATH=f"{REPO}{os.pathsep}{env.get('PYTHONPATH', '')}",
        STREAMSCOPE_DATA_DIR=str(settings.data_dir),
        STREAMSCOPE_EMBEDDED_PULSAR_PORT=str(settings.embedded_pulsar_port),
        STREAMSCOPE_WINDOW_SECONDS=str(WINDOW_S),
        STREAMSCOPE_ALLOWED_LATENESS_SECONDS=str(LATENESS_S),
        STREAMSCOPE_WINDOW_IDLE_TIMEOUT_S=str(IDLE_S),
        STREAMSCOPE_AGGREGATOR_METRICS_PORT="0",
    )
    env.update(extra)
    return env


class AggregatorProcess:
    """``streamscope aggregator`` as a real subprocess (``python -m core.cli`` so the worktree's code runs)."""

    def __init__(self, settings: Settings, topic: str, subscription: str, log_dir: Path, *, idle_exit: float | None,
                 name: str = "agg", **env: str):
        self.log_path = log_dir / f"{name}-{uuid.uuid4().hex[:6]}.log"
        self.out_path = self.log_path.with_suffix(".out")
        args = [sys.executable, "-m", "core.cli", "aggregator", "--topic", topic, "--subscription", subscription,
                "--name", name]
        if idle_exit is not None:
            args += ["--idle-exit", str(idle_exit)]
        with open(self.log_path, "wb") as err, open(self.out_path, "wb") as out:
            self.process = subprocess.Popen(args, cwd=REPO, env=aggregator_env(settings, **env), stdout=out,
                                            stderr=err, stdin=subprocess.DEVNULL)

    def wait_ready(self, timeout_s: float = 30) -> None:
        self._wait_for(lambda: "aggregator consuming" in self.log(), timeout_s, "subscribed")

    def wait(self, timeout_s: float = 60) -> dict:
        try:
            self.process.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            self.kill()
            raise AssertionError(f"aggregator did not exit within {timeout_s} s:\n{self.log()}") from None
        assert self.process.returncode == 0, self.log()
        import json

        return json.loads(self.out_path.read_text().strip().splitlines()[-1])

    def kill(self) -> None:
        """``kill -9``: no cleanup, no acknowledgement flushed."""
        if self.process.poll() is None:
            os.kill(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def _wait_for(self, condition, timeout_s: float, what: str) -> None:
        deadline = time.monotonic() + timeout_s
        while not condition():
            if self.process.poll() is not None:
                raise AssertionError(f"aggregator exited ({self.process.returncode}) before {what}:\n{self.log()}")
            if time.monotonic() > deadline:
                raise AssertionError(f"aggregator not {what} within {timeout_s} s:\n{self.log()}")
            time.sleep(0.05)


def wait_until(condition, timeout_s: float, what: str) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.1)


def tables(settings: Settings, stream_ids: list[int]) -> dict[str, set[tuple]]:
    """The aggregator's output rows of these streams (without the bookkeeping timestamps)."""
    queries = {
        "frame_windows": "SELECT stream_id, window_start, model, window_end, frames, sessions, first_capture_at, "
                         "last_capture_at FROM frame_windows",
        "object_stats": "SELECT stream_id, window_start, model, object_class, window_end, class_id, frames, "
                        "detections, mean_per_frame, max_per_frame, min_per_frame, unique_objects FROM object_stats",
        "late_detections": "SELECT stream_id, session_id, seq, capture_time FROM late_detections",
    }
    with session_scope(settings) as session:
        return {
            name: {tuple(row) for row in session.execute(text(sql + " WHERE stream_id = ANY(:ids)"),
                                                         {"ids": stream_ids})}
            for name, sql in queries.items()
        }


def count_windows(settings: Settings, stream_ids: list[int]) -> int:
    with session_scope(settings) as session:
        return session.execute(text("SELECT count(*) FROM frame_windows WHERE stream_id = ANY(:ids)"),
                               {"ids": stream_ids}).scalar_one()


def reference(messages: list[DetectionMessage | bytes], registered: list[int],
              horizon_s: float = DEFAULT_HORIZON_S) -> dict[str, set[tuple]]:
    """The rows of one uninterrupted run (the same pipeline, in memory), shaped like :func:`tables`."""
    entries = [(m if isinstance(m, bytes) else encode_detections(m).payload, 1_000 + i) for i, m in enumerate(messages)]
    store, log = MemoryStore(set(registered)), Log(entries)
    aggregator = Aggregator(WindowMachine(WINDOW_S, LATENESS_S, IDLE_S, horizon_s), store, log)
    while not log.caught_up:
        aggregator.handle_batch(log.take(100))
    aggregator.finish()
    return {
        "frame_windows": {tuple(vars_of(r)) for r in store.frame_windows.values()},
        "object_stats": {tuple(vars_of(r)) for r in store.object_stats.values()},
        "late_detections": {tuple(vars_of(r)) for r in store.late.values()},
    }


def vars_of(row) -> list:
    return [getattr(row, name) for name in row.__slots__]


def diff(got: dict[str, set[tuple]], expected: dict[str, set[tuple]]) -> str:
    """A readable difference of two table dumps (for assertion messages)."""
    lines = []
    for name in expected:
        for row in sorted(got[name] - expected[name], key=repr):
            lines.append(f"{name} unexpected: {row}")
        for row in sorted(expected[name] - got[name], key=repr):
            lines.append(f"{name} missing:    {row}")
    return "\n".join(lines)
