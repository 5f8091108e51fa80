"""The sampling schedule, keyframe gate, capture clock and backoff (pure logic, simulated clocks)."""

from __future__ import annotations

import itertools
import random
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core.backoff import Backoff
from stream_reader.sampling import CaptureClock, KeyframeGate, SampleSchedule, burst_seconds


def simulate_hls(fps: float, seconds: int, *, source_fps: int = 30, segment: float = 1.0, decode_s: float = 0.002):
    """Live HLS as the reader sees it: each segment's frames read in a burst when the segment appears."""
    return simulate_gated(fps, seconds, source_fps=source_fps, segment=segment, decode_s=decode_s, gate=None,
                          bucket_s=2 * segment).kept


class Run:
    def __init__(self) -> None:
        self.kept: list[tuple[float, float]] = []  # (wall, media) of kept frames
        self.decoded = 0
        self.decoded_after_a_skip = 0  # frames decoded after a skipped one of the same GOP: broken pictures


def simulate_gated(fps: float, seconds: int, *, source_fps: int = 30, segment: float = 1.0, decode_s: float = 0.002,
                   keyframe_every: float | None = None, cuts: frozenset[int] = frozenset(),
                   gate: KeyframeGate | None = None, late: frozenset[int] = frozenset(),
                   bucket_s: float | None = None, jitter_s: float = 0.0) -> Run:
    """The reader's loop over bursty live HLS: per frame, ask the gate (if any) whether to decode, and offer the
    decoded frames to the schedule. Keyframes come every ``keyframe_every`` seconds (default: each segment's
    first frame) and at the frame numbers in ``cuts`` (scene cuts). The segments numbered in ``late`` arrive
    together with the next one (a playlist reload that just missed them); each arrives up to ``jitter_s`` late."""
    schedule = SampleSchedule(fps, burst_seconds=burst_seconds(segment) if bucket_s is None else bucket_s)
    run = Run()
    gop = round(source_fps * (keyframe_every or segment))
    frames_per_segment = round(source_fps * segment)
    skipped_in_gop = False
    delays = random.Random(5)
    for index in range(round(seconds / segment)):
        arrival = 100.0 + (index + 1 + (index in late)) * segment  # a segment is published once complete
        arrival += delays.uniform(0, jitter_s)
        for frame in range(frames_per_segment):
            number = index * frames_per_segment + frame
            media = number / source_fps
            now = arrival + frame * decode_s
            keyframe = number % gop == 0 or number in cuts
            skipped_in_gop = skipped_in_gop and not keyframe
            if gate is not None and not gate.decode(media, keyframe, schedule.next_media_due):
                skipped_in_gop = True
                continue
            run.decoded += 1
            run.decoded_after_a_skip += skipped_in_gop
            if schedule.offer(now, media):
                run.kept.append((now, media))
    return run


def assert_same_frames(gated: Run, everything: Run, source_fps: int = 30) -> None:
    """The same kept frames (up to one source frame: the token bucket's float rounding)."""
    assert len(gated.kept) == len(everything.kept)
    for (_, a), (_, b) in zip(gated.kept, everything.kept, strict=True):
        assert abs(a - b) <= 1 / source_fps + 1e-9


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


@pytest.mark.parametrize(
    ("fps", "keyframe_every", "segment", "decoded_at_most"),
    [
        (1, 1.0, 1.0, 0.06),  # the benchmark's source: keyframes only (and three GOPs to learn the interval)
        (0.5, 1.0, 1.0, 0.06),
        (1, 0.5, 1.0, 0.10),  # keyframes twice per sample: both decoded, nothing else
        (1, 2.0, 2.0, 0.55),  # YouTube's usual 2 s: the first half of each GOP
        (2, 1.0, 1.0, 0.56),
        (1, 4.0, 4.0, 0.80),
        (5, 2.0, 2.0, 0.95),  # a sample every 6 frames: nearly all of each GOP leads to one
    ],
)
def test_the_gate_keeps_the_same_frames_and_decodes_only_what_leads_to_them(
        fps, keyframe_every, segment, decoded_at_most) -> None:
    everything = simulate_gated(fps, 120, keyframe_every=keyframe_every, segment=segment)
    gated = simulate_gated(fps, 120, keyframe_every=keyframe_every, segment=segment, gate=KeyframeGate())
    assert_same_frames(gated, everything)
    assert gated.decoded_after_a_skip == 0
    assert gated.decoded <= decoded_at_most * everything.decoded


@settings(max_examples=60, deadline=None)
@given(fps=st.sampled_from([0.2, 0.5, 1.0, 2.0, 3.0]), keyframe_every=st.sampled_from([0.5, 1.0, 2.0, 3.0, 4.0]),
       segment=st.sampled_from([1.0, 2.0]), cuts=st.frozensets(st.integers(0, 30 * 90 - 1), max_size=40))
