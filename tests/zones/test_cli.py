"""``streamscope zones``: add, list, edit (new version), stats, remove; refusals exit 2 naming the field."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from core.cli import app
from tests.aggregator.helpers import register_streams


def run(*args: str):
    return CliRunner().invoke(app, ["zones", *args])


def test_zones_commands(settings) -> None:
    (stream,) = register_streams(settings, 1)
    added = run("add", str(stream), "--kind", "line", "--name", "door", "--points", "0.5,0.98 0.5,0.35", "--json")
    assert added.exit_code == 0, added.output
    line = json.loads(added.stdout)
    assert (line["version"], line["points"]) == (1, [[0.5, 0.98], [0.5, 0.35]])
    zone = run("add", str(stream), "--kind", "zone", "--name", "right", "--points",
               "[[0.55,0.55],[0.95,0.55],[0.95,0.99]]")
    assert zone.exit_code == 0 and "zone  right" in zone.stdout, zone.output
    edited = run("edit", str(stream), str(line["id"]), "--points", "0.4,0.98;0.4,0.3", "--json")
    assert json.loads(edited.stdout)["version"] == 2
    listed = json.loads(run("list", str(stream), "--json").stdout)
    assert [(z["kind"], z["name"], z["version"]) for z in listed] == [("zone", "right", 1), ("line", "door", 2)]
    stats = run("stats", str(stream), "--since", "1h")
    assert stats.exit_code == 0 and "line 'door' v2: in 0, out 0" in stats.stdout, stats.output
    bow_tie = run("add", str(stream), "--kind", "zone", "--name", "x", "--points", "0.1,0.1 0.9,0.9 0.9,0.1 0.1,0.9")
    assert bow_tie.exit_code == 2 and "crosses itself" in bow_tie.output
    garbage = run("add", str(stream), "--kind", "line", "--name", "y", "--points", "left,right")
    assert garbage.exit_code == 2 and "list of [x, y]" in garbage.output
    assert run("remove", str(stream), str(line["id"])).exit_code == 0
    assert [z["name"] for z in json.loads(run("list", str(stream), "--json").stdout)] == ["right"]
    assert run("remove", str(stream), str(line["id"])).exit_code == 2
