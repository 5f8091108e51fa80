"""The sampling schedule, capture clock and backoff (pure logic, simulated clocks)."""

from __future__ import annotations

import itertools
import random
from datetime import UTC, datetime, timedelta

import pytest

from stream_reader.sampling import Backoff, CaptureClock, SampleSchedule


def simulate_hls(fps: float, seconds: int, *, source_fps: int = 30, segment: float = 1.0, decode_s: float = 0.002):
    """Live HLS as OpenCV delivers it: each segment's frames decoded in a burst when the segment appears."""
    schedule = SampleSchedule(fps, burst_seconds=2 * segment)
    kept = []
    frames_per_segment = round(source_fps * segment)
    for index in range(round(seconds / segment)):
        arrival = 100.0 + (index + 1) * segment  # the segment is published once complete
        for frame in range(frames_per_segment):
            media = index * segment + frame / source_fps
            now = arrival + frame * decode_s
            if schedule.offer(now, media):
                kept.append((now, media))
    return kept


@pytest.mark.parametrize("fps", [0.5, 1, 2, 5, 10, 30])
def test_bursty_live_hls_gives_the_requested_rate_spread_through_each_segment(fps) -> None:
    kept = simulate_hls(fps, 60)
    assert abs(len(kept) - fps * 60) <= 1
    medias = [media for _, media in kept]
    gaps = [b - a for a, b in itertools.pairwise(medias)]
    assert min(gaps) >= 0.5 / fps - 1e-9  # never two neighbouring frames where a spread was possible
    assert abs(sum(gaps) / len(gaps) - 1 / fps) < 0.05 / fps


def test_five_second_segments_still_give_the_requested_rate() -> None:
    kept = simulate_hls(2, 60, segment=5.0)
    assert abs(len(kept) - 120) <= 2


def test_a_file_read_faster_than_real_time_is_paced_by_the_wall_clock() -> None:
    schedule = SampleSchedule(1.0, burst_seconds=2)
    kept = 0
    for frame in range(30 * 600):  # 10 minutes of video decoded in 20 wall-clock seconds
        kept += schedule.offer(frame / 900.0, frame / 30.0)
    assert 20 <= kept <= 20 + 2  # the rate, plus at most the bucket's two frames at the start


def test_without_stream_timestamps_the_wall_clock_paces_alone() -> None:
    for media in (None, 0.0):  # no timestamps at all, or stuck ones
        schedule = SampleSchedule(2.0)
        kept = sum(schedule.offer(i / 30.0, media) for i in range(30 * 30))
        assert 55 <= kept <= 61, media


def test_a_clock_jump_in_the_stream_restarts_the_spacing() -> None:
    schedule = SampleSchedule(1.0, burst_seconds=2)
    assert schedule.offer(0.0, 500.0)
    assert not schedule.offer(0.5, 500.1)  # a token, but not due in stream time
    assert schedule.offer(0.6, 3.0)  # timestamps reset (discontinuity): due at once
    assert not schedule.offer(0.7, 3.1)  # no token left


def test_invalid_rate() -> None:
    with pytest.raises(ValueError):
        SampleSchedule(0)


def test_capture_clock_is_wall_clock_yet_strictly_increasing() -> None:
    start = datetime(2026, 11, 23, 12, 0, 0, tzinfo=UTC)
    clock = CaptureClock(start, monotonic=50.0)
    first = clock.at(50.25)
    assert first == start + timedelta(milliseconds=250)
    same = clock.at(50.25)
    earlier = clock.at(50.1)
    assert first < same < earlier  # equal or earlier readings still move forward by a millisecond
    assert (same - first) == timedelta(milliseconds=1)
    assert all(t.microsecond % 1000 == 0 for t in (first, same, earlier))
    with pytest.raises(ValueError):
        CaptureClock(datetime(2026, 1, 1), 0.0)


def test_backoff_doubles_up_to_the_maximum_with_jitter_and_resets() -> None:
    plain = Backoff(1.0, 10.0, jitter=0.0)
    assert [plain.next_delay() for _ in range(6)] == [1, 2, 4, 8, 10, 10]
    plain.reset()
    assert plain.next_delay() == 1
    jittered = Backoff(1.0, 60.0, jitter=0.5, random=random.Random(7))
    delays = [jittered.next_delay() for _ in range(8)]
    for attempt, delay in enumerate(delays):
        base = min(60.0, 2.0**attempt)
        assert base * 0.5 <= delay <= base
    assert len({round(d / min(60.0, 2.0**i), 6) for i, d in enumerate(delays)}) > 1  # really random
