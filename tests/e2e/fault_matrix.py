"""The fault matrix of issue 16: one live stream through the real processes per row, one fault per row.

A row registers a stream on its own live HLS source (ffmpeg) and its own topics, and starts the real
``streamscope detector`` and ``aggregator`` and a ``streamscope reader``, then applies its fault at its moment and
repairs nothing but what the fault itself undoes (a killed worker is started again, a stopped server comes back).
Two audit subscriptions of the bench's own see every message on the frames and the detections topic, and a poller
reads the aggregator's counted sequence ranges from Postgres, so each row says:

- ``published``: distinct (session, sequence) frames on the frames topic;
- ``counted``: the frames in ``frame_windows`` (the denominators every mean uses);
- ``duplicates``: ``counted`` minus the distinct frames in the counted ranges (``aggregator_sessions``): a frame
  counted twice shows here;
- ``missing``: published frames in no counted range; ``late``: rows in ``late_detections`` (beyond the horizon);
- ``people``: the person track ids the aggregator counted as unique objects (``aggregator_tracks``): the scene
  shows the same people all the time, so a restart that gave them new ids shows as more than the undisturbed row;
- ``detect_s`` / ``count_s``: seconds from the fault's end (the restart, the server back) until the first frame
  captured after it has a detection on the topic / is counted in Postgres. A window is written when it closes, so
  ``count_s`` includes up to a window and its lateness; the undisturbed row gives the figure without a fault.

Moments: ``early`` is 3 s after the first frame (reader) or detection (detector, aggregator) flowed; ``mid`` is
halfway through a window, by the newest frame's capture time, once a first window was written; ``closed`` is at
once after a window row appears.
"""

from __future__ import annotations

import contextlib
import itertools
import signal
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import timedelta
from pathlib import Path

from core import embedded
from core.db.engine import dispose_engines, session_scope
from core.messages import MessageError, decode_detections, decode_frame
from core.registry import register
from core.runtime import pulsar_url
from core.settings import Settings
from core.source_policy import SourcePolicy
from stream_reader.testsrc import LiveHLSSource
from tests.e2e.harness import Pipeline, query
from tests.e2e.pulsar_proxy import TopicCutProxy

FPS = 2.0
WINDOW_S = 10
READ_S = 50  # a kill row's reader run: a first window, the fault, the recovery, and windows after it
OVERRIDES = {
    "STREAMSCOPE_WINDOW_SECONDS": str(WINDOW_S),
    "STREAMSCOPE_ALLOWED_LATENESS_SECONDS": "2",
    # A stream silent this long (a fault) has its windows written; frames after the fault re-open them (late data
    # within the horizon), which is the path an outage takes in production too.
    "STREAMSCOPE_WINDOW_IDLE_TIMEOUT_S": "8",
}
WORKERS = ("detector", "aggregator", "reader")
MOMENTS = ("early", "mid", "closed")


@dataclass
class Row:
    fault: str
    published: int = 0
    counted: int = 0
    duplicates: int = 0
    missing: int = 0
    late: int = 0
    detect_s: float | None = None
    count_s: float | None = None
    sessions: int = 0
    people: int = 0  # person track ids counted as unique objects (a detector restart must not add any)
    note: str = ""

    @property
    def exact(self) -> bool:
        return self.published > 0 and self.counted == self.published and not (self.duplicates or self.missing
                                                                               or self.late)

    def as_dict(self) -> dict:
        return {**asdict(self), "exact": self.exact}


