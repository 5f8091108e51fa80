"""core.metrics.serve: one endpoint for every worker, on the configured address; a busy port never raises."""

from __future__ import annotations

import logging
import urllib.request

from core.metrics import serve
from tests.conftest import free_port


def test_serves_the_workers_metrics_on_the_bind_address(caplog) -> None:
    import aggregator.metrics  # noqa: F401  (registers the aggregator's metrics)

    port = free_port()
    server = serve(port, "127.0.0.1")
    try:
        text = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5).read().decode()
        assert "streamscope_aggregator_messages_total" in text
        with caplog.at_level(logging.WARNING, logger="core.metrics"):
            assert serve(port, "127.0.0.1") is None  # busy: a warning, not an exception
        assert f"127.0.0.1:{port}" in caplog.text
    finally:
        server.shutdown()
    assert serve(0, "127.0.0.1") is None


def test_the_default_address_is_loopback(monkeypatch) -> None:
    from core.settings import Settings

    monkeypatch.delenv("STREAMSCOPE_METRICS_BIND", raising=False)
    assert Settings().metrics_bind == "127.0.0.1"
    monkeypatch.setenv("STREAMSCOPE_METRICS_BIND", "0.0.0.0")
    assert Settings().metrics_bind == "0.0.0.0"
