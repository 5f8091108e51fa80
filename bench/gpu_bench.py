"""The CUDA path of the detector's model, measured by bench/gpu.sh on a GPU machine (standalone: ultralytics,
torch and OpenCV only, no project imports, since the GPU machine has no project install).

Frames: 64 distinct 1280x720 frames made from ultralytics' bus and zidane images (panned), decoded once, as
the detector feeds them (BGR arrays). For torch fp16 and a TensorRT fp16 engine (dynamic batch up to 64, when
tensorrt is importable): frames/s at batch 1, 8, 32 and 64 (model.predict on a list: pre/post-processing and NMS
included, as in the service), peak GPU memory, and per-class counts over the frames against the CPU reference
(torch fp32, computed by bench/gpu_prepare.sh on the development machine).
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import shutil
import tempfile
import time
from collections import Counter
from pathlib import Path

import numpy as np

BATCHES = (1, 8, 32, 64)
FRAMES = 64


def make_images(count: int = FRAMES) -> list[np.ndarray]:
    import cv2
    import ultralytics

    assets = Path(ultralytics.__file__).parent / "assets"
    scenes = []
    for name in ("bus.jpg", "zidane.jpg"):
        image = cv2.imread(str(assets / name))
        image = cv2.resize(image, (round(image.shape[1] * 720 / image.shape[0]), 720), interpolation=cv2.INTER_AREA)
        canvas = np.full((720, 1280, 3), 114, np.uint8)
        width = min(image.shape[1], 1280)
        canvas[:, :width] = image[:, :width]
        scenes.append(canvas)
    return [np.roll(scenes[i % 2], 4 * (i // 2), axis=1) for i in range(count)]


def counts_of(model, images, device, half: bool, batch: int = 8) -> dict[str, int]:
    counts: Counter = Counter()
    for start in range(0, len(images), batch):
        for result in model.predict(images[start : start + batch], imgsz=640, conf=0.25, device=device, half=half,
                                    verbose=False):
            counts.update(model.names[int(c)] for c in result.boxes.cls.tolist())
    return dict(sorted(counts.items()))


def cpu_reference(weights: str) -> dict:
    """torch fp32 on the CPU: the counts every GPU variant is compared with."""
    from ultralytics import YOLO

    return {"counts": counts_of(YOLO(weights, task="detect"), make_images(), "cpu", False), "frames": FRAMES}


def fps(model, images, device, half: bool, batch: int, seconds: float = 6.0) -> float:
    import torch

    model.predict(images[:batch], imgsz=640, device=device, half=half, verbose=False)  # warm-up at this shape
    torch.cuda.synchronize()
    done, started = 0, time.perf_counter()
    while time.perf_counter() - started < seconds:
        for start in range(0, len(images) - batch + 1, batch):
            model.predict(images[start : start + batch], imgsz=640, device=device, half=half, verbose=False)
            done += batch
    torch.cuda.synchronize()
    return done / (time.perf_counter() - started)


def differences(counts: dict, reference: dict) -> dict:
    return {k: round((counts.get(k, 0) - v) / v, 4) for k, v in reference.items() if v}


def variant(label: str, model, images, reference: dict, half: bool, batches=BATCHES) -> dict:
    import torch

    torch.cuda.reset_peak_memory_stats()
    figures: dict = {"variant": label}
    for batch in batches:
        figures[f"fps_batch{batch}"] = round(fps(model, images, 0, half, batch), 1)
        print(json.dumps({"variant": label, "batch": batch, "fps": figures[f"fps_batch{batch}"]}), flush=True)
    figures["torch_peak_memory_mib"] = round(torch.cuda.max_memory_allocated() / 2**20, 1)
    free, total = torch.cuda.mem_get_info()
    figures["device_memory_used_mib"] = round((total - free) / 2**20, 1)
    figures["counts"] = counts_of(model, images, 0, half)
    figures["count_difference_vs_cpu"] = differences(figures["counts"], reference["counts"])
    return figures


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--weights", required=True)
    parser.add_argument("--reference", required=True)
    parser.add_argument("--out", default="gpu.json")
    args = parser.parse_args()
    import torch
    from ultralytics import YOLO

    if not torch.cuda.is_available():
        raise SystemExit("no CUDA GPU visible to torch: nothing measured")
    reference = json.loads(Path(args.reference).read_text())
    images = make_images()
    report = {"gpu": torch.cuda.get_device_name(0), "torch": torch.__version__, "frames": len(images),
              "imgsz": 640, "variants": []}
    work = Path(tempfile.mkdtemp(prefix="gpu-bench-"))
    weights = work / "yolo11n.pt"
    shutil.copyfile(args.weights, weights)
    report["variants"].append(variant("torch fp16", YOLO(str(weights), task="detect"), images, reference, True))
    if importlib.util.find_spec("tensorrt") is None:
        report["engine"] = "tensorrt is not installed on this machine: TensorRT not measured"
    else:
        try:
            started = time.perf_counter()
            engine = YOLO(str(weights), task="detect").export(format="engine", imgsz=640, half=True, dynamic=True,
                                                               batch=max(BATCHES), device=0, simplify=False,
                                                               verbose=False)
            report["engine_build_s"] = round(time.perf_counter() - started, 1)
            report["variants"].append(variant("engine fp16", YOLO(engine, task="detect"), images, reference, True))
        except Exception as error:
            report["engine"] = f"TensorRT export failed: {str(error)[:500]}"
    Path(args.out).write_text(json.dumps(report, indent=1))
    print(json.dumps(report))


if __name__ == "__main__":
    main()
