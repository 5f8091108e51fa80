"""The `streamscope` command line end to end, in subprocesses, as a person would use it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from stream_reader.testsrc import LiveHLSSource
from tests.conftest import free_port

STREAMSCOPE = str(Path(sys.executable).with_name("streamscope"))


@pytest.fixture
def cli(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("STREAMSCOPE_")}
    env.update(STREAMSCOPE_DATA_DIR=str(tmp_path / "data"), STREAMSCOPE_EMBEDDED_PULSAR_PORT=str(free_port()))

    def run(*args: str, expect: int = 0) -> subprocess.CompletedProcess:
        done = subprocess.run([STREAMSCOPE, *args], env=env, capture_output=True, text=True, timeout=120)
        assert done.returncode == expect, f"{args}: rc={done.returncode}\n{done.stdout}\n{done.stderr}"
        return done

    yield run
    run("down")


def test_up_add_list_down_up_list(cli) -> None:
    with LiveHLSSource("zidane", width=640, height=360, fps=10) as source:
        up = cli("up")
        assert "postgres" in up.stdout and "running" in up.stdout
        # Quiet by default: the first start migrates, and Alembic's INFO lines stay out of the console.
        assert "alembic" not in up.stderr + up.stdout, up.stderr
        added = cli("streams", "add", source.url, "--allow-local", "--name", "x", "--json")
        stream = json.loads(added.stdout)
        assert (stream["name"], stream["kind"], stream["is_live"]) == ("x", "hls", True)

        listed = cli("streams", "list")
        assert "x" in listed.stdout and "pending" in listed.stdout
        cli("streams", "add", source.url, expect=2)  # duplicate refused

    assert "postgres" in cli("down").stdout
    assert "stopped" in cli("status").stdout
    verbose = cli("--verbose", "up")
    assert "alembic" in verbose.stderr  # the libraries' own lines, when asked for
    again = json.loads(cli("streams", "list", "--json").stdout)
    assert [(s["id"], s["name"]) for s in again] == [(stream["id"], "x")]

    cli("streams", "pause", str(stream["id"]))
    assert json.loads(cli("streams", "show", str(stream["id"]), "--json").stdout)["status"] == "paused"
    refused = cli("streams", "add", "javascript:alert(1)", expect=2)
    assert "not a URL" in refused.stderr
    cli("streams", "remove", str(stream["id"]))
    assert json.loads(cli("streams", "list", "--json").stdout) == []
    missing = cli("streams", "show", "999", expect=2)
    assert "no stream with id 999" in missing.stderr

