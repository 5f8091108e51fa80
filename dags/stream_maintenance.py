"""DAG stream_maintenance: refresh stream metadata (yt-dlp), deactivate streams that keep failing, and delete
statistics older than the retention period. Connections come from the project's settings."""

from __future__ import annotations

from datetime import timedelta

from airflow.sdk import dag, task

from core.settings import get_settings
from dags.common import START_DATE, default_args

settings = get_settings()


@dag(
    dag_id="stream_maintenance",
    description="Refresh stream metadata, deactivate failing streams, apply the retention period.",
    schedule=timedelta(minutes=settings.airflow_maintenance_interval_minutes),
    start_date=START_DATE,
    catchup=False,
    max_active_runs=1,
    default_args=default_args(retries=2),
    tags=["streamscope", "maintenance"],
)
def stream_maintenance():
    @task(execution_timeout=timedelta(minutes=20))
    def refresh_metadata() -> dict:
        from core.db.engine import session_scope
        from dags import maintenance_tasks

        current = get_settings()
        with session_scope(current) as session:
            return maintenance_tasks.refresh_metadata(session, timeout_s=current.resolve_timeout_s)

    @task(execution_timeout=timedelta(minutes=5))
    def deactivate_failing_streams() -> list[int]:
        from core.db.engine import session_scope
        from dags import maintenance_tasks

        current = get_settings()
        with session_scope(current) as session:
            return maintenance_tasks.deactivate_failing(session, max_failed_sessions=current.max_failed_sessions)

    @task(execution_timeout=timedelta(minutes=30))
    def delete_old_statistics() -> dict:
        from core.db.engine import session_scope
        from dags import maintenance_tasks

        current = get_settings()
        with session_scope(current) as session:
            return maintenance_tasks.delete_old_statistics(
                session, retention_days=current.retention_days, live_retention_minutes=current.live_retention_minutes)

    refresh_metadata() >> deactivate_failing_streams() >> delete_old_statistics()


stream_maintenance()
