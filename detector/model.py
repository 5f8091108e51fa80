"""Loading YOLO once per process and running it on batches of frames, on CPU or GPU.

- ultralytics is made offline before it is imported (no downloads, no pip installs, settings under the data
  dir), and is only ever given absolute paths.
- Device ``auto``: ``cuda:0`` when torch sees a GPU (half precision there), else the CPU with all cores
  (ultralytics leaves torch at cpu_count-1 threads, which on 2 cores is 1.6x slower).
- Export backends (ONNX, OpenVINO, TensorRT) are built once and cached in the data directory, keyed by the
  weights hash, image size, device and precision.
"""

from __future__ import annotations

import logging
import os
import shutil
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from core.settings import Settings
from detector.classes import ClassFilter
from detector.thresholds import class_thresholds
from detector.weights import Weights, resolve_weights

log = logging.getLogger(__name__)

BACKENDS = {"torch": None, "onnx": "onnx", "openvino": "openvino", "engine": "engine"}
# Python packages each export backend needs (ultralytics would try to pip-install them: never offline).
BACKEND_PACKAGES = {"onnx": ("onnx", "onnxruntime"), "openvino": ("openvino",), "engine": ("tensorrt",)}


def prepare_ultralytics(settings: Settings) -> None:
    """Make ultralytics offline and quiet; must run before its first import to take full effect."""
    os.environ["YOLO_OFFLINE"] = "1"
    os.environ["YOLO_AUTOINSTALL"] = "false"
    os.environ.setdefault("YOLO_VERBOSE", "false")
    # OpenMP threads that spin at barriers collapse when the cores are shared (reader, broker, database and
    # detector on one small machine): 2 threads ran 10x slower than 1 under load; passive waiting keeps the
    # 2-thread speed-up. Read when torch loads, so it must be set before the first torch import.
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    config_dir = settings.data_dir / "ultralytics"
    config_dir.mkdir(parents=True, exist_ok=True)
    if "ultralytics" in sys.modules:
        log.debug("ultralytics was imported before the detector set its environment")
    os.environ["YOLO_CONFIG_DIR"] = str(config_dir)


def usable_cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def resolve_device(requested: str) -> str:
    """``auto`` -> ``cuda:0`` when torch sees a GPU, else ``cpu``; anything else is passed through."""
    import torch

    if requested == "auto":
        return "cuda:0" if torch.cuda.is_available() else "cpu"
    if requested.startswith("cuda") and not torch.cuda.is_available():
        raise RuntimeError(f"device {requested!r} requested but torch sees no CUDA GPU")
    return requested


def export_dir(weights: Weights, backend: str, imgsz: int, device: str, half: bool, batch: int) -> Path:
    """Where an export of ``weights`` for these settings is cached."""
    device_tag = device.replace(":", "")
    precision = "fp16" if half else "fp32"
    batch_tag = f"-b{batch}" if backend == "engine" else ""
    return weights.cache_dir / "exports" / f"{backend}-{imgsz}-{device_tag}-{precision}{batch_tag}"


def exported_model(weights: Weights, backend: str, imgsz: int, device: str, half: bool, batch: int) -> Path:
    """Build an export once (in a temporary folder, renamed into place) and return the file to load."""
    import importlib.util

    fmt = BACKENDS[backend]
    missing = [name for name in BACKEND_PACKAGES[backend] if importlib.util.find_spec(name) is None]
    if missing:
        raise RuntimeError(f"the {backend} backend needs {', '.join(missing)} installed (pip install {missing[0]})")
    target = export_dir(weights, backend, imgsz, device, half, batch)
    artifact = _artifact(target, weights, fmt)
    if artifact.exists():
        return artifact
    from ultralytics import YOLO

    target.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=".export-", dir=target.parent))
    try:
        source = work / weights.path.name
        shutil.copyfile(weights.path, source)  # ultralytics writes the export next to the weights
        log.info("exporting %s to %s (imgsz %d, %s, %s); cached in %s", weights.name, backend, imgsz, device,
                 "fp16" if half else "fp32", target)
        options = dict(format=fmt, imgsz=imgsz, device=device, dynamic=True, simplify=False, verbose=False)
        if fmt == "engine":
            options.update(half=half, batch=batch)
        YOLO(str(source), task="detect").export(**options)
        source.unlink()
        try:
            work.rename(target)
        except OSError:  # another process finished the same export first
            shutil.rmtree(work, ignore_errors=True)
    finally:
        if work.exists():
            shutil.rmtree(work, ignore_errors=True)
    return _artifact(target, weights, fmt)


