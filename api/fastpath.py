"""Serve fresh cached /api/rankings and /api/objects answers before routing.

A cache hit needs no validation, dependencies or serialisation: this plain ASGI middleware recognises the
two paths, builds the same cache key the endpoints use (api.cache) from the query string and answers with
the stored bytes. Anything unusual (a parameter it cannot read, a stale or missing entry) goes on to the
FastAPI endpoint, which validates, computes and fills the cache.
"""

from __future__ import annotations

from types import SimpleNamespace
from urllib.parse import parse_qsl

from api.cache import objects_key, rankings_key
from api.errors import ApiError
from api.logic import normalise_objects
from api.params import DEFAULT_WINDOW, RANKINGS_LIMIT, RANKINGS_LIMIT_MAX, RANKINGS_LIMIT_MIN
from api.schemas import Window

WINDOWS = {w.value for w in Window}
ROUTES = {"/api/rankings": SimpleNamespace(path="/api/rankings"), "/api/objects": SimpleNamespace(path="/api/objects")}
HEADERS = [(b"content-type", b"application/json")]


def key_for(path: str, query_string: bytes) -> tuple | None:
    """The endpoint's cache key for this request, or None when only the endpoint can tell."""
    objects, single = [], {}
    for name, value in parse_qsl(query_string.decode("latin-1"), keep_blank_values=True):
        if name == "object":
            objects.append(value)
        elif name in ("window", "limit"):
            if name in single:
                return None
            single[name] = value
    window = single.get("window", DEFAULT_WINDOW.value)
    if window not in WINDOWS:
        return None
    if path == "/api/objects":
        return objects_key(window)
    limit = single.get("limit", str(RANKINGS_LIMIT))
    if not objects or not limit.isdigit() or not RANKINGS_LIMIT_MIN <= int(limit) <= RANKINGS_LIMIT_MAX:
        return None
    try:
        return rankings_key(normalise_objects(objects), window, int(limit))
    except ApiError:
        return None


class CachedAnswers:
    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] == "http" and scope["method"] == "GET" and scope["path"] in ROUTES:
            cache = scope["app"].state.cache
            key = key_for(scope["path"], scope["query_string"]) if cache.ttl > 0 else None
            body = cache.fresh(key) if key is not None else None
            if body is not None:
                scope["route"] = ROUTES[scope["path"]]  # for the metrics' route label
                await send({"type": "http.response.start", "status": 200,
                            "headers": [*HEADERS, (b"content-length", str(len(body)).encode())]})
                await send({"type": "http.response.body", "body": body})
                return
        await self.app(scope, receive, send)
