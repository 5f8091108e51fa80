"""dag.test() of dbt_analytics (cosmos, dbt as a subprocess): the marts built from the statistics fixture hold
exactly the hand-computed figures."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from tests.analytics import statistics_fixture as fx


@pytest.mark.slow
def test_dbt_dag_builds_the_marts(runtime, dagbag):
    from core.db.engine import get_engine

    engine = get_engine(runtime)
    fx.load(engine)  # the fixture statistics; the marts dropped
    run = dagbag.get_dag("dbt_analytics").test()
    assert run.state == "success"
    states = {ti.task_id: ti.state for ti in run.get_task_instances()}
    assert states and all(state == "success" for state in states.values()), states

    with engine.connect() as conn:
        hours = {(r[0], r[1]): tuple(r[2:]) for r in conn.execute(text(
            "SELECT stream_id, hour, frames, windows, minutes_observed FROM stream_hours"))}
        counts = {(r[0], r[1], r[2]): tuple(r[3:]) for r in conn.execute(text(
            "SELECT stream_id, object_class, hour, frames, detections, mean_per_frame, max_per_frame, unique_objects "
            "FROM object_counts"))}
        rankings: dict[str, list] = {}
        for r in conn.execute(text(
            "SELECT object_class, rank, stream_id, mean_per_frame, max_per_frame, unique_objects, frames, "
            "minutes_observed FROM video_rankings ORDER BY object_class, rank"
        )):
            rankings.setdefault(r[0], []).append(tuple(r[1:]))
        overall = {r[0]: tuple(r[1:]) for r in conn.execute(text(
            "SELECT object_class, rank, mean_per_frame, detections, frames, streams FROM overall_object_ranking"))}
    assert hours == fx.STREAM_HOURS
    assert counts == fx.OBJECT_COUNTS
    assert rankings == fx.VIDEO_RANKINGS
    assert overall == fx.OVERALL
