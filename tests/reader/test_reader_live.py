"""The reader against real live HLS streams (ffmpeg), the real broker (pulsar-lite) and Postgres.

Most tests use the ``colors`` scene: four solid quadrants of known colours and a binary frame number along
the bottom, so a test can check the colours of what was published and that no frame came twice or out of order.
"""

from __future__ import annotations

import itertools
import subprocess
import time
import urllib.request
from datetime import timedelta

import pytest

from core import registry
from core.db.engine import session_scope
from core.db.models import StreamStatus
from stream_reader import metrics
from stream_reader.testsrc import COLOR_QUADRANTS, LiveHLSSource, color_regions, read_frame_number
from tests.conftest import free_port
from tests.reader.conftest import (
    RunningReader,
    add_stream,
    decode,
    sessions_of,
    stream_row,
    wait_until,
)


def count_between(frames, start, end) -> int:
    return sum(1 for f in frames if start <= f.meta.capture_time < end)


def assert_in_order_without_duplicates(frames) -> list[int]:
    """Capture times and source frame numbers strictly increase; seq counts up from 0 in each session."""
    times = [f.meta.capture_time for f in frames]
    assert all(a < b for a, b in itertools.pairwise(times)), "capture times must increase"
    numbers = [read_frame_number(decode(f)) for f in frames]
    assert all(a < b for a, b in itertools.pairwise(numbers)), f"a frame came twice: {numbers}"
    by_session: dict[str, list[int]] = {}
    for frame in frames:
        by_session.setdefault(frame.meta.session_id, []).append(frame.meta.seq)
    for seqs in by_session.values():
        assert seqs == list(range(len(seqs)))
    return numbers


def assert_true_colours(frame, width: int, height: int) -> None:
    image = decode(frame)
    assert image.shape == (height, width, 3) and (frame.meta.width, frame.meta.height) == (width, height)
    for name, (x0, y0, x1, y1) in color_regions(width, height).items():
        mean = image[y0:y1, x0:x1].reshape(-1, 3).mean(axis=0)
        expected = COLOR_QUADRANTS[name]
        assert max(abs(m - e) for m, e in zip(mean, expected, strict=True)) < 40, (name, mean.round(), expected)


def scrape(port: int) -> str:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as response:
        return response.read().decode()


def decoded_and_read(stream_id: int) -> tuple[float, float]:
    """This process's counts of frames decoded and frames read for a stream (the counters outlive a test)."""
    label = str(stream_id)
    return metrics.FRAMES_DECODED.labels(label)._value.get(), metrics.FRAMES_READ.labels(label)._value.get()


def metric(text: str, name: str, stream_id: int) -> float:
    prefix = f'{name}{{stream="{stream_id}"}} '
    return sum(float(line[len(prefix):]) for line in text.splitlines() if line.startswith(prefix))


# ---------------------------------------------------------------------------------------------------- rate


