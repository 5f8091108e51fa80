"""Standalone Airflow started by `streamscope airflow standalone`; `streamscope airflow trigger dbt_analytics`
unpauses the DAG, triggers a run through the REST API and ends in success; the marts hold the fixture's figures.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import pytest
from sqlalchemy import text

from tests.analytics import statistics_fixture as fx
from tests.conftest import free_port


def wait_for(condition, timeout_s: float, what: str, process: subprocess.Popen, log) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        if process.poll() is not None:
            pytest.fail(f"standalone Airflow exited with {process.returncode}:\n{log.read_text()[-3000:]}")
        if time.monotonic() > deadline:
            pytest.fail(f"{what} not within {timeout_s:.0f} s:\n{log.read_text()[-3000:]}")
        time.sleep(1)


@pytest.mark.slow
def test_standalone_trigger_dbt_analytics_succeeds(runtime, tmp_path):
    from core.db.engine import get_engine
    from dags.airflow_api import AirflowClient, admin_password

    engine = get_engine(runtime)
    fx.load(engine)
    port = free_port()
    env = {
        **os.environ,
        "STREAMSCOPE_AIRFLOW_PORT": str(port),
        "STREAMSCOPE_DBT_VARS": json.dumps(fx.DBT_VARS),
    }
    home = runtime.data_dir / "airflow"
    log = tmp_path / "standalone.log"
    with log.open("w") as output:
        process = subprocess.Popen(
            [sys.executable, "-m", "core.cli", "airflow", "standalone"], env=env, stdout=output,
            stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
        )
    try:
        passwords = home / "simple_auth_manager_passwords.json.generated"
        wait_for(passwords.exists, 240, "the admin password", process, log)
        client = AirflowClient(f"http://127.0.0.1:{port}", "admin", admin_password(home))
        wait_for(client.healthy, 240, "the API server", process, log)
        result = subprocess.run(
            [sys.executable, "-m", "core.cli", "airflow", "trigger", "dbt_analytics", "--timeout", "600"],
            env=env, capture_output=True, text=True, timeout=900, check=False,
        )
        assert result.returncode == 0, result.stdout + result.stderr + log.read_text()[-3000:]
        assert result.stdout.rstrip().endswith(": success")
        assert "video_rankings_model_build" in result.stdout
    finally:
        process.send_signal(signal.SIGTERM)  # the CLI stops the standalone and its whole process group
        try:
            process.wait(timeout=120)
        except subprocess.TimeoutExpired:
            process.kill()
    with engine.connect() as conn:
        overall = {r[0]: tuple(r[1:]) for r in conn.execute(text(
            "SELECT object_class, rank, mean_per_frame, detections, frames, streams FROM overall_object_ranking"))}
    assert overall == fx.OVERALL
