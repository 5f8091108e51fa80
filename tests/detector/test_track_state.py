"""Track ids through a detector restart: the tracker saved in Postgres is continued by the next process."""

from __future__ import annotations

import uuid

import numpy as np

from core.db.engine import session_scope
from core.registry import register
from core.source_policy import SourcePolicy
from detector.track_state import TrackStateStore, dump, restore
from detector.tracking import REPLAY_FRAMES, StreamTrackers, make_tracker

IMAGE = np.zeros((720, 1280, 3), np.uint8)
FRAMES = 30


def two_walkers(frame: int):
    """Two people (60x200 px) walking towards each other, 30 px per sampled frame; nobody in frame 0."""
    from ultralytics.engine.results import Boxes

    if frame == 0:
        return Boxes(np.zeros((0, 6), np.float32), (720, 1280))
    a, b = 100.0 + 30 * frame, 1100.0 - 25 * frame
    return Boxes(np.array([[a, 300, a + 60, 500, 0.8, 0], [b, 320, b + 60, 520, 0.7, 0]], np.float32), (720, 1280))


def feed(trackers: StreamTrackers, stream_id: int, session: str, frames: range, save: bool = False) -> list:
    ids = []
    for seq in frames:
        ids.append(trackers.update(stream_id, session, seq, two_walkers(seq), IMAGE).tolist())
        if save:
            trackers.save()
    return ids


def new_stream(settings) -> int:
    with session_scope(settings) as session:
        return register(session, f"http://127.0.0.1:9/{uuid.uuid4().hex}.m3u8", fps=1, check=False,
                        policy=SourcePolicy(allow_local=True)).id


def test_a_restarted_detector_continues_the_track_ids_of_the_session(settings) -> None:
    stream_id = new_stream(settings)
    uninterrupted = feed(StreamTrackers("bytetrack", min_frames=3), stream_id, "s1", range(FRAMES))
    store = TrackStateStore(settings)
    before = StreamTrackers("bytetrack", min_frames=3, store=store)
    assert feed(before, stream_id, "s1", range(16), save=True) == uninterrupted[:16]

    after = StreamTrackers("bytetrack", min_frames=3, store=TrackStateStore(settings))  # the restarted process
    # Redelivered frames the state includes (their publisher died before the acknowledgement) get the same ids
    # again; one too old to be remembered gets none, and neither moves the tracker.
    assert feed(after, stream_id, "s1", range(12, 16)) == uninterrupted[12:16]
    assert uninterrupted[15] != [-1, -1]
    assert feed(after, stream_id, "s1", range(16, FRAMES)) == uninterrupted[16:]
    assert after.resumed == 1 and store.saved == 16
    assert len({i for ids in uninterrupted[16:] for i in ids}) == 2  # both walkers kept their ids to the end

    fresh = StreamTrackers("bytetrack", min_frames=3)  # what a restart did before: new ids for the same people
    restarted = {i for ids in feed(fresh, stream_id, "s1", range(16, FRAMES)) for i in ids if i >= 0}
    assert len(restarted) == 2 and not restarted & {i for ids in uninterrupted for i in ids}


def test_a_redelivered_frame_gets_its_ids_again_only_while_remembered_and_with_as_many_boxes() -> None:
    trackers = StreamTrackers("bytetrack", min_frames=3)
    first = feed(trackers, 1, "s", range(REPLAY_FRAMES + 4))
    assert -1 not in first[-1]
    assert feed(trackers, 1, "s", range(REPLAY_FRAMES + 3, REPLAY_FRAMES + 4)) == first[-1:]
    assert first[3] != [-1, -1] and feed(trackers, 1, "s", range(3, 4)) == [[-1, -1]]  # before the last 32
    from ultralytics.engine.results import Boxes

    one_box = Boxes(two_walkers(REPLAY_FRAMES + 3).data[:1], (720, 1280))
    assert trackers.update(1, "s", REPLAY_FRAMES + 3, one_box, IMAGE).tolist() == [-1]  # another detection result
    moved = two_walkers(REPLAY_FRAMES + 3).data.copy()
    moved[:, [0, 2]] += 5  # another picture at that seq: the boxes 5 px away
    assert trackers.update(1, "s", REPLAY_FRAMES + 3, Boxes(moved, (720, 1280)), IMAGE).tolist() == [-1, -1]
    assert feed(trackers, 1, "s", range(REPLAY_FRAMES + 4, REPLAY_FRAMES + 5))[0][0] in set(first[-1])


def test_a_saved_tracker_of_another_session_or_too_old_is_not_continued(settings) -> None:
    stream_id = new_stream(settings)
    feed(StreamTrackers("bytetrack", store=TrackStateStore(settings)), stream_id, "old", range(10), save=True)
    other = StreamTrackers("bytetrack", store=TrackStateStore(settings))
    feed(other, stream_id, "new", range(10, 12))
    assert other.resumed == 0
    later = StreamTrackers("bytetrack", store=TrackStateStore(settings))
    feed(later, stream_id, "old", range(200, 202))  # far beyond the tracker's buffer of lost tracks
    assert later.resumed == 0


def test_a_state_from_another_ultralytics_version_is_refused() -> None:
    tracker = make_tracker("bytetrack")
    tracker.update(two_walkers(1), IMAGE)
    state = dump(tracker, id_base=0, last_seq=1, hits={})
    assert restore(make_tracker("bytetrack"), state)
    assert not restore(make_tracker("bytetrack"), {**state, "ultralytics": "0.0.1"})
    assert not restore(make_tracker("botsort"), state)  # another kind's tracks


def test_an_unreachable_database_loses_the_state_not_the_detections(settings) -> None:
    down = settings.model_copy(update={"database_url": "postgresql+psycopg://nobody@127.0.0.1:1/none"})
    trackers = StreamTrackers("bytetrack", store=TrackStateStore(down))
    ids = feed(trackers, 1, "s", range(5), save=True)
    assert ids[-1] != [-1, -1] and trackers.store.failed == 5
