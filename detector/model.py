"""Loading YOLO once per process and running it on batches of frames, on CPU or GPU.

- ultralytics is made offline before it is imported (no downloads, no pip installs, settings under the data
  dir), and is only ever given absolute paths.
- Device ``auto``: ``cuda:0`` when torch sees a GPU (half precision there), else the CPU with all cores
  (ultralytics leaves torch at cpu_count-1 threads, which on 2 cores is 1.6x slower).
- Backend ``auto`` on a CPU is OpenVINO INT8 (``detector.backends``: the fastest that keeps the counts);
  exports (ONNX, OpenVINO fp32/INT8, TensorRT) are built once and cached in the data directory, keyed by the
  weights hash, image size, device and precision (``detector.exports``).
- Exports are dynamic, so every backend runs at the frame's aspect (640x384 for 16:9), as torch does.
"""

from __future__ import annotations

import logging
import os
import sys
import time
from dataclasses import dataclass

import numpy as np

from core.settings import Settings
from detector.backends import BACKENDS, Choice, choose
from detector.classes import ClassFilter
from detector.exports import export_dir, exported_model
from detector.thresholds import class_thresholds
from detector.weights import resolve_weights

__all__ = ["BACKENDS", "Choice", "Detector", "FrameResult", "export_dir", "exported_model", "usable_cores"]

log = logging.getLogger(__name__)



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
        self.choice: Choice = choose(settings.detector_backend, settings.detector_precision, self.device)
        self.backend, self.precision = self.choice.backend, self.choice.precision
        self.half = self.precision == "fp16"
        self.threads = settings.detector_threads or usable_cores()
        self.imgsz = settings.detector_imgsz
        self.batch_size = settings.detector_batch_size
        self.forward_batch = self.batch_size if self.half else min(self.batch_size, settings.detector_cpu_batch)
        from ultralytics import YOLO

        path = self.weights.path
        if self.backend != "torch":
            path = exported_model(self.weights, self.backend, self.imgsz, self.device, self.precision,
                                  self.batch_size)
        started = time.perf_counter()
        self.model = YOLO(str(path), task="detect")
        self.names: dict[int, str] = dict(self.model.names)
        per_class = class_thresholds(self.names, settings.detector_rare_class_confidence,
                                     settings.detector_class_confidence)
        self.filter = ClassFilter.build(self.names, settings.detector_confidence, per_class, settings.detector_classes)
        self.warmup()
        self.threads = self._runtime_threads()
        from detector import metrics

        info = self.describe()
        metrics.MODEL.info(info)
        computed = info.get("inference_precision")
        log.info("detector runs %s: backend %s, precision %s%s, imgsz %d (at the frame's aspect), %d threads, "
                 "%d frames per forward pass; loaded in %.1f s", path.name, self.backend, self.precision,
                 f" (computed in {computed})" if computed else "",
                 self.imgsz, self.threads, self.forward_batch, time.perf_counter() - started)

    def describe(self) -> dict[str, str]:
        """What runs, for the start-up log and the Prometheus info metric."""
        info = {"backend": self.backend, "precision": self.precision, "imgsz": str(self.imgsz),
                "threads": str(self.threads), "device": self.device, "model": self.name,
                "weights_sha256": self.weights.sha256[:12], "forward_batch": str(self.forward_batch)}
        inference = self._openvino_property("INFERENCE_PRECISION_HINT")
        if inference is not None:  # OpenVINO runs an fp32 model in bf16 on CPUs with AMX unless told otherwise
            info["inference_precision"] = getattr(inference, "get_type_name", lambda: str(inference))()
        return info

    def _openvino_property(self, name: str):
        """A property of the compiled OpenVINO model ultralytics holds; None for other backends or if unreadable."""
        if self.backend != "openvino":
            return None
        compiled = getattr(getattr(self.model.predictor.model, "backend", None), "ov_compiled_model", None)
        try:
            return compiled.get_property(name)
        except Exception:
            return None

    def _runtime_threads(self) -> int:
        """The threads the runtime really uses (OpenVINO picks its own: all physical cores in LATENCY mode)."""
        threads = self._openvino_property("INFERENCE_NUM_THREADS")
        return int(threads) or self.threads if threads is not None else self.threads

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
