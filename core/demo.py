"""``streamscope demo``: the whole pipeline on one machine, one process per concern.

Starts the embedded servers, three synthetic live streams of different scenes (or watches ``--url``), registers
them, runs reader, detector and aggregator as separate processes, builds the dbt marts as soon as the first window
is written and then every minute, and serves API and UI. Every child is a ``streamscope`` subcommand started here
and stopped here, by PID, on Ctrl-C. A state file (``demo.json`` in the data directory) names the streams and the
PIDs of their sources, for the browser test and the screenshot script.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated

import typer
from sqlalchemy import func, select

from core import embedded, registry
from core.processes import terminate
from core.settings import Settings, get_settings


@dataclass(frozen=True)
class DemoScene:
    """One synthetic stream of the demo: a testsrc scene, optionally cropped (fewer or more people in view).

    When ``streamscope testsrc`` has named scenes for these, set ``scene`` and drop ``crop``: one line each."""

    name: str
    scene: str
    crop: str | None = None  # an ffmpeg crop filter applied to the scene's picture, e.g. "iw/2:ih:iw/2:0"


# Different people counts (yolo11n at 640x360: about 4, 2 and 1 people), so the person rankings really rank.
DEMO_SCENES = (
    DemoScene("Bus stop, crowded (synthetic)", "bus", crop="iw:ih*0.6:0:ih*0.2"),
    DemoScene("Two on a touchline (synthetic)", "zidane"),
    DemoScene("Bus stop, one passer-by (synthetic)", "bus", crop="iw/2:ih:iw/2:0"),
)
DEMO_WIDTH, DEMO_HEIGHT, DEMO_FPS = 640, 360, 10  # small and slow encoders: three of them share two cores


@dataclass
class Child:
    name: str
    args: list[str]
    log_path: Path
    process: subprocess.Popen | None = None

    def start(self, env: dict[str, str]) -> None:
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        log = self.log_path.open("ab")
        self.process = subprocess.Popen(
            [_streamscope(), *self.args], env=env, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            start_new_session=True,  # Ctrl-C reaches the demo only; the demo stops its children in order
        )
        log.close()

    @property
    def returncode(self) -> int | None:
        return self.process.returncode if self.process is not None else None

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def stop(self, timeout_s: float = 15.0) -> None:
        if self.process is not None:
            terminate(self.process, timeout_s)


@dataclass
class Progress:
    frames_published: int = 0
    frames_aggregated: int = 0
    windows: int = 0
    detections: int = 0
    top: list[tuple[str, float]] = field(default_factory=list)



def stream_line(name: str, progress: Progress) -> str:
    """One progress line per stream: what the reader sent, what the aggregator counted, the classes seen."""
    top = ", ".join(f"{cls} {mean:.1f}" for cls, mean in progress.top) or "-"
    return (f"{name[:36]:36} read {progress.frames_published:>5} | aggregated {progress.frames_aggregated:>5} | "
            f"windows {progress.windows:>3} | per frame: {top}")


def _streamscope() -> str:
    return str(Path(sys.executable).with_name("streamscope"))


def read_progress(settings: Settings, stream_id: int) -> Progress:
    from core.db.engine import session_scope
    from core.db.models import FrameWindow, ObjectStat, ReaderSession

    with session_scope(settings) as session:
        published = session.scalar(
            select(func.coalesce(func.sum(ReaderSession.frames_published), 0)).where(
                ReaderSession.stream_id == stream_id
            )
        )
        frames, windows = session.execute(
            select(func.coalesce(func.sum(FrameWindow.frames), 0), func.count()).where(
                FrameWindow.stream_id == stream_id
            )
        ).one()
        per_class = session.execute(
            select(ObjectStat.object_class, func.sum(ObjectStat.detections))
            .where(ObjectStat.stream_id == stream_id)
            .group_by(ObjectStat.object_class)
            .order_by(func.sum(ObjectStat.detections).desc())
        ).all()
    detections = sum(int(count) for _, count in per_class)
    top = [(name, int(count) / frames) for name, count in per_class[:3]] if frames else []
    return Progress(int(published or 0), int(frames), int(windows), detections, top)


def ensure_stream(settings: Settings, url: str, name: str | None, *, allow_local: bool = False) -> int:
    """Register ``url`` once; on later runs reuse it (and resume it if it had ended or failed).

    ``allow_local``: the demo's own synthetic stream is on 127.0.0.1, which the source policy refuses unless
    allowed explicitly (or STREAMSCOPE_ALLOW_LOCAL_SOURCES is set).
    """
    from core.db.engine import session_scope
    from core.db.models import Stream
    from core.source_policy import SourcePolicy
    from core.stream_urls import parse_stream_url

    canonical = parse_stream_url(url).canonical_id
    with session_scope(settings) as session:
        existing = session.scalar(select(Stream).where(Stream.canonical_id == canonical))
        if existing is not None:
            registry.resume(session, existing.id)
            return existing.id
        stream = registry.register(
            session, url, name=name, default_fps=settings.default_fps, timeout_s=settings.resolve_timeout_s,
            policy=SourcePolicy(allow_local=allow_local or settings.allow_local_sources),
        )
        return stream.id


def _wait_for_url(url: str, timeout_s: float) -> None:
    import urllib.request

    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except OSError:
            time.sleep(0.5)
    raise RuntimeError(f"{url} did not answer within {timeout_s:.0f} s")


def run_demo(settings: Settings, url: str | None, port: int, source_port: int, dbt_every_s: float,
             duration_s: float | None, window_seconds: int, min_frames: int, report_every_s: float = 15.0) -> None:
    was_running = {s.name for s in embedded.status(settings) if s.running}
    typer.echo(f"streamscope demo — data in {settings.data_dir}")
    typer.echo("starting embedded Postgres and Pulsar ...")
    embedded.up(settings)
    env = {**os.environ, "STREAMSCOPE_DATA_DIR": str(settings.data_dir),
           "STREAMSCOPE_EMBEDDED_PULSAR_PORT": str(settings.embedded_pulsar_port),
           "STREAMSCOPE_WINDOW_SECONDS": str(window_seconds),
           "STREAMSCOPE_API_MIN_FRAMES": str(min_frames),
           # Consecutive failed sessions (backoff 1-10 s each) give a stream up after about 100 s by default; the
           # demo's own sources come back after longer outages, and the demo should follow them.
           "STREAMSCOPE_MAX_FAILED_SESSIONS": os.environ.get("STREAMSCOPE_MAX_FAILED_SESSIONS", "1000")}
    logs = settings.data_dir / "logs"
    state_path = settings.data_dir / "demo.json"
    children: list[Child] = []
    stopping = False

    def stop(*_: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    streams: list[dict] = []
    dbt: subprocess.Popen | None = None
    try:
        if url is None:
            for index, scene in enumerate(DEMO_SCENES):
                args = ["testsrc", "--scene", scene.scene, "--port", str(source_port + index), "--width",
                        str(DEMO_WIDTH), "--height", str(DEMO_HEIGHT), "--fps", str(DEMO_FPS)]
                source = Child(f"source {index + 1}", args + (["--crop", scene.crop] if scene.crop else []),
                               logs / f"testsrc-{index + 1}.log")
                source.start(env)
                children.append(source)
                streams.append({"name": scene.name, "url": f"http://127.0.0.1:{source_port + index}/live.m3u8",
                                "source": source})
            for entry in streams:
                _wait_for_url(entry["url"], 30)
            env["STREAMSCOPE_ALLOW_LOCAL_SOURCES"] = "true"  # the reader re-checks the policy when it connects
        else:
            streams.append({"name": None, "url": url, "source": None})
        for entry in streams:
            entry["id"] = ensure_stream(settings, entry["url"], name=entry["name"],
                                        allow_local=entry["source"] is not None)
            entry["name"] = entry["name"] or entry["url"]
            typer.echo(f"stream {entry['id']} registered: {entry['name']} ({entry['url']})")
        for name, args in [
            ("reader", ["reader"]),
            ("detector", ["detector"]),
            ("aggregator", ["aggregator"]),
            ("api", ["api", "--host", "127.0.0.1", "--port", str(port)]),
            # Alert rules evaluated every STREAMSCOPE_ALERTS_EVAL_INTERVAL_S (20 s) and their webhooks delivered.
            ("alerts", ["alerts", "evaluate"]),
        ]:
            child = Child(name, args, logs / f"{name}.log")
            child.start(env)
            children.append(child)
        typer.echo(f"reader, detector, aggregator and API started (logs in {logs}); "
                   f"statistics windows of {window_seconds} s")

        def write_state() -> None:
            state_path.write_text(json.dumps({"port": port, "window_seconds": window_seconds, "streams": [
                {"id": e["id"], "name": e["name"], "url": e["url"],
                 "source_pid": e["source"].process.pid if e["source"] and e["source"].process else None}
                for e in streams]}))

        write_state()
        typer.secho(f"open http://127.0.0.1:{port}  — Ctrl-C stops everything", bold=True)
        typer.echo("the first statistics arrive once a window closes (about a minute); rankings right after")

        started = time.monotonic()
        next_dbt: float | None = None  # the first build waits for the first window written
        next_report = started + report_every_s
        next_check = started
        last_windows: list[int] = []
        dbt_started = started
        while not stopping and (duration_s is None or time.monotonic() - started < duration_s):
            time.sleep(0.5)
            for child in children:
                if not child.alive() and not stopping:
                    typer.secho(f"{child.name} exited ({child.returncode}); restarting, see {child.log_path}",
                                fg=typer.colors.YELLOW)
                    child.start(env)
                    write_state()
            now = time.monotonic()
            if dbt is not None and dbt.poll() is not None:
                if dbt.returncode == 0:
                    typer.echo(f"dbt build: ok ({now - dbt_started:.0f} s); rankings updated")
                else:  # kept apart, so the next build does not overwrite why this one failed
                    failed_log = (logs / "dbt.log").replace(logs / "dbt-failed.log")
                    typer.secho(f"dbt build: failed ({dbt.returncode}), see {failed_log}; the last rankings stay",
                                fg=typer.colors.YELLOW)
                dbt = None
            if next_dbt is None and now >= next_check:
                next_check = now + 2
                if _any_window(settings):
                    next_dbt = now
            if dbt is None and next_dbt is not None and now >= next_dbt:
                next_dbt = now + dbt_every_s
                typer.echo("dbt build: started")
                dbt_started = now
                with (logs / "dbt.log").open("wb") as log:
                    dbt = subprocess.Popen([_streamscope(), "dbt", "build"], env=env, stdout=log,
                                           stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True)
            if now >= next_report:
                next_report = now + report_every_s
                progress = [read_progress(settings, entry["id"]) for entry in streams]
                windows = [p.windows for p in progress]
                if windows != last_windows:  # a window was written: one line per stream
                    last_windows = windows
                    for entry, p in zip(streams, progress, strict=True):
                        typer.echo(stream_line(entry["name"], p))
                else:  # nothing new aggregated: one line in all
                    typer.echo("frames read: " + ", ".join(str(p.frames_published) for p in progress)
                               + f" (the next window closes within {window_seconds} s)")
    finally:
        typer.echo("stopping ...")
        if dbt is not None:
            terminate(dbt, 15.0)
        for child in reversed(children):
            child.stop()
        state_path.unlink(missing_ok=True)
        if not was_running:
            embedded.down(settings)
        typer.echo("stopped; data kept in " + str(settings.data_dir))


def _any_window(settings: Settings) -> bool:
    from core.db.engine import session_scope
    from core.db.models import FrameWindow

    with session_scope(settings) as session:
        return session.scalar(select(FrameWindow.stream_id).limit(1)) is not None


def register(app: typer.Typer) -> None:
    @app.command()
    def demo(
        url: Annotated[str | None, typer.Option(help="A stream to watch instead of the synthetic ones.")] = None,
        port: Annotated[int, typer.Option(help="Port of the API and UI on 127.0.0.1.")] = 8000,
        source_port: Annotated[int, typer.Option(help="Port of the first synthetic HLS stream (then +1, +2).")] = 8089,
        dbt_every: Annotated[float, typer.Option(help="Seconds between dbt builds (the first: once a window "
                                                 "is written).")] = 60.0,
        duration: Annotated[float | None, typer.Option(help="Stop after this many seconds.")] = None,
        window_seconds: Annotated[int, typer.Option(help="Length of a statistics window.", min=1)] = 60,
        min_frames: Annotated[int, typer.Option(help="Frames a stream needs before it is ranked (the demo's "
                                                "first windows are small).", min=0)] = 10,
        report_every: Annotated[float, typer.Option(help="Seconds between progress lines.", min=1)] = 15.0,
    ) -> None:
        """Run the whole pipeline on three synthetic live streams (or --url) and serve the UI on
        http://127.0.0.1:PORT."""
        run_demo(get_settings(), url, port, source_port, dbt_every, duration, window_seconds, min_frames,
                 report_every)
