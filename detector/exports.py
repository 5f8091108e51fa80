"""Exported models (ONNX, OpenVINO fp32/INT8, TensorRT), built once and cached beside the weights.

Each export is keyed by the weights hash (the cache folder), backend, image size, device and precision, built
in a temporary folder and renamed into place, so two detectors starting at once never load half an export.
INT8 is OpenVINO's fp32 export quantised by NNCF (post-training, ``MIXED`` preset, detection head kept in
fp32 as ultralytics does) on calibration frames made from the images the project ships
(``detector.calibration``), never a downloaded data set.
"""

from __future__ import annotations

import importlib.util
import logging
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from detector.weights import Weights

log = logging.getLogger(__name__)

FORMATS = {"onnx": "onnx", "openvino": "openvino", "engine": "engine"}
# Python packages each export needs (ultralytics would try to pip-install them: never offline).
PACKAGES = {"onnx": ("onnx", "onnxruntime"), "openvino": ("openvino",), "engine": ("tensorrt",)}
INT8_PACKAGES = ("openvino", "nncf")
CALIBRATION_FRAMES = 24  # 24 frames: ~7 s of quantisation here; 60 gave the same counts in ~20 s


def missing_packages(backend: str, precision: str) -> list[str]:
    names = INT8_PACKAGES if precision == "int8" else PACKAGES[backend]
    return [name for name in names if importlib.util.find_spec(name) is None]


def export_dir(weights: Weights, backend: str, imgsz: int, device: str, precision: str, batch: int) -> Path:
    """Where an export of ``weights`` for these settings is cached."""
    batch_tag = f"-b{batch}" if backend == "engine" else ""
    return weights.cache_dir / "exports" / f"{backend}-{imgsz}-{device.replace(':', '')}-{precision}{batch_tag}"


def artifact(folder: Path, weights: Weights, backend: str) -> Path:
    """The file (or folder) ultralytics loads; an OpenVINO folder's name must end in ``_openvino_model``."""
    stem = weights.path.stem
    return folder / {"onnx": f"{stem}.onnx", "openvino": f"{stem}_openvino_model", "engine": f"{stem}.engine"}[
        backend
    ]


def exported_model(weights: Weights, backend: str, imgsz: int, device: str, precision: str, batch: int) -> Path:
    """Build the export once and return what to load; a second call (or process) reuses the cached one."""
    missing = missing_packages(backend, precision)
    if missing:
        raise RuntimeError(
            f"the {backend} {precision} backend needs {', '.join(missing)} installed (pip install {' '.join(missing)})"
        )
    target = export_dir(weights, backend, imgsz, device, precision, batch)
    built = artifact(target, weights, backend)
    if built.exists():
        return built
    target.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=".export-", dir=target.parent))
    started = time.perf_counter()
    try:
        log.info("exporting %s to %s %s (imgsz %d, %s); cached in %s", weights.name, backend, precision, imgsz,
                 device, target)
        if precision == "int8":
            fp32 = exported_model(weights, backend, imgsz, device, "fp32", batch)
            quantise_in_subprocess(fp32, artifact(work, weights, backend), imgsz)
        else:
            _ultralytics_export(weights, work, backend, imgsz, device, precision, batch)
        try:
            work.rename(target)
        except OSError:  # another process finished the same export first
            shutil.rmtree(work, ignore_errors=True)
    finally:
        if work.exists():
            shutil.rmtree(work, ignore_errors=True)
    log.info("export %s %s ready in %.1f s", backend, precision, time.perf_counter() - started)
    return built


def _ultralytics_export(weights: Weights, work: Path, backend: str, imgsz: int, device: str, precision: str,
                        batch: int) -> None:
    from ultralytics import YOLO

    source = work / weights.path.name
    shutil.copyfile(weights.path, source)  # ultralytics writes the export next to the weights
    # Dynamic shapes: the model runs at the frame's aspect (640x384 for 16:9), not a padded 640x640.
    options: dict = dict(format=FORMATS[backend], imgsz=imgsz, device=device, dynamic=True, verbose=False)
    if backend == "onnx":
        options["simplify"] = False  # onnxslim is not installed; OpenVINO refuses the argument altogether
    if backend == "engine":
        options.update(half=precision == "fp16", batch=batch)
    YOLO(str(source), task="detect").export(**options)
    source.unlink()


def quantise_in_subprocess(fp32_folder: Path, out_folder: Path, imgsz: int, frames: int = CALIBRATION_FRAMES) -> None:
    """Quantise in a fresh interpreter: nncf fails to read the model ("RuntimeError" building its graph) in a
    process that has imported pulsar-client (its bundled native libraries clash), which every worker has."""
    root = str(Path(__file__).resolve().parents[1])
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [root, os.environ.get("PYTHONPATH", "")]))}
    command = [sys.executable, "-m", "detector.exports", str(fp32_folder), str(out_folder), str(imgsz), str(frames)]
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=False,
                          preexec_fn=_die_with_parent if sys.platform == "linux" else None)
    if done.returncode != 0:
        raise RuntimeError(f"INT8 quantisation failed (exit {done.returncode}): {done.stderr.strip()[-2000:]}")


def _die_with_parent() -> None:
    """In the quantiser child: a detector killed mid-export takes its quantiser with it (PR_SET_PDEATHSIG)."""
    import ctypes
    import signal

    ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL)  # 1 = PR_SET_PDEATHSIG


def quantise_openvino(fp32_folder: Path, out_folder: Path, imgsz: int, frames: int = CALIBRATION_FRAMES) -> None:
    """NNCF post-training INT8 of an OpenVINO export, calibrated on frames made from the bundled images."""
    import nncf
    import openvino as ov

    from detector.calibration import calibration_tensors

    xml = next(fp32_folder.glob("*.xml"))
    model = ov.Core().read_model(str(xml))
    operations = model.get_ordered_ops()
    sigmoids = [op.get_friendly_name() for op in operations if op.get_type_name() == "Sigmoid"]
    head = sigmoids[-1].split("/", 1)[0]  # the Detect head: box decoding stays fp32, as ultralytics' INT8 export
    ignored = nncf.IgnoredScope(names=[
        op.get_friendly_name() for op in operations
        if op.get_type_name() == "Sigmoid" or op.get_friendly_name().startswith((f"{head}/", f"{head}.dfl"))
    ])
    data = calibration_tensors(imgsz, frames)
    quantised = nncf.quantize(model, nncf.Dataset(data), preset=nncf.QuantizationPreset.MIXED,
                              subset_size=len(data), ignored_scope=ignored)
    shutil.copytree(fp32_folder, out_folder)  # metadata.yaml (names, stride, imgsz) comes along
    ov.save_model(quantised, str(out_folder / xml.name))


# python -m detector.exports FP32_FOLDER OUT_FOLDER IMGSZ FRAMES (see quantise_in_subprocess)
if __name__ == "__main__":
    quantise_openvino(Path(sys.argv[1]), Path(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]))
