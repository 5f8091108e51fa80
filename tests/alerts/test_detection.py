"""The detection property on a generated history, end to end through Postgres, the real dbt baselines and the
anomaly job: every injected spike, drop, outage and freeze is found, spikes and drops on their first window,
outages and freezes with their exact start and end; the quiet week raises nothing. Ten-minute windows keep it
fast (bench/alerts.py runs the same on one-minute windows and prints the figures)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import text

from tests.alerts.evaluate import evaluate, settings_for
from tests.alerts.synthetic_history import generate


@pytest.fixture(scope="module")
def report(runtime):
    history = generate(weeks=6, window_seconds=600, fps=0.1, seed=3)
    assert {i.kind for i in history.injected} == {"spike", "drop", "down", "frozen"}
    return evaluate(runtime, history)


def test_every_injected_episode_is_detected_on_time(report):
    assert report.missed == [], report.missed
    for injected, event in report.matched.items():
        if injected.kind in ("spike", "drop"):
            assert report.delay_windows(injected) == 0, (injected, event)
        else:  # down / frozen: from the last frame before to the first after
            assert (event.started_at, event.ended_at) == (injected.start, injected.end), (injected, event)


def test_the_quiet_week_raises_nothing_and_the_episode_week_nothing_else(report):
    assert report.quiet_events == []
    assert report.unmatched == []


def test_a_job_every_ten_minutes_writes_the_rows_of_one_run(runtime, report):
    """Causal detectors and a baseline without the last day: running as the DAG does (every window) over the day
    of an injected spike writes the same episodes as the one run over the week."""
    from alerts.anomaly_job import run_anomaly_job
    from core.db.engine import get_engine

    settings = settings_for(runtime)
    spike = next(i for i in report.history.injected if i.kind == "spike")
    day = spike.start.replace(hour=0, minute=0)
    engine = get_engine(settings)
    query = text("SELECT stream_id, object_class, kind, started_at, ended_at FROM anomaly_events "
                 "WHERE started_at >= :a AND started_at < :b ORDER BY 1, 2, 3, 4")
    window = {"a": spike.start - timedelta(hours=3), "b": spike.start + timedelta(hours=3)}
    with engine.begin() as conn:
        once = conn.execute(query, window).all()
        conn.execute(text("DELETE FROM anomaly_events WHERE started_at >= :a"), {"a": day})
    now = spike.start - timedelta(hours=3)
    while now <= spike.start + timedelta(hours=4):
        run_anomaly_job(settings, now)
        now += timedelta(minutes=10)
    with engine.connect() as conn:
        assert conn.execute(query, window).all() == once
    assert any(row.kind == "spike" for row in once)
