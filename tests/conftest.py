"""Shared fixtures: a real embedded Postgres and pulsar-lite per test session, under a temporary data dir.

Every component's tests use these servers (``runtime``) and the settings pointing at them (``settings``).
Tests that restart servers make their own runtime with ``make_runtime``.
"""

from __future__ import annotations

import contextlib
import os
import socket
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

os.environ.setdefault("YOLO_OFFLINE", "1")
os.environ.setdefault("YOLO_AUTOINSTALL", "false")
os.environ.setdefault("DBT_SEND_ANONYMOUS_USAGE_STATS", "False")

from core import embedded
from core.settings import Settings, get_settings

# One model cache for the whole test run: every test that starts a detector in a fresh data directory would
# otherwise export (and INT8-calibrate) the model again. Exports are renamed into place, so parallel builds are safe.
os.environ.setdefault("STREAMSCOPE_MODEL_CACHE_DIR", str(Path(tempfile.gettempdir()) / "streamscope-test-models"))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def runtime_settings(data_dir: Path, **overrides) -> Settings:
    """Settings for an embedded runtime under ``data_dir`` (external URLs from the environment are ignored)."""
    # Test streams are served from 127.0.0.1: local sources are allowed explicitly here (the default refuses
    # them); tests of the source policy build settings or policies with allow_local_sources=False.
    values = dict(data_dir=data_dir, embedded_pulsar_port=free_port(), database_url="", pulsar_url="",
                  allow_local_sources=True)
    values.update(overrides)
    return Settings(**values)


@contextlib.contextmanager
def make_runtime(data_dir: Path, **overrides) -> Iterator[Settings]:
    """An embedded runtime of the caller's own (tests that restart its servers, benches): started, then every
    client and pool closed and the servers stopped."""
    from core.broker import close_clients
    from core.db.engine import dispose_engines

    settings = runtime_settings(data_dir, **overrides)
    embedded.up(settings)
    try:
        yield settings
    finally:
        close_clients()
        dispose_engines()
        embedded.down(settings)


@pytest.fixture(scope="session")
def runtime(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Settings]:
    """Embedded Postgres + pulsar-lite for the whole test session, migrated to head."""
    settings = runtime_settings(tmp_path_factory.mktemp("runtime") / "data")
    embedded.up(settings)
    previous = {k: os.environ.get(k) for k in ("STREAMSCOPE_DATA_DIR", "STREAMSCOPE_EMBEDDED_PULSAR_PORT",
                                                "STREAMSCOPE_ALLOW_LOCAL_SOURCES")}
    # Code that builds its own Settings() (CLIs, subprocesses) sees the same runtime.
    os.environ["STREAMSCOPE_DATA_DIR"] = str(settings.data_dir)
    os.environ["STREAMSCOPE_ALLOW_LOCAL_SOURCES"] = "true"
    os.environ["STREAMSCOPE_EMBEDDED_PULSAR_PORT"] = str(settings.embedded_pulsar_port)
    get_settings.cache_clear()
    yield settings
    from core.broker import close_clients

    close_clients()
    embedded.down(settings)
    for key, value in previous.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value
    get_settings.cache_clear()


@pytest.fixture
def settings(runtime: Settings) -> Settings:
    return runtime


@pytest.fixture
def db_session(runtime: Settings):
    """A session on the shared database; tests clean up what they write via ``clean_tables``."""
    from core.db.engine import session_factory

    with session_factory(runtime)() as session:
        yield session


@pytest.fixture
def clean_tables(runtime: Settings) -> Iterator[None]:
    """Empty every table before the test (the schema stays)."""
    from sqlalchemy import text

    from core.db.engine import get_engine
    from core.db.models import Base

    names = ", ".join(table.name for table in Base.metadata.sorted_tables)
    with get_engine(runtime).begin() as conn:
        conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
    yield


@pytest.fixture
def unique_topic() -> str:
    """A topic name no other test uses."""
    return f"test-{uuid.uuid4().hex[:12]}"
