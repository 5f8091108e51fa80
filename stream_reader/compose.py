"""Drawing a generated scene's frames (the pixels of :mod:`stream_reader.scenes`; images in, arrays out).

Sources: ``ultralytics:NAME`` is an image the ultralytics wheel ships (``bus.jpg``, ``zidane.jpg``;
AGPL-3.0 like the weights the project uses); ``walkway`` is ``assets/walkway.jpg`` in this package, the
median of every tenth frame of OpenCV's ``vtest.avi`` (Debian ``opencv-doc``, Apache-2.0 AND BSD-3-Clause),
rows 144-576 (below the parked van and car), scaled to 1280x720: the walkway with nobody on it.
"""

from __future__ import annotations

import importlib.util
from functools import lru_cache
from pathlib import Path

import numpy as np

from stream_reader.scenes import SPRITES, Scene, objects_at

ASSETS = Path(__file__).parent / "assets"
BACKGROUNDS = {"walkway": ASSETS / "walkway.jpg"}


def source_path(source: str) -> Path:
    if source.startswith("ultralytics:"):
        # Found without importing ultralytics (and torch with it).
        spec = importlib.util.find_spec("ultralytics")
        if spec is None or spec.origin is None:
            raise FileNotFoundError(f"{source}: the ultralytics package (which ships these images) is not installed")
        return Path(spec.origin).parent / "assets" / source.split(":", 1)[1]
    return BACKGROUNDS[source]


@lru_cache(maxsize=16)
def _image(source: str) -> np.ndarray:
    import cv2

    image = cv2.imread(str(source_path(source)))
    if image is None:
        raise FileNotFoundError(f"cannot read the scene image {source_path(source)}")
    return image


@lru_cache(maxsize=8)
def background(name: str, width: int, height: int) -> np.ndarray:
    import cv2

    return cv2.resize(_image(name), (width, height), interpolation=cv2.INTER_AREA)


@lru_cache(maxsize=256)
def _sprite_pixels(name: str, width: int, height: int) -> np.ndarray:
    import cv2

    sprite = SPRITES[name]
    x0, y0, x1, y1 = sprite.box
    return cv2.resize(_image(sprite.source)[y0:y1, x0:x1], (width, height), interpolation=cv2.INTER_AREA)


def render(scene: Scene, t: float) -> np.ndarray:
    """The BGR frame at scene time ``t``: background, then each actor's sprite from far to near."""
    frame = background(scene.background, scene.width, scene.height).copy()
    for obj in objects_at(scene, t):
        x0, y0, x1, y1 = (round(v) for v in obj.box)
        pixels = _sprite_pixels(obj.sprite, x1 - x0, y1 - y0)
        fx0, fy0, fx1, fy1 = max(0, x0), max(0, y0), min(scene.width, x1), min(scene.height, y1)
        if fx1 > fx0 and fy1 > fy0:
            frame[fy0:fy1, fx0:fx1] = pixels[fy0 - y0 : fy1 - y0, fx0 - x0 : fx1 - x0]
    return frame
