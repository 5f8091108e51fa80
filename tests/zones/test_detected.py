"""The counting scene through the real detector and tracker (slow): crossings exact at 5 frames/s; at 1 frame/s
within the documented bound (never more than truth: ByteTrack loses narrow walkers moving 40 px per sample);
occupancy within 10 % at both. And the whole pipeline of real processes on the scene's live stream at 5 frames/s.
Figures and commands: docs/benchmarks/zones.md."""

from __future__ import annotations

import pytest

from bench.zones import count, detected_messages, pipeline, truth

pytestmark = pytest.mark.slow
MIN_AT_1_FPS = 3  # of 8 crossings per period, measured: docs/benchmarks/zones.md


def test_real_detector_counts_at_5_and_1_fps() -> None:
    _records, crossings, occupancy = truth(1)
    at5 = count(detected_messages(5, 1))
    assert (at5["in"], at5["out"]) == (crossings["in"], crossings["out"])
    assert abs(at5["occupancy"] - occupancy) <= 0.1 * occupancy
    at1 = count(detected_messages(1, 1))
    assert at1["in"] <= crossings["in"] and at1["out"] <= crossings["out"]
    assert at1["in"] + at1["out"] >= MIN_AT_1_FPS
    assert abs(at1["occupancy"] - occupancy) <= 0.1 * occupancy


def test_pipeline_of_real_processes_at_5_fps(tmp_path) -> None:
    got = pipeline(5, 1, tmp_path)
    assert got["truth_in"] >= 3 and got["truth_out"] >= 3, got  # the span read covers most of a period
    assert (got["in"], got["out"]) == (got["truth_in"], got["truth_out"]), got
    # Occupancy here compares the frames the reader kept with every truth frame of the span: on a quiet machine
    # +2.9%, but at load average 10 the reader kept 347 of 515 frames, unevenly, and it read +12.5%. The +-10 %
    # claim rests on test_real_detector_counts_at_5_and_1_fps (every frame); this bound only catches gross errors.
    assert abs(got["occupancy"] - got["truth_occupancy"]) <= 0.2 * got["truth_occupancy"], got
