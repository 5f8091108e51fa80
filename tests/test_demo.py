"""The demo's own pieces that need no pipeline: its scenes and its progress lines."""

from __future__ import annotations

import pytest

from core.demo import DEMO_FPS, DEMO_HEIGHT, DEMO_SCENES, DEMO_WIDTH, Progress, stream_line


def test_at_least_three_streams_of_different_pictures() -> None:
    from stream_reader.testsrc import LiveHLSSource

    assert len(DEMO_SCENES) >= 3 and len({s.name for s in DEMO_SCENES}) == len(DEMO_SCENES)
    assert len({(s.scene, s.crop) for s in DEMO_SCENES}) == len(DEMO_SCENES)
    for scene in (s for s in DEMO_SCENES if s.crop is not None):  # ffmpeg accepts each crop and streams it
        with LiveHLSSource(scene.scene, port=0, width=DEMO_WIDTH, height=DEMO_HEIGHT, fps=DEMO_FPS,
                           crop=scene.crop) as source:
            assert list(source.directory.glob("*.ts"))


@pytest.mark.parametrize("crop", ["iw/2:ih,drawtext=text=x", "iw;ih", "iw/2:ih:0:0:1:2", ""])
def test_a_crop_that_is_not_one_is_refused(crop: str) -> None:
    from stream_reader.testsrc import LiveHLSSource

    with pytest.raises(ValueError, match="crop"):
        LiveHLSSource("bus", port=0, crop=crop)


def test_progress_line_names_the_stream_and_its_classes() -> None:
    line = stream_line("Bus stop", Progress(80, 59, 1, 230, [("person", 3.9), ("bus", 1.0)]))
    assert line.startswith("Bus stop") and "read    80" in line and "windows   1" in line
    assert line.endswith("per frame: person 3.9, bus 1.0")
    assert stream_line("x", Progress()).endswith("per frame: -")
