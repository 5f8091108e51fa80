"""Stopping child processes the one way: SIGTERM, a grace period, then SIGKILL."""

from __future__ import annotations

import subprocess


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