@dataclass
class Audit:
    """Every frame and detection message of a row's topics, read by a subscription of the bench's own."""

    settings: Settings
    frames_topic: str
    detections_topic: str
    frames: dict[tuple[str, int], float] = field(default_factory=dict)  # (session, seq) -> capture time (epoch s)
    detected: list[tuple[float, float]] = field(default_factory=list)  # (capture time, arrival time)
    _stop: threading.Event = field(default_factory=threading.Event)

    def __post_init__(self) -> None:
        import pulsar

        # A plain client: the audit is its subscription's only consumer and never dies, so it needs none of the
        # embedded broker's workarounds, and must not restart the broker on anyone's behalf.
        self._client = pulsar.Client(pulsar_url(self.settings), operation_timeout_seconds=30,
                                     logger=pulsar.ConsoleLogger(pulsar.LoggerLevel.Warn))
        options = dict(consumer_type=pulsar.ConsumerType.Exclusive,
                       initial_position=pulsar.InitialPosition.Earliest)
        self._consumers = [self._client.subscribe(self.settings.topic(self.frames_topic), "faults-audit", **options),
                           self._client.subscribe(self.settings.topic(self.detections_topic), "faults-audit",
                                                  **options)]
        self._threads = [threading.Thread(target=self._read, args=(c, handle), daemon=True)
                         for c, handle in zip(self._consumers, (self._frame, self._detection), strict=True)]
        for thread in self._threads:
            thread.start()

    def _read(self, consumer, handle) -> None:
        while not self._stop.is_set():
            try:
                message = consumer.receive(timeout_millis=500)
            except Exception:  # pulsar.Timeout, or the broker restarting
                continue
            with contextlib.suppress(MessageError, ValueError, KeyError):  # a core.broker kick, or not ours
                handle(message)
            consumer.acknowledge(message)

    def _frame(self, message) -> None:
        frame = decode_frame(message.properties(), message.event_timestamp(), message.data())
        self.frames[(frame.meta.session_id, frame.meta.seq)] = frame.meta.capture_time.timestamp()

    def _detection(self, message) -> None:
        detection = decode_detections(message.data())
        self.detected.append((detection.capture_time.timestamp(), time.time()))

    def newest_capture(self) -> float | None:
        return max(self.frames.values(), default=None)

    def close(self) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(5)
        self._client.close()


class CountedPoller:
    """The frames the aggregator has counted (its committed sequence ranges), and when each first appeared."""

    def __init__(self, settings: Settings, stream_id: int):
        self.settings, self.stream_id = settings, stream_id
        self.first_seen: dict[tuple[str, int], float] = {}
        self.windows = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._poll, daemon=True)
        self._thread.start()

    def _poll(self) -> None:
        while not self._stop.wait(0.25):
            try:
                self.refresh()
            except Exception:  # Postgres stopped (a fault): read again when it is back
                dispose_engines()

    def refresh(self) -> set[tuple[str, int]]:
        rows = query(self.settings, "SELECT session_id, seqs FROM aggregator_sessions WHERE stream_id = :s",
                     s=self.stream_id)
        counted = {(r["session_id"], seq) for r in rows for lo, hi in r["seqs"] for seq in range(lo, hi + 1)}
        now = time.time()
        for key in counted:
            self.first_seen.setdefault(key, now)
        self.windows = query(self.settings, "SELECT count(*) AS n FROM frame_windows WHERE stream_id = :s",
                             s=self.stream_id)[0]["n"]
        return counted

    def close(self) -> None:
        self._stop.set()
        self._thread.join(5)


@dataclass
class Run:
    """One row's pipeline, stream, audit and poller, and what its fault recorded."""

    settings: Settings
    pipeline: Pipeline
    source: LiveHLSSource
    stream_id: int
    audit: Audit
    counted: CountedPoller
    read_s: float
    started: float = field(default_factory=time.time)
    fault_end: float | None = None
    notes: list[str] = field(default_factory=list)

    def wait_for(self, predicate: Callable[[], bool], timeout: float, what: str) -> None:
        deadline = time.time() + timeout
        while not predicate():
            if time.time() > deadline:
                raise TimeoutError(f"timed out after {timeout:.0f} s waiting for {what}")
            time.sleep(0.1)

    def wait_moment(self, moment: str, worker: str) -> None:
        if moment == "early":
            flowing = (lambda: self.audit.frames) if worker == "reader" else (lambda: self.audit.detected)
            self.wait_for(flowing, 120, "frames flowing")
            time.sleep(3)
        elif moment == "mid":
            self.wait_for(lambda: self.counted.windows >= 1, 120, "a first window")
            self.wait_for(lambda: (self.audit.newest_capture() or 0) % WINDOW_S >= WINDOW_S / 2, 30,
                          "the middle of a window")
        elif moment == "closed":
            self.wait_for(lambda: self.counted.windows >= 1, 120, "a first window")
            written = self.counted.windows
            self.wait_for(lambda: self.counted.windows > written, 60, "a window closing")
        else:
            raise ValueError(f"unknown moment {moment!r}")

    def start_reader(self, seconds: float) -> None:
        self.pipeline.start("reader", "reader", "--stream", str(self.stream_id), "--duration", str(round(seconds)))

    def restart(self, worker: str) -> None:
        if worker == "reader":
            self.start_reader(max(10.0, self.read_s - (time.time() - self.started)))
        else:
            self.pipeline.start(worker, worker)
        self.fault_end = time.time()


