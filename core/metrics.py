"""The one Prometheus ``/metrics`` endpoint every worker starts (reader, detector, aggregator).

The address comes from ``settings.metrics_bind`` (``STREAMSCOPE_METRICS_BIND``): 127.0.0.1 on a laptop, 0.0.0.0
in the container images, where the security group lets only the scrapers' CIDRs in. A busy port or a bad
address logs a warning and the worker goes on without the endpoint: metrics never stop the pipeline.
"""

from __future__ import annotations

import logging

log = logging.getLogger(__name__)


def serve(port: int, bind: str | None = None):
    """Serve the default registry on ``bind``:``port`` (0 = off); the server (``shutdown()`` it) or None."""
    if not port:
        return None
    from prometheus_client import start_http_server

    if bind is None:
        from core.settings import get_settings

        bind = get_settings().metrics_bind
    try:
        server, _thread = start_http_server(port, addr=bind)
    except OSError as error:
        log.warning("metrics endpoint not started on %s:%d: %s", bind, port, error)
        return None
    log.info("metrics on http://%s:%d/metrics", bind, port)
    return server
