"""Production Airflow as the deployment runs it (terraform/modules/pipeline): scheduler, dag-processor, API server
and triggerer as separate processes, LocalExecutor, metadata in a separate Postgres database on the same server.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from sqlalchemy import text

from core.processes import terminate
from tests.conftest import free_port

PROCESSES = (["scheduler"], ["dag-processor"], ["triggerer"])  # + ["api-server", "--port", <port>]


def health(port: int) -> dict:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/v2/monitor/health", timeout=5) as answer:
            return json.load(answer)
    except OSError:
        return {}


@pytest.mark.slow
def test_four_airflow_processes_on_a_postgres_metadata_database(runtime, tmp_path) -> None:
    import psycopg

    from core.embedded import database_url

    database = "airflow_production_test"
    with psycopg.connect(database_url(runtime), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{database}"')
    port = free_port()
    env = {
        **os.environ,
        "AIRFLOW_HOME": str(tmp_path / "airflow"),
        "AIRFLOW__CORE__DAGS_FOLDER": str(Path(__file__).resolve().parents[2] / "dags"),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__EXECUTOR": "LocalExecutor",
        "AIRFLOW__CORE__PARALLELISM": "2",
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"postgresql+psycopg://postgres:@/{database}?host={runtime.postgres_dir}",
        # Airflow would derive an asyncpg URL (not installed); psycopg 3 serves both.
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN_ASYNC": f"postgresql+psycopg://postgres:@/{database}?host={runtime.postgres_dir}",
        "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"http://127.0.0.1:{port}/execution/",
        "AIRFLOW__API__HOST": "127.0.0.1",
        "AIRFLOW__API__PORT": str(port),
        "AIRFLOW__API_AUTH__JWT_SECRET": "test-signing-key-0123456789abcdef",
        "AIRFLOW__COSMOS__ENABLE_TELEMETRY": "False",
    }
    airflow = [sys.executable, "-m", "airflow"]
    migrate = subprocess.run([*airflow, "db", "migrate"], env=env, capture_output=True, text=True, timeout=600,
                             check=False)
    assert migrate.returncode == 0, migrate.stdout[-2000:] + migrate.stderr[-3000:]
    logs, processes = [], []
    try:
        for command in (*PROCESSES, ["api-server", "--port", str(port)]):
            log = tmp_path / f"{command[0]}.log"
            logs.append(log)
            with log.open("w") as output:
                processes.append(subprocess.Popen([*airflow, *command], env=env, stdout=output,
                                                  stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL))
        deadline = time.monotonic() + 300
        wanted = ("metadatabase", "scheduler", "dag_processor", "triggerer")
        while True:
            state = health(port)
            if all(state.get(part, {}).get("status") == "healthy" for part in wanted):
                break
            dead = [p.args for p in processes if p.poll() is not None]
            if dead or time.monotonic() > deadline:
                tails = "\n".join(f"--- {log.name}\n{log.read_text()[-1500:]}" for log in logs)
                pytest.fail(f"not healthy (exited: {dead}): {state}\n{tails}")
            time.sleep(2)
        from sqlalchemy import create_engine

        engine = create_engine(env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"])
        deadline = time.monotonic() + 180
        while True:  # the dag-processor parses the project's DAGs into the Postgres metadata database
            with engine.connect() as conn:
                dags = {r[0] for r in conn.execute(text("SELECT dag_id FROM dag"))}
            if {"stream_reader", "dbt_analytics"} <= dags or time.monotonic() > deadline:
                break
            time.sleep(2)
        engine.dispose()
        assert {"stream_reader", "dbt_analytics"} <= dags, dags
    finally:
        for process in processes:
            terminate(process, timeout_s=30)
    with psycopg.connect(database_url(runtime), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