def test_scene_cuts_after_the_start_change_no_kept_frame(fps, keyframe_every, segment, cuts) -> None:
    cuts = frozenset(c for c in cuts if c >= 2 * 30 * keyframe_every)  # once the regular interval was seen
    everything = simulate_gated(fps, 90, keyframe_every=keyframe_every, segment=segment, cuts=cuts)
    gated = simulate_gated(fps, 90, keyframe_every=keyframe_every, segment=segment, cuts=cuts, gate=KeyframeGate())
    assert_same_frames(gated, everything)
    assert gated.decoded_after_a_skip == 0


@settings(max_examples=60, deadline=None)
@given(fps=st.sampled_from([0.5, 1.0, 2.0]), keyframe_every=st.sampled_from([1.0, 2.0, 4.0]),
       cuts=st.frozensets(st.integers(0, 30 * 90 - 1), max_size=60))
def test_any_keyframe_pattern_never_decodes_a_frame_whose_references_were_skipped(fps, keyframe_every, cuts) -> None:
    everything = simulate_gated(fps, 90, keyframe_every=keyframe_every, cuts=cuts)
    gated = simulate_gated(fps, 90, keyframe_every=keyframe_every, cuts=cuts, gate=KeyframeGate())
    assert gated.decoded_after_a_skip == 0
    assert len(gated.kept) >= 0.9 * len(everything.kept)  # a keyframe later than ever before delays one sample


def test_short_intervals_at_the_start_are_not_taken_for_the_keyframe_interval() -> None:
    gate = KeyframeGate()
    cuts = frozenset({15, 30})  # scene cuts: keyframes at 0.0, 0.5, 1.0, then every 2 s from 2.0
    everything = simulate_gated(1, 60, keyframe_every=2.0, segment=2.0, cuts=cuts)
    gated = simulate_gated(1, 60, keyframe_every=2.0, segment=2.0, cuts=cuts, gate=gate)
    assert_same_frames(gated, everything)
    assert gate.keyframe_interval == pytest.approx(2.0)


def test_without_timestamps_or_keyframes_everything_is_decoded() -> None:
    gate = KeyframeGate()
    assert all(gate.decode(None, i % 30 == 0, 10.0) for i in range(300))
    gate = KeyframeGate()
    assert all(gate.decode(i / 30, i == 0, 10.0) for i in range(300))  # one keyframe, never another
    stopped = KeyframeGate()  # regular keyframes, then none any more (intra refresh): decoding resumes for good
    wanted = [stopped.decode(i / 30, i < 90 and i % 30 == 0, 10_000.0) for i in range(30 * 30)]
    assert not any(wanted[91:300]) and all(wanted[-30:]) and not stopped.enabled


def test_a_clock_jump_makes_the_gate_learn_the_interval_again() -> None:
    gate = KeyframeGate()
    for second in range(4):
        gate.decode(float(second), True, 100.0)
    assert gate.keyframe_interval == pytest.approx(1.0)
    assert not gate.decode(3.5, False, 100.0)
    gate.decode(0.0, True, 100.0)  # timestamps restarted
    assert gate.keyframe_interval is None and gate.decode(0.5, False, 100.0)


def test_skipping_lasts_until_the_next_keyframe_whatever_the_schedule_says() -> None:
    gate = KeyframeGate()
    for second in range(3):
        assert gate.decode(float(second), True, float(second))
    assert not gate.decode(2.1, False, 3.0)  # nothing due before the keyframe at 3.0
    assert not gate.decode(2.2, False, 2.5)  # due earlier now (the schedule restarted): the references are gone
    assert not gate.decode(2.3, False, None)
    assert not gate.decode(None, False, 2.5)  # a packet without a timestamp
    assert gate.decode(3.0, True, 2.5) and gate.decode(3.1, False, 3.5)  # a keyframe: decoding may start again


@pytest.mark.parametrize("fps", [1, 2])
def test_two_segments_in_one_burst_cost_no_frame_and_no_decoding(fps) -> None:
    late = frozenset({0, *range(5, 120, 7)})  # the first segment and every 7th come late, with the next one
    bursts = dict(gate=KeyframeGate(), jitter_s=0.05, decode_s=0.0002)  # a segment read in 6 ms, up to 50 ms late
    regular = simulate_gated(fps, 120, **bursts)
    gated = simulate_gated(fps, 120, late=late, **{**bursts, "gate": KeyframeGate()})
    assert len(gated.kept) == len(regular.kept) == 120 * fps
    assert gated.decoded <= regular.decoded + 30 and gated.decoded_after_a_skip == 0
    # With room for two segments only (as before), the level sinks to the bottom after the first double burst,
    # and a segment a little late finds no token: its frames are lost and its whole GOP is decoded for nothing.
    short = simulate_gated(fps, 120, late=late, bucket_s=2.0, **{**bursts, "gate": KeyframeGate()})
    assert len(short.kept) < len(gated.kept) and short.decoded > 1.5 * gated.decoded
