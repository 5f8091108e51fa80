"""One minimum-evidence setting per rule: the settings reach dbt as vars, and the marts apply them."""

from __future__ import annotations

import json

from core.settings import Settings
from dbt_analytics.runner import dbt_command


def _vars(command: list[str]) -> dict:
    return json.loads(command[command.index("--vars") + 1])


def test_api_min_frames_is_dbt_min_frames(tmp_path):
    settings = Settings(data_dir=tmp_path, database_url="postgresql://u:@/db?host=/tmp", api_min_frames=10)
    assert _vars(dbt_command(settings, ["build"]))["min_frames"] == 10


def test_every_evidence_setting_is_a_dbt_var(tmp_path):
    settings = Settings(data_dir=tmp_path, database_url="postgresql://u:@/db?host=/tmp", api_min_detections=7,
                        trending_baseline_weeks=6, trending_min_weeks=3, trending_score_floor=0.5)
    assert _vars(dbt_command(settings, ["build"])) == {
        "min_frames": 30, "min_detections": 7, "min_window_frames": 20, "baseline_weeks": 6, "baseline_min_weeks": 3,
        "score_floor": 0.5}


def test_dbt_ranking_windows_are_the_apis():
    import yaml

    from api.schemas import Window
    from dbt_analytics import PROJECT_DIR

    project = yaml.safe_load((PROJECT_DIR / "dbt_project.yml").read_text())
    assert project["vars"]["lookback_hours"] == [window.hours for window in Window]


def test_explicit_dbt_vars_and_command_line_win(tmp_path):
    settings = Settings(data_dir=tmp_path, database_url="postgresql://u:@/db?host=/tmp", api_min_frames=10,
                        dbt_vars={"min_frames": 5, "lookback_hours": 2})
    assert _vars(dbt_command(settings, ["build"])) == {"min_frames": 5, "lookback_hours": 2, "min_detections": 10,
                                                        "min_window_frames": 20, "baseline_weeks": 4,
                                                        "baseline_min_weeks": 2, "score_floor": 0.1}
    given = dbt_command(settings, ["build", "--vars", '{"min_frames": 1}'])
    assert given.count("--vars") == 1 and _vars(given) == {"min_frames": 1}
    assert "--vars" not in dbt_command(settings, ["deps"])
