"""Stopping processes the one way: SIGTERM, a grace period, then SIGKILL (a child, a PID, or a process group)."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
from pathlib import Path

POLL_S = 0.05


def terminate(process: subprocess.Popen, timeout_s: float = 10.0) -> None:
    """Ask ``process`` to stop; kill it if it has not exited within ``timeout_s``. Always reaps it."""
    if process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout_s)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def terminate_pid(pid: int, timeout_s: float = 10.0) -> None:
    """The same for a process known by its PID only (a daemon an earlier command started)."""
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + timeout_s
        while _alive(pid) and time.monotonic() < deadline:
            time.sleep(POLL_S)
        if _alive(pid):
            os.kill(pid, signal.SIGKILL)
            _reap(pid)


def terminate_group(pgid: int, timeout_s: float = 60.0, kill_wait_s: float = 5.0) -> None:
    """The same for every process of a group we started (``start_new_session=True``): stragglers included."""
    deadline = time.monotonic() + timeout_s
    for group_signal in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(pgid, group_signal)
        except ProcessLookupError:
            return
        while time.monotonic() < deadline and group_alive(pgid):
            time.sleep(0.5)
        deadline = time.monotonic() + kill_wait_s


def group_alive(pgid: int) -> bool:
    """Whether a process of group ``pgid`` still runs (zombies waiting for their reaper do not count)."""
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if fields[0] != "Z" and int(fields[2]) == pgid:
            return True
    return False


def _alive(pid: int) -> bool:
    _reap(pid)
    return Path(f"/proc/{pid}").exists()


def _reap(pid: int) -> None:
    """Collect the exit status when the process is our own child (tests start the broker in-process)."""
    with contextlib.suppress(ChildProcessError):
        os.waitpid(pid, os.WNOHANG)
