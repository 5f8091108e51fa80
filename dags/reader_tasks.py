"""The stream_reader DAG's work, apart from Airflow: which streams to read, and one reader run as a subprocess."""

from __future__ import annotations

import logging
import os
import subprocess
import threading
from dataclasses import dataclass

from core.processes import terminate
from core.settings import Settings
from dags.common import bin_dir

log = logging.getLogger(__name__)

# A run reads this much longer than the interval, so that the next run has started and announced itself when this
# one's duration ends; this one then hands the stream over as soon as the next one's capture delivers.
OVERLAP_S = 30
STOP_GRACE_S = 60  # after its duration and handover, a reader gets this long to flush and exit before it is killed


def default_duration_s(settings: Settings) -> int:
    """Seconds each reader run reads before it hands over: the DAG's interval plus ``OVERLAP_S``."""
    return settings.airflow_reader_interval_minutes * 60 + OVERLAP_S


def run_limit_s(settings: Settings, duration_s: int) -> float:
    """The longest a reader run may take: its duration, the handover, and the grace to flush and exit."""
    return duration_s + settings.reader_handover_max_s + STOP_GRACE_S


@dataclass(frozen=True)
class ReaderJob:
    stream_id: int
    duration_s: int

    def as_kwargs(self) -> dict:
        return {"stream_id": self.stream_id, "duration_s": self.duration_s}


def active_jobs(settings: Settings, duration_s: int) -> list[ReaderJob]:
    """One job per active stream (pending, live, reconnecting): paused, ended and failed streams get none."""
    from core import registry
    from core.db.engine import session_scope

    with session_scope(settings) as session:
        return [ReaderJob(stream.id, duration_s) for stream in registry.active_streams(session)]


def reader_command(stream_id: int, duration_s: int) -> list[str]:
    """Exactly `streamscope reader --stream ID --duration SECONDS`, with this venv's streamscope."""
    return [str(bin_dir() / "streamscope"), "reader", "--stream", str(stream_id), "--duration", str(duration_s)]


def run_reader(stream_id: int, duration_s: int, env: dict[str, str] | None = None,
               settings: Settings | None = None) -> int:
    """Run the reader for one stream, its output in the task's log; kill it if it overstays its duration."""
    from core.settings import get_settings

    limit_s = run_limit_s(settings or get_settings(), duration_s)
    command = reader_command(stream_id, duration_s)
    log.info("running %s", " ".join(command))
    process = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, text=True,
        env=env or dict(os.environ), start_new_session=True,
    )  # fmt: skip
    pump = threading.Thread(target=_log_lines, args=(process.stdout,), name="reader-log", daemon=True)
    pump.start()
    try:
        returncode = process.wait(timeout=limit_s)
    except subprocess.TimeoutExpired:
        raise RuntimeError(
            f"streamscope reader overstayed {duration_s} s (limit {limit_s:.0f} s) on stream {stream_id}"
        ) from None
    finally:
        terminate(process, 15)  # the reader we started: task timeout, kill, or error
        pump.join(timeout=5)
    if returncode:
        raise RuntimeError(f"streamscope reader exited with {returncode} for stream {stream_id}")
    return returncode


def _log_lines(stream) -> None:
    for line in stream:
        log.info("reader: %s", line.rstrip())


