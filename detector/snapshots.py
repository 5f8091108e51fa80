"""The latest annotated frame per stream, UPSERTed into ``snapshots`` at most every N seconds per stream.

Snapshots are a convenience for the UI: a failed write is logged and skipped, never allowed to stop detection
or delay the acknowledgement of frames.
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from collections.abc import Sequence
from datetime import datetime

import numpy as np

from core.messages import Detection
from core.settings import Settings

log = logging.getLogger(__name__)

_PALETTE = [(56, 56, 255), (151, 157, 255), (31, 112, 255), (29, 178, 255), (49, 210, 207), (10, 249, 72),
            (23, 204, 146), (134, 219, 61), (52, 147, 26), (187, 212, 0), (168, 153, 44), (255, 194, 0),
            (147, 69, 52), (255, 115, 100), (236, 24, 0), (255, 56, 132), (133, 0, 82), (255, 56, 203)]


def counts_by_class(detections: Sequence[Detection]) -> dict[str, int]:
    return dict(Counter(d.class_name for d in detections))


def annotate(image: np.ndarray, detections: Sequence[Detection], quality: int = 80) -> bytes:
    """A JPEG of ``image`` with a box and a label (class, confidence, track id) per detection."""
    import cv2

    canvas = image.copy()
    height, width = canvas.shape[:2]
    thickness = max(1, round(min(height, width) / 300))
    for d in detections:
        colour = _PALETTE[d.class_id % len(_PALETTE)]
        x1, y1, x2, y2 = (round(v * side) for v, side in zip(d.box, (width, height, width, height), strict=True))
        cv2.rectangle(canvas, (x1, y1), (x2, y2), colour, thickness, cv2.LINE_AA)
        label = f"{d.class_name} {d.confidence:.2f}" + (f" #{d.track_id}" if d.track_id is not None else "")
        scale = thickness / 3
        (text_w, text_h), _ = cv2.getTextSize(label, cv2.FONT_HERSHEY_SIMPLEX, scale, 1)
        top = max(y1 - text_h - 4, 0)
        cv2.rectangle(canvas, (x1, top), (x1 + text_w + 2, top + text_h + 4), colour, -1)
        cv2.putText(canvas, label, (x1 + 1, top + text_h + 1), cv2.FONT_HERSHEY_SIMPLEX, scale, (255, 255, 255), 1,
                    cv2.LINE_AA)
    ok, encoded = cv2.imencode(".jpg", canvas, [cv2.IMWRITE_JPEG_QUALITY, quality])
    if not ok:
        raise RuntimeError("could not encode the snapshot")
    return encoded.tobytes()


class SnapshotWriter:
    """Writes one stream's snapshot when its interval has passed since the last write."""

    def __init__(self, settings: Settings, model: str, interval_s: float | None = None):
        self.settings = settings
        self.model = model
        self.interval_s = settings.detector_snapshot_interval_s if interval_s is None else interval_s
        self._last: dict[int, float] = {}
        self._unregistered: set[int] = set()
        self.written = 0
        self.failed = 0

    def due(self, stream_id: int, now: float | None = None) -> bool:
        last = self._last.get(stream_id)
        return last is None or (time.monotonic() if now is None else now) - last >= self.interval_s

    def write(self, stream_id: int, captured_at: datetime, image: np.ndarray, detections: Sequence[Detection]) -> bool:
        """Annotate and UPSERT (a newer capture replaces an older one, never the other way round)."""
        from sqlalchemy.exc import IntegrityError

        self._last[stream_id] = time.monotonic()
        try:
            jpeg = annotate(image, detections)
            self._upsert(stream_id, captured_at, jpeg, image.shape[1], image.shape[0], counts_by_class(detections))
        except IntegrityError:  # frames of a stream that is not (or no longer) in the registry
            self.failed += 1
            if stream_id not in self._unregistered:
                self._unregistered.add(stream_id)
                log.warning("stream %s is not in the streams table: no snapshots for it", stream_id)
            return False
        except Exception as error:  # never let the UI's picture stop detection
            self.failed += 1
            log.warning("snapshot of stream %s not written: %s", stream_id, str(error).splitlines()[0])
            return False
        self.written += 1
        self._unregistered.discard(stream_id)
        return True

    def _upsert(self, stream_id: int, captured_at: datetime, jpeg: bytes, width: int, height: int,
                counts: dict[str, int]) -> None:
        from sqlalchemy import func
        from sqlalchemy.dialects.postgresql import insert

        from core.db.engine import session_scope
        from core.db.models import Snapshot

        values = dict(stream_id=stream_id, captured_at=captured_at, jpeg=jpeg, width=width, height=height,
                      model=self.model, counts=counts)
        statement = insert(Snapshot).values(**values)
        excluded = statement.excluded
        statement = statement.on_conflict_do_update(
            index_elements=[Snapshot.stream_id],
            set_={**{key: excluded[key] for key in values if key != "stream_id"}, "updated_at": func.now()},
            where=Snapshot.captured_at <= excluded.captured_at,
        )
        with session_scope(self.settings) as session:
            session.execute(statement)
