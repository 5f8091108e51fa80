"""What the DAGs and `streamscope airflow` share: the Airflow environment built from the project's settings,
and default task arguments (retries with backoff, timeouts)."""

from __future__ import annotations

import os
import sys
from datetime import datetime, timedelta
from pathlib import Path

from core.settings import Settings

DAGS_DIR = Path(__file__).resolve().parent
REPO_ROOT = DAGS_DIR.parent
START_DATE = datetime(2026, 1, 1)
DAG_IMPORT_TIMEOUT_S = 180  # any past date: catchup is off, runs start at the next interval


def airflow_home(settings: Settings) -> Path:
    return settings.data_dir / "airflow"


def bin_dir() -> Path:
    """The bin folder of the running Python: where `streamscope`, `dbt` and `airflow` of this venv live."""
    return Path(sys.executable).parent


def airflow_env(settings: Settings, base: dict[str, str] | None = None) -> dict[str, str]:
    """Environment for Airflow processes: home under the data dir, our DAGs folder, a small machine's limits,
    no example DAGs and no telemetry; the project's settings (data dir) passed on to the DAGs' tasks."""
    env = dict(os.environ if base is None else base)
    python_path = [str(REPO_ROOT), *filter(None, env.get("PYTHONPATH", "").split(os.pathsep))]
    path = [str(bin_dir()), *filter(None, env.get("PATH", "").split(os.pathsep))]  # standalone runs `airflow ...`
    env.update({
        "AIRFLOW_HOME": str(airflow_home(settings)),
        "AIRFLOW__CORE__DAGS_FOLDER": str(DAGS_DIR),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__PARALLELISM": str(settings.airflow_parallelism),
        "AIRFLOW__CORE__MAX_ACTIVE_TASKS_PER_DAG": str(settings.airflow_parallelism),
        "AIRFLOW__API__HOST": "127.0.0.1",
        "AIRFLOW__API__PORT": str(settings.airflow_port),
        "AIRFLOW__API__WORKERS": "1",
        "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"http://127.0.0.1:{settings.airflow_port}/execution/",
        "AIRFLOW__COSMOS__ENABLE_TELEMETRY": "False",
        "AIRFLOW__COSMOS__CACHE_DIR": str(airflow_home(settings) / "cosmos"),
        # dbt_analytics renders the dbt project with `dbt ls` (cached by cosmos after the first parse): slow on
        # a small, busy machine, so the default 30 s import timeout is too short.
        "AIRFLOW__CORE__DAGBAG_IMPORT_TIMEOUT": str(DAG_IMPORT_TIMEOUT_S),
        "AIRFLOW__DAG_PROCESSOR__DAG_FILE_PROCESSOR_TIMEOUT": str(DAG_IMPORT_TIMEOUT_S + 30),
        "AIRFLOW__SCHEDULER__ENABLE_HEALTH_CHECK": "False",
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "False",
        "STREAMSCOPE_DATA_DIR": str(settings.data_dir),
        "PYTHONPATH": os.pathsep.join(dict.fromkeys(python_path)),
        "PATH": os.pathsep.join(dict.fromkeys(path)),
    })  # fmt: skip
    return env


def default_args(retries: int = 2) -> dict:
    """Retries with exponential backoff (30 s, 60 s, ... at most 10 min) for every task."""
    return {
        "owner": "streamscope",
        "retries": retries,
        "retry_delay": timedelta(seconds=30),
        "retry_exponential_backoff": 2.0,
        "max_retry_delay": timedelta(minutes=10),
        "execution_timeout": timedelta(minutes=30),
    }
