"""Ground truth for zones and lines, from a generated scene's truth file (``testsrc --truth``; pure, no I/O).

Both use the counting anchor (:func:`core.geometry.anchor`, the bottom centre) on the truth boxes, normalised by
the scene's size:

- *Crossings*: per identity, the side of the line at every truth frame (10 frames/s); within ``band`` of the
  line (default 0.006 of the picture, about 8 px at 1280 wide) it is "on the line" and settles nothing; a change
  of settled side whose path meets the line's segment is a crossing; each identity counts at most once per
  direction (the rule the counts follow). Every identity counts, seen or hidden: a crossing is physical.
- *Occupancy*: per frame, the objects a person would count (``counted``: at least half visible) whose anchor
  lies inside the zone; the mean over frames.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, datetime, timedelta

from core.geometry import Point, anchor, inside, segments_intersect, signed_distance
from core.messages import Detection, DetectionMessage

TRUTH_BAND = 0.006


def _norm(box: Sequence[float], width: int, height: int) -> tuple[float, float, float, float]:
    return box[0] / width, box[1] / height, box[2] / width, box[3] / height


def truth_crossings(records: Iterable[dict], line: tuple[Point, Point], width: int, height: int,
                    band: float = TRUTH_BAND, classes: set[str] | None = None) -> dict[str, int]:
    """{"in": n, "out": m} over the records (any order of frames is sorted first)."""
    a, b = line
    settled: dict[int, tuple[int, Point]] = {}
    counted: dict[int, set[int]] = {}
    totals = {"in": 0, "out": 0}
    for record in sorted(records, key=lambda r: r["frame"]):
        for obj in record["objects"]:
            if classes is not None and obj["class"] not in classes:
                continue
            point = anchor(_norm(obj["box"], width, height))
            d = signed_distance(point, a, b)
            if abs(d) <= band:
                continue
            side = 1 if d > 0 else -1
            previous = settled.get(obj["id"])
            if previous is not None and previous[0] == -side and segments_intersect(previous[1], point, a, b):
                done = counted.setdefault(obj["id"], set())
                if side not in done:
                    done.add(side)
                    totals["in" if side > 0 else "out"] += 1
            settled[obj["id"]] = (side, point)
    return totals


def truth_occupancy(records: Iterable[dict], zone: Sequence[Point], width: int, height: int,
                    classes: set[str] | None = None) -> float:
    """Mean counted objects per frame whose anchor is inside ``zone``."""
    frames = total = 0
    for record in records:
        frames += 1
        total += sum(1 for obj in record["objects"] if obj["counted"]
                     and (classes is None or obj["class"] in classes)
                     and inside(anchor(_norm(obj["box"], width, height)), zone))
    return total / frames if frames else 0.0


def messages_from_truth(records: Sequence[dict], every: int, width: int, height: int, *, phase: int = 0,
                        stream_id: int = 1, session_id: str = "truth", model: str = "truth",
                        start: datetime | None = None) -> list[DetectionMessage]:
    """Detection messages a perfect detector and tracker would send, sampling every ``every``-th truth frame
    from ``phase``: the counted (at least half visible) objects, normalised boxes, the identity as track id."""
    start = start or datetime(2026, 1, 5, 12, 0, tzinfo=UTC)
    out = []
    for seq, record in enumerate(r for r in records if r["frame"] % every == phase % every):
        detections = [
            Detection(class_id=0 if obj["class"] == "person" else 5, class_name=obj["class"], confidence=0.9,
                      box=tuple(min(1.0, max(0.0, v)) for v in _norm(obj["box"], width, height)),  # type: ignore[arg-type]
                      track_id=obj["id"])
            for obj in record["objects"] if obj["counted"]
        ]
        out.append(DetectionMessage(
            stream_id=stream_id, session_id=session_id, seq=seq, capture_time=start + timedelta(seconds=record["t"]),
            model=model, weights_hash="0" * 16, image_width=width, image_height=height, inference_ms=0.0,
            detections=detections,
        ))
    return out
