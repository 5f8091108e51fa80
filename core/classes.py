"""The object classes a person may name (alert rules; the API's class filters): one list in core, which imports
no detector. The default weights are COCO's; a custom model's classes are allowed once the detector has recorded
one of them in ``object_stats``, or when named in ``STREAMSCOPE_DETECTOR_CLASSES``."""

from __future__ import annotations

import re
from collections.abc import Iterable

# Ultralytics' names of the 80 COCO classes (what yolo11n.pt writes into object_stats.object_class).
COCO_CLASSES: tuple[str, ...] = (
    "person", "bicycle", "car", "motorcycle", "airplane", "bus", "train", "truck", "boat", "traffic light",
    "fire hydrant", "stop sign", "parking meter", "bench", "bird", "cat", "dog", "horse", "sheep", "cow",
    "elephant", "bear", "zebra", "giraffe", "backpack", "umbrella", "handbag", "tie", "suitcase", "frisbee",
    "skis", "snowboard", "sports ball", "kite", "baseball bat", "baseball glove", "skateboard", "surfboard",
    "tennis racket", "bottle", "wine glass", "cup", "fork", "knife", "spoon", "bowl", "banana", "apple",
    "sandwich", "orange", "broccoli", "carrot", "hot dog", "pizza", "donut", "cake", "chair", "couch",
    "potted plant", "bed", "dining table", "toilet", "tv", "laptop", "mouse", "remote", "keyboard",
    "cell phone", "microwave", "oven", "toaster", "sink", "refrigerator", "book", "clock", "vase", "scissors",
    "teddy bear", "hair drier", "toothbrush",
)  # fmt: skip

_SPACES = re.compile(r"\s+")


def normalise_class(name: str) -> str:
    """As the detector stores it: lower case, single spaces ("Traffic  Light" -> "traffic light")."""
    return _SPACES.sub(" ", name.strip()).lower()


def known_classes(extra: Iterable[str] = ()) -> frozenset[str]:
    """COCO's classes plus ``extra`` (the configured allow-list, classes already seen), normalised."""
    return frozenset(COCO_CLASSES) | {normalise_class(name) for name in extra}
