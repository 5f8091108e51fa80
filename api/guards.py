"""Limits and headers in front of every route (plain ASGI): body size, JSON content type, write rate, security headers.

- A body over ``max_body_bytes`` is refused with 413 before any route reads it (chunked bodies included).
- A write (POST/PATCH/PUT) with a body must say ``Content-Type: application/json`` (415 otherwise).
- Writes are rate limited per bearer token and per client address (429 with Retry-After), token buckets in
  api.ratelimit; reads are not (they are cached).
- Every answer carries the security headers; the UI and the API get a Content-Security-Policy without
  'unsafe-inline' (the built UI has no inline script or style). FastAPI's /docs page loads its assets from a
  CDN with an inline script, so it gets its own policy allowing exactly that.
"""

from __future__ import annotations

import hashlib
import json

from api.ratelimit import TokenBuckets, retry_after

WRITE_METHODS = {"POST", "PATCH", "PUT", "DELETE"}
BODY_METHODS = {"POST", "PATCH", "PUT"}
CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; connect-src 'self'; "
       "font-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'")
DOCS_CSP = ("default-src 'self'; script-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net; "
            "style-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net; "
            "img-src 'self' data: https://fastapi.tiangolo.com; "
            "object-src 'none'; base-uri 'none'; frame-ancestors 'none'")
SECURITY_HEADERS = [
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
    (b"x-frame-options", b"DENY"),
    (b"cross-origin-opener-policy", b"same-origin"),
    (b"permissions-policy", b"camera=(), microphone=(), geolocation=()"),
]


class WriteLimits:
    """The two bucket sets of the write rate limit; ``check`` answers the seconds to wait (0 = go)."""

    def __init__(self, burst: int, per_minute: float):
        self.by_token = TokenBuckets(burst, per_minute / 60)
        self.by_address = TokenBuckets(burst, per_minute / 60)

    def check(self, token: str | None, address: str) -> float:
        wait = self.by_address.take(address)
        if wait:
            return wait
        if token:
            key = hashlib.sha256(token.encode()).hexdigest()[:32]  # no token kept in memory in clear
            wait = self.by_token.take(key)
            if wait:
                self.by_address.refund(address)
        return wait


def _error(status: int, message: str, field: str | None = None, headers: list | None = None):
    body = json.dumps({"error": {"status": status, "message": message, "field": field}}).encode()
    return status, [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
                    *(headers or [])], body


class Guards:
    def __init__(self, app, *, max_body_bytes: int):
        self.app, self.max_body_bytes = app, max_body_bytes

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = scope["path"]
        csp = (DOCS_CSP if path in ("/docs", "/redoc") or path.startswith("/docs/") else CSP).encode()

        async def send_with_headers(message):
            if message["type"] == "http.response.start":
                names = {name.lower() for name, _ in message.get("headers", [])}
                extra = [(n, v) for n, v in SECURITY_HEADERS if n not in names]
                if b"content-security-policy" not in names:
                    extra.append((b"content-security-policy", csp))
                message = {**message, "headers": [*message.get("headers", []), *extra]}
            await send(message)

        refusal, receive = await self._check(scope, receive)
        if refusal is not None:
            status, headers, body = refusal
            await send_with_headers({"type": "http.response.start", "status": status, "headers": headers})
            await send_with_headers({"type": "http.response.body", "body": body})
            return
        await self.app(scope, receive, send_with_headers)

    async def _check(self, scope, receive):
        method = scope["method"]
        if method not in WRITE_METHODS:
            return None, receive
        headers = {name.lower(): value for name, value in scope.get("headers", [])}
        length = headers.get(b"content-length")
        if length is not None and (not length.isdigit() or int(length) > self.max_body_bytes):
            return _error(413, f"the request body is larger than {self.max_body_bytes} bytes", "body"), receive
        body = b""
        more = True
        while more:  # read it all here (bounded), then replay it to the route
            message = await receive()
            if message["type"] == "http.disconnect":
                break
            body += message.get("body", b"")
            if len(body) > self.max_body_bytes:
                return _error(413, f"the request body is larger than {self.max_body_bytes} bytes", "body"), receive
            more = message.get("more_body", False)
        content_type = headers.get(b"content-type", b"").split(b";", 1)[0].strip().lower()
        if method in BODY_METHODS and scope["path"].startswith("/api/") and (
                body or content_type) and not (content_type == b"application/json" or content_type.endswith(b"+json")):
            return _error(415, "send the body as JSON with Content-Type: application/json", "body"), receive
        limits = getattr(scope["app"].state, "write_limits", None) if "app" in scope else None
        if limits is not None and scope["path"].startswith("/api/"):
            auth = headers.get(b"authorization", b"").decode("latin-1")
            token = auth[7:].strip() if auth[:7].lower() == "bearer " else None
            client = scope.get("client")
            wait = limits.check(token, client[0] if client else "unknown")
            if wait:
                return _error(429, "too many changes in a short time: wait a moment and try again", None,
                              [(b"retry-after", retry_after(wait).encode())]), receive
        sent = False

        async def replay():
            nonlocal sent
            if not sent:
                sent = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        return None, replay
