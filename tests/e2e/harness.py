"""Run the pipeline's real processes (``streamscope`` subcommands) against a test runtime."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
import uuid
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import text

from core.db.engine import get_engine
from core.settings import Settings

STREAMSCOPE = str(Path(sys.executable).with_name("streamscope"))


@dataclass
class Pipeline:
    """Environment and processes of one pipeline run, on its own topics so runs never mix."""

    settings: Settings
    log_dir: Path
    overrides: dict[str, str] = field(default_factory=dict)
    processes: dict[str, subprocess.Popen] = field(default_factory=dict)

    def __post_init__(self) -> None:
        tag = uuid.uuid4().hex[:8]
        self.overrides = {
            "STREAMSCOPE_FRAMES_TOPIC": f"e2e-frames-{tag}",
            "STREAMSCOPE_DETECTIONS_TOPIC": f"e2e-detections-{tag}",
            "STREAMSCOPE_WINDOW_SECONDS": "10",
            "STREAMSCOPE_ALLOWED_LATENESS_SECONDS": "2",
            "STREAMSCOPE_WINDOW_IDLE_TIMEOUT_S": "4",
            "STREAMSCOPE_READER_METRICS_PORT": "0",
            "STREAMSCOPE_DETECTOR_METRICS_PORT": "0",
            "STREAMSCOPE_AGGREGATOR_METRICS_PORT": "0",
            "STREAMSCOPE_DETECTOR_SNAPSHOT_INTERVAL_S": "2",
            "STREAMSCOPE_ALLOW_LOCAL_SOURCES": "true",  # the test streams are on 127.0.0.1
            **self.overrides,
        }
        self.log_dir.mkdir(parents=True, exist_ok=True)

    @property
    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("STREAMSCOPE_")}
        env.update(
            STREAMSCOPE_DATA_DIR=str(self.settings.data_dir),
            STREAMSCOPE_EMBEDDED_PULSAR_PORT=str(self.settings.embedded_pulsar_port),
            **self.overrides,
        )
        return env

    def start(self, name: str, *args: str, env: dict[str, str] | None = None) -> subprocess.Popen:
        """Start ``streamscope *args`` as ``name`` (its log appended to); ``env`` adds to this run's environment."""
        log = (self.log_dir / f"{name}.log").open("ab")
        process = subprocess.Popen([STREAMSCOPE, *args], env={**self.env, **(env or {})}, stdout=log,
                                   stderr=subprocess.STDOUT)
        log.close()
        self.processes[name] = process
        return process

    def run(self, *args: str, timeout: float = 300) -> subprocess.CompletedProcess:
        done = subprocess.run([STREAMSCOPE, *args], env=self.env, capture_output=True, text=True, timeout=timeout)
        assert done.returncode == 0, f"streamscope {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}"
        return done

    def wait(self, name: str, timeout: float) -> int:
        code = self.processes[name].wait(timeout)
        assert code == 0, f"{name} exited with {code}; log:\n{self.log(name)[-3000:]}"
        return code

    def kill(self, name: str, sig: int = signal.SIGKILL) -> None:
        process = self.processes[name]
        if process.poll() is None:
            process.send_signal(sig)
            process.wait(30)

    def stop_all(self) -> None:
        for name in list(self.processes):
            self.kill(name, signal.SIGTERM)

    def log(self, name: str) -> str:
        path = self.log_dir / f"{name}.log"
        return path.read_text(errors="replace") if path.exists() else ""


def query(settings: Settings, sql: str, **params) -> list[dict]:
    with get_engine(settings).connect() as conn:
        return [dict(row._mapping) for row in conn.execute(text(sql), params)]


def wait_until(predicate, timeout: float, interval: float = 0.5, what: str = "condition") -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")


def get_json(url: str) -> dict:
    with urllib.request.urlopen(url, timeout=10) as response:
        return json.loads(response.read())
