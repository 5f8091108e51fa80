"""DAG alerts: every minute, evaluate the alert rules against the windows, anomaly events and stream health
written since, and deliver their firings (`streamscope alerts evaluate --once`). One run at a time; a firing
follows the window that caused it within about a minute. Deliveries that fail are retried at later runs."""

from __future__ import annotations

from datetime import timedelta

from airflow.sdk import dag, task

from core.settings import get_settings
from dags.common import START_DATE, default_args

settings = get_settings()
INTERVAL = timedelta(minutes=settings.airflow_alerts_interval_minutes)


@dag(
    dag_id="alerts",
    description="Evaluate the alert rules and deliver their webhooks (signed, retried, once per episode).",
    schedule=INTERVAL,
    start_date=START_DATE,
    catchup=False,
    max_active_runs=1,
    dagrun_timeout=INTERVAL * 3,
    default_args={**default_args(retries=1), "retry_delay": timedelta(seconds=10)},
    tags=["streamscope", "alerts"],
)
def alerts():
    @task(execution_timeout=timedelta(seconds=90))
    def evaluate_rules() -> dict:
        """One evaluation pass as a subprocess; its summary is the task's return value."""
        from dags.alerts_tasks import run_evaluation

        return run_evaluation()

    evaluate_rules()


alerts()
