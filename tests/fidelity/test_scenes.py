"""The scene generator's ground truth (pure logic) and its live HLS stream (real ffmpeg, real HTTP)."""

from __future__ import annotations

import json
import time
import urllib.request

import pytest

from stream_reader import scenes
from stream_reader.scenes import Actor, Scene, objects_at, summary, truth_counts


def _scene(*actors: Actor, period: float = 100.0) -> Scene:
    return Scene("t", period, tuple(actors), width=1000, height=500)


def test_an_actor_enters_crosses_and_leaves_at_its_speed():
    scene = _scene(Actor(1, "man_jacket", 10, 50, +1, 0.8, 200))
    assert objects_at(scene, 9.9) == []
    (first,) = objects_at(scene, 10.0)
    width = first.box[2] - first.box[0]
    assert first.box[2] == pytest.approx(0.0) and first.box[3] == pytest.approx(400.0)
    (later,) = objects_at(scene, 14.0)
    assert later.box[0] - first.box[0] == pytest.approx(200.0)  # 4 s at 50 px/s
    assert later.counted and later.visible == pytest.approx(1.0, abs=0.1)
    assert objects_at(scene, 10.0 + (1000 + width) / 50 + 0.1) == []  # gone past the far edge


def test_each_pass_is_a_new_identity_and_the_scene_repeats():
    scene = _scene(Actor(3, "man_jacket", 0, 100, -1, 0.8, 200), period=30)
    ids = {o.identity for t in range(0, 90, 2) for o in objects_at(scene, t)}
    assert ids == {3, 1003, 2003}
    assert summary(scene, [float(t) for t in range(90)])["person"]["unique"] == 3


def test_a_nearer_actor_hides_the_one_behind_it():
    # Same path and speed, one lower in the frame (nearer): the far one is covered, then not counted.
    far = Actor(1, "man_jacket", 0, 40, +1, 0.70, 200)
    near = Actor(2, "man_dark_coat", 0, 40, +1, 0.75, 260)
    objs = {o.actor_id: o for o in objects_at(_scene(far, near), 12.0)}
    assert objs[2].visible == pytest.approx(1.0, abs=0.05)
    assert objs[1].visible < scenes.VISIBLE_SHARE and not objs[1].counted
    assert truth_counts(_scene(far, near), 12.0) == {"person": 1}


def test_half_out_of_frame_is_not_counted():
    scene = _scene(Actor(1, "man_jacket", 0, 10, +1, 0.8, 200))
    (obj,) = objects_at(scene, 2.0)  # 20 px of a ~54 px wide box inside the frame
    assert 0 < obj.visible < scenes.VISIBLE_SHARE and not obj.counted


def test_named_scenes_and_unknown_names():
    assert {"walkway", "crossing", "traffic", "empty"} <= set(scenes.SCENES)
    with pytest.raises(ValueError, match="unknown scene 'nope'"):
        scenes.get_scene("nope")


def test_testsrc_streams_a_generated_scene_with_its_truth(tmp_path):
    """A live HLS stream of the walkway, and one truth line per frame drawn, numbered from 0."""
    import cv2

    from stream_reader.testsrc import LiveHLSSource

    with LiveHLSSource("walkway", width=640, height=360, fps=5, directory=tmp_path) as source:
        playlist = urllib.request.urlopen(source.url, timeout=5).read().decode()
        segment = next(line for line in playlist.splitlines() if line.endswith(".ts"))
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and len((tmp_path / "truth.jsonl").read_text().splitlines()) < 15:
            time.sleep(0.2)
    lines = [json.loads(line) for line in (tmp_path / "truth.jsonl").read_text().splitlines()]
    assert [r["frame"] for r in lines] == list(range(len(lines))) and len(lines) >= 15
    assert lines[0]["scene"] == "walkway" and lines[10]["t"] == pytest.approx(2.0)
    capture = cv2.VideoCapture(str(tmp_path / segment))
    ok, image = capture.read()
    assert ok and image.shape == (360, 640, 3)
    # Truth at 640x360: boxes inside the smaller frame.
    for record in lines:
        for obj in record["objects"]:
            assert 0 <= obj["box"][0] <= obj["box"][2] <= 640 and 0 <= obj["box"][3] <= 360


def test_a_track_gets_its_id_from_its_third_frame_and_flickers_get_none():
    import numpy as np

    from detector.tracking import confirmed

    hits: dict[int, list[int]] = {}
    seen = [confirmed(np.array(ids), hits, seq, 3).tolist()
            for seq, ids in enumerate([[7, 8, -1], [7, -1], [7, 9], [7, 8], [9]])]
    assert seen == [[-1, -1, -1], [-1, -1], [7, -1], [7, -1], [-1]]  # 8 and 9: two frames each, never counted
    assert confirmed(np.array([7, 8]), hits, 5, 1).tolist() == [7, 8]
