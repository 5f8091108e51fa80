"""INT8 calibration frames made from images the project already has (never a downloaded data set).

The ultralytics wheel ships two photographs (``bus.jpg``: a street, a bus and four people; ``zidane.jpg``: two
people indoors). Crops, flips, zooms and brightness changes of them give activation ranges close to those of
street and venue footage. Frames are letterboxed exactly as ultralytics does before inference (pad 114, stride
32, RGB, 0..1), at the square and the 16:9 input shapes the detector runs, so the quantiser sees both.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

STRIDE = 32
PAD = 114


def asset_images() -> list[np.ndarray]:
    """The BGR test images bundled with ultralytics."""
    import cv2
    import ultralytics

    assets = Path(ultralytics.__file__).parent / "assets"
    images = [cv2.imread(str(assets / name)) for name in ("bus.jpg", "zidane.jpg")]
    return [image for image in images if image is not None]


def input_shape(width: int, height: int, imgsz: int) -> tuple[int, int]:
    """(height, width) of the model input for a frame: long side ``imgsz``, short side up to a multiple of 32."""
    ratio = imgsz / max(width, height)
    new_w, new_h = round(width * ratio), round(height * ratio)
    return -(-new_h // STRIDE) * STRIDE, -(-new_w // STRIDE) * STRIDE


def letterbox(image: np.ndarray, imgsz: int) -> np.ndarray:
    """``image`` (BGR) as a 1x3xHxW float32 RGB tensor in 0..1, letterboxed like ultralytics' ``rect`` mode."""
    import cv2

    height, width = image.shape[:2]
    out_h, out_w = input_shape(width, height, imgsz)
    ratio = min(out_h / height, out_w / width, imgsz / max(width, height))
    new_w, new_h = round(width * ratio), round(height * ratio)
    resized = cv2.resize(image, (new_w, new_h), interpolation=cv2.INTER_LINEAR)
    canvas = np.full((out_h, out_w, 3), PAD, np.uint8)
    top, left = (out_h - new_h) // 2, (out_w - new_w) // 2
    canvas[top : top + new_h, left : left + new_w] = resized
    return np.ascontiguousarray(canvas[:, :, ::-1].transpose(2, 0, 1))[None].astype(np.float32) / 255.0


def augmented(images: list[np.ndarray], count: int, seed: int = 0) -> list[np.ndarray]:
    """``count`` variants of ``images``: random crops (50-100%), horizontal flips, brightness 0.6-1.3x, and
    16:9 / 4:3 / portrait framings, so the calibration covers the aspects streams come in."""
    rng = np.random.default_rng(seed)
    aspects = (16 / 9, 4 / 3, 1.0, 3 / 4)
    frames = []
    for index in range(count):
        image = images[index % len(images)]
        height, width = image.shape[:2]
        aspect = aspects[index % len(aspects)]
        scale = rng.uniform(0.5, 1.0)
        crop_w = min(width, int(scale * min(width, height * aspect)))
        crop_h = min(height, int(crop_w / aspect))
        x0 = int(rng.integers(0, width - crop_w + 1))
        y0 = int(rng.integers(0, height - crop_h + 1))
        crop = image[y0 : y0 + crop_h, x0 : x0 + crop_w]
        if rng.random() < 0.5:
            crop = crop[:, ::-1]
        gain = rng.uniform(0.6, 1.3)
        frames.append(np.clip(crop.astype(np.float32) * gain, 0, 255).astype(np.uint8))
    return frames


def calibration_tensors(imgsz: int, count: int, seed: int = 0) -> list[np.ndarray]:
    """``count`` letterboxed calibration inputs for a model of input size ``imgsz``."""
    return [letterbox(frame, imgsz) for frame in augmented(asset_images(), count, seed)]
