"""Airflow for the DAG tests: a temporary AIRFLOW_HOME with a migrated SQLite metadata DB, our dags/ folder.

The environment is set when this conftest is imported, before anything imports airflow.
"""

from __future__ import annotations

import atexit
import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

DAGS_DIR = Path(__file__).resolve().parents[2] / "dags"
_HOME = Path(tempfile.mkdtemp(prefix="streamscope-airflow-test-"))
atexit.register(shutil.rmtree, _HOME, ignore_errors=True)

os.environ["AIRFLOW_HOME"] = str(_HOME)
os.environ["AIRFLOW__CORE__DAGS_FOLDER"] = str(DAGS_DIR)
os.environ["AIRFLOW__CORE__LOAD_EXAMPLES"] = "False"
os.environ["AIRFLOW__COSMOS__ENABLE_TELEMETRY"] = "False"
os.environ["AIRFLOW__COSMOS__CACHE_DIR"] = str(_HOME / "cosmos")
os.environ["DBT_SEND_ANONYMOUS_USAGE_STATS"] = "False"
os.environ["AIRFLOW__CORE__DAGBAG_IMPORT_TIMEOUT"] = "180"  # dbt_analytics runs `dbt ls` on its first parse


@pytest.fixture(scope="session")
def airflow_db() -> Path:
    """`airflow db migrate` on SQLite in the temporary AIRFLOW_HOME (about 5 s)."""
    airflow = Path(sys.executable).parent / "airflow"
    result = subprocess.run([str(airflow), "db", "migrate"], capture_output=True, text=True, timeout=300, check=False)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    return _HOME


@pytest.fixture(scope="module", autouse=True)
def fixture_dbt_vars(runtime) -> Iterator[None]:
    """DAGs parsed here build the marts with the statistics fixture's lookback (as_of, lookback_hours); set for
    the DAG test modules only, since every dbt build of the process would use them."""
    from core.settings import get_settings
    from tests.analytics import statistics_fixture as fx

    previous = os.environ.get("STREAMSCOPE_DBT_VARS")
    os.environ["STREAMSCOPE_DBT_VARS"] = json.dumps(fx.DBT_VARS)
    get_settings.cache_clear()
    yield
    if previous is None:
        os.environ.pop("STREAMSCOPE_DBT_VARS", None)
    else:
        os.environ["STREAMSCOPE_DBT_VARS"] = previous
    get_settings.cache_clear()


@pytest.fixture(scope="module")
def dagbag(runtime, airflow_db, fixture_dbt_vars):
    """Every DAG file parsed (the DAGs read the test runtime's settings; cosmos caches its `dbt ls`)."""
    from airflow.dag_processing.dagbag import DagBag

    return DagBag(dag_folder=str(DAGS_DIR))
