"""One minimum-evidence setting: the marts leave out what the API would not rank."""

from __future__ import annotations

import json

from core.settings import Settings
from dbt_analytics.runner import dbt_command


def _vars(command: list[str]) -> dict:
    return json.loads(command[command.index("--vars") + 1])


def test_api_min_frames_is_dbt_min_frames(tmp_path):
    settings = Settings(data_dir=tmp_path, database_url="postgresql://u:@/db?host=/tmp", api_min_frames=10)
    assert _vars(dbt_command(settings, ["build"]))["min_frames"] == 10


def test_explicit_dbt_vars_and_command_line_win(tmp_path):
    settings = Settings(data_dir=tmp_path, database_url="postgresql://u:@/db?host=/tmp", api_min_frames=10,
                        dbt_vars={"min_frames": 5, "lookback_hours": 2})
    assert _vars(dbt_command(settings, ["build"])) == {"min_frames": 5, "lookback_hours": 2}
    given = dbt_command(settings, ["build", "--vars", '{"min_frames": 1}'])
    assert given.count("--vars") == 1 and _vars(given) == {"min_frames": 1}
    assert "--vars" not in dbt_command(settings, ["deps"])
