"""The FastAPI application: routers under /api, one error shape, CORS, metrics and the web UI at /.

``create_app(settings)`` builds an app bound to those settings (tests, benchmarks); the module-level
``app`` follows the process settings (uvicorn ``api.app:app`` and the Lambda handler). Nothing touches the
database at import: the pooled engine is created on the first request.
"""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware

from api import errors
from api.cache import TTLCache
from api.fastpath import CachedAnswers
from api.guards import Guards, WriteLimits
from api.metrics import install_metrics
from api.routers import alerts as alert_rules_router
from api.routers import health, objects, rankings, streams
from api.routers.health import version
from api.static import mount_ui, static_dir
from core.settings import Settings, get_settings

DESCRIPTION = """Streams, rankings and object time series of streamscope.

Reads are public; writes need `Authorization: Bearer <token>`, a JSON body (at most 64 KB by default) and
are rate limited per token and per address (429 with Retry-After). Every error answers
`{"error": {"status", "message", "field"}}`. Before the first dbt build, analytics answers are empty with
`analytics_built: false`."""


def create_app(settings: Settings | None = None, *, serve_ui: bool = True) -> FastAPI:
    config = settings or get_settings()
    app = FastAPI(title="streamscope API", version=version(), description=DESCRIPTION,
                  responses=errors.responses(500))
    app.state.settings = settings  # None: follow get_settings() per request
    app.state.cache = TTLCache(config.api_cache_seconds)
    errors.install(app)
    for router in (health.router, streams.router, rankings.router, objects.router):
        app.include_router(router, prefix="/api")
    app.include_router(alert_rules_router.router, prefix="/api")
    # Middleware added last runs first: CORS, then metrics (cached answers are counted), then the cache.
    app.add_middleware(CachedAnswers)
    install_metrics(app)
    if config.cors_origins:
        app.add_middleware(
            CORSMiddleware, allow_origins=config.cors_origins, allow_methods=["GET", "POST", "PATCH", "DELETE"],
            allow_headers=["Authorization", "Content-Type", "If-None-Match"], expose_headers=["ETag", "Location"],
        )
    # Outermost: limits and security headers apply to every answer, cached or CORS preflight alike.
    app.state.write_limits = WriteLimits(config.api_write_burst, config.api_write_per_minute)
    app.add_middleware(Guards, max_body_bytes=config.api_max_body_bytes)
    folder = static_dir(config) if serve_ui else None
    if folder is not None:
        mount_ui(app, folder)
    return app


app = create_app()
