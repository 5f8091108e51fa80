"""The two dbt marts the API reads, made with plain SQL for tests and benchmarks.

This DDL must match the dbt models (dbt_analytics/models/marts: stream_hours, object_counts) column for
column, as their _marts.yml describes them; the API recomputes every mean from detections and frames,
so integer or numeric column types from dbt work as well.
"""

from __future__ import annotations

from sqlalchemy import Connection, text

MARTS_DDL = """
CREATE SCHEMA IF NOT EXISTS {schema};
DROP TABLE IF EXISTS {schema}.stream_hours, {schema}.object_counts;
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
