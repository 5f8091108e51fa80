"""Every DAG file loads with zero import errors and has the expected tasks, schedules and safeguards."""

from __future__ import annotations

from datetime import timedelta


def test_no_import_errors(dagbag):
    assert dagbag.import_errors == {}
    assert set(dagbag.dag_ids) == {"stream_reader", "dbt_analytics", "stream_maintenance", "alerts"}


def test_stream_reader(dagbag):
    dag = dagbag.get_dag("stream_reader")
    assert set(dag.task_ids) == {"list_active_streams", "read_stream"}
    assert dag.max_active_runs == 2  # the next run starts while this one reads; they meet at the lease
    assert dag.schedule == timedelta(minutes=5)
    read = dag.get_task("read_stream")
    assert read.upstream_task_ids == {"list_active_streams"}
    assert read.retries == 2 and read.retry_exponential_backoff and read.execution_timeout is not None
    assert dag.params["duration_s"] == 5 * 60 + 30


def test_dbt_analytics_has_a_build_task_per_mart_in_dependency_order(dagbag):
    dag = dagbag.get_dag("dbt_analytics")
    assert dag.max_active_runs == 1 and dag.schedule == timedelta(minutes=15)
    builds = {task_id.removesuffix("_model_build"): dag.get_task(task_id) for task_id in dag.task_ids}
    marts = {"stream_hours", "object_counts", "video_rankings", "overall_object_ranking", "stream_class_baselines",
             "trending_now", "line_crossing_hours", "zone_occupancy_hours", "crossing_rankings"}
    assert marts <= set(builds)
    for mart in marts:  # `dbt build --select <model>`: the model with its tests, as a subprocess
        assert type(builds[mart]).__name__ == "DbtBuildLocalOperator"
        assert builds[mart].invocation_mode.name == "SUBPROCESS"
    for staging in set(builds) - marts:  # ephemeral: compiled into the marts, no dbt run of their own
        assert staging.startswith("stg_") and type(builds[staging]).__name__ == "EmptyOperator"

    def upstream(mart: str) -> set[str]:
        return {t.task_id.removesuffix("_model_build") for t in builds[mart].get_flat_relatives(upstream=True)}

    assert "stream_hours" in upstream("object_counts")
    for ranking in ("video_rankings", "overall_object_ranking"):
        assert {"stream_hours", "object_counts"} <= upstream(ranking)
    assert {"stream_hours", "object_counts", "stream_class_baselines"} <= upstream("trending_now")
    assert {"stream_hours", "line_crossing_hours"} <= upstream("crossing_rankings")


def test_stream_maintenance(dagbag):
    dag = dagbag.get_dag("stream_maintenance")
    assert set(dag.task_ids) == {"refresh_metadata", "deactivate_failing_streams", "delete_old_statistics"}
    assert dag.get_task("delete_old_statistics").upstream_task_ids == {"deactivate_failing_streams"}
    assert all(task.retries == 2 for task in dag.tasks)
    assert dag.get_task("refresh_metadata").execution_timeout == timedelta(minutes=20)


def test_alerts(dagbag):
    dag = dagbag.get_dag("alerts")
    assert set(dag.task_ids) == {"evaluate_rules"}
    assert dag.max_active_runs == 1 and dag.schedule == timedelta(minutes=1)
    task = dag.get_task("evaluate_rules")
    assert task.retries == 1 and task.execution_timeout == timedelta(seconds=90)
