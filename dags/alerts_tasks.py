"""The alerts DAG's work, apart from Airflow: one `streamscope alerts evaluate --once` pass as a subprocess (the
DAGs start components as processes; they never import them)."""

from __future__ import annotations

import json
import logging
import os
import subprocess

from dags.common import bin_dir

log = logging.getLogger(__name__)

PASS_TIMEOUT_S = 50  # a pass (evaluation plus the deliveries due) ends well within the one-minute interval


def evaluate_command() -> list[str]:
    return [str(bin_dir() / "streamscope"), "alerts", "evaluate", "--once"]


def run_evaluation(env: dict[str, str] | None = None, timeout_s: float = PASS_TIMEOUT_S) -> dict:
    """One pass; returns its summary (rules, episodes, fired, deliveries). Retries of failed deliveries are due
    at later passes: the outbox keeps them, so a task that fails or times out loses none."""
    command = evaluate_command()
    log.info("running %s", " ".join(command))
    result = subprocess.run(command, capture_output=True, text=True, timeout=timeout_s, env=env or dict(os.environ),
                            stdin=subprocess.DEVNULL, check=False)
    for line in result.stderr.splitlines()[-50:]:
        log.info("%s", line)
    if result.returncode:
        raise RuntimeError(f"streamscope alerts evaluate exited with {result.returncode}: {result.stderr[-500:]}")
    summary = json.loads(result.stdout.strip().splitlines()[-1])
    log.info("alerts pass: %s", summary)
    return summary