def _artifact(folder: Path, weights: Weights, fmt: str) -> Path:
    stem = weights.path.stem
    return folder / {"onnx": f"{stem}.onnx", "openvino": f"{stem}_openvino_model", "engine": f"{stem}.engine"}[fmt]


@dataclass(frozen=True, slots=True)
class FrameResult:
    """What the model kept in one frame: boxes normalised to the frame, and pixel boxes for the tracker."""

    boxes_norm: np.ndarray  # (n, 4) float32 x1, y1, x2, y2 in 0..1
    confidences: np.ndarray  # (n,)
    class_ids: np.ndarray  # (n,) int
    boxes: object  # ultralytics Boxes (numpy) for the tracker

    def __len__(self) -> int:
        return len(self.class_ids)


class Detector:
    """A YOLO model loaded once, with the device, precision, thresholds and class filter settled."""

    def __init__(self, settings: Settings):
        prepare_ultralytics(settings)
        self.weights = resolve_weights(settings)
        self.device = resolve_device(settings.detector_device)
        self.half = self.device.startswith("cuda")
        self.threads = settings.detector_threads or usable_cores()
        self.imgsz = settings.detector_imgsz
        self.batch_size = settings.detector_batch_size
        self.forward_batch = self.batch_size if self.half else min(self.batch_size, settings.detector_cpu_batch)
        self.backend = settings.detector_backend
        if self.backend not in BACKENDS:
            raise ValueError(f"unknown backend {self.backend!r}; choose one of {', '.join(BACKENDS)}")
        if self.backend == "engine" and not self.half:
            raise ValueError("the TensorRT backend (engine) needs a CUDA device")
        from ultralytics import YOLO

        path = self.weights.path
        if BACKENDS[self.backend]:
            path = exported_model(self.weights, self.backend, self.imgsz, self.device, self.half, self.batch_size)
        started = time.perf_counter()
        self.model = YOLO(str(path), task="detect")
        self.names: dict[int, str] = dict(self.model.names)
        per_class = class_thresholds(self.names, settings.detector_rare_class_confidence,
                                     settings.detector_class_confidence)
        self.filter = ClassFilter.build(self.names, settings.detector_confidence, per_class, settings.detector_classes)
        self.warmup()
        log.info("loaded %s (%s, %s%s, %d threads) in %.1f s", path.name, self.backend, self.device,
                 " fp16" if self.half else "", self.threads, time.perf_counter() - started)

    @property
    def name(self) -> str:
        return self.weights.name

    def warmup(self) -> None:
        """One forward pass, so the first real batch is not slowed by lazy initialisation."""
        self.predict([np.zeros((self.imgsz * 9 // 16, self.imgsz, 3), dtype=np.uint8)])

    def predict(self, images: list[np.ndarray]) -> list[FrameResult]:
        """Run the model on BGR images, ``forward_batch`` of them per forward pass."""
        self._keep_threads()
        kept = []
        for start in range(0, len(images), self.forward_batch):
            results = self.model.predict(
                images[start : start + self.forward_batch],
                imgsz=self.imgsz,
                conf=self.filter.model_confidence,
                classes=self.filter.model_classes,
                device=self.device,
                half=self.half,
                verbose=False,
            )
            kept.extend(self._kept(result.boxes.cpu().numpy()) for result in results)
        return kept

    def _keep_threads(self) -> None:
        """ultralytics' select_device() resets torch to cpu_count-1 threads when a predictor is set up."""
        if self.device == "cpu":
            import torch

            if torch.get_num_threads() != self.threads:
                torch.set_num_threads(self.threads)

    def _kept(self, boxes) -> FrameResult:
        class_ids = boxes.cls.astype(np.int64)
        keep = self.filter.keep(class_ids, boxes.conf)
        boxes = boxes[keep]
        normalised = np.clip(boxes.xyxyn.astype(np.float32), 0.0, 1.0)
        return FrameResult(normalised, boxes.conf.astype(np.float32), boxes.cls.astype(np.int64), boxes)
