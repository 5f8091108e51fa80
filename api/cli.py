"""``streamscope api``: serve the HTTP API (and the built web UI) with uvicorn."""

from __future__ import annotations

from typing import Annotated

import typer


def register(app: typer.Typer) -> None:
    @app.command("api")
    def serve(
        host: Annotated[str | None, typer.Option(help="Address to bind (default: settings.api_host).")] = None,
        port: Annotated[int | None, typer.Option(help="Port (default: settings.api_port).")] = None,
        workers: Annotated[int, typer.Option(min=1, help="Worker processes (each has its own pool and cache).")] = 1,
        access_log: Annotated[bool, typer.Option("--access-log/--no-access-log",
                                                 help="Log every request (costly at 1,000 requests/s).")] = False,
    ) -> None:
        """Serve the API under /api and the web UI at / (uvicorn)."""
        import uvicorn

        from core.settings import get_settings

        settings = get_settings()
        uvicorn.run("api.app:app", host=host or settings.api_host, port=port or settings.api_port,
                    workers=workers, access_log=access_log, log_level="info", proxy_headers=False)
