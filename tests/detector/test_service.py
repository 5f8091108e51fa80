"""The detector service against the real pulsar-lite and embedded Postgres, with the real yolo11n weights."""

from __future__ import annotations

import urllib.request
from collections import Counter

import numpy as np
import pytest
from sqlalchemy import select

from core.broker import create_producer, send
from core.db.models import Snapshot, Stream
from core.messages import OutgoingMessage
from detector import metrics
from detector.service import DetectorService
from tests.conftest import free_port
from tests.detector.helpers import (
    T0,
    detections_of,
    jpeg,
    load_image,
    publish_frames,
    read_all,
    shifted,
)


def _stream(db_session, name: str) -> int:
    stream = Stream(canonical_id=f"test:{name}", url=f"http://127.0.0.1/{name}.m3u8", kind="hls", name=name)
    db_session.add(stream)
    db_session.commit()
    return stream.id


def _dead_letters(reason: str) -> float:
    from prometheus_client import REGISTRY

    return REGISTRY.get_sample_value("streamscope_detector_dead_letters_total", {"reason": reason}) or 0.0


def test_bus_black_and_corrupt_frames_through_the_service(topics, detector, db_session, clean_tables) -> None:
    stream_id = _stream(db_session, "bus")
    bus = load_image("bus.jpg")
    black = np.zeros((720, 1280, 3), np.uint8)
    corrupt = b"\xff\xd8\xff\xe0" + bytes(range(256)) * 40 + b"\xff\xd9"
    publish_frames(topics, [
        (stream_id, "s1", 0, corrupt, 1280, 720),
        (stream_id, "s1", 1, jpeg(black), 1280, 720),
        (stream_id, "s1", 2, jpeg(bus), bus.shape[1], bus.shape[0]),
    ])
    producer = create_producer(topics, topics.frames_topic, batching=False)  # a frame breaking the contract
    send(producer, OutgoingMessage(jpeg(black), str(stream_id), {"schema": "streamscope.frame/1"}, 1_700_000_000_000))
    producer.close()
    jpeg_before, contract_before = _dead_letters("jpeg"), _dead_letters("contract")

    service = DetectorService(topics, detector=detector, subscription="detector", idle_exit_s=1.5)
    stats = service.run()

    assert (stats.received, stats.frames, stats.dead_letters, stats.send_failures) == (4, 2, 2, 0)
    messages = read_all(topics, topics.detections_topic, expected=2)
    assert all(message.partition_key() == str(stream_id) for message in messages)
    by_seq = {d.seq: d for d in detections_of(messages)}
    assert sorted(by_seq) == [1, 2]
    assert by_seq[1].detections == []  # the black frame: a message with zero detections
    found = Counter(d.class_name for d in by_seq[2].detections)
    assert found["bus"] == 1 and found["person"] >= 4
    assert (by_seq[2].image_width, by_seq[2].image_height) == (bus.shape[1], bus.shape[0])
    assert by_seq[2].model == "yolo11n" and by_seq[2].weights_hash == detector.weights.sha256
    assert by_seq[2].inference_ms > 0 and by_seq[2].session_id == "s1"

    dead = read_all(topics, topics.dead_letter_topic(topics.frames_topic), expected=2)
    reasons = sorted(message.properties()["dead_letter_reason"] for message in dead)
    assert reasons == ["frame JPEG does not decode", "frame message lacks property 'stream_id'"]
    assert _dead_letters("jpeg") == jpeg_before + 1 and _dead_letters("contract") == contract_before + 1

    # Everything was acknowledged: the same subscription finds nothing left.
    again = DetectorService(topics, detector=detector, subscription="detector", idle_exit_s=0.5).run()
    assert again.received == 0

    # The latest annotated snapshot (the bus frame) is in Postgres.
    snapshot = db_session.scalars(select(Snapshot).where(Snapshot.stream_id == stream_id)).one()
    assert snapshot.captured_at == by_seq[2].capture_time and snapshot.model == "yolo11n"
    assert snapshot.counts["bus"] == 1 and snapshot.counts["person"] >= 4
    import cv2

    picture = cv2.imdecode(np.frombuffer(snapshot.jpeg, np.uint8), cv2.IMREAD_COLOR)
    assert picture.shape[:2] == (snapshot.height, snapshot.width)


