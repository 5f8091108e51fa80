"""Prometheus metrics at /metrics when prometheus-client is installed (it is not in the Lambda package).

A plain ASGI middleware (cheap on the hot path) counts requests and observes latency per route template,
so /api/streams/3 and /api/streams/4 share one series.
"""

from __future__ import annotations

import time

from fastapi import FastAPI, Response


def install_metrics(app: FastAPI) -> bool:
    try:
        import prometheus_client
    except ImportError:
        return False
    registry = prometheus_client.CollectorRegistry()
    requests = prometheus_client.Counter(
        "streamscope_api_requests", "HTTP requests answered", ["method", "route", "status"], registry=registry
    )
    latency = prometheus_client.Histogram(
        "streamscope_api_request_seconds", "Time to answer a request", ["route"], registry=registry,
        buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10),
    )

    @app.get("/metrics", include_in_schema=False)
    def metrics() -> Response:
        return Response(prometheus_client.generate_latest(registry), media_type=prometheus_client.CONTENT_TYPE_LATEST)

    class Metrics:
        def __init__(self, inner):
            self.inner = inner

        async def __call__(self, scope, receive, send):
            if scope["type"] != "http":
                await self.inner(scope, receive, send)
                return
            started, status = time.perf_counter(), [500]

            async def capture(message):
                if message["type"] == "http.response.start":
                    status[0] = message["status"]
                await send(message)

            try:
                await self.inner(scope, receive, capture)
            finally:
                route = getattr(scope.get("route"), "path", None) or "unmatched"
                requests.labels(scope["method"], route, str(status[0])).inc()
                latency.labels(route).observe(time.perf_counter() - started)

    app.add_middleware(Metrics)
    return True
