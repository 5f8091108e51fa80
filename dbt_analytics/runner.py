"""Run dbt as a subprocess against the project's database (profile from ``profiles``).

A subprocess keeps dbt's global state and logging out of the caller (the CLI, Airflow tasks, tests) and uses
the ``dbt`` of the running Python's environment.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

from core.settings import Settings
from dbt_analytics import PROJECT_DIR
from dbt_analytics.profiles import dbt_dir, write_profiles

# dbt commands that take --project-dir/--profiles-dir/--target-path (all but init, --version, ...).
_PROJECT_COMMANDS = {
    "build", "run", "test", "seed", "snapshot", "compile", "show", "ls", "list", "parse", "debug", "deps",
    "docs", "source", "run-operation", "clean", "retry", "clone",
}  # fmt: skip


def dbt_executable() -> list[str]:
    """The ``dbt`` next to this Python (same venv), else ``python -m dbt.cli.main``."""
    script = Path(sys.executable).parent / "dbt"
    return [str(script)] if script.exists() else [sys.executable, "-m", "dbt.cli.main"]


def dbt_env(settings: Settings) -> dict[str, str]:
    """Environment for dbt: no usage stats, target and logs under the data directory."""
    base = dbt_dir(settings)
    return {
        **os.environ,
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "False",
        "DBT_TARGET_PATH": str(base / "target"),
        "DBT_LOG_PATH": str(base / "logs"),
        "DBT_PROFILES_DIR": str(base),
    }


def settings_vars(settings: Settings) -> dict[str, object]:
    """The dbt vars that come from settings: each minimum-evidence rule has one setting, and the marts (the one
    home of the ranking and trending rules) apply it; the API does not filter again."""
    return {
        "min_frames": settings.api_min_frames,
        "min_detections": settings.api_min_detections,
        "min_window_frames": settings.anomaly_min_window_frames,
        "baseline_weeks": settings.trending_baseline_weeks,
        "baseline_min_weeks": settings.trending_min_weeks,
        "score_floor": settings.trending_score_floor,
    }


def dbt_command(settings: Settings, args: Sequence[str]) -> list[str]:
    """The full dbt command line for ``args`` (e.g. ``["build", "--select", "marts"]``)."""
    args = list(args)
    command = dbt_executable() + args
    if args and args[0] in _PROJECT_COMMANDS:
        profiles = write_profiles(settings)
        command += ["--project-dir", str(PROJECT_DIR), "--profiles-dir", str(profiles.parent)]
        if "--vars" not in args and args[0] not in ("clean", "deps", "debug"):
            command += ["--vars", json.dumps({**settings_vars(settings), **settings.dbt_vars})]
    return command


def run_dbt(
    settings: Settings, args: Sequence[str], *, capture: bool = False, timeout_s: float | None = None
) -> subprocess.CompletedProcess:
    """Run ``dbt ARGS``; with ``capture`` the output is returned (text) instead of streamed."""
    return subprocess.run(
        dbt_command(settings, args),
        cwd=PROJECT_DIR,
        env=dbt_env(settings),
        stdin=subprocess.DEVNULL,
        capture_output=capture,
        text=True,
        timeout=timeout_s,
        check=False,
    )