def kill(worker: str, moment: str) -> Callable[[Run], None]:
    def fault(run: Run) -> None:
        run.wait_moment(moment, worker)
        run.pipeline.kill(worker, signal.SIGKILL)
        run.restart(worker)  # at once, and only that worker

    fault.__name__ = f"kill -9 {worker} {moment}"
    return fault


def restart_broker(run: Run) -> None:
    run.wait_moment("mid", "detector")
    embedded.stop_pulsar(run.settings)
    embedded.start_pulsar(run.settings)
    run.fault_end = time.time()


def stop_postgres(run: Run, seconds: float = 30.0) -> None:
    run.wait_moment("mid", "aggregator")
    embedded.stop_postgres(run.settings)
    time.sleep(seconds)  # the fault's length
    embedded.start_postgres(run.settings)
    run.fault_end = time.time()


def cut_detections_topic(run: Run, seconds: float = 60.0) -> None:
    run.wait_moment("mid", "detector")
    proxy: TopicCutProxy = run.pipeline.proxy  # type: ignore[attr-defined]
    proxy.cut(run.pipeline.overrides["STREAMSCOPE_DETECTIONS_TOPIC"])
    time.sleep(seconds)
    run.notes.append(f"{proxy.swallowed} broker frames for the topic swallowed")
    proxy.restore()
    run.fault_end = time.time()


def drop_source(run: Run, seconds: float = 20.0) -> None:
    run.wait_moment("mid", "reader")
    run.source.stop_producer()
    time.sleep(seconds)
    run.source.start_producer()
    run.fault_end = time.time()


@dataclass(frozen=True)
class Fault:
    name: str
    apply: Callable[[Run], None] | None
    read_s: float = READ_S
    through_proxy: bool = False


FAULTS: list[Fault] = [
    Fault("none", None, read_s=30),
    *(Fault(f"kill -9 {w} {m}", kill(w, m)) for w, m in itertools.product(WORKERS, MOMENTS)),
    Fault("broker restart", restart_broker),
    Fault("postgres stopped 30 s", stop_postgres, read_s=70),
    Fault("detections topic unreachable 60 s", cut_detections_topic, read_s=100, through_proxy=True),
    Fault("source dropped 20 s", drop_source, read_s=60),
]
SCHEDULED = "three scheduled reader runs"
NAMES = [fault.name for fault in FAULTS] + [SCHEDULED]


def slug(name: str) -> str:
    return "".join(c if c.isalnum() else "-" for c in name).strip("-").replace("--", "-")


def _add_stream(settings: Settings, url: str, name: str) -> int:
    with session_scope(settings) as session:
        stream = register(session, url, name=name, fps=FPS, check=False, policy=SourcePolicy(allow_local=True))
        return stream.id


def run_row(settings: Settings, name: str, log_dir: Path) -> Row:
    """One row of the matrix: a fresh stream, topics and worker processes, the fault, and the figures."""
    fault = next((f for f in FAULTS if f.name == name), None)
    if fault is None and name != SCHEDULED:
        raise ValueError(f"unknown fault {name!r}; choose from {NAMES}")
    overrides = {**OVERRIDES, "STREAMSCOPE_MODEL_CACHE_DIR": str(settings.models_dir)}  # the export made once
    pipeline = Pipeline(settings, log_dir / slug(name), overrides=overrides)
    proxy = None
    with LiveHLSSource("bus", width=960, height=540, fps=15) as source:
        stream_id = _add_stream(settings, source.url, name)
        audit = Audit(settings, pipeline.overrides["STREAMSCOPE_FRAMES_TOPIC"],
                      pipeline.overrides["STREAMSCOPE_DETECTIONS_TOPIC"])
        counted = CountedPoller(settings, stream_id)
        run = Run(settings, pipeline, source, stream_id, audit, counted, read_s=fault.read_s if fault else 0)
        try:
            detector_env = {}
            if fault is not None and fault.through_proxy:
                proxy = pipeline.proxy = TopicCutProxy(settings.embedded_pulsar_port)  # type: ignore[attr-defined]
                detector_env = {"STREAMSCOPE_PULSAR_URL": proxy.url}
            pipeline.start("detector", "detector", env=detector_env)
            pipeline.start("aggregator", "aggregator")
            run.wait_for(lambda: "detector consuming" in pipeline.log("detector")
                         and "aggregator consuming" in pipeline.log("aggregator"), 300, "the workers subscribed")
            run.started = time.time()
            if fault is None:
                _scheduled_runs(run)
            else:
                run.start_reader(fault.read_s)
                if fault.apply is not None:
                    fault.apply(run)
                else:
                    run.fault_end = run.started + fault.read_s / 2  # the undisturbed row's latency, for scale
                _wait_for_readers(run)
            _settle(run)
        finally:
            pipeline.stop_all()
            audit.close()
            counted.close()
            if proxy is not None:
                proxy.close()
    return _figures(run, name)


