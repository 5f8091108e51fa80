"""The import-linter contracts in pyproject.toml: kept by the code, and broken by each kind of violation."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ["core", "stream_reader", "detector", "aggregator", "api", "dbt_analytics", "dags", "alerts"]
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")


def lint_imports(tree: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(tree)}
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-logo", "--no-cache", "--config", str(tree / "pyproject.toml")],
        cwd=tree, env=env, capture_output=True, text=True, timeout=120,
    )


def copy_tree(dest: Path) -> Path:
    """The project's Python packages and its contracts, without anything else."""
    for package in PACKAGES:
        shutil.copytree(ROOT / package, dest / package, ignore=lambda _d, names: [
            n for n in names if not (n.endswith(".py") or (Path(_d) / n).is_dir()) or n in ("target", "__pycache__")])
    shutil.copy(ROOT / "pyproject.toml", dest / "pyproject.toml")
    return dest


def test_the_code_keeps_every_contract() -> None:
    result = lint_imports(ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


@pytest.mark.parametrize(
    ("module", "line", "contract"),
    [
        ("aggregator/store.py", "import stream_reader.sampling", "Components meet only at topics and tables"),
        ("dags/common.py", "import detector", "The DAGs start components as processes"),
        ("api/queries.py", "import alerts.rules", "Components meet only at topics and tables"),
        ("dags/common.py", "import alerts.worker", "The DAGs start components as processes"),
        ("core/settings.py", "import api.app", "core imports no component"),
        # the cycle the runtime module removed: the engine resolving its URL through the module that starts servers
        ("core/db/engine.py", "import core.embedded", "No import cycle among core's modules"),
        ("api/queries.py", "import torch", "api and core import no torch"),
        ("core/messages.py", "import cv2", "api and core import no torch"),
        # a lazy import of the broker client anywhere but core.broker
        ("core/registry.py", "def _f():\n    import pulsar", "api and core import no torch"),
    ],
)
def test_a_violation_breaks_its_contract(tmp_path: Path, module: str, line: str, contract: str) -> None:
    tree = copy_tree(tmp_path)
    with open(tree / module, "a") as source:
        source.write(f"\n{line}  # a deliberate violation\n")
    result = lint_imports(tree)
    assert result.returncode != 0
    report = result.stdout.split("Broken contracts")[1]
    assert contract in report, result.stdout
