"""The real yolo11n model: batches, class filters, thread setting, the cached ONNX export, per-stream trackers."""

from __future__ import annotations

import copy
from collections import Counter
from pathlib import Path

import numpy as np
import pytest

from core.settings import Settings
from detector.classes import ClassFilter
from tests.detector.helpers import load_image, shifted


def _classes(detector, result) -> Counter:
    return Counter(detector.names[int(c)] for c in result.class_ids)


def test_a_batch_of_different_frames_gives_each_frame_its_own_objects(detector) -> None:
    bus, zidane = load_image("bus.jpg"), load_image("zidane.jpg")
    black = np.zeros((720, 1280, 3), np.uint8)
    batch = detector.predict([bus, black, zidane])
    assert _classes(detector, batch[0])["bus"] == 1 and _classes(detector, batch[0])["person"] >= 4
    assert len(batch[1]) == 0
    assert _classes(detector, batch[2])["person"] == 2
    alone = detector.predict([zidane])[0]
    assert _classes(detector, alone) == _classes(detector, batch[2])
    assert np.allclose(alone.boxes_norm, batch[2].boxes_norm, atol=0.02)
    assert ((batch[0].boxes_norm >= 0) & (batch[0].boxes_norm <= 1)).all()


def test_torch_runs_on_every_core_although_ultralytics_resets_it(detector) -> None:
    import torch

    from detector.model import usable_cores

    detector.predict([np.zeros((64, 64, 3), np.uint8)])
    assert detector.device == "cpu" and not detector.half
    assert torch.get_num_threads() == detector.threads == usable_cores()


def test_allow_list_and_per_class_thresholds_filter_real_detections(detector) -> None:
    bus = load_image("bus.jpg")
    only_bus = copy.copy(detector)
    only_bus.filter = ClassFilter.build(detector.names, 0.25, allowed=["bus"])
    assert _classes(only_bus, only_bus.predict([bus])[0]) == Counter({"bus": 1})
    picky = copy.copy(detector)
    picky.filter = ClassFilter.build(detector.names, 0.25, {"person": 0.95})
    assert _classes(picky, picky.predict([bus])[0]) == Counter({"bus": 1})


def test_tracker_state_is_per_stream_and_per_session(detector) -> None:
    from detector.tracking import StreamTrackers

    trackers = StreamTrackers("bytetrack")
    bus, zidane = load_image("bus.jpg"), load_image("zidane.jpg")
    ids: dict[str, list[list[int]]] = {"bus": [], "zidane": []}
    for seq in range(4):
        for stream_id, scene, image in ((1, "bus", bus), (2, "zidane", zidane)):
            frame = shifted(image, 4 * seq)
            result = detector.predict([frame])[0]
            tracked = trackers.update(stream_id, "session-a", seq, result.boxes, frame)
            ids[scene].append(sorted(int(i) for i in tracked if i >= 0))  # -1: a new, unconfirmed object
    # Each stream's ids count from 1 and stay with their objects while the other stream's frames interleave.
    assert ids["bus"][0] == [1, 2, 3, 4, 5] and ids["zidane"][0] == [1, 2, 3]
    for scene, first in (("bus", [1, 2, 3, 4, 5]), ("zidane", [1, 2, 3])):
        assert all(set(frame) <= set(first) and len(frame) >= len(first) - 1 for frame in ids[scene]), ids
    # An older frame that is not that frame again (its boxes 8 px away) gets no ids and leaves the state alone.
    result = detector.predict([bus])[0]
    assert (trackers.update(1, "session-a", 2, result.boxes, bus) == -1).all()
    # A new reader session on stream 1 starts a new tracker: ids count from 1 again; stream 2 is untouched.
    frame = shifted(zidane, 12)
    result = detector.predict([frame])[0]
    assert sorted(trackers.update(1, "session-b", 0, result.boxes, frame).tolist()) == list(range(1, len(result) + 1))
    assert trackers.session_of(1) == "session-b" and trackers.session_of(2) == "session-a"
    # A tracker that starts mid-session (a restarted detector) numbers from seq x 10,000: no id is reused.
    restarted = StreamTrackers("bytetrack")
    assert sorted(restarted.update(2, "session-a", 7, result.boxes, frame).tolist()) == [
        70_000 + i for i in range(1, len(result) + 1)
    ]


def test_unknown_tracker_kind_is_refused() -> None:
    from detector.tracking import StreamTrackers

    with pytest.raises(ValueError, match="unknown tracker"):
        StreamTrackers("sort")


def test_onnx_export_is_built_once_and_cached_by_hash_size_and_device(detector, tmp_path: Path) -> None:
    from detector.model import Detector, export_dir

    settings = Settings(data_dir=detector.weights.path.parents[2], detector_device="cpu", detector_backend="onnx",
                        detector_imgsz=320, detector_confidence=0.25)  # bus.jpg's 4th person scores ~0.3 at 320
    onnx = Detector(settings)
    folder = export_dir(onnx.weights, "onnx", 320, "cpu", "fp32", settings.detector_batch_size)
    artifact = folder / "yolo11n.onnx"
    assert artifact.is_file() and folder.is_relative_to(settings.models_dir)
    assert folder.name == "onnx-320-cpu-fp32" and onnx.weights.sha256[:12] in str(folder)
    built = artifact.stat().st_mtime_ns
    again = Detector(settings)
    assert artifact.stat().st_mtime_ns == built  # reused, not exported again
    batch = again.predict([load_image("bus.jpg"), load_image("zidane.jpg")])
    assert _classes(again, batch[0])["bus"] == 1 and _classes(again, batch[0])["person"] >= 4
    assert _classes(again, batch[1])["person"] >= 2
