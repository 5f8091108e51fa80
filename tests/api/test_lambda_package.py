"""`make lambda-package`: the zip holds the API and core with their base dependencies, nothing heavy."""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.slow
def test_lambda_package_is_small_and_free_of_pipeline_libraries() -> None:
    result = subprocess.run(["bash", "api/build_lambda.sh"], cwd=ROOT, capture_output=True, text=True, timeout=600,
                            env={**os.environ, "PYTHON": sys.executable})
    assert result.returncode == 0, result.stdout + result.stderr
    assert "handler imports cleanly" in result.stdout
    line = next(line for line in result.stdout.splitlines() if "unzipped" in line)
    unzipped_mb = float(line.split("MB zipped, ")[1].split(" MB unzipped")[0])
    assert unzipped_mb < 250
    with zipfile.ZipFile(ROOT / "build" / "lambda.zip") as archive:
        tops = {name.split("/")[0] for name in archive.namelist()}
    assert {"api", "core", "fastapi", "mangum", "sqlalchemy", "psycopg", "yt_dlp"} <= tops
    assert not tops & {"torch", "ultralytics", "cv2", "pulsar", "detector", "stream_reader", "aggregator"}
    assert "api/lambda_handler.py" in set(zipfile.ZipFile(ROOT / "build" / "lambda.zip").namelist())
