"""From a frames-topic message to a BGR image, refusing what does not decode.

JPEGs are decoded straight at the scale the model needs: libjpeg can decode at 1/2, 1/4 or 1/8 size (in the
DCT, far cheaper than decoding in full and resizing), so a 1280x720 frame for a 640 model decodes to 640x360,
exactly what the letterbox would resize it to. Boxes are normalised, so nothing downstream changes.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from core.messages import Frame, MessageError

JPEG_EOI = b"\xff\xd9"
SCALES = (8, 4, 2)


@dataclass(frozen=True, slots=True)
class DecodedFrame:
    frame: Frame
    image: np.ndarray  # BGR, HxWx3, possibly reduced by ``scale``
    scale: int


def reduction(width: int, height: int, imgsz: int) -> int:
    """The largest libjpeg reduction that keeps the long side at or above the model's input size."""
    longest = max(width, height)
    return next((scale for scale in SCALES if longest / scale >= imgsz), 1)


def _imread_flag(scale: int) -> int:
    import cv2

    flag = {1: cv2.IMREAD_COLOR, 2: cv2.IMREAD_REDUCED_COLOR_2, 4: cv2.IMREAD_REDUCED_COLOR_4,
            8: cv2.IMREAD_REDUCED_COLOR_8}[scale]
    return flag | cv2.IMREAD_IGNORE_ORIENTATION


def decode_jpeg(frame: Frame, imgsz: int) -> DecodedFrame:
    """Decode ``frame``'s JPEG for a model of input size ``imgsz``; raise MessageError when it is corrupt."""
    import cv2

    payload = frame.jpeg.rstrip(b"\x00")
    if not payload.endswith(JPEG_EOI):
        raise MessageError("frame JPEG is truncated (no end-of-image marker)")
    meta = frame.meta
    scale = reduction(meta.width, meta.height, imgsz)
    image = cv2.imdecode(np.frombuffer(payload, np.uint8), _imread_flag(scale))
    if image is None:
        raise MessageError("frame JPEG does not decode")
    expected = (math.ceil(meta.height / scale), math.ceil(meta.width / scale))
    if image.shape[:2] != expected:
        height, width = (side * scale for side in image.shape[:2])
        raise MessageError(f"frame JPEG is about {width}x{height}, its properties say {meta.width}x{meta.height}")
    return DecodedFrame(frame=frame, image=image, scale=scale)