def _scheduled_runs(run: Run, interval_s: int = 20, overlap_s: int = 8) -> None:
    """Three runs of the stream_reader DAG's task, started one interval apart and reading interval + overlap."""
    from dags.reader_tasks import run_reader

    env = {**run.pipeline.env, "STREAMSCOPE_READER_HANDOVER_MAX_S": "20"}
    settings = run.settings.model_copy(update={"reader_handover_max_s": 20})
    errors: list[BaseException] = []

    def one() -> None:
        try:
            run_reader(run.stream_id, interval_s + overlap_s, env=env, settings=settings)
        except BaseException as error:  # reported in the row
            errors.append(error)

    threads = []
    for k in range(3):
        while time.time() < run.started + k * interval_s:
            time.sleep(0.1)
        threads.append(threading.Thread(target=one, name=f"scheduled-run-{k}"))
        threads[-1].start()
    for thread in threads:
        thread.join(interval_s + overlap_s + 20 + 90)
    run.notes.extend(f"run failed: {error}" for error in errors)


def _wait_for_readers(run: Run) -> None:
    process = run.pipeline.processes["reader"]
    process.wait(run.read_s + 120)


def _settle(run: Run, quiet_s: float = 25.0, limit_s: float = 180.0) -> None:
    """Wait until every published frame is counted, or nothing new has been counted for ``quiet_s``."""
    deadline = time.time() + limit_s
    last, since = -1, time.time()
    while time.time() < deadline:
        done = set(run.counted.first_seen)
        if run.audit.frames and set(run.audit.frames) <= done:
            return
        if len(done) != last:
            last, since = len(done), time.time()
        elif time.time() - since > quiet_s:
            return
        time.sleep(0.5)


def _figures(run: Run, name: str) -> Row:
    settings, stream_id = run.settings, run.stream_id
    counted_set = run.counted.refresh()
    published = set(run.audit.frames)
    counted = int(query(settings, "SELECT COALESCE(sum(frames), 0) AS n FROM frame_windows WHERE stream_id = :s",
                        s=stream_id)[0]["n"])
    late = int(query(settings, "SELECT count(*) AS n FROM late_detections WHERE stream_id = :s",
                     s=stream_id)[0]["n"])
    people = int(query(settings, "SELECT count(*) AS n FROM aggregator_tracks WHERE stream_id = :s "
                                 "AND object_class = 'person'", s=stream_id)[0]["n"])
    row = Row(name, published=len(published), counted=counted, duplicates=counted - len(counted_set),
              missing=len(published - counted_set), late=late, sessions=len({s for s, _ in published}),
              people=people)
    if counted_set - published:
        run.notes.append(f"{len(counted_set - published)} counted frames the audit never saw")
    if run.fault_end is not None:
        after = [(c, at) for c, at in run.audit.detected if c >= run.fault_end]
        row.detect_s = round(min(at for _, at in after) - run.fault_end, 1) if after else None
        counted_after = [run.counted.first_seen[k] for k, c in run.audit.frames.items()
                         if c >= run.fault_end and k in run.counted.first_seen]
        row.count_s = round(min(counted_after) - run.fault_end, 1) if counted_after else None
    if name == SCHEDULED and published:
        times = sorted(run.audit.frames.values())
        minutes = timedelta(seconds=times[-1] - times[0]) / timedelta(minutes=1)
        run.notes.append(f"{(len(times) - 1) / minutes:.1f} frames/min (configured {FPS * 60:.0f})")
    row.note = "; ".join(run.notes)
    return row
