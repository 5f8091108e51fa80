"""alerts.anomalies on hand-made series: thresholds, hysteresis, evidence, gaps, down vs frozen, causality."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from alerts.anomalies import Baseline, Episode, Params, Point, Session, count_episodes, health_episodes, reconcile

T0 = datetime(2026, 10, 12, 9, 0, tzinfo=UTC)
W = timedelta(minutes=1)
NORMAL = Baseline(median=2.0, mad=0.1, history_weeks=4)  # scale 1.4826 * 0.1 + 0.1 = 0.248
P = Params(threshold=6.0, release=3.0, floor=0.1, min_frames=20, min_weeks=2)


def series(values, baseline=NORMAL, frames=60, start=T0):
    return [Point(start + W * i, start + W * (i + 1), frames, v, baseline) for i, v in enumerate(values)]


def test_a_spike_opens_on_its_first_window_and_ends_where_it_falls_back():
    values = [2.0] * 5 + [4.0, 4.5, 3.0, 2.0, 2.0]  # z: 8.1, 10.1, 4.0 (above release), 0
    (episode,) = count_episodes(1, "person", series(values), P)
    assert (episode.kind, episode.started_at, episode.ended_at) == ("spike", T0 + 5 * W, T0 + 8 * W)
    assert episode.opened_at == T0 + 6 * W  # the end of the window that opened it
    assert episode.observed == (4.0 + 4.5 + 3.0) / 3 and episode.expected == 2.0
    assert round(episode.score, 3) == round((4.5 - 2.0) / (1.4826 * 0.1 + 0.1), 3)


def test_below_the_threshold_nothing_opens_and_hysteresis_keeps_one_episode():
    assert count_episodes(1, "person", series([2.0, 3.4, 2.0, 3.4]), P) == []  # z 5.6 < 6
    # 4.0 opens; 2.9 (z 3.6) stays above the release: one episode, not two.
    (episode,) = count_episodes(1, "person", series([2.0, 4.0, 2.9, 4.0, 2.0]), P)
    assert (episode.started_at, episode.ended_at) == (T0 + W, T0 + 4 * W)


def test_a_drop_and_a_still_open_episode():
    (drop,) = count_episodes(2, "car", series([2.0, 0.2, 0.1]), P)
    assert (drop.kind, drop.started_at, drop.ended_at) == ("drop", T0 + W, None)
    assert drop.score < -6


def test_windows_without_evidence_are_skipped_and_a_gap_ends_an_episode():
    thin = series([2.0, 9.0, 2.0], frames=5)  # too few frames
    assert count_episodes(1, "person", thin, P) == []
    young = series([9.0], baseline=Baseline(2.0, 0.1, history_weeks=1))  # one week of history
    nobase = series([9.0], baseline=None)
    assert count_episodes(1, "person", young + nobase, P) == []
    # A spike, then an outage of 20 minutes: the episode ends at its last window, a new one may start after.
    before = series([5.0, 5.0])
    after = series([5.0], start=T0 + 22 * W)
    first, second = count_episodes(1, "person", before + after, P)
    assert (first.started_at, first.ended_at) == (T0, T0 + 2 * W)
    assert (second.started_at, second.ended_at) == (T0 + 22 * W, None)


def test_running_on_a_growing_prefix_finds_the_same_starts():
    values = [2.0, 2.1, 5.0, 5.5, 2.0, 1.9, 0.1, 0.2, 2.0, 6.0]
    points = series(values)
    final = count_episodes(1, "person", points, P)
    for n in range(1, len(points) + 1):
        prefix = count_episodes(1, "person", points[:n], P)
        assert [e.started_at for e in prefix] == [e.started_at for e in final if e.started_at < points[n - 1].end]
        for early, late in zip(prefix, final, strict=False):
            assert early.kind == late.kind and (early.ended_at is None or early.ended_at == late.ended_at)


def test_down_and_frozen_from_windows_and_sessions():
    frames_seen = [(T0 + W * i, T0 + W * (i + 1)) for i in (0, 1, 2, 10, 11, 30, 31)]
    sessions = [Session(T0, T0 + 5 * W), Session(T0 + 10 * W, None)]  # reader lost the stream at minute 5
    down, frozen = health_episodes(7, frames_seen, sessions, now=T0 + 33 * W, params=P)
    assert (down.kind, down.started_at, down.ended_at) == ("down", T0 + 3 * W, T0 + 10 * W)
    assert (frozen.kind, frozen.started_at, frozen.ended_at) == ("frozen", T0 + 12 * W, T0 + 30 * W)
    assert down.object_class == "" and down.score == 7.0 and down.opened_at == T0 + 5 * W


def test_a_stretch_up_to_now_is_open_unless_paused_and_a_reader_status_says_down():
    frames_seen = [(T0, T0 + W)]
    sessions = [Session(T0, None)]
    (open_frozen,) = health_episodes(7, frames_seen, sessions, now=T0 + 10 * W, params=P)
    assert (open_frozen.kind, open_frozen.ended_at) == ("frozen", None)
    (open_down,) = health_episodes(7, frames_seen, sessions, now=T0 + 10 * W, params=P, reader_down=True)
    assert open_down.kind == "down"
    assert health_episodes(7, frames_seen, sessions, now=T0 + 10 * W, params=P, paused=True) == []
    # The reader's last frame (newer than the last window written) says it is not down yet.
    assert health_episodes(7, frames_seen, sessions, now=T0 + 10 * W, params=P, last_frame_at=T0 + 9 * W) == []
    # An outage that began before the windows read keeps its true start.
    (early,) = health_episodes(7, [(T0 + 20 * W, T0 + 21 * W)], [], now=T0 + 21 * W, params=P,
                               previous_end=T0 + 2 * W)
    assert (early.started_at, early.ended_at) == (T0 + 2 * W, T0 + 20 * W)


def test_reconcile_closes_stored_open_episodes_the_data_no_longer_show():
    gone = Episode(1, "person", "spike", T0, None, 5.0, 2.0, 9.0)
    kept = Episode(1, "car", "drop", T0, None, 0.1, 2.0, -8.0)
    written = reconcile([gone, kept], [kept], now=T0 + 9 * W)
    assert kept in written and any(e.key == gone.key and e.ended_at == T0 + 9 * W for e in written)
