"""Detector benchmark: the backends (torch, ONNX Runtime, OpenVINO fp32/INT8) through the real service, in one run.

    PYTHONPATH=$PWD python bench/detector.py [--frames 48] [--rounds 3] [--backends torch,onnx,openvino:fp32,auto]

Measured in one run, on the same recorded frames (1280x720 JPEGs, quality 85, two interleaved streams made from
ultralytics' bus and zidane scenes, slowly panned), for every backend in each round (the order rotates from round
to round, so the noise of a shared machine hits them alike):
- service: the real DetectorService (Pulsar consume, JPEG decode, batched inference, ByteTrack, detection
  messages published and confirmed, frames acknowledged), frames/s of its busy time, all frames queued beforehand;
- raw: Detector.predict on the same frames already decoded (same batch size, threads and image size);
- the ratio of each backend's service frames/s to torch's in the same round, and the median of those ratios;
- per-class counts over the frames against torch fp32 (the reference), and the largest per-class difference;
- naive (``--naive``): ``YOLO(weights).predict(frame)`` per frame with ultralytics' defaults after a full decode;
- GFLOP/s achieved by torch vs this CPU's fp32 peak (cores x GHz x 32 FLOP/cycle for AVX2 + 2 FMA units);
- the GPU path (device auto -> cuda:0, fp16, batches of 1/8/32) when torch sees a GPU (bench/gpu.sh does more).
``auto`` is what the detector runs by default here (OpenVINO INT8 when openvino and nncf are installed).
Ratios are what to compare across machines: absolute figures move up to 2x with the host's load.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from core import embedded
from core.broker import close_clients, create_producer, send
from core.messages import FrameMeta, encode_frame
from core.settings import Settings

FLOP_PER_CYCLE_FP32 = 32  # AVX2: 8 fp32 lanes x 2 (FMA) x 2 FMA units per core (Zen 3)
T0 = 1_800_000_000.0


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def make_frames(count: int, quality: int = 85) -> list[tuple[int, int, bytes]]:
    """(stream_id, seq, jpeg) of 1280x720 frames: ultralytics' bus and zidane scenes, slowly panned."""
    import cv2

    from detector.frames import JPEG_EOI  # noqa: F401  (the detector's own module must import cleanly)
    from tests.detector.helpers import load_image, shifted

    scenes = []
    for name in ("bus.jpg", "zidane.jpg"):
        image = load_image(name)
        scale = 720 / image.shape[0]
        image = cv2.resize(image, (round(image.shape[1] * scale), 720), interpolation=cv2.INTER_AREA)
        canvas = np.full((720, 1280, 3), 114, np.uint8)
        width = min(image.shape[1], 1280)
        canvas[:, :width] = image[:, :width]
        scenes.append(canvas)
    frames = []
    for i in range(count):
        stream = i % 2
        image = shifted(scenes[stream], 4 * (i // 2))
        ok, data = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, quality])
        assert ok
        frames.append((stream + 1, i // 2, data.tobytes()))
    return frames


def cpu_peak_gflops(cores: int) -> tuple[float, float]:
    """(GHz, peak fp32 GFLOP/s) from /proc/cpuinfo's current clock."""
    text = Path("/proc/cpuinfo").read_text()
    mhz = [float(v) for v in re.findall(r"^cpu MHz\s*:\s*([\d.]+)", text, re.M)]
    ghz = (max(mhz) if mhz else 0.0) / 1000
    return ghz, cores * ghz * FLOP_PER_CYCLE_FP32


def model_gflops(detector, frame_shape: tuple[int, int]) -> tuple[float, tuple[int, int]]:
    """GFLOPs of one forward pass at the letterboxed input the predictor builds for frames of this shape."""
    from ultralytics.data.augment import LetterBox
    from ultralytics.utils.torch_utils import get_flops

    square = get_flops(detector.model.model, detector.imgsz)  # GFLOPs at imgsz x imgsz
    stride = int(max(detector.model.model.stride))
    boxed = LetterBox(detector.imgsz, auto=True, stride=stride)(image=np.zeros((*frame_shape, 3), np.uint8))
    height, width = boxed.shape[:2]
    return square * (height * width) / (detector.imgsz**2), (width, height)


def time_raw(detector, images: list[np.ndarray], batch: int) -> float:
    started = time.perf_counter()
    for i in range(0, len(images), batch):
        detector.predict(images[i : i + batch])
    return len(images) / (time.perf_counter() - started)


def time_naive(weights: Path, payloads: list[bytes]) -> float:
    """A fresh YOLO with ultralytics' defaults, one predict() per fully decoded frame."""
    import cv2
    from ultralytics import YOLO

    model = YOLO(str(weights), task="detect")
    first = cv2.imdecode(np.frombuffer(payloads[0], np.uint8), cv2.IMREAD_COLOR)
    model.predict(first, verbose=False)  # warm-up (and ultralytics' own thread setting)
    started = time.perf_counter()
    for payload in payloads:
        image = cv2.imdecode(np.frombuffer(payload, np.uint8), cv2.IMREAD_COLOR)
        model.predict(image, verbose=False)
    return len(payloads) / (time.perf_counter() - started)


def register_streams(settings: Settings, count: int) -> list[int]:
    """Registry rows for the bench's streams, so snapshots are really written (their cost is part of the run)."""
    from core.db.engine import session_scope
    from core.db.models import Stream

    with session_scope(settings) as session:
        streams = [Stream(canonical_id=f"bench:{i}", url=f"file:///bench/{i}", kind="file", name=f"bench {i}")
                   for i in range(count)]
        session.add_all(streams)
        session.flush()
        return [stream.id for stream in streams]


def time_service(settings: Settings, detector, frames, round_no: int) -> tuple[float, dict]:
    from detector.service import DetectorService

    topic = f"bench-{round_no}-{os.getpid()}"
    run_settings = settings.model_copy(update={"frames_topic": f"{topic}-frames", "detections_topic": f"{topic}-det"})
    producer = create_producer(run_settings, run_settings.frames_topic)
    for stream_id, seq, data in frames:
        meta = FrameMeta(stream_id, f"bench-{round_no}", seq, _utc(T0 + seq), 1280, 720)
        send(producer, encode_frame(meta, data), callback=lambda *_: None)
    producer.flush()
    producer.close()
    service = DetectorService(run_settings, detector=detector, subscription="bench", idle_exit_s=1.0)
    stats = service.run()
    assert stats.frames == len(frames), f"service confirmed {stats.frames} of {len(frames)} frames"
    return stats.busy_frames_per_second, {"batches": stats.batches, "inference_s": round(stats.inference_s, 3),
                                          "snapshots_written": service.snapshots.written}


def _utc(seconds: float):
    from datetime import UTC, datetime

    return datetime.fromtimestamp(seconds, tz=UTC)


def decode_costs(payloads: list[bytes], imgsz: int) -> dict[str, float]:
    """Milliseconds per 720p JPEG: a full decode vs the detector's reduced decode."""
    import cv2

    from detector.frames import _imread_flag, reduction

    out = {}
    for label, flag in (("full", cv2.IMREAD_COLOR), ("reduced", _imread_flag(reduction(1280, 720, imgsz)))):
        started = time.perf_counter()
        for payload in payloads:
            cv2.imdecode(np.frombuffer(payload, np.uint8), flag)
        out[label] = (time.perf_counter() - started) * 1000 / len(payloads)
    return out


def gpu_figures(settings: Settings, payloads: list[bytes]) -> dict:
    """frames/s of batched fp16 inference on cuda:0 at batch sizes 1, 8, 32 (raw and decode+infer)."""
    import torch

    if not torch.cuda.is_available():
        return {"gpu": "no GPU: torch.cuda.is_available() is False on this machine; nothing measured"}
    from core.messages import Frame
    from detector.frames import decode_jpeg
    from detector.model import Detector

    figures = {"gpu": torch.cuda.get_device_name(0)}
    for batch in (1, 8, 32):
        gpu_settings = settings.model_copy(update={"detector_device": "auto", "detector_batch_size": batch})
        detector = Detector(gpu_settings)
        images = [decode_jpeg(Frame(FrameMeta(1, "g", i, _utc(T0), 1280, 720), p), detector.imgsz).image
                  for i, p in enumerate(payloads)]
        time_raw(detector, images[:batch], batch)  # warm-up at this batch shape
        figures[f"raw_fps_batch{batch}"] = round(time_raw(detector, images, batch), 1)
        figures["device"], figures["half"] = detector.device, detector.half
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--frames", type=int, default=48)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--backends", default="torch,onnx,openvino:fp32,auto",
                        help="Comma-separated backend[:precision]; torch fp32 is always measured (the reference).")
    parser.add_argument("--naive", action="store_true", help="Also time a naive per-frame predict() loop.")
    parser.add_argument("--no-gpu", action="store_true", help="Skip the GPU section.")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)

    with tempfile.TemporaryDirectory(prefix="streamscope-bench-") as tmp:
        settings = Settings(
            data_dir=Path(tmp) / "data", database_url="", pulsar_url="", embedded_pulsar_port=free_port(),
            detector_batch_size=args.batch_size, detector_metrics_port=0, detector_device="cpu",
            detector_batch_timeout_ms=50,
        )
        os.environ["STREAMSCOPE_DATA_DIR"] = str(settings.data_dir)
        embedded.up(settings)
        try:
            report = run(settings, args)
        finally:
            close_clients()
            embedded.down(settings)
    print(json.dumps(report))