def test_two_interleaved_streams_track_independently_and_a_new_session_resets(topics, detector) -> None:
    bus, zidane = load_image("bus.jpg"), load_image("zidane.jpg")
    frames = []
    for seq in range(4):
        frames.append((11, "a", seq, jpeg(shifted(bus, 3 * seq)), bus.shape[1], bus.shape[0]))
        frames.append((12, "z", seq, jpeg(shifted(zidane, 3 * seq)), zidane.shape[1], zidane.shape[0]))
    for seq in range(2):  # stream 11's reader reconnects: a new session, new content
        frames.append((11, "b", seq, jpeg(shifted(zidane, 3 * seq)), zidane.shape[1], zidane.shape[0]))
    publish_frames(topics, frames)
    settings = topics.model_copy(update={"detector_batch_size": 4})
    stats = DetectorService(settings, detector=detector, subscription="detector", idle_exit_s=1.0).run()
    assert stats.frames == 10 and stats.batches >= 3

    got = detections_of(read_all(topics, topics.detections_topic, expected=10))
    ids: dict[tuple[int, str], list[list[int]]] = {}
    for message in sorted(got, key=lambda m: (m.stream_id, m.session_id, m.seq)):
        tracked = sorted(d.track_id for d in message.detections if d.track_id is not None)
        ids.setdefault((message.stream_id, message.session_id), []).append(tracked)
    bus_ids, zidane_ids, new_session = ids[(11, "a")], ids[(12, "z")], ids[(11, "b")]
    assert bus_ids[0] == [1, 2, 3, 4, 5] and zidane_ids[0] == [1, 2, 3]  # each stream counts from 1
    for frames_ids, first in ((bus_ids, [1, 2, 3, 4, 5]), (zidane_ids, [1, 2, 3])):
        # The objects keep their ids although the other stream's frames come in between (a shared tracker
        # would lose them at every frame and mint new ids); a newly confirmed object may add an id.
        assert len(frames_ids) == 4
        assert all(len(set(f) & set(first)) >= len(first) - 1 for f in frames_ids), frames_ids
    assert new_session[0] == [1, 2, 3]  # tracking was reset for the new session


def test_max_frames_stops_early_and_leaves_the_rest_for_the_next_run(topics, detector) -> None:
    black = jpeg(np.zeros((360, 640, 3), np.uint8))
    # One frame per entry: a batch entry only partly acknowledged comes back whole (at-least-once).
    publish_frames(topics, [(41, "a", seq, black, 640, 360) for seq in range(5)], batching=False)
    first = DetectorService(topics, detector=detector, subscription="detector", max_frames=3).run()
    assert (first.received, first.frames) == (3, 3)
    second = DetectorService(topics, detector=detector, subscription="detector", idle_exit_s=1.5).run()
    assert second.frames == 2
    got = detections_of(read_all(topics, topics.detections_topic, expected=5))
    assert sorted(m.seq for m in got) == [0, 1, 2, 3, 4] and all(m.detections == [] for m in got)


def test_metrics_are_served_on_the_configured_port() -> None:
    port = free_port()
    metrics.serve(port)
    metrics.BACKLOG.set(0)
    body = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5).read().decode()
    for name in ("streamscope_detector_frames_total", "streamscope_detector_batch_size_bucket",
                 "streamscope_detector_inference_ms_bucket", "streamscope_detector_backlog_entries",
                 "streamscope_detector_dead_letters_total", "streamscope_detector_frames_per_second"):
        assert name in body


@pytest.mark.parametrize("tracker", ["botsort", "none"])
def test_other_tracker_settings(topics, detector, tracker) -> None:
    bus = load_image("bus.jpg")
    publish_frames(topics, [(21, "a", seq, jpeg(shifted(bus, 3 * seq)), bus.shape[1], bus.shape[0])
                            for seq in range(2)])
    settings = topics.model_copy(update={"detector_tracker": tracker})
    assert DetectorService(settings, detector=detector, idle_exit_s=1.0).run().frames == 2
    got = sorted(detections_of(read_all(topics, topics.detections_topic, expected=2)), key=lambda m: m.seq)
    track_ids = [sorted(d.track_id for d in m.detections if d.track_id is not None) for m in got]
    assert track_ids == ([[1, 2, 3, 4, 5]] * 2 if tracker == "botsort" else [[], []])
    assert got[1].capture_time > T0
