"""``streamscope airflow ...``: standalone Airflow on the project's settings, and triggering a DAG run."""

from __future__ import annotations

import json
import os
import shlex
import signal
import subprocess
from typing import Annotated

import typer

from core.processes import terminate_group

PASSTHROUGH = {"allow_extra_args": True, "ignore_unknown_options": True, "help_option_names": []}


def _supervise(command: list[str], env: dict[str, str], grace_s: float = 60.0) -> int:
    """Run ``command`` in a process group of its own; on SIGTERM or SIGINT ask it to stop with SIGINT (what
    `airflow standalone` handles: it stops its scheduler, API server, ...), then end whatever of that group is
    left. Returns its exit code."""
    process = subprocess.Popen(command, env=env, start_new_session=True)

    def stop(*_) -> None:
        if process.poll() is None:
            process.send_signal(signal.SIGINT)

    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, stop)
    returncode = process.wait()
    terminate_group(process.pid, grace_s)  # the group we started: stragglers of the standalone
    return returncode


def register(app: typer.Typer) -> None:
    airflow_app = typer.Typer(help="Airflow: scheduled readers, dbt runs and maintenance.", no_args_is_help=True)
    app.add_typer(airflow_app, name="airflow")

    @airflow_app.command("standalone")
    def standalone() -> None:
        """Run Airflow 3 standalone (scheduler, API server, DAG processor, triggerer) on 127.0.0.1.

        AIRFLOW_HOME is <data dir>/airflow and the DAGs folder this repository's dags/; the admin password is
        in $AIRFLOW_HOME/simple_auth_manager_passwords.json.generated. Stop it with Ctrl-C (or SIGTERM).
        """
        from core.embedded import RuntimeNotRunning, database_url
        from core.settings import get_settings
        from dags.common import airflow_env, airflow_home, bin_dir
        from dbt_analytics.profiles import write_profiles

        settings = get_settings()
        airflow_home(settings).mkdir(parents=True, exist_ok=True)
        try:
            database_url(settings)
        except RuntimeNotRunning as missing:
            typer.secho(f"warning: {missing}; the DAGs' tasks will fail until it runs", fg=typer.colors.YELLOW,
                        err=True)
        write_profiles(settings)
        env = airflow_env(settings)
        typer.echo(f"AIRFLOW_HOME={env['AIRFLOW_HOME']}  UI/API: http://127.0.0.1:{settings.airflow_port}", err=True)
        raise typer.Exit(_supervise([str(bin_dir() / "airflow"), "standalone"], env))

    @airflow_app.command("trigger")
    def trigger(
        dag_id: str,
        conf: Annotated[str | None, typer.Option(help="JSON run configuration, e.g. '{\"duration_s\": 60}'.")] = None,
        wait: Annotated[bool, typer.Option("--wait/--no-wait", help="Wait for the run's end state.")] = True,
        timeout: Annotated[float, typer.Option(help="Seconds to wait for the DAG and its run.")] = 900.0,
    ) -> None:
        """Trigger a DAG run through the REST API (unpausing the DAG first) and wait for its end state."""
        from core.settings import get_settings
        from dags.airflow_api import AirflowAPIError, AirflowClient, admin_password
        from dags.common import airflow_home

        settings = get_settings()
        try:
            run_conf = json.loads(conf) if conf else None
        except ValueError as bad:
            typer.secho(f"error: --conf is not JSON: {bad}", fg=typer.colors.RED, err=True)
            raise typer.Exit(2) from None
        try:
            client = AirflowClient(
                f"http://127.0.0.1:{settings.airflow_port}", "admin", admin_password(airflow_home(settings))
            )
            client.wait_for_dag(dag_id, timeout_s=min(timeout, 300))
            client.unpause(dag_id)
            run_id = client.trigger(dag_id, run_conf)
            typer.echo(f"triggered {dag_id}: {run_id}")
            if not wait:
                return
            state = client.wait_for_run(dag_id, run_id, timeout_s=timeout)
            for task_id, task_state in sorted(client.task_states(dag_id, run_id).items()):
                typer.echo(f"  {task_id:60} {task_state}")
        except AirflowAPIError as error:
            typer.secho(f"error: {error}", fg=typer.colors.RED, err=True)
            raise typer.Exit(1) from None
        typer.echo(f"{dag_id} {run_id}: {state}")
        if state != "success":
            raise typer.Exit(1)

    @airflow_app.command("env")
    def env() -> None:
        """Print the Airflow environment as shell exports (`eval "$(streamscope airflow env)"`)."""
        from core.settings import get_settings
        from dags.common import airflow_env

        names = ("AIRFLOW_HOME", "AIRFLOW__", "STREAMSCOPE_DATA_DIR", "DBT_SEND", "PYTHONPATH")
        for key, value in sorted(airflow_env(get_settings()).items()):
            if key.startswith(names):
                typer.echo(f"export {key}={shlex.quote(value)}")

    @airflow_app.command("exec", context_settings=PASSTHROUGH)
    def exec_(ctx: typer.Context) -> None:
        """Any `airflow` command with the project's Airflow environment, e.g. `streamscope airflow exec dags list`."""
        from core.settings import get_settings
        from dags.common import airflow_env, bin_dir

        executable = str(bin_dir() / "airflow")
        os.execve(executable, [executable, *ctx.args], airflow_env(get_settings()))
