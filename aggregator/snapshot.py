"""The snapshot codec: an open window as JSON-ready data in ``aggregator_open``, and back.

A snapshot says which layout it has (``"v"``), so a deploy that changes the accumulators can still restore the
open windows an earlier version wrote: :func:`decode` reads every layout listed in ``_DECODERS``. Layouts:

- 0 (no ``"v"``; before versions): a class is a list ``[class_id, detections, frames_present, max, min_present,
  tracks]``.
- 1: a class is an object with those names, so a new accumulator field is a new key with a default.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from aggregator.accumulators import ClassAcc, ModelAcc, WindowAcc
from aggregator.ranges import IntRanges
from aggregator.rows import OpenWindow, SessionKey

SNAPSHOT_VERSION = 1


class UnknownSnapshot(ValueError):
    """A snapshot of a layout this code cannot read (written by a newer version)."""


def session_keys(windows: Iterable[OpenWindow]) -> set[SessionKey]:
    """The (stream, session, model) keys an open window's state refers to (to restore before the window)."""
    return {(w.stream_id, sid, model) for w in windows for model, data in w.state["models"].items()
            for sid in data["seqs"]}


def encode(window: WindowAcc) -> dict:
    """An open window as JSON-ready data (sequences as ranges, tracks as pairs), in the current layout."""
    return {
        "v": SNAPSHOT_VERSION,
        "publish": window.last_publish,
        "messages": window.messages,
        "models": {
            name: {
                "frames": m.frames,
                "first": m.first_ms,
                "last": m.last_ms,
                "seqs": {sid: IntRanges.of(seqs).ranges() for sid, seqs in m.seqs.items()},
                "classes": {
                    cname: {"id": c.class_id, "detections": c.detections, "frames": c.frames_present, "max": c.max,
                            "min": c.min_present, "tracks": sorted([sid, track] for sid, track in c.tracks)}
                    for cname, c in m.classes.items()
                },
            }
            for name, m in window.models.items()
        },
    }


def decode(start: int, version: int, state: dict) -> WindowAcc:
    """The open window a snapshot of any known layout describes; ``version`` counts its writes."""
    layout = state.get("v", 0)
    read_class = _DECODERS.get(layout)
    if read_class is None:
        raise UnknownSnapshot(f"open-window snapshot layout {layout!r}; this version reads {sorted(_DECODERS)}")
    window = WindowAcc(start)
    window.version = version
    window.last_publish = state["publish"]
    window.messages = state["messages"]
    for name, data in state["models"].items():
        model = window.models[name] = ModelAcc()
        model.frames, model.first_ms, model.last_ms = data["frames"], data["first"], data["last"]
        model.seqs = {sid: list(IntRanges(ranges)) for sid, ranges in data["seqs"].items()}
        for cname, stored in data["classes"].items():
            model.classes[cname] = read_class(stored)
    return window


def _class_v0(stored: list) -> ClassAcc:
    class_id, detections, frames_present, maximum, min_present, tracks = stored
    return _class(class_id, detections, frames_present, maximum, min_present, tracks)


def _class_v1(stored: dict) -> ClassAcc:
    return _class(stored["id"], stored["detections"], stored["frames"], stored["max"], stored["min"],
                  stored["tracks"])


def _class(class_id: int, detections: int, frames_present: int, maximum: int, min_present: int,
           tracks: list) -> ClassAcc:
    acc = ClassAcc(class_id)
    acc.detections, acc.frames_present, acc.max, acc.min_present = detections, frames_present, maximum, min_present
    acc.tracks = {(sid, track) for sid, track in tracks}
    return acc


_DECODERS: dict[int, Callable[..., ClassAcc]] = {0: _class_v0, 1: _class_v1}
