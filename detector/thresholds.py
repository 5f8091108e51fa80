"""Per-class confidence thresholds: which classes need more evidence than the default (pure logic).

Measured (docs/benchmarks/fidelity.md): at one threshold for every class, yolo11n reports classes that are not
in a street scene at all (dogs, surfboards, kites, frisbees; trains for a bus), mostly at confidences under
0.5, while people and vehicles in view score 0.6-0.9. So the default threshold stays moderate and the classes
a street camera rarely shows (animals, sports gear, and the like) get their own, higher one. An explicit
per-class setting always wins.
"""

from __future__ import annotations

from collections.abc import Mapping

# COCO classes a street camera rarely shows: a detection of one is more often a mistake than a sighting.
RARE_CLASSES: frozenset[str] = frozenset({
    "bird", "cat", "dog", "horse", "sheep", "cow", "elephant", "bear", "zebra", "giraffe",
    "frisbee", "skis", "snowboard", "sports ball", "kite", "baseball bat", "baseball glove", "skateboard",
    "surfboard", "tennis racket", "train", "airplane", "boat",
})


def class_thresholds(
    names: Mapping[int, str], rare: float, explicit: Mapping[str, float] | None = None
) -> dict[str, float]:
    """Threshold per class name for the model's classes: ``rare`` for :data:`RARE_CLASSES` it knows, then
    the ``explicit`` settings on top (names matched case-insensitively; unknown names are left for the class
    filter to reject)."""
    known = {name.lower(): name for name in names.values()}
    thresholds = {known[name]: rare for name in RARE_CLASSES if name in known}
    for name, value in (explicit or {}).items():
        thresholds.pop(known.get(name.strip().lower(), ""), None)
        thresholds[name] = value
    return thresholds
