"""The running totals of one open window: per model (frames, sequences) and per class (detections, presence,
max and min per frame, track ids). Plain slotted classes: the machine updates them once per message."""

from __future__ import annotations

NEVER = -(2**62)


class ClassAcc:
    __slots__ = ("class_id", "detections", "frames_present", "max", "min_present", "tracks")

    def __init__(self, class_id: int):
        self.class_id = class_id
        self.detections = 0
        self.frames_present = 0
        self.max = 0
        self.min_present = 1 << 62
        self.tracks: set[tuple[str, int]] = set()  # (session id, track id)


class ModelAcc:
    __slots__ = ("classes", "first_ms", "frames", "last_ms", "seqs")

    def __init__(self) -> None:
        self.frames = 0
        self.first_ms = 1 << 62
        self.last_ms = NEVER
        self.seqs: dict[str, list[int]] = {}  # session id -> sequences counted here
        self.classes: dict[str, ClassAcc] = {}


class WindowAcc:
    __slots__ = ("dirty", "last_publish", "messages", "models", "start", "version")

    def __init__(self, start: int):
        self.start = start
        self.models: dict[str, ModelAcc] = {}
        self.last_publish = NEVER
        self.messages = 0
        self.version = 0  # of its persisted snapshot; 0 = none yet
        self.dirty = False  # changed since the last snapshot
