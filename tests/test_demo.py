"""The demo's own pieces that need no pipeline: its scenes and its progress lines."""

from __future__ import annotations

import subprocess

from core.demo import DEMO_SCENES, Progress, scene_picture, stream_line


def _size(path) -> tuple[int, int]:
    from stream_reader.testsrc import ffmpeg_binary

    probe = subprocess.run([ffmpeg_binary(), "-hide_banner", "-i", str(path)], capture_output=True, text=True)
    dims = next(tok for tok in probe.stderr.replace(",", " ").split() if "x" in tok and tok.split("x")[0].isdigit())
    width, height = dims.split("x")
    return int(width), int(height)


def test_at_least_three_streams_of_different_pictures(tmp_path) -> None:
    assert len(DEMO_SCENES) >= 3 and len({s.name for s in DEMO_SCENES}) == len(DEMO_SCENES)
    pictures = [scene_picture(scene, tmp_path) for scene in DEMO_SCENES]
    assert len({(s.scene, s.crop) for s in DEMO_SCENES}) == len(DEMO_SCENES)
    for scene, picture in zip(DEMO_SCENES, pictures, strict=True):
        if scene.crop is not None:  # a real crop of the scene's picture, made once and reused
            assert picture.is_file() and scene_picture(scene, tmp_path) == picture
    right_half = next(p for s, p in zip(DEMO_SCENES, pictures, strict=True) if s.crop == "iw/2:ih:iw/2:0")
    assert _size(right_half) == (404, 1080)  # half of bus.jpg's 810 x 1080 (the crop snaps to the JPEG's chroma grid)


def test_progress_line_names_the_stream_and_its_classes() -> None:
    line = stream_line("Bus stop", Progress(80, 59, 1, 230, [("person", 3.9), ("bus", 1.0)]))
    assert line.startswith("Bus stop") and "read    80" in line and "windows   1" in line
    assert line.endswith("per frame: person 3.9, bus 1.0")
    assert stream_line("x", Progress()).endswith("per frame: -")
