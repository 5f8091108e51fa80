"""DAG dbt_analytics: the dbt project through astronomer-cosmos, one task per model running it with its tests.

dbt runs as a subprocess (InvocationMode.SUBPROCESS for rendering and execution) with the profile that
`streamscope dbt` uses, written from the project's settings. Staging models are ephemeral (no tasks of their
own); each mart is a `dbt build --select <model>` task (TestBehavior.BUILD), in dependency order.
"""

from __future__ import annotations

import os
from datetime import timedelta

os.environ.setdefault("AIRFLOW__COSMOS__ENABLE_TELEMETRY", "False")
os.environ.setdefault("DBT_SEND_ANONYMOUS_USAGE_STATS", "False")

from cosmos import DbtDag, ExecutionConfig, ProfileConfig, ProjectConfig, RenderConfig
from cosmos.constants import InvocationMode, LoadMode, TestBehavior

from core.settings import get_settings
from dags.common import START_DATE, bin_dir, default_args
from dbt_analytics import PROJECT_DIR
from dbt_analytics.profiles import PROFILE_NAME, TARGET_NAME, write_profiles
from dbt_analytics.runner import settings_vars

settings = get_settings()
DBT = str(bin_dir() / "dbt")
DBT_ENV = {"DBT_SEND_ANONYMOUS_USAGE_STATS": "False"}

dbt_analytics = DbtDag(
    dag_id="dbt_analytics",
    description="Build the marts (object counts, baselines; ranking and trending views) with their tests.",
    project_config=ProjectConfig(
        dbt_project_path=PROJECT_DIR,
        # The settings' evidence rules as vars, like `streamscope dbt build` (dbt_analytics.runner).
        dbt_vars={**settings_vars(settings), **settings.dbt_vars},
        env_vars=DBT_ENV,
        install_dbt_deps=False,
    ),
    profile_config=ProfileConfig(
        profile_name=PROFILE_NAME,
        target_name=TARGET_NAME,
        profiles_yml_filepath=write_profiles(settings),
    ),
    execution_config=ExecutionConfig(invocation_mode=InvocationMode.SUBPROCESS, dbt_executable_path=DBT),
    render_config=RenderConfig(
        invocation_mode=InvocationMode.SUBPROCESS,
        load_method=LoadMode.DBT_LS,
        test_behavior=TestBehavior.BUILD,
        dbt_executable_path=DBT,
        dbt_deps=False,
    ),
    operator_args={"install_deps": False, "execution_timeout": timedelta(minutes=30)},
    schedule=timedelta(minutes=settings.airflow_dbt_interval_minutes),
    start_date=START_DATE,
    catchup=False,
    max_active_runs=1,
    default_args=default_args(retries=1),
    tags=["streamscope", "dbt"],
)
