"""The open-window snapshot codec: reads what the previous version wrote, round-trips its own layout."""

from __future__ import annotations

import dataclasses
import json
from datetime import datetime
from pathlib import Path

import pytest

from aggregator import snapshot
from aggregator.ranges import IntRanges
from aggregator.rows import OpenWindow
from aggregator.windows import WindowMachine

# Written by aggregator/windows.py before snapshots had a layout version (commit 4a1cb75): the snapshots of two
# open windows after five messages, and the rows the machine wrote when it then closed them.
V0 = json.loads((Path(__file__).parent / "data" / "open_windows_v0.json").read_text())


def restored(snapshots: list[dict]) -> WindowMachine:
    machine = WindowMachine(10, 3, 8)
    windows = [OpenWindow(s["stream_id"], datetime.fromisoformat(s["window_start"]), s["version"], s["state"])
               for s in snapshots]
    for key in snapshot.session_keys(windows):
        machine.restore_session(key, IntRanges(), ())
    machine.restore_stream(1, registered=True, closed_until=None, open_windows=windows)
    return machine


def rows(flush) -> dict:
    def row(r) -> dict:
        return {k: (v.isoformat() if isinstance(v, datetime) else v) for k, v in dataclasses.asdict(r).items()}

    return {"frame_windows": [row(r) for r in flush.frame_windows],
            "object_stats": [row(r) for r in flush.object_stats]}


def test_open_windows_written_by_the_previous_version_close_into_the_same_rows() -> None:
    assert all("v" not in s["state"] for s in V0["snapshots"])  # really the old layout
    machine = restored(V0["snapshots"])
    assert machine.open_windows == 2 and machine.open_messages == 5
    machine.close_all()
    assert rows(machine.take()) == {"frame_windows": V0["frame_windows"], "object_stats": V0["object_stats"]}


def test_the_current_layout_round_trips_and_says_its_version() -> None:
    for stored in V0["snapshots"]:
        start = round(datetime.fromisoformat(stored["window_start"]).timestamp() * 1000)
        window = snapshot.decode(start, stored["version"], stored["state"])
        encoded = snapshot.encode(window)
        assert encoded["v"] == snapshot.SNAPSHOT_VERSION
        again = snapshot.decode(start, stored["version"], json.loads(json.dumps(encoded)))
        assert snapshot.encode(again) == encoded
    current = [{**s, "state": snapshot.encode(snapshot.decode(0, s["version"], s["state"]))} for s in V0["snapshots"]]
    machine = restored(current)
    machine.close_all()
    assert rows(machine.take()) == {"frame_windows": V0["frame_windows"], "object_stats": V0["object_stats"]}


def test_a_layout_from_a_newer_version_is_refused_by_name() -> None:
    state = {**V0["snapshots"][0]["state"], "v": 99}
    with pytest.raises(snapshot.UnknownSnapshot, match="layout 99"):
        snapshot.decode(0, 1, state)
