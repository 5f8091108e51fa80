"""API test fixtures: the mart tables (plain SQL) and dbt's views on them (see marts.py) in their own schema,
known rows, a client."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient

from core.settings import Settings
from tests.api.fixture_data import current_base, seed
from tests.api.marts import build_views, create_marts

TOKEN = "test-token-0123456789"
MARTS_SCHEMA = "api_test_marts"  # not public: dbt's own tests may build the real marts there


@pytest.fixture(scope="session")
def marts(runtime: Settings) -> str:
    from core.db.engine import get_engine

    with get_engine(runtime).begin() as conn:
        create_marts(conn, MARTS_SCHEMA)
    build_views(runtime, MARTS_SCHEMA)
    return MARTS_SCHEMA


@pytest.fixture
def api_settings(runtime: Settings, marts: str) -> Settings:
    return runtime.model_copy(update={"api_tokens": ["another-token", TOKEN], "api_marts_schema": marts,
                                      "cors_origins": ["http://localhost:5173"]})


@pytest.fixture(scope="module")
def base():
    """Start of the current hour (once per module); the tests' "now" is half an hour later."""
    return current_base()


@pytest.fixture(scope="module")
def now(base):
    return base + timedelta(minutes=30)


def reseed(settings: Settings, schema: str, base, now=None) -> None:
    from core.db.engine import get_engine

    with get_engine(settings).begin() as conn:
        seed(conn, schema, base, now)


@pytest.fixture(scope="module")
def seeded(runtime: Settings, marts: str, base) -> None:
    """Known rows, written once per module of read-only tests."""
    reseed(runtime, marts, base)


@pytest.fixture
def fresh(runtime: Settings, marts: str, base) -> None:
    """Known rows written again before a test that changes them."""
    reseed(runtime, marts, base)


def make_client(settings: Settings, now=None, **kwargs) -> TestClient:
    from api.app import create_app
    from api.deps import now_dep

    app = create_app(settings, serve_ui=False)
    if now is not None:
        async def fixed_now():
            return now

        app.dependency_overrides[now_dep] = fixed_now
    return TestClient(app, **kwargs)


@pytest.fixture
def client(api_settings: Settings, seeded, now) -> Iterator[TestClient]:
    """For tests that only read."""
    with make_client(api_settings, now) as test_client:
        yield test_client


@pytest.fixture
def write_client(api_settings: Settings, fresh, now) -> Iterator[TestClient]:
    """For tests that write (the rows are reset first)."""
    with make_client(api_settings, now) as test_client:
        yield test_client


AUTH = {"Authorization": f"Bearer {TOKEN}"}


@pytest.fixture
def live_hls():
    """A real live HLS stream on 127.0.0.1 (ffmpeg + http.server), small to start fast."""
    from stream_reader import testsrc

    with testsrc.LiveHLSSource("bus", width=320, height=180, fps=5) as source:
        yield source
