"""Score the anomaly job on a generated history, end to end (shared by tests/alerts and bench/alerts.py).

The history goes into the pipeline's tables; the real dbt models build stream_hours, object_counts and
stream_class_baselines (as of the start of each scored week); the real job (``run_anomaly_job``) runs over each
scored week and writes ``anomaly_events``; its rows are matched against what was injected.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import text

from alerts.anomaly_job import run_anomaly_job
from core.settings import Settings
from tests.alerts.history_db import write_history
from tests.alerts.synthetic_history import History, Injected

SCHEMA = "alerts_eval"


@dataclass(frozen=True)
class Event:
    stream_id: int
    object_class: str
    kind: str
    started_at: datetime
    ended_at: datetime | None
    score: float | None


@dataclass
class Report:
    history: History
    quiet_events: list[Event] = field(default_factory=list)
    episode_events: list[Event] = field(default_factory=list)
    matched: dict[Injected, Event] = field(default_factory=dict)
    timings: dict[str, float] = field(default_factory=dict)
    quiet_max_z: float | None = None  # the largest |z| of any window in the quiet week (the margin to a false alarm)

    @property
    def missed(self) -> list[Injected]:
        return [i for i in self.history.injected if i not in self.matched]

    @property
    def unmatched(self) -> list[Event]:
        """Events of the episode week that match nothing injected (false alarms there)."""
        used = set(self.matched.values())
        return [e for e in self.episode_events if e not in used]

    def delay_windows(self, injected: Injected) -> int:
        """Windows between the episode's first window and the one that flagged it (0: its first window)."""
        event = self.matched[injected]
        return int((event.started_at - injected.start) / self.history.window)

    @property
    def stream_weeks(self) -> int:
        return len(self.history.streams)


def settings_for(runtime: Settings, schema: str = SCHEMA) -> Settings:
    return runtime.model_copy(update={"dbt_schema": schema, "api_marts_schema": schema})


def _dbt(settings: Settings, select: list[str], as_of: datetime, full_refresh: bool = False) -> None:
    from dbt_analytics.runner import run_dbt, settings_vars

    args = ["run", "--select", *select, "--vars", json.dumps({**settings_vars(settings), "as_of": as_of.isoformat()})]
    if full_refresh:
        args.append("--full-refresh")
    result = run_dbt(settings, args, capture=True, timeout_s=900)
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]


def _events(engine, start: datetime, end: datetime) -> list[Event]:
    with engine.connect() as conn:
        rows = conn.execute(text(
            "SELECT stream_id, object_class, kind, started_at, ended_at, score FROM anomaly_events "
            "WHERE started_at >= :start AND started_at < :end ORDER BY started_at"), {"start": start, "end": end})
        return [Event(*row) for row in rows]


def _match(injected: Injected, events: list[Event], window: timedelta) -> Event | None:
    for event in events:
        if (event.stream_id, event.object_class, event.kind) != (injected.stream_id, injected.object_class,
                                                                  injected.kind):
            continue
        if injected.start - window <= event.started_at < injected.end:
            return event
    return None


def _max_z(settings: Settings, start: datetime, end: datetime) -> float:
    """The largest |z| over every scored window of the span: the job's own reading with a threshold of ~0 and
    no release, so each series is one episode whose score is its peak."""
    from dataclasses import replace

    from alerts.anomalies import Params
    from alerts.anomaly_job import _read, find_episodes
    from core.db.engine import get_engine

    params = replace(Params.from_settings(settings), threshold=1e-9, release=0.0)
    with get_engine(settings).connect() as conn:
        data = _read(conn, settings, start, end)
    scores = [abs(e.score) for e in find_episodes(data, end, params) if e.kind in ("spike", "drop") and e.score]
    return max(scores, default=0.0)


def evaluate(runtime: Settings, history: History, schema: str = SCHEMA) -> Report:
    from core.db.engine import get_engine
    from core.runtime import database_url

    settings = settings_for(runtime, schema)
    report = Report(history)
    clock = time.perf_counter()
    write_history(database_url(settings), history)
    report.timings["write"] = time.perf_counter() - clock
    engine = get_engine(settings)

    quiet_start, quiet_end = history.quiet_week
    clock = time.perf_counter()
    _dbt(settings, ["+stream_class_baselines"], as_of=quiet_start, full_refresh=True)
    report.timings["dbt_first"] = time.perf_counter() - clock
    clock = time.perf_counter()
    run_anomaly_job(settings, now=quiet_end, since=quiet_start)
    report.timings["job_week"] = time.perf_counter() - clock
    report.quiet_events = _events(engine, quiet_start, quiet_end)
    report.quiet_max_z = _max_z(settings, quiet_start, quiet_end)

    start, end = history.episode_week
    clock = time.perf_counter()
    _dbt(settings, ["stream_class_baselines"], as_of=start)
    report.timings["dbt_baselines"] = time.perf_counter() - clock
    run_anomaly_job(settings, now=end, since=start)
    report.episode_events = _events(engine, start, end)
    for injected in history.injected:
        event = _match(injected, report.episode_events, history.window)
        if event is not None:
            report.matched[injected] = event
    return report