def test_frames_arrive_at_the_requested_rate_in_true_colours_and_in_order(reader_settings, collector) -> None:
    metrics_port = free_port()
    settings = reader_settings.model_copy(update={"reader_metrics_port": metrics_port, "reader_max_width": 480})
    with LiveHLSSource("colors", width=640, height=360, fps=15) as source:
        stream_id = add_stream(settings, source.url, fps=2)
        counts_before = decoded_and_read(stream_id)
        reader = RunningReader(settings, [stream_id], duration_s=14)
        wait_until(lambda: len(collector.of(stream_id)) >= 2, 20, "the first frames")
        assert stream_row(settings, stream_id).status == StreamStatus.LIVE
        names = [f"streamscope_reader_{name}_total" for name in ("frames_published", "frames_read", "frames_decoded",
                                                                  "decode_seconds", "encode_seconds")]
        text = wait_until(lambda: (t := scrape(metrics_port)) and all(metric(t, n, stream_id) > 0 for n in names)
                          and t, 10, "the metrics")
        summary = reader.join(40)
    time.sleep(1)
    frames = collector.of(stream_id)
    first = frames[0].meta.capture_time
    window = count_between(frames, first + timedelta(seconds=1), first + timedelta(seconds=11))
    assert 17 <= window <= 23, f"{window} frames in 10 s at 2 frames/s (±15%)"

    assert_in_order_without_duplicates(frames)
    for frame in (frames[0], frames[len(frames) // 2], frames[-1]):
        assert_true_colours(frame, 480, 270)  # resized to reader_max_width, aspect kept

    [row] = sessions_of(settings, stream_id)
    assert row.frames_published == len(frames) == summary[0].published
    assert row.frames_read >= 15 * 8 and row.frames_read > 5 * row.frames_published
    assert (row.width, row.height, row.source_fps) == (640, 360, 15.0)
    assert 0 < row.startup_seconds < 10 and row.end_reason == "stopped" and row.stalls == 0
    assert row.last_frame_at == frames[-1].meta.capture_time
    stream = stream_row(settings, stream_id)
    assert (stream.status, stream.status_reason, stream.is_live) == (StreamStatus.PENDING, "reader stopped", True)
    assert metric(text, "streamscope_reader_stream_live", stream_id) == 1
    # 2 frames/s from a keyframe a second: after the first GOPs (learning the keyframe interval), frames 9-14 of
    # each 15 lead to no kept frame and are skipped undecoded
    decoded, read = (after - before for after, before in zip(decoded_and_read(stream_id), counts_before, strict=True))
    assert read == row.frames_read and row.frames_published <= decoded <= 0.85 * read, (decoded, read)
    # FFmpeg sent yt-dlp's headers for the chosen format, not its own "Lavf" User-Agent, on every segment
    segment_agents = {agent for extension, agent in source.user_agents if extension == "ts"}
    assert segment_agents and not any(agent.startswith("Lavf") for agent in segment_agents), segment_agents


@pytest.mark.slow
def test_one_frame_per_second_for_30_seconds_from_720p30(reader_settings, collector) -> None:
    with LiveHLSSource("colors", width=1280, height=720, fps=30) as source:
        stream_id = add_stream(reader_settings, source.url, fps=1)
        counts_before = decoded_and_read(stream_id)
        reader = RunningReader(reader_settings, [stream_id], duration_s=36)
        reader.join(60)
    time.sleep(1)
    frames = collector.of(stream_id)
    first = frames[0].meta.capture_time
    window = count_between(frames, first + timedelta(seconds=2), first + timedelta(seconds=32))
    assert 27 <= window <= 33, f"{window} frames in 30 s at 1 frame/s (±10%)"
    assert_in_order_without_duplicates(frames)
    assert_true_colours(frames[-1], 1280, 720)
    decoded, read = (after - before for after, before in zip(decoded_and_read(stream_id), counts_before, strict=True))
    # Keyframes (one a second) after three GOPs decoded whole to learn the keyframe interval: about 12%
    assert decoded <= 0.15 * read, f"{decoded} of {read} frames decoded: a keyframe a second should be enough"


# --------------------------------------------------------------------------------------------- isolation


@pytest.mark.slow
def test_two_streams_in_one_process_one_source_killed_the_other_keeps_its_rate(reader_settings, collector) -> None:
    with (
        LiveHLSSource("colors", width=640, height=360, fps=15) as steady,
        LiveHLSSource("colors", width=320, height=180, fps=15) as doomed,
    ):
        steady_id = add_stream(reader_settings, steady.url, fps=2)
        doomed_id = add_stream(reader_settings, doomed.url, fps=1)
        reader = RunningReader(reader_settings, [steady_id, doomed_id])
        wait_until(lambda: collector.of(steady_id) and collector.of(doomed_id), 20, "frames of both streams")
        doomed.stop_producer()
        killed = collector.of(steady_id)[-1].meta.capture_time
        time.sleep(9.5)
        wait_until(lambda: stream_row(reader_settings, doomed_id).status == StreamStatus.RECONNECTING, 10,
                   "the killed stream to show as reconnecting")
        reader.stop()
    time.sleep(1)
    steady_frames = collector.of(steady_id)
    after = count_between(steady_frames, killed + timedelta(seconds=1), killed + timedelta(seconds=9))
    assert 14 <= after <= 18, f"{after} frames in the 8 s after the other source died, at 2 frames/s (±15%)"
    assert len({f.meta.session_id for f in steady_frames}) == 1, "the steady stream never reconnected"
    assert_in_order_without_duplicates(steady_frames)
    late = [f for f in collector.of(doomed_id) if f.meta.capture_time > killed + timedelta(seconds=4)]
    assert late == [], "nothing was published from the dead source"
    assert stream_row(reader_settings, steady_id).status_reason == "reader stopped"  # stopped cleanly
    doomed_row = stream_row(reader_settings, doomed_id)  # no reader any more, and why it could not read
    assert doomed_row.status == StreamStatus.PENDING and doomed_row.status_reason.startswith("reader stopped; last")


# -------------------------------------------------------------------------------------------- reconnects


@pytest.mark.slow
def test_producer_killed_and_restarted_reconnects_within_twice_the_read_timeout(reader_settings, collector) -> None:
    read_timeout = reader_settings.reader_read_timeout_s
    with LiveHLSSource("colors", width=640, height=360, fps=15) as source:
        stream_id = add_stream(reader_settings, source.url, fps=2)
        reader = RunningReader(reader_settings, [stream_id])
        wait_until(lambda: len(collector.of(stream_id)) >= 3, 20, "the first frames")
        source.stop_producer()
        row = wait_until(lambda: (r := stream_row(reader_settings, stream_id)).status == StreamStatus.RECONNECTING
                         and r, 3 * read_timeout, "status reconnecting")
        assert "stalled" in row.status_reason or "source is down" in row.status_reason
        time.sleep(2)
        assert stream_row(reader_settings, stream_id).status == StreamStatus.RECONNECTING
        first_session = collector.of(stream_id)[0].meta.session_id
        back = time.monotonic()
        source.start_producer()
        wait_until(lambda: any(f.meta.session_id != first_session for f in collector.of(stream_id)), 3 * read_timeout,
                   "frames of a new session")
        with collector._lock:
            reconnected = next(arrival for frame, arrival in zip(collector.frames, collector.arrivals, strict=True)
                               if frame.meta.session_id != first_session)
        assert reconnected - back <= 2 * read_timeout, f"reconnected {reconnected - back:.1f} s after the restart"
        wait_until(lambda: stream_row(reader_settings, stream_id).status == StreamStatus.LIVE, 5, "status live")
        time.sleep(1)
        reader.stop()
    frames = collector.of(stream_id)
    assert_in_order_without_duplicates(frames)  # the stale last segment was not replayed on reconnecting
    sessions = sessions_of(reader_settings, stream_id)
    assert sessions[0].end_reason == "stalled" and sessions[0].stalls == 1
    assert sessions[0].frames_published == sum(1 for f in frames if f.meta.session_id == first_session)
    assert all(s.end_reason in ("stale", "closed", "stalled") for s in sessions[1:-1])
    assert sessions[-1].end_reason == "stopped" and sessions[-1].reconnects == len(sessions) - 1
    assert sum(s.frames_published for s in sessions) == len(frames)


def test_server_down_backs_off_reports_the_error_and_recovers(reader_settings, collector) -> None:
    settings = reader_settings.model_copy(update=dict(
        reader_backoff_initial_s=0.25, reader_backoff_max_s=2.0, reader_backoff_jitter=0.0))
    with LiveHLSSource("colors", width=320, height=180, fps=15) as source:
        stream_id = add_stream(settings, source.url, fps=2)
        reader = RunningReader(settings, [stream_id])
        wait_until(lambda: len(collector.of(stream_id)) >= 2, 20, "the first frames")
        source.stop_server()
        row = wait_until(lambda: (r := stream_row(settings, stream_id)).status == StreamStatus.RECONNECTING
                         and "refused" in (r.status_reason or "") and r, 15, "the connection error in the status")
        assert row.status_reason.startswith("cannot resolve the stream")
        wait_until(lambda: len([s for s in sessions_of(settings, stream_id) if s.end_reason == "resolve_failed"]) >= 4,
                   20, "four failed attempts")
        assert reader.thread.is_alive()
        source.start_server()
        wait_until(lambda: stream_row(settings, stream_id).status == StreamStatus.LIVE, 15, "recovery")
        reader.stop()
    failed = [s for s in sessions_of(settings, stream_id) if s.end_reason == "resolve_failed"]
    assert all("refused" in s.last_error for s in failed)
    starts = [s.started_at for s in failed[:4]]
    gaps = [(b - a).total_seconds() for a, b in itertools.pairwise(starts)]
    # After the first failure the delays double, 0.5, 1 and 2 s; each gap adds one failed resolution (< 1.5 s).
    for gap, delay in zip(gaps, (0.5, 1.0, 2.0), strict=True):
        assert delay <= gap < delay + 1.5, f"no exponential backoff: gaps {gaps}"
    assert stream_row(settings, stream_id).failed_sessions == 0  # reset by the session that delivered frames


def test_too_many_failed_sessions_mark_the_stream_failed(reader_settings) -> None:
    settings = reader_settings.model_copy(update=dict(max_failed_sessions=3, reader_backoff_initial_s=0.1))
    stream_id = add_stream(settings, f"http://127.0.0.1:{free_port()}/gone.m3u8", fps=1)
    started = time.monotonic()
    summary = RunningReader(settings, [stream_id], duration_s=60).join(30)
    assert time.monotonic() - started < 20, "a bounded run ends when no stream is left to read"
    stream = stream_row(settings, stream_id)
    assert stream.status == StreamStatus.FAILED and stream.failed_sessions == 3
    assert stream.status_reason.startswith("3 consecutive failed sessions; last: cannot resolve the stream")
    assert len(sessions_of(settings, stream_id)) == 3 and summary[0].final_status == StreamStatus.FAILED
    assert RunningReader(settings, [stream_id], duration_s=5).join(10) == []  # failed streams are not read


# --------------------------------------------------------------------------------------------------- end


def test_an_ended_stream_is_marked_ended_and_never_replayed(reader_settings, collector) -> None:
    with LiveHLSSource("colors", width=320, height=180, fps=15) as source:
        stream_id = add_stream(reader_settings, source.url, fps=2)
        reader = RunningReader(reader_settings, [stream_id], duration_s=60)
        wait_until(lambda: len(collector.of(stream_id)) >= 4, 20, "the first frames")
        source.end()
        summary = reader.join(20)
        assert summary[0].final_status == StreamStatus.ENDED
        stream = stream_row(reader_settings, stream_id)
        assert stream.status == StreamStatus.ENDED and "ENDLIST" in stream.status_reason
        published = len(collector.of(stream_id))

        again = RunningReader(reader_settings, [stream_id], duration_s=10)
        assert again.join(20) == [] and again.runner.skipped == {stream_id: "ended"}
        with session_scope(reader_settings) as session:
            registry.resume(session, stream_id)  # a person insists: the reader checks the playlist first
        RunningReader(reader_settings, [stream_id], duration_s=10).join(20)
        assert stream_row(reader_settings, stream_id).status == StreamStatus.ENDED
        time.sleep(1)
    frames = collector.of(stream_id)
    assert len(frames) == published, "the ended playlist was not reopened"
    assert_in_order_without_duplicates(frames)
    sessions = sessions_of(reader_settings, stream_id)
    assert [s.end_reason for s in sessions] == ["ended", "ended"]
    assert sessions[0].frames_published == len(frames) and sessions[1].frames_published == 0


def test_yt_dlp_saying_a_live_stream_is_no_longer_live_ends_it_without_opening(reader_settings, collector) -> None:
    """YouTube itself is unreachable here, so yt-dlp's answer is played by a fake resolver."""
    from core.db.models import Stream
    from stream_reader.resolve import ResolvedSource

    url = "https://www.youtube.com/watch?v=jfKfPfyJRdk"
    stream_id = add_stream(reader_settings, url, fps=1)
    with session_scope(reader_settings) as session:
        session.get(Stream, stream_id).is_live = True  # it was live when registered
    calls = []

    def resolver(url: str, kind: str, *, max_height: int, timeout_s: float) -> ResolvedSource:
        calls.append((url, kind, max_height))
        return ResolvedSource("https://127.0.0.1:1/index.m3u8", is_live=False, live_status="was_live", via="yt-dlp")

    summary = RunningReader(reader_settings, [stream_id], duration_s=30, resolver=resolver).join(20)
    assert calls == [(url, "youtube", reader_settings.reader_max_height)]
    assert summary[0].final_status == StreamStatus.ENDED
    stream = stream_row(reader_settings, stream_id)
    assert stream.status_reason == "the stream is no longer live (yt-dlp says was_live)"
    assert [s.end_reason for s in sessions_of(reader_settings, stream_id)] == ["ended"] and not collector.frames


# -------------------------------------------------------------------------------------------- continuous


def test_a_continuous_run_follows_the_registry(reader_settings, collector) -> None:
    with LiveHLSSource("colors", width=320, height=180, fps=15) as source:
        first = add_stream(reader_settings, source.url, fps=1)
        reader = RunningReader(reader_settings)  # every active stream, until stopped
        wait_until(lambda: collector.of(first), 20, "frames of the first stream")
        second = add_stream(reader_settings, source.url + "?second", fps=1)
        wait_until(lambda: collector.of(second), 20, "frames of a stream registered while running")
        with session_scope(reader_settings) as session:
            registry.pause(session, first)
        wait_until(lambda: not reader.runner.workers[first].is_alive(), 10, "the paused stream's reader to stop")
        with session_scope(reader_settings) as session:
            registry.remove(session, second)
        wait_until(lambda: not reader.runner.workers[second].is_alive(), 10, "the removed stream's reader to stop")
        paused_at = time.monotonic()
        time.sleep(1.5)
        reader.stop()
    assert stream_row(reader_settings, first).status == StreamStatus.PAUSED  # not overwritten by the reader
    assert sessions_of(reader_settings, first)[-1].end_reason == "paused"
    assert not [a for f, a in zip(collector.frames, collector.arrivals, strict=True)
                if a > paused_at + 0.5 and f.meta.stream_id in (first, second)]


# ------------------------------------------------------------------------------------------------- files


def test_a_video_file_is_read_in_real_time_once_then_marked_ended(reader_settings, collector, tmp_path) -> None:
    from stream_reader.testsrc import ffmpeg_binary

    video = tmp_path / "clip.mp4"
    subprocess.run([ffmpeg_binary(), "-hide_banner", "-loglevel", "error", "-f", "lavfi", "-i",
                    "testsrc2=size=320x180:rate=15:duration=4", "-c:v", "libx264", "-preset", "ultrafast",
                    str(video)], check=True, timeout=60)
    stream_id = add_stream(reader_settings, f"file://{video}", fps=2)
    started = time.monotonic()
    summary = RunningReader(reader_settings, [stream_id], duration_s=60).join(30)
    took = time.monotonic() - started
    assert 3.5 <= took < 15, f"a 4-second file took {took:.1f} s: it must be paced to real time"
    assert summary[0].final_status == StreamStatus.ENDED
    stream = stream_row(reader_settings, stream_id)
    assert (stream.status, stream.status_reason) == (StreamStatus.ENDED, "end of the video")
    time.sleep(1)
    frames = collector.of(stream_id)
    assert 6 <= len(frames) <= 10, f"{len(frames)} frames from 4 s at 2 frames/s"
    [row] = sessions_of(reader_settings, stream_id)
    assert row.frames_read == 60 and row.end_reason == "ended" and row.resolved_url == str(video)
