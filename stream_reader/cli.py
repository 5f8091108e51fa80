"""``streamscope reader`` and ``streamscope testsrc``."""

from __future__ import annotations

import signal
import sys
import threading
from pathlib import Path
from typing import Annotated

import typer


def register(app: typer.Typer) -> None:
    app.command("reader")(reader)
    app.command("testsrc")(testsrc)


def _on_signals(handler) -> None:
    """Call ``handler`` on SIGTERM and SIGINT (main thread only; tests call the runner directly)."""
    if threading.current_thread() is threading.main_thread():
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, lambda *_: handler())


def reader(
    stream: Annotated[list[int] | None, typer.Option("--stream", help="Stream id to read (repeatable); "
                                                     "default: every active stream.")] = None,
    duration: Annotated[float | None, typer.Option(help="Read for this many seconds, then stop; default: run "
                                                   "until stopped, following registry changes.", min=0)] = None,
) -> None:
    """Read streams into the frames topic: yt-dlp + FFmpeg (PyAV), sampled at each stream's fps."""
    from core.cli import fail
    from core.embedded import RuntimeNotRunning
    from core.settings import get_settings
    from stream_reader.runner import ReaderRunner

    runner = ReaderRunner(get_settings(), stream_ids=stream or None, duration_s=duration)
    _on_signals(runner.stop)
    try:
        summaries = runner.run()
    except RuntimeNotRunning as missing:
        raise fail(str(missing)) from None
    except Exception as error:  # the registry or the broker cannot be reached at start
        raise fail(f"the reader could not start: {str(error).splitlines()[0][:500]}") from error
    for stream_id, why in sorted(runner.skipped.items()):
        typer.echo(f"stream {stream_id}: not read ({why})", err=True)
    for item in summaries:
        status = f", {item.final_status}" if item.final_status else ""
        typer.echo(f"stream {item.stream_id}: {item.published} frames published in {item.sessions} "
                   f"session(s){status}")


def testsrc(
    scene: Annotated[str, typer.Option(help="bus, zidane or colors (a still image, panned), or a generated scene "
                                       "with ground truth: walkway, crossing, traffic, empty.")] = "bus",
    port: Annotated[int, typer.Option(help="HTTP port on 127.0.0.1 (0 = any free port).")] = 0,
    duration: Annotated[float | None, typer.Option(help="Stop after this many seconds (default: until "
                                                   "interrupted).", min=0)] = None,
    width: int = 1280,
    height: int = 720,
    fps: Annotated[int | None, typer.Option(help="Frames/s (default 30; 10 for generated scenes).")] = None,
    truth: Annotated[Path | None, typer.Option(help="Generated scenes: write the ground truth (JSON lines) "
                                              "here instead of beside the playlist.")] = None,
    segment_seconds: Annotated[float, typer.Option(help="HLS segment length, also the keyframe interval (YouTube "
                                                   "live uses 2 s).", min=0.1)] = 1.0,
    crop: Annotated[str | None, typer.Option(help="Stream a part of a still scene's picture (ffmpeg crop w:h:x:y, "
                                             "e.g. iw/2:ih:iw/2:0).")] = None,
) -> None:
    """Serve a synthetic live HLS stream on 127.0.0.1 and print its URL (for tests and the demo)."""
    from stream_reader.scenes import SCENES as GENERATED
    from stream_reader.testsrc import LiveHLSSource

    fps = fps or (10 if scene in GENERATED else 30)

    stop = threading.Event()
    _on_signals(stop.set)
    with LiveHLSSource(scene, port=port, width=width, height=height, fps=fps,
                       segment_seconds=segment_seconds, truth_path=truth,
                       crop=crop) as source:
        typer.echo(source.url)
        sys.stdout.flush()
        stop.wait(duration)