def parse_backends(text: str) -> list[tuple[str, str]]:
    """``torch,openvino:int8,auto`` -> [(backend, precision)], torch fp32 first and once."""
    wanted = [("torch", "fp32")]
    for item in filter(None, (part.strip() for part in text.split(","))):
        backend, _, precision = item.partition(":")
        choice = (backend, precision or "auto")
        if choice not in wanted and choice != ("torch", "auto"):
            wanted.append(choice)
    return wanted


def class_counts(detector, images: list[np.ndarray]) -> dict[str, int]:
    """Objects per class over the frames, as the detector publishes them (its thresholds and filter)."""
    from collections import Counter

    counts: Counter = Counter()
    for start in range(0, len(images), 8):
        for result in detector.predict(images[start : start + 8]):
            counts.update(detector.names[int(c)] for c in result.class_ids)
    return dict(sorted(counts.items()))


def count_differences(counts: dict[str, int], reference: dict[str, int]) -> dict[str, float]:
    """Relative difference per class against the reference (classes either side saw)."""
    return {name: round((counts.get(name, 0) - ref) / ref, 4) if (ref := reference.get(name, 0)) else float("inf")
            for name in sorted(set(counts) | set(reference))}


def run(settings: Settings, args) -> dict:
    from core.messages import Frame
    from detector.frames import decode_jpeg
    from detector.model import Detector, usable_cores

    stream_ids = register_streams(settings, 2)
    frames = [(stream_ids[stream - 1], seq, data) for stream, seq, data in make_frames(args.frames)]
    payloads = [data for _, _, data in frames]
    detectors = {}
    for backend, precision in parse_backends(args.backends):
        started = time.perf_counter()
        detector = Detector(settings.model_copy(update={"detector_backend": backend, "detector_precision": precision}))
        label = detector.choice.label + (" (auto)" if backend == "auto" else "")
        detectors[label] = detector
        print(f"{label}: ready in {time.perf_counter() - started:.1f} s (export/calibration included the first time), "
              f"{detector.describe()}", flush=True)
    reference = detectors["torch fp32"]
    images = [decode_jpeg(Frame(FrameMeta(s, "b", q, _utc(T0), 1280, 720), d), reference.imgsz).image
              for s, q, d in frames]
    labels = list(detectors)
    service = {label: [] for label in labels}
    raw = {label: [] for label in labels}
    ratio = {label: [] for label in labels}
    naive, load_before, run_no = [], os.getloadavg()[0], 0
    for round_no in range(args.rounds):
        order = labels[round_no % len(labels):] + labels[: round_no % len(labels)]  # rotate who goes first
        for label in order:
            detector = detectors[label]
            raw[label].append(time_raw(detector, images, args.batch_size))
            fps, _ = time_service(settings, detector, frames, run_no)
            run_no += 1
            service[label].append(fps)
        for label in labels:
            ratio[label].append(service[label][-1] / service["torch fp32"][-1])
        if args.naive:
            naive.append(time_naive(reference.weights.path, payloads))
        print(f"round {round_no + 1} (load {os.getloadavg()[0]:.1f}): " + ", ".join(
            f"{label} {service[label][-1]:.2f} f/s ({ratio[label][-1]:.2f}x)" for label in labels), flush=True)
    counts = {label: class_counts(detector, images) for label, detector in detectors.items()}
    gflops_frame, input_size = model_gflops(reference, (720, 1280))
    ghz, peak = cpu_peak_gflops(usable_cores())
    decode = decode_costs(payloads[:16], reference.imgsz)
    backends = {}
    for label in labels:
        diffs = count_differences(counts[label], counts["torch fp32"])
        backends[label] = {
            "service_fps": round(statistics.median(service[label]), 2),
            "raw_fps": round(statistics.median(raw[label]), 2),
            "service_vs_torch_per_round": [round(value, 3) for value in ratio[label]],
            "service_vs_torch": round(statistics.median(ratio[label]), 3),
            "counts": counts[label],
            "count_difference": diffs,
            "max_count_difference": max((abs(v) for v in diffs.values()), default=0.0),
            "runtime": detectors[label].describe(),
        }
    report = {
        "machine": {"cpu": _cpu_name(), "cores": usable_cores(), "ghz": round(ghz, 3), "peak_gflops": round(peak, 1)},
        "settings": {"frames": len(frames), "rounds": args.rounds, "batch_size": args.batch_size,
                     "imgsz": reference.imgsz, "model_input": f"{input_size[0]}x{input_size[1]}",
                     "tracker": settings.detector_tracker},
        "backends": backends,
        "load_average": [round(load_before, 2), round(os.getloadavg()[0], 2)],
        "gflops_per_frame": round(gflops_frame, 2),
        "torch_raw_gflops_per_s": round(backends["torch fp32"]["raw_fps"] * gflops_frame, 1),
        "torch_raw_fraction_of_peak": (
            round(backends["torch fp32"]["raw_fps"] * gflops_frame / peak, 3) if peak else None
        ),
        "decode_ms_full": round(decode["full"], 2), "decode_ms_reduced": round(decode["reduced"], 2),
    }
    if naive:
        report["naive_fps"] = round(statistics.median(naive), 2)
    print("\nbackend              service f/s  raw f/s  vs torch (median of rounds)  max per-class count diff")
    for label, figures in backends.items():
        print(f"{label:<20} {figures['service_fps']:>11.2f} {figures['raw_fps']:>8.2f} "
              f"{figures['service_vs_torch']:>10.2f}x {figures['service_vs_torch_per_round']!s:<18}"
              f" {figures['max_count_difference']:>8.1%}")
    print("counts over the frames:", json.dumps(counts))
    if not args.no_gpu:
        report["gpu"] = gpu_figures(settings, payloads)
        print("GPU:", json.dumps(report["gpu"]))
    return report


def _cpu_name() -> str:
    match = re.search(r"^model name\s*:\s*(.+)$", Path("/proc/cpuinfo").read_text(), re.M)
    return match.group(1).strip() if match else "unknown"


if __name__ == "__main__":
    main()
