"""Which detections are kept: a class allow-list and per-class confidence thresholds (pure logic)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class ClassFilter:
    """Thresholds per class id; classes not allowed are absent from ``thresholds``."""

    thresholds: Mapping[int, float]
    default: float
    allow_all: bool

    @classmethod
    def build(
        cls,
        names: Mapping[int, str],
        default: float,
        per_class: Mapping[str, float] | None = None,
        allowed: Sequence[str] | None = None,
    ) -> ClassFilter:
        """Resolve class names (case-insensitive, e.g. "traffic light") to ids; unknown names are an error."""
        by_name = {name.lower(): class_id for class_id, name in names.items()}

        def class_id(name: str) -> int:
            try:
                return by_name[name.strip().lower()]
            except KeyError:
                raise ValueError(f"unknown class {name!r}; the model knows {', '.join(names.values())}") from None

        for name, threshold in (per_class or {}).items():
            if not 0.0 <= threshold <= 1.0:
                raise ValueError(f"confidence threshold of {name!r} must be within 0..1, not {threshold}")
        allowed_ids = {class_id(name) for name in allowed or ()}
        overrides = {class_id(name): float(threshold) for name, threshold in (per_class or {}).items()}
        ids = allowed_ids or set(names)
        thresholds = {i: overrides.get(i, default) for i in ids}
        return cls(thresholds=thresholds, default=default, allow_all=not allowed_ids)

    @property
    def model_confidence(self) -> float:
        """The threshold to give the model: the lowest one, so no per-class override is cut off early."""
        return min(self.thresholds.values(), default=self.default)

    @property
    def model_classes(self) -> list[int] | None:
        """Class ids to give the model's NMS (None = all)."""
        return None if self.allow_all else sorted(self.thresholds)

    def keep(self, class_ids: np.ndarray, confidences: np.ndarray) -> np.ndarray:
        """Boolean mask of the detections that pass their class's threshold."""
        if not len(class_ids):
            return np.zeros(0, dtype=bool)
        lookup = np.full(int(max(class_ids.max(), max(self.thresholds, default=0))) + 1, np.inf)
        for class_id, threshold in self.thresholds.items():
            lookup[class_id] = threshold
        return confidences >= lookup[class_ids.astype(int)]
