"""``streamscope zones``: list, add, edit (a new version), remove a stream's zones and lines; their figures."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Annotated

import typer

zones_app = typer.Typer(help="A stream's zones (polygons) and counting lines, in normalised coordinates.",
                        no_args_is_help=True)
POINTS_HELP = ("x,y pairs separated by spaces or ';' (each in [0, 1], y downwards), or a JSON list of [x, y]; a "
               "line has 2 (crossing to its right-hand side, walking from the first to the second, is 'in').")


def register(app: typer.Typer) -> None:
    app.add_typer(zones_app, name="zones")


def parse_points(raw: str) -> object:
    """``"0.1,0.2 0.3,0.4"``, ``"0.1,0.2;0.3,0.4"`` or JSON; what it cannot read is handed on as text (refused
    by the validation with the field named)."""
    raw = raw.strip()
    if raw.startswith("["):
        try:
            return json.loads(raw)
        except ValueError:
            return raw
    try:
        return [[float(v) for v in pair.split(",")] for pair in raw.replace(";", " ").split()]
    except ValueError:
        return raw


def _run(action):
    from core.cli import _run_registry

    return _run_registry(action)


def _show(zone: dict, as_json: bool) -> None:
    if as_json:
        typer.echo(json.dumps(zone, default=str))
    else:
        points = " ".join(f"{x:g},{y:g}" for x, y in zone["points"])
        typer.echo(f"{zone['id']:>5}  {zone['kind']:<4}  {zone['name']:<24} v{zone['version']}  {points}")


@zones_app.command("list")
def list_command(stream: int, as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """The stream's zones and lines (current versions)."""
    from core import zones

    items = _run(lambda session: [zones.as_dict(z) for z in zones.list_zones(session, stream)])
    if as_json:
        typer.echo(json.dumps(items, default=str))
    for item in [] if as_json else items:
        _show(item, False)


@zones_app.command("add")
def add_command(
    stream: int,
    kind: Annotated[str, typer.Option(help="zone or line.")],
    name: Annotated[str, typer.Option(help="Unique per stream and kind, at most 64 characters.")],
    points: Annotated[str, typer.Option(help=POINTS_HELP)],
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Add a zone or a line."""
    from core import zones

    _show(_run(lambda session: zones.as_dict(zones.create(session, stream, kind, name, parse_points(points)))),
          as_json)


@zones_app.command("edit")
def edit_command(
    stream: int,
    zone_id: int,
    name: Annotated[str | None, typer.Option(help="New name.")] = None,
    points: Annotated[str | None, typer.Option(help=POINTS_HELP)] = None,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Rename or reshape: a new version (statistics name the version they were computed with)."""
    from core import zones

    shape = None if points is None else parse_points(points)
    _show(_run(lambda session: zones.as_dict(zones.update(session, stream, zone_id, name=name, points=shape))),
          as_json)


@zones_app.command("remove")
def remove_command(stream: int, zone_id: int) -> None:
    """Remove a zone or line (its statistics stay)."""
    from core import zones

    _run(lambda session: zones.remove(session, stream, zone_id))
    typer.echo(f"removed {zone_id} from stream {stream}")


TOTALS = """
SELECT z.id, z.kind, z.name, z.version,
       (SELECT coalesce(sum(o.detections), 0) FROM zone_occupancy o WHERE o.zone_id = z.id
          AND o.zone_version = z.version AND o.window_start >= :since) AS detections,
       (SELECT coalesce(sum(o.dwell_seconds), 0) FROM zone_occupancy o WHERE o.zone_id = z.id
          AND o.zone_version = z.version AND o.window_start >= :since) AS dwell_seconds,
       (SELECT coalesce(sum(c.crossings_in), 0) FROM line_crossings c WHERE c.line_id = z.id
          AND c.line_version = z.version AND c.window_start >= :since) AS n_in,
       (SELECT coalesce(sum(c.crossings_out), 0) FROM line_crossings c WHERE c.line_id = z.id
          AND c.line_version = z.version AND c.window_start >= :since) AS n_out
FROM zones z WHERE z.stream_id = :stream AND z.deleted_at IS NULL ORDER BY z.kind DESC, z.id
"""


@zones_app.command("stats")
def stats_command(
    stream: int,
    since: Annotated[str, typer.Option(help="Windows starting within DURATION (e.g. 15m, 2h, 7d).")] = "24h",
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Crossings in/out per line and detections inside per zone (current versions, every class), from the
    aggregator's windows."""
    from sqlalchemy import text

    from core.cli import fail

    try:
        start = datetime.now(UTC) - _duration(since)
    except ValueError as bad:
        raise fail(str(bad), code=2) from None
    rows = _run(lambda session: [dict(r._mapping) for r in session.execute(
        text(TOTALS), {"stream": stream, "since": start})])
    if as_json:
        typer.echo(json.dumps(rows, default=str))
        return
    for r in rows:
        if r["kind"] == "line":
            typer.echo(f"line {r['name']!r} v{r['version']}: in {r['n_in']}, out {r['n_out']}")
        else:
            typer.echo(f"zone {r['name']!r} v{r['version']}: {r['detections']} detections inside, "
                       f"{r['dwell_seconds']:.0f} s spent inside by tracked objects")


def _duration(text_value: str) -> timedelta:
    units = {"m": 60, "h": 3600, "d": 86400}
    if len(text_value) < 2 or text_value[-1] not in units or not text_value[:-1].isdigit():
        raise ValueError(f"--since {text_value!r}: a number and m, h or d (15m, 2h, 7d)")
    return timedelta(seconds=int(text_value[:-1]) * units[text_value[-1]])
