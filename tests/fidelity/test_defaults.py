"""Counts at the default settings against a generated scene's ground truth (real yolo11n on CPU).

A short scene (the walkway's first 40 s, sampled at 1 frame/s as the pipeline does) through the real
``Detector`` built from the default ``Settings`` and the detector's ByteTrack. Fails when the defaults
regress: a lower default threshold or no rare-class threshold lets the surfboards and dogs the model sees in
the background back in; a higher one loses people.
"""

from __future__ import annotations

import pytest

from bench.fidelity import evaluate, generated
from core.settings import Settings

OLD_DEFAULT = 0.25  # one threshold for every class, before issue 17


@pytest.fixture(scope="module")
def walkway():
    return generated("walkway", periods=0.5)


@pytest.fixture(scope="module")
def default_detections(walkway, tmp_path_factory):
    """Detections at the old default (0.25) for every class; the tests apply the thresholds themselves."""
    from detector.classes import ClassFilter
    from detector.model import Detector

    settings = Settings(data_dir=tmp_path_factory.mktemp("fidelity"), detector_device="cpu")
    detector = Detector(settings)
    names = {name: i for i, name in detector.names.items()}
    # The detector applies the defaults: the rare classes' threshold, the default one for the others.
    assert detector.filter.thresholds[names["dog"]] == settings.detector_rare_class_confidence
    assert detector.filter.thresholds[names["person"]] == settings.detector_confidence
    detector.filter = ClassFilter.build(detector.names, OLD_DEFAULT)
    frames = walkway.frames
    return [result for i in range(0, len(frames), 8) for result in detector.predict(frames[i : i + 8])], detector.names


def test_default_counts_match_the_truth(walkway, default_detections):
    results, names = default_detections
    defaults = Settings()
    figures = evaluate(walkway, results, names, defaults.detector_confidence, defaults.detector_rare_class_confidence)
    predicted, truth = figures["occupancy"]["person"]
    assert truth > 1.5  # the scene has people in it
    assert abs(predicted - truth) / truth <= 0.10, (predicted, truth)
    assert all(rate < 0.05 for rate in figures["absent"].values()), figures["absent"]
    unique, true_unique = figures["unique"].get("person", 0), walkway.unique["person"]
    assert abs(unique - true_unique) <= max(1, 0.2 * true_unique), (unique, true_unique)


def test_one_low_threshold_for_every_class_counts_absent_classes(walkway, default_detections):
    """The measurement behind the rare-class threshold: without it the background yields false classes."""
    results, names = default_detections
    figures = evaluate(walkway, results, names, OLD_DEFAULT, OLD_DEFAULT)
    assert max(figures["absent"].values(), default=0.0) >= 0.05, figures["absent"]
