"""``streamscope aggregator`` and ``streamscope stats``."""

from __future__ import annotations

import json
import signal
import threading
from datetime import UTC, datetime
from typing import Annotated

import typer


def register(app: typer.Typer) -> None:
    app.command("aggregator")(aggregator_command)
    app.command("stats")(stats_command)


def aggregator_command(
    idle_exit: Annotated[float | None, typer.Option(
        "--idle-exit", help="Exit after SECONDS without messages, closing and writing every open window first.",
    )] = None,
    topic: Annotated[str | None, typer.Option(help="Detections topic (default: settings.detections_topic).")] = None,
    subscription: Annotated[str, typer.Option(help="Key_Shared subscription; processes sharing it split the "
                                                   "streams.")] = "streamscope-aggregator",
    name: Annotated[str | None, typer.Option(help="Consumer name (shown by the broker).")] = None,
) -> None:
    """Consume detections into windowed object statistics in Postgres (exactly-once effect)."""
    from aggregator import worker
    from aggregator.metrics import PrometheusObserver, serve
    from core.embedded import RuntimeNotRunning
    from core.settings import get_settings

    settings = get_settings()
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    serve(settings.aggregator_metrics_port, settings.metrics_bind)
    try:
        summary = worker.run(
            settings, topic=topic, subscription=subscription, consumer_name=name, idle_exit_s=idle_exit,
            stop=stop, observer=PrometheusObserver(),
        )
    except RuntimeNotRunning as missing:
        typer.secho(f"error: {missing}", fg=typer.colors.RED, err=True)
        raise typer.Exit(1) from None
    typer.echo(json.dumps(summary.as_dict()))


def stats_command(
    stream: Annotated[int | None, typer.Option("--stream", help="Only this stream id.")] = None,
    since: Annotated[str | None, typer.Option("--since", help="Only windows starting within DURATION "
                                                               "(e.g. 15m, 2h, 7d).")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable output.")] = False,
) -> None:
    """Print the latest windows per stream and class."""
    from aggregator.stats import format_table, latest, parse_duration
    from core.db.engine import session_scope
    from core.embedded import RuntimeNotRunning

    try:
        start = None if since is None else datetime.now(UTC) - parse_duration(since)
    except ValueError as bad:
        typer.secho(f"error: {bad}", fg=typer.colors.RED, err=True)
        raise typer.Exit(2) from None
    try:
        with session_scope() as session:
            entries = latest(session, stream, start)
    except RuntimeNotRunning as missing:
        typer.secho(f"error: {missing}", fg=typer.colors.RED, err=True)
        raise typer.Exit(1) from None
    typer.echo(json.dumps(entries) if as_json else format_table(entries))
