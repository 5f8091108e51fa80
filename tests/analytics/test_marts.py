"""`streamscope dbt build` on a known statistics fixture: every mart value checked against hand-computed figures,
an incremental build that merges only the changed hours, a bad var refused, the docs generated.

The tests of this module share one built fixture and run in file order (the incremental test changes it; the
bad-var test comes last since a change of vars makes dbt parse the project again).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import datetime

import pytest
from sqlalchemy import text

from tests.analytics import statistics_fixture as fx
from tests.analytics.statistics_fixture import H, Window


def streamscope(*args: str, timeout: float = 300) -> subprocess.CompletedProcess:
    """The CLI as a user runs it (a subprocess, so dbt's output can be read)."""
    return subprocess.run(
        [sys.executable, "-m", "core.cli", *args],
        capture_output=True, text=True, timeout=timeout, env={**os.environ}, check=False,
    )


def rows(engine, sql: str) -> list[tuple]:
    with engine.connect() as conn:
        return [tuple(row) for row in conn.execute(text(sql))]


@pytest.fixture(scope="module")
def engine(runtime):
    from core.db.engine import get_engine

    return get_engine(runtime)


@pytest.fixture(scope="module")
def built(engine):
    """The fixture loaded and built once for the module; the first build's dbt output."""
    fx.load(engine)
    result = streamscope("dbt", "build", "--vars", fx.dbt_vars())
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    return result.stdout


def test_build_runs_models_and_their_tests(built):
    assert "Completed successfully" in built
    for mart in ("stream_hours", "object_counts", "video_rankings", "overall_object_ranking",
                 "stream_class_baselines", "trending_now"):
        assert f"model public.{mart}" in built
    for test in ("assert_object_counts_mean_recomputed", "assert_video_rankings_mean_recomputed",
                 "assert_video_rankings_dense_per_class"):
        assert f"PASS {test}" in built


def test_stream_hours(built, engine):
    got = {
        (sid, hour): (frames, windows, minutes)
        for sid, hour, frames, windows, minutes in rows(
            engine, "SELECT stream_id, hour, frames, windows, minutes_observed FROM stream_hours"
        )
    }
    assert got == fx.STREAM_HOURS


def test_object_counts_divide_by_all_frames_of_the_hour(built, engine):
    got = {
        (sid, cls, hour): (frames, det, mean, mx, uniq)
        for sid, cls, hour, frames, det, mean, mx, uniq in rows(
            engine,
            "SELECT stream_id, object_class, hour, frames, detections, mean_per_frame, max_per_frame, "
            "unique_objects FROM object_counts",
        )
    }
    assert got == fx.OBJECT_COUNTS


def test_video_rankings(built, engine):
    got: dict[str, list] = {}
    for cls, rank, sid, mean, mx, uniq, frames, minutes, lookback in rows(
        engine,
        "SELECT object_class, rank, stream_id, mean_per_frame, max_per_frame, unique_objects, frames, "
        "minutes_observed, lookback_hours FROM video_rankings ORDER BY object_class, rank",
    ):
        assert lookback == fx.LOOKBACK_HOURS
        got.setdefault(cls, []).append((rank, sid, mean, mx, uniq, frames, minutes))
    assert got == fx.VIDEO_RANKINGS
    (as_of,) = rows(engine, "SELECT DISTINCT as_of FROM video_rankings")[0]
    assert as_of == datetime.fromisoformat(fx.AS_OF)


def test_overall_object_ranking(built, engine):
    got = {
        cls: (rank, mean, det, frames, streams)
        for cls, rank, mean, det, frames, streams in rows(
            engine, "SELECT object_class, rank, mean_per_frame, detections, frames, streams FROM overall_object_ranking"
        )
    }
    assert got == fx.OVERALL


@pytest.mark.slow
def test_docs_generate(built, runtime):
    # The same vars as the build: dbt reuses its parse (vars changes force a full parse).
    result = streamscope("dbt", "docs", "--vars", fx.dbt_vars())
    assert result.returncode == 0, result.stdout[-3000:]
    target = runtime.data_dir / "dbt" / "target"
    catalog = json.loads((target / "catalog.json").read_text())
    manifest = json.loads((target / "manifest.json").read_text())
    tables = {node["metadata"]["name"]: node for node in catalog["nodes"].values()}
    assert {"stream_hours", "object_counts", "video_rankings", "overall_object_ranking", "stream_class_baselines",
            "trending_now"} <= set(tables)
    assert tables["object_counts"]["columns"]["mean_per_frame"]["type"] == "double precision"
    described = manifest["nodes"]["model.streamscope.video_rankings"]
    assert "min_frames" in described["description"] and described["columns"]["rank"]["description"]
    assert (target / "index.html").exists()


def test_incremental_build_merges_only_changed_hours(built, engine):
    hours_sql = "SELECT stream_id, hour, updated_at FROM stream_hours"
    counts_sql = "SELECT stream_id, object_class, hour, updated_at FROM object_counts"

    def stamps(sql: str) -> dict[tuple, datetime]:
        return {tuple(key): stamp for *key, stamp in rows(engine, sql)}

    first_hours, first_counts = stamps(hours_sql), stamps(counts_sql)
    assert len(first_hours) == 9 and len(first_counts) == 13
    # New statistics arrive: a new hour for Alpha, and Bravo's 10:40 window, late, into an hour already built.
    new = [Window(1, f"13:{m:02d}", classes={"person": (10, 1, 0)}) for m in range(0, 60, 10)]
    new.append(Window(2, "10:40", classes={"person": (40, 6, 1)}))
    with engine.begin() as conn:
        fx.insert_windows(conn, new)

    result = streamscope("dbt", "build", "--select", "stream_hours", "object_counts", "--vars", fx.dbt_vars())
    assert result.returncode == 0, result.stdout[-4000:]

    def rewritten(before: dict, sql: str) -> set[tuple]:
        after = stamps(sql)
        assert set(before) <= set(after), "an incremental build never drops rows"
        return {key for key, stamp in after.items() if before.get(key) != stamp}

    # Rewritten: the new hour, the hour the late window fell into, and the hours whose statistics were written
    # within the margin (10 min) before the last build's watermark (Alpha's and Delta's 11:50 windows, stamped
    # 12:00:10). Every other row keeps the first build's timestamp.
    assert rewritten(first_hours, hours_sql) == {(1, H[13]), (2, H[10]), (1, H[11]), (4, H[11])}
    # Bravo's car row at 10:00 has no new statistics, but its hour gained frames: it is recomputed as well.
    assert rewritten(first_counts, counts_sql) == {
        (1, "person", H[13]), (2, "person", H[10]), (2, "car", H[10]),
        (1, "person", H[11]), (1, "car", H[11]), (1, "umbrella", H[11]), (4, "traffic light", H[11]),
    }  # fmt: skip
    assert rows(engine, "SELECT count(*) FROM stream_hours") == [(10,)]
    assert rows(engine, "SELECT count(*) FROM object_counts") == [(14,)]
    bravo_10 = f"stream_id = 2 AND hour = '{H[10].isoformat()}'"
    assert rows(engine, f"SELECT frames, windows, minutes_observed FROM stream_hours WHERE {bravo_10}") == [
        (40, 4, 40.0)
    ]
    assert rows(
        engine, f"SELECT object_class, frames, detections, mean_per_frame FROM object_counts WHERE {bravo_10} "
        "ORDER BY object_class"
    ) == [("car", 40, 8, 0.2), ("person", 40, 160, 4.0)]
    alpha_13 = f"stream_id = 1 AND hour = '{H[13].isoformat()}'"
    assert rows(engine, f"SELECT frames, detections, mean_per_frame FROM object_counts WHERE {alpha_13}") == [
        (60, 60, 1.0)
    ]


@pytest.mark.slow
def test_bad_var_fails_with_a_clear_message(built, engine):
    before = rows(engine, "SELECT count(*) FROM video_rankings")
    result = streamscope("dbt", "build", "--select", "video_rankings", "--vars", "{lookback_hours: -3}")
    assert result.returncode != 0
    assert "var lookback_hours must be a positive whole number of hours (e.g. 24), got -3" in result.stdout
    assert rows(engine, "SELECT count(*) FROM video_rankings") == before
