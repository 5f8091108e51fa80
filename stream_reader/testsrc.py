"""A real live HLS stream on 127.0.0.1, made with ffmpeg from images of known content.

Used by the tests and the demo: ultralytics' ``bus.jpg`` (a bus and 4 people) or ``zidane.jpg`` (2 people),
slowly panned so consecutive frames differ, encoded with libx264 into 1-second HLS segments (a sliding
playlist without ENDLIST, like a real broadcast) and served by a threaded HTTP server.

The ``colors`` scene is for checking what readers deliver: four solid quadrants of known colours
(:data:`COLOR_QUADRANTS`) and, along the bottom edge, a strip of black/white blocks that spells the frame's
number in binary (:func:`read_frame_number`). The number keeps growing across producer restarts (it counts
frames since the source object was made), so a frame delivered twice, or out of order, shows.

The generated scenes (:data:`stream_reader.scenes.SCENES`: ``walkway``, ``crossing``, ``traffic``, ``empty``)
are drawn frame by frame in Python (:mod:`stream_reader.compose`) and piped to ffmpeg as raw video; each
frame's ground truth (objects, classes, boxes, identities) goes to ``truth.jsonl`` beside the playlist (or the
``truth_path`` given), one JSON line per frame with its wall-clock time.
"""

from __future__ import annotations

import functools
import http.server
import importlib.util
import logging
import os
import re
import shutil
import signal
import subprocess
import tempfile
import threading
import time
from pathlib import Path

from stream_reader import scenes as generated

log = logging.getLogger(__name__)

SCENES = {"bus": "bus.jpg", "zidane": "zidane.jpg", "colors": "colors.ppm"}
CROP = re.compile(r"[\w*/+.\-]+(:[\w*/+.\-]+){1,3}")  # ffmpeg crop w:h[:x:y], nothing that ends the filter
# People visible in each scene (what the detector should find on average).
KNOWN_PEOPLE = {"bus": 4, "zidane": 2, "colors": 0}

# The colors scene: quadrant name -> BGR colour (as the reader and OpenCV's JPEG decoder deliver it).
COLOR_QUADRANTS = {
    "top_left": (0, 0, 255),  # red
    "top_right": (0, 255, 0),  # green
    "bottom_left": (255, 0, 0),  # blue
    "bottom_right": (0, 255, 255),  # yellow
}
COUNTER_BITS = 20  # frame numbers up to about 9.7 hours at 30 frames/s
PAN = 32  # the scenes are drawn this much larger than the frame, then panned by up to this many pixels


def scene_names() -> list[str]:
    """Every scene ``testsrc --scene`` accepts: still images panned, and the generated scenes."""
    return [*SCENES, *generated.SCENES]


def scene_image(scene: str, width: int = 1280, height: int = 720) -> Path:
    """Path of a scene's image: shipped inside the ultralytics wheel, or drawn (``colors``)."""
    if scene not in SCENES:
        raise ValueError(f"unknown scene {scene!r}; choose one of {', '.join(scene_names())}")
    if scene == "colors":
        return _colors_image(width + PAN, height + PAN)
    # Found without importing ultralytics (and torch with it): seconds saved in every process that streams.
    spec = importlib.util.find_spec("ultralytics")
    if spec is None or spec.origin is None:
        raise RuntimeError("the street scenes are ultralytics' test images: install ultralytics")
    return Path(spec.origin).parent / "assets" / SCENES[scene]


def _colors_image(width: int, height: int) -> Path:
    """A PPM of the four colour quadrants (written once per size into the temp folder)."""
    path = Path(tempfile.gettempdir()) / f"streamscope-colors-{width}x{height}.ppm"
    if not path.exists():
        rgb = {name: bytes((r, g, b)) for name, (b, g, r) in COLOR_QUADRANTS.items()}
        left, right = width // 2, width - width // 2
        top_row = rgb["top_left"] * left + rgb["top_right"] * right
        bottom_row = rgb["bottom_left"] * left + rgb["bottom_right"] * right
        top = height // 2
        data = f"P6 {width} {height} 255\n".encode() + top_row * top + bottom_row * (height - top)
        partial = path.with_suffix(f".{os.getpid()}.tmp")
        partial.write_bytes(data)
        partial.replace(path)
    return path


