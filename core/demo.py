"""``streamscope demo``: the whole pipeline on one machine, one process per concern.

Starts the embedded servers, a synthetic live stream (or uses ``--url``), registers it, runs reader, detector
and aggregator as separate processes, rebuilds the dbt marts every minute, and serves API and UI. Every child
is a ``streamscope`` subcommand started here and stopped here, by PID, on Ctrl-C.
"""

from __future__ import annotations

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

    def line(self) -> str:
        top = ", ".join(f"{name} {mean:.1f}" for name, mean in self.top) or "-"
        return (
            f"frames read {self.frames_published:>6} | frames aggregated {self.frames_aggregated:>6} | "
            f"windows written {self.windows:>4} | detections {self.detections:>7} | mean per frame: {top}"
        )


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


def run_demo(settings: Settings, url: str | None, scene: str, port: int, source_port: int,
             dbt_every_s: float, duration_s: float | None) -> None:
    was_running = {s.name for s in embedded.status(settings) if s.running}
    typer.echo(f"streamscope demo — data in {settings.data_dir}")
    typer.echo("starting embedded Postgres and Pulsar ...")
    embedded.up(settings)
    env = {**os.environ, "STREAMSCOPE_DATA_DIR": str(settings.data_dir),
           "STREAMSCOPE_EMBEDDED_PULSAR_PORT": str(settings.embedded_pulsar_port)}
    logs = settings.data_dir / "logs"
    children: list[Child] = []
    stopping = False

    def stop(*_: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    try:
        synthetic = url is None
        if synthetic:
            source = Child("testsrc", ["testsrc", "--scene", scene, "--port", str(source_port)], logs / "testsrc.log")
            source.start(env)
            children.append(source)
            url = f"http://127.0.0.1:{source_port}/live.m3u8"
            env["STREAMSCOPE_ALLOW_LOCAL_SOURCES"] = "true"  # the reader re-checks the policy when it connects
            typer.echo(f"synthetic live stream ({scene}.jpg) at {url}")
            _wait_for_url(url, 30)
        assert url is not None  # the synthetic stream's when none was given
        stream_id = ensure_stream(settings, url, name=f"synthetic {scene} street" if synthetic else None,
                                  allow_local=synthetic)
        typer.echo(f"stream {stream_id} registered: {url}")
        for name, args in [
            ("reader", ["reader"]),
            ("detector", ["detector"]),
            ("aggregator", ["aggregator"]),
            ("api", ["api", "--host", "127.0.0.1", "--port", str(port)]),
        ]:
            child = Child(name, args, logs / f"{name}.log")
            child.start(env)
            children.append(child)
        typer.echo(f"reader, detector, aggregator and API started (logs in {logs})")
        typer.secho(f"open http://127.0.0.1:{port}  — Ctrl-C stops everything", bold=True)

        started = time.monotonic()
        next_dbt = started + dbt_every_s
        next_report = started + 5
        while not stopping and (duration_s is None or time.monotonic() - started < duration_s):
            time.sleep(0.5)
            for child in children:
                if not child.alive() and not stopping:
                    typer.secho(f"{child.name} exited ({child.returncode}); restarting, see {child.log_path}",
                                fg=typer.colors.YELLOW)
                    child.start(env)
            now = time.monotonic()
            if now >= next_dbt:
                next_dbt = now + dbt_every_s
                done = subprocess.run([_streamscope(), "dbt", "build"], env=env, capture_output=True, text=True)
                verdict = "ok" if done.returncode == 0 else f"failed ({done.returncode}), see {logs}/dbt.log"
                (logs / "dbt.log").write_text(done.stdout + done.stderr)
                typer.echo(f"dbt build: {verdict}")
            if now >= next_report:
                next_report = now + 5
                typer.echo(read_progress(settings, stream_id).line())
    finally:
        typer.echo("stopping ...")
        for child in reversed(children):
            child.stop()
        if not was_running:
            embedded.down(settings)
        typer.echo("stopped; data kept in " + str(settings.data_dir))


def register(app: typer.Typer) -> None:
    @app.command()
    def demo(
        url: Annotated[str | None, typer.Option(help="A stream to watch instead of the synthetic one.")] = None,
        scene: Annotated[str, typer.Option(help="Synthetic scene: bus or zidane.")] = "bus",
        port: Annotated[int, typer.Option(help="Port of the API and UI on 127.0.0.1.")] = 8000,
        source_port: Annotated[int, typer.Option(help="Port of the synthetic HLS stream.")] = 8089,
        dbt_every: Annotated[float, typer.Option(help="Seconds between dbt builds.")] = 60.0,
        duration: Annotated[float | None, typer.Option(help="Stop after this many seconds.")] = None,
    ) -> None:
        """Run the whole pipeline on a live stream and serve the UI on http://127.0.0.1:PORT."""
        run_demo(get_settings(), url, scene, port, source_port, dbt_every, duration)
