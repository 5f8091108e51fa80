"""`streamscope reader` and `streamscope testsrc` as processes, stopped by signals as Airflow or a person does."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

from stream_reader.playlist import fetch_playlist
from stream_reader.testsrc import LiveHLSSource
from tests.conftest import free_port
from tests.reader.conftest import add_stream, sessions_of, stream_row, wait_until

REPO = Path(__file__).resolve().parents[2]


def streamscope(*args: str, env: dict[str, str] | None = None, **kwargs) -> subprocess.Popen:
    """The command line of this checkout (``python -m core.cli``), in a process of its own."""
    full_env = {**os.environ, **(env or {}), "PYTHONPATH": str(REPO)}
    return subprocess.Popen([sys.executable, "-m", "core.cli", *args], cwd=REPO, env=full_env, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, **kwargs)


def test_reader_command_stops_cleanly_on_sigterm_with_every_sent_frame_counted(reader_settings, collector) -> None:
    env = {"STREAMSCOPE_FRAMES_TOPIC": reader_settings.frames_topic, "STREAMSCOPE_READER_METRICS_PORT": "0"}
    with LiveHLSSource("colors", width=320, height=180, fps=15) as source:
        stream_id = add_stream(reader_settings, source.url, fps=2)
        process = streamscope("reader", "--stream", str(stream_id), "--duration", "120", env=env)
        try:
            wait_until(lambda: len(collector.of(stream_id)) >= 3 or process.poll() is not None, 60, "frames")
            assert process.poll() is None, process.communicate()
            stopping = time.monotonic()
            process.send_signal(signal.SIGTERM)
            out, err = process.communicate(timeout=30)
        finally:
            if process.poll() is None:
                process.kill()
    assert process.returncode == 0, err[-3000:]
    assert time.monotonic() - stopping < 10
    time.sleep(1)
    frames = collector.of(stream_id)
    [row] = sessions_of(reader_settings, stream_id)
    assert row.end_reason == "stopped" and row.frames_published == len(frames) >= 3
    assert f"stream {stream_id}: {len(frames)} frames published in 1 session(s)" in out
    assert stream_row(reader_settings, stream_id).status_reason == "reader stopped"


def test_testsrc_command_serves_a_live_playlist_until_interrupted() -> None:
    port = free_port()
    process = streamscope("testsrc", "--scene", "colors", "--port", str(port), "--width", "320", "--height", "180",
                          "--fps", "10", "--duration", "60")
    try:
        url = process.stdout.readline().strip()
        assert url == f"http://127.0.0.1:{port}/live.m3u8", url if url else process.stderr.read()
        playlist = fetch_playlist(url, 5)
        assert not playlist.ended and len(playlist.segments) >= 2
        process.send_signal(signal.SIGINT)
        assert process.wait(20) == 0
    finally:
        if process.poll() is None:
            process.kill()
    with socket.socket() as probe:
        assert probe.connect_ex(("127.0.0.1", port)) != 0, "the HTTP server stopped with the command"