def counter_strip_height(height: int) -> int:
    return max(8, height // 16)


def color_regions(width: int, height: int) -> dict[str, tuple[int, int, int, int]]:
    """(x0, y0, x1, y1) of each quadrant's middle half in a ``width`` x ``height`` frame of the colors scene:
    far enough from the panned borders and from the counter strip to be a single colour."""
    half_w, half_h = width // 2, height // 2
    regions = {}
    for name in COLOR_QUADRANTS:
        x = 0 if name.endswith("left") else half_w
        y = 0 if name.startswith("top") else half_h
        regions[name] = (x + half_w // 4, y + half_h // 4, x + 3 * half_w // 4, y + 3 * half_h // 4)
    return regions


def read_frame_number(image) -> int:
    """The frame number spelled by the colors scene's bottom strip (``image``: a BGR numpy array)."""
    height, width = image.shape[:2]
    y = height - max(1, counter_strip_height(height) // 2)
    number = 0
    for bit in range(COUNTER_BITS):
        x = int((bit + 0.5) * width / COUNTER_BITS)
        number = number * 2 + (1 if float(image[y, x].mean()) > 128 else 0)
    return number


def ffmpeg_binary() -> str:
    import imageio_ffmpeg

    return imageio_ffmpeg.get_ffmpeg_exe()


class _RecordingServer(http.server.ThreadingHTTPServer):
    """Serves the stream's files and records the User-Agent of each request, per file type."""

    allow_reuse_address = True
    user_agents: set[tuple[str, str]]


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    server: _RecordingServer

    def log_message(self, format: str, *args) -> None:
        pass

    def do_GET(self) -> None:
        self.server.user_agents.add((self.path.rsplit(".", 1)[-1], self.headers.get("User-Agent", "")))
        super().do_GET()

    def end_headers(self) -> None:
        self.send_header("Cache-Control", "no-cache")
        super().end_headers()


class LiveHLSSource:
    """ffmpeg writing a live HLS playlist into a folder, plus an HTTP server for it on 127.0.0.1.

    ``stop_producer``/``start_producer`` drop and restore the encoder (the playlist goes stale, then moves
    again); ``stop_server``/``start_server`` make the URL unreachable; ``end`` finishes the broadcast with
    an ENDLIST tag, as a stream that ended does.
    """

    def __init__(
        self,
        scene: str = "bus",
        *,
        port: int = 0,
        width: int = 1280,
        height: int = 720,
        fps: int = 30,
        segment_seconds: float = 1.0,
        directory: Path | None = None,
        truth_path: Path | None = None,
        crop: str | None = None,
    ):
        if scene not in SCENES and scene not in generated.SCENES:
            raise ValueError(f"unknown scene {scene!r}; choose one of {', '.join(scene_names())}")
        self.scene = scene
        if crop is not None and not CROP.fullmatch(crop):
            raise ValueError(f"crop {crop!r} is not an ffmpeg crop expression such as iw/2:ih:iw/2:0")
        self.crop = crop  # a part of a still scene's picture (ffmpeg crop w:h:x:y), e.g. the demo's variants
        self.width, self.height, self.fps = width, height, fps
        self.segment_seconds = segment_seconds
        self._own_dir = directory is None
        self.directory = Path(directory or tempfile.mkdtemp(prefix="streamscope-hls-"))
        self.directory.mkdir(parents=True, exist_ok=True)
        self._requested_port = port
        self.port = port
        self._server: http.server.ThreadingHTTPServer | None = None
        self._producer: subprocess.Popen | None = None
        self._origin = time.monotonic()  # the colors scene numbers frames from here
        self.user_agents: set[tuple[str, str]] = set()  # (file extension, User-Agent) of the requests served
        self.truth_path = Path(truth_path) if truth_path else self.directory / "truth.jsonl"
        self._feeder: threading.Thread | None = None
        self._feeding = threading.Event()
        self._frames_drawn = 0  # the generated scene's clock keeps running across producer restarts

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/live.m3u8"

    # ------------------------------------------------------------------------------------------ producer
    def _ffmpeg_command(self, endlist: bool) -> list[str]:
        w, h = self.width, self.height
        # Fit the image into the frame, then pan slowly (±16 px) so that consecutive frames differ.
        video_filter = (
            (f"crop={self.crop}," if self.crop else "")
            + f"scale={w + 32}:{h + 32}:force_original_aspect_ratio=decrease,"
            f"pad={w + 32}:{h + 32}:(ow-iw)/2:(oh-ih)/2,"
            f"crop={w}:{h}:x='16+16*sin(t)':y='16+16*cos(t)',format=yuv420p"
        )
        if self.scene in generated.SCENES:
            inputs = ["-f", "rawvideo", "-pix_fmt", "bgr24", "-s", f"{w}x{h}", "-framerate", str(self.fps), "-i", "-"]
            filters = ["-vf", "format=yuv420p"]
        else:
            inputs = ["-re", "-loop", "1", "-framerate", str(self.fps), "-i", str(scene_image(self.scene, w, h))]
            filters = ["-vf", video_filter]
        if self.scene == "colors":
            # Frame number n + offset in binary, one pixel per bit, scaled up into a strip along the bottom.
            offset = round((time.monotonic() - self._origin) * self.fps)
            strip = counter_strip_height(h)
            bits = COUNTER_BITS
            inputs += ["-f", "lavfi", "-i", f"color=c=black:s={bits}x2:r={self.fps}"]
            filters = ["-filter_complex",
                       f"[0:v]{video_filter}[bg];"
                       f"[1:v]format=yuv420p,geq=lum='255*mod(floor((N+{offset})/pow(2,{bits - 1}-X)),2)'"
                       f":cb=128:cr=128,scale={w}:{strip}:flags=neighbor[strip];"
                       f"[bg][strip]overlay=0:{h - strip}:shortest=1,format=yuv420p[out]",
                       "-map", "[out]"]  # fmt: skip
        flags = "delete_segments+append_list+independent_segments" + ("" if endlist else "+omit_endlist")
        gop = max(1, round(self.fps * self.segment_seconds))
        return [
            ffmpeg_binary(), "-hide_banner", "-loglevel", "error", "-nostdin",
            *inputs, *filters, "-r", str(self.fps),
            "-c:v", "libx264", "-preset", "ultrafast", "-tune", "zerolatency", "-g", str(gop),
            "-keyint_min", str(gop), "-sc_threshold", "0", "-b:v", "2M",
            "-f", "hls", "-hls_time", str(self.segment_seconds), "-hls_list_size", "5",
            "-hls_flags", flags, "-hls_segment_filename", str(self.directory / "seg%05d.ts"),
            str(self.directory / "live.m3u8"),
        ]  # fmt: skip

    def start_producer(self, wait_s: float = 15.0) -> None:
        """Start encoding; return once the playlist lists at least two segments."""
        if self._producer and self._producer.poll() is None:
            return
        piped = self.scene in generated.SCENES
        self._producer = subprocess.Popen(
            self._ffmpeg_command(endlist=False), stdin=subprocess.PIPE if piped else subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        if piped:
            self._feeding.set()
            self._feeder = threading.Thread(target=self._feed, args=(self._producer,), name="scene-feed", daemon=True)
            self._feeder.start()
        playlist = self.directory / "live.m3u8"
        deadline = time.monotonic() + wait_s
        while time.monotonic() < deadline:
            if self._producer.poll() is not None:
                error = self._producer.stderr.read() if self._producer.stderr else b""
                raise RuntimeError(f"ffmpeg exited: {error.decode(errors='replace')[-500:]}")
            if playlist.exists() and playlist.read_text().count("#EXTINF") >= 2:
                return
            time.sleep(0.1)
        raise RuntimeError(f"ffmpeg wrote no playable playlist within {wait_s:.0f} s")

    def _feed(self, producer: subprocess.Popen) -> None:
        """Draw the generated scene in real time into ffmpeg's stdin, writing each frame's truth line."""
        import json

        from stream_reader.compose import render

        scene = generated.get_scene(self.scene)
        if (self.width, self.height) != (scene.width, scene.height):
            from dataclasses import replace

            scene = replace(scene, width=self.width, height=self.height)
        started = time.monotonic() - self._frames_drawn / self.fps
        stdin = producer.stdin
        assert stdin is not None  # started with stdin=PIPE
        with self.truth_path.open("a") as truth:
            while self._feeding.is_set() and producer.poll() is None:
                frame = self._frames_drawn
                delay = started + frame / self.fps - time.monotonic()
                if delay > 0:
                    time.sleep(delay)
                record = generated.truth_record(scene, frame, self.fps)
                record["scene"], record["wall"] = scene.name, round(time.time(), 3)
                try:
                    stdin.write(render(scene, frame / self.fps).tobytes())
                    stdin.flush()
                except (BrokenPipeError, ValueError, OSError):
                    return
                truth.write(json.dumps(record) + "\n")
                truth.flush()
                self._frames_drawn += 1

    def _stop_feeder(self) -> None:
        self._feeding.clear()
        if self._feeder is not None:
            self._feeder.join(5)
            self._feeder = None

    def stop_producer(self) -> None:
        """Kill the encoder abruptly, as a crashed source does: the playlist stays, without ENDLIST."""
        self._stop_feeder()
        if self._producer and self._producer.poll() is None:
            self._producer.kill()
            self._producer.wait(5)
        self._producer = None

    def end(self) -> None:
        """End the broadcast: ask ffmpeg to finish cleanly, then mark the playlist as ended (ENDLIST)."""
        self._stop_feeder()
        if self._producer and self._producer.stdin:
            self._producer.stdin.close()
        if self._producer and self._producer.poll() is None:
            self._producer.send_signal(signal.SIGINT)
            try:
                self._producer.wait(10)
            except subprocess.TimeoutExpired:
                self._producer.kill()
        self._producer = None
        playlist = self.directory / "live.m3u8"
        if playlist.exists() and "#EXT-X-ENDLIST" not in playlist.read_text():
            with playlist.open("a") as handle:
                handle.write("#EXT-X-ENDLIST\n")

    # -------------------------------------------------------------------------------------------- server
    def start_server(self) -> None:
        if self._server is not None:
            return
        handler = functools.partial(_QuietHandler, directory=str(self.directory))
        self._server = _RecordingServer(("127.0.0.1", self.port or self._requested_port), handler)
        self._server.user_agents = self.user_agents
        self.port = self._server.server_address[1]
        threading.Thread(target=self._server.serve_forever, name="hls-http", daemon=True).start()

    def stop_server(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    # ----------------------------------------------------------------------------------------- lifecycle
    def start(self) -> LiveHLSSource:
        self.start_server()
        self.start_producer()
        return self

    def stop(self) -> None:
        self.stop_producer()
        self.stop_server()
        if self._own_dir:
            shutil.rmtree(self.directory, ignore_errors=True)

    def __enter__(self) -> LiveHLSSource:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()
