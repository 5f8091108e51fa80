"""Each installed CPU backend loads, exports once (a second load reuses the cache) and sees the bus scene."""

from __future__ import annotations

from collections import Counter

import pytest

from core.settings import Settings
from detector.backends import choose, installed
from tests.detector.helpers import load_image

CPU_BACKENDS = [
    pytest.param("onnx", "fp32", marks=pytest.mark.skipif(not installed("onnxruntime"), reason="no onnxruntime")),
    pytest.param("openvino", "fp32", marks=pytest.mark.skipif(not installed("openvino"), reason="no openvino")),
    pytest.param("openvino", "int8",
                 marks=pytest.mark.skipif(not installed("openvino", "nncf"), reason="no openvino/nncf")),
]


def _classes(detector, result) -> Counter:
    return Counter(detector.names[int(c)] for c in result.class_ids)


@pytest.mark.parametrize(("backend", "precision"), CPU_BACKENDS)
def test_backend_exports_once_and_detects_the_bus_and_people(detector, backend: str, precision: str) -> None:
    from detector.exports import artifact, export_dir
    from detector.model import Detector

    settings = Settings(data_dir=detector.weights.path.parents[2], detector_device="cpu", detector_backend=backend,
                        detector_precision=precision)
    first = Detector(settings)
    assert (first.backend, first.precision) == (backend, precision)
    folder = export_dir(first.weights, backend, 640, "cpu", precision, settings.detector_batch_size)
    built = artifact(folder, first.weights, backend)
    assert built.exists() and folder.name == f"{backend}-640-cpu-{precision}"
    stamp = max(path.stat().st_mtime_ns for path in [built, *built.glob("*")])
    again = Detector(settings)
    assert max(path.stat().st_mtime_ns for path in [built, *built.glob("*")]) == stamp  # the cache, not a rebuild
    bus, zidane = again.predict([load_image("bus.jpg"), load_image("zidane.jpg")])
    assert _classes(again, bus)["bus"] == 1 and _classes(again, bus)["person"] >= 4
    assert _classes(again, zidane)["person"] >= 2
    info = again.describe()
    assert info["backend"] == backend and info["precision"] == precision and int(info["threads"]) >= 1
    if backend == "openvino":  # what OpenVINO really computes in (bf16 on CPUs with AMX)
        assert info["inference_precision"] in {"f32", "bf16", "f16"}, info


def test_auto_backend_on_a_cpu_is_openvino_fp32_when_installed_else_torch() -> None:
    expected = ("openvino", "fp32") if installed("openvino") else ("torch", "fp32")
    assert (choose("auto", "auto", "cpu").backend, choose("auto", "auto", "cpu").precision) == expected
    assert choose("auto", "auto", "cuda:0").label == "torch fp16"
    assert choose("engine", "auto", "cuda:0").label == "engine fp16"
    assert choose("onnx", "auto", "cpu").label == "onnx fp32"


@pytest.mark.parametrize(("backend", "precision", "device", "reason"), [
    ("tflite", "auto", "cpu", "unknown backend"),
    ("torch", "int4", "cpu", "unknown precision"),
    ("engine", "auto", "cpu", "needs a CUDA device"),
    ("torch", "int8", "cpu", "OpenVINO \\+ NNCF only"),
    ("openvino", "fp16", "cpu", "CUDA device only"),
])
def test_impossible_backend_choices_are_refused_with_the_reason(backend, precision, device, reason) -> None:
    with pytest.raises(ValueError, match=reason):
        choose(backend, precision, device)


def test_calibration_frames_are_letterboxed_at_the_frames_aspect() -> None:
    from detector.calibration import calibration_tensors, input_shape

    assert input_shape(1280, 720, 640) == (384, 640)  # 16:9 runs at 640x384, not a padded 640x640
    tensors = calibration_tensors(640, 8)
    shapes = {tensor.shape for tensor in tensors}
    assert (1, 3, 384, 640) in shapes and len(shapes) > 1
    assert all(tensor.dtype.name == "float32" and tensor.min() >= 0 and tensor.max() <= 1 for tensor in tensors)
