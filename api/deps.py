"""Request dependencies: settings, the pooled engine, a session, "now", the write token and the prober.

Each is a function FastAPI calls per request, so tests override them (``app.dependency_overrides``) and
nothing is computed once at import: "now" in particular is taken per request.
"""

from __future__ import annotations

import hmac
import threading
from collections.abc import Iterator
from datetime import UTC, datetime

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from api.errors import ApiError
from core.db.engine import get_engine
from core.probe import probe
from core.registry import Prober
from core.settings import Settings, get_settings

_bearer = HTTPBearer(auto_error=False, description="A token from STREAMSCOPE_API_TOKENS; needed for writes.")
_engines: dict[tuple[str, str], Engine] = {}
_engines_lock = threading.Lock()


async def settings_dep(request: Request) -> Settings:
    """The app's fixed settings when it was built with some (tests, bench), else the process settings."""
    return getattr(request.app.state, "settings", None) or get_settings()


async def now_dep() -> datetime:
    return datetime.now(UTC)


def engine_for(settings: Settings) -> Engine:
    """core's pooled engine, remembered per database so the hot path skips locating the embedded server."""
    key = (settings.database_url, str(settings.data_dir))
    engine = _engines.get(key)
    if engine is None:
        with _engines_lock:
            engine = _engines.get(key) or get_engine(settings)
            _engines[key] = engine
    return engine


async def engine_dep(settings: Settings = Depends(settings_dep)) -> Engine:
    return engine_for(settings)


def session_dep(engine: Engine = Depends(engine_dep)) -> Iterator[Session]:
    """A session per request; endpoints commit what they change, the rest is rolled back on close."""
    with Session(engine, expire_on_commit=False) as session:
        yield session


async def prober_dep() -> Prober:
    """yt-dlp based probing (tests of other endpoints swap it out: YouTube is not reachable from CI)."""
    return probe


async def require_token(
    credentials: HTTPAuthorizationCredentials | None = Depends(_bearer),
    settings: Settings = Depends(settings_dep),
) -> None:
    """Writes need ``Authorization: Bearer <token>`` with one of ``settings.api_tokens``."""
    challenge = {"WWW-Authenticate": "Bearer"}
    if credentials is None or credentials.scheme.lower() != "bearer" or not credentials.credentials:
        raise ApiError(401, "this request needs a token: send Authorization: Bearer <token>", headers=challenge)
    given = credentials.credentials.encode()
    # Compare against every token (no early exit), each in constant time.
    matched = False
    for token in settings.api_tokens:
        matched |= hmac.compare_digest(given, token.encode())
    if not matched:
        raise ApiError(401, "the token is not valid", headers=challenge)
