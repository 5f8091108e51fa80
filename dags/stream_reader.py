"""DAG stream_reader: every N minutes, one reader task per active stream (dynamic task mapping).

Each run reads the registry again, so a new stream is picked up at the next run and a paused or removed one
gets no task. Each mapped task runs `streamscope reader --stream ID --duration SECONDS` for the interval plus
an overlap; max_active_runs=2 lets the next run start while this one reads. The two meet at the stream's lease
(stream_reader.lease): one publishes at a time, and the older hands the stream over, with its session, once
the newer one's capture delivers. A retried task is one more run queuing for the lease.
"""

from __future__ import annotations

from datetime import timedelta

from airflow.sdk import Param, dag, get_current_context, task

from core.settings import get_settings
from dags.common import START_DATE, default_args
from dags.reader_tasks import active_jobs, default_duration_s, run_limit_s, run_reader

settings = get_settings()
INTERVAL = timedelta(minutes=settings.airflow_reader_interval_minutes)
DURATION_S = default_duration_s(settings)


@dag(
    dag_id="stream_reader",
    description="Read every active stream into the frames topic, one mapped task per stream.",
    schedule=INTERVAL,
    start_date=START_DATE,
    catchup=False,
    max_active_runs=2,
    dagrun_timeout=INTERVAL * 3,
    default_args=default_args(retries=2),
    params={"duration_s": Param(DURATION_S, type="integer", minimum=1, description="Seconds each reader reads.")},
    tags=["streamscope", "reader"],
)
def stream_reader():
    @task(execution_timeout=timedelta(minutes=2), retries=3)
    def list_active_streams() -> list[dict]:
        """The streams to read now (pending, live, reconnecting), with the run's duration."""
        duration_s = int(get_current_context()["params"]["duration_s"])
        return [job.as_kwargs() for job in active_jobs(get_settings(), duration_s)]

    @task(
        execution_timeout=timedelta(seconds=run_limit_s(settings, DURATION_S) + 60),
        map_index_template="stream {{ task.op_kwargs['stream_id'] }}",
    )
    def read_stream(stream_id: int, duration_s: int) -> None:
        """`streamscope reader --stream ID --duration SECONDS` as a subprocess."""
        run_reader(stream_id, duration_s)

    read_stream.expand_kwargs(list_active_streams())


stream_reader()
