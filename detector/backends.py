"""Which inference backend and precision the detector runs, decided from settings and what is installed.

Measured by ``bench/detector.py`` (docs/benchmarks/detector.md): on a CPU, OpenVINO fp32 runs the service at
2.2-2.7x torch with exactly torch's per-class counts; INT8 (NNCF) was slower than that on an AMX Xeon (1.4-1.9x)
and moves small classes' counts by up to 120% (and a scene's buses by -20%), so ``auto`` is OpenVINO fp32 whenever
openvino is installed (OpenVINO itself may execute it in bf16 where the CPU has AMX; the detector reports what it
runs), torch otherwise. INT8 stays selectable. On a CUDA GPU ``auto`` is torch fp16; TensorRT (``engine``) is
selectable.
"""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass

BACKENDS = ("torch", "onnx", "openvino", "engine")
PRECISIONS = ("fp32", "fp16", "int8")


@dataclass(frozen=True, slots=True)
class Choice:
    backend: str
    precision: str

    @property
    def label(self) -> str:
        return f"{self.backend} {self.precision}"


def installed(*names: str) -> bool:
    return all(importlib.util.find_spec(name) is not None for name in names)


def choose(backend: str, precision: str, device: str) -> Choice:
    """Settle ``auto`` backend/precision for ``device``; refuse combinations that cannot run."""
    gpu = device.startswith("cuda")
    if backend == "auto":
        backend = "torch" if gpu or not installed("openvino") else "openvino"
    if backend not in BACKENDS:
        raise ValueError(f"unknown backend {backend!r}; choose auto or one of {', '.join(BACKENDS)}")
    if precision == "auto":
        precision = "fp16" if gpu else "fp32"
    if precision not in PRECISIONS:
        raise ValueError(f"unknown precision {precision!r}; choose auto or one of {', '.join(PRECISIONS)}")
    if backend == "engine" and not gpu:
        raise ValueError("the TensorRT backend (engine) needs a CUDA device")
    if precision == "int8" and backend != "openvino":
        raise ValueError("int8 is built with OpenVINO + NNCF only: use backend openvino")
    if precision == "fp16" and not gpu:
        raise ValueError("fp16 runs on a CUDA device only; on a CPU use fp32 or int8 (openvino)")
    if gpu and backend == "openvino":
        raise ValueError("OpenVINO runs on the CPU here; on a CUDA device use torch or engine")
    return Choice(backend, precision)
