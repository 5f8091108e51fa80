"""The dbt marts the API reads, for tests and benchmarks: the two incremental tables made with plain SQL (known
rows go straight in), and the views on them (video_rankings, overall_object_ranking, trending_now) and the
baselines table built by the real dbt models over those tables (``build_views``), so the ranking rules the tests
see are dbt's.

This DDL must match the dbt models (dbt_analytics/models/marts: stream_hours, object_counts) in the columns the
views read, as their _marts.yml describes them.
"""

from __future__ import annotations

from sqlalchemy import Connection, text

MARTS_DDL = """
CREATE SCHEMA IF NOT EXISTS {schema};
DROP TABLE IF EXISTS {schema}.stream_hours, {schema}.object_counts, {schema}.stream_class_baselines CASCADE;
CREATE TABLE {schema}.stream_hours (
    stream_id integer NOT NULL,
    hour timestamptz NOT NULL,
    frames bigint NOT NULL,
    windows bigint NOT NULL,
    minutes_observed double precision NOT NULL,
    PRIMARY KEY (stream_id, hour)
);
CREATE INDEX ON {schema}.stream_hours (hour);
CREATE TABLE {schema}.object_counts (
    stream_id integer NOT NULL,
    object_class text NOT NULL,
    hour timestamptz NOT NULL,
    frames bigint NOT NULL,
    detections bigint NOT NULL,
    mean_per_frame double precision NOT NULL,
    max_per_frame integer NOT NULL,
    unique_objects bigint NOT NULL,
    PRIMARY KEY (stream_id, object_class, hour)
);
CREATE INDEX ON {schema}.object_counts (object_class, hour);
"""


VIEWS = ("stream_class_baselines", "video_rankings", "overall_object_ranking", "trending_now")


def build_views(settings, schema: str, vars: dict | None = None) -> None:
    """``dbt run`` of the models over the two tables into ``schema`` (settings' evidence rules as dbt vars)."""
    import json

    from dbt_analytics.runner import run_dbt, settings_vars

    target = settings.model_copy(update={"dbt_schema": schema})
    args = ["run", "--select", *VIEWS]
    if vars:
        args += ["--vars", json.dumps({**settings_vars(target), **target.dbt_vars, **vars})]
    result = run_dbt(target, args, capture=True, timeout_s=300)
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]


def create_marts(conn: Connection, schema: str) -> None:
    for statement in MARTS_DDL.format(schema=schema).split(";"):
        if statement.strip():
            conn.execute(text(statement))


def insert_stream_hours(conn: Connection, schema: str, rows: list[dict]) -> None:
    if rows:
        conn.execute(text(f"INSERT INTO {schema}.stream_hours (stream_id, hour, frames, windows, minutes_observed) "
                          "VALUES (:stream_id, :hour, :frames, :windows, :minutes_observed)"), rows)


def insert_object_counts(conn: Connection, schema: str, rows: list[dict]) -> None:
    if rows:
        conn.execute(text(
            f"INSERT INTO {schema}.object_counts (stream_id, object_class, hour, frames, detections, mean_per_frame, "
            "max_per_frame, unique_objects) VALUES (:stream_id, :object_class, :hour, :frames, :detections, "
            ":mean_per_frame, :max_per_frame, :unique_objects)"), rows)
