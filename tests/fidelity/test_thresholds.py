"""Per-class threshold defaults (pure logic)."""

from __future__ import annotations

from detector.classes import ClassFilter
from detector.thresholds import RARE_CLASSES, class_thresholds

NAMES = {0: "person", 1: "dog", 2: "surfboard", 3: "car", 4: "traffic light"}


def test_rare_classes_get_their_own_threshold_and_explicit_settings_win():
    assert class_thresholds(NAMES, 0.6) == {"dog": 0.6, "surfboard": 0.6}
    assert class_thresholds(NAMES, 0.6, {"Dog": 0.3, "car": 0.5}) == {"surfboard": 0.6, "Dog": 0.3, "car": 0.5}
    rules = ClassFilter.build(NAMES, 0.35, class_thresholds(NAMES, 0.6, {"Dog": 0.3}))
    assert dict(rules.thresholds) == {0: 0.35, 1: 0.3, 2: 0.6, 3: 0.35, 4: 0.35}
    assert {"dog", "kite", "frisbee", "surfboard"} <= RARE_CLASSES and "person" not in RARE_CLASSES
