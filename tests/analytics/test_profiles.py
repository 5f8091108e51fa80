"""profiles.yml from the settings: the embedded server's socket and an external server alike, never in git."""

from __future__ import annotations

import stat

import pytest
import yaml

from core.settings import Settings
from dbt_analytics.profiles import PROFILE_NAME, connection_params, write_profiles


def test_embedded_socket_url():
    params = connection_params("postgresql://postgres:@/streamscope?host=/data/postgres")
    assert params == {
        "host": "/data/postgres", "port": 5432, "user": "postgres", "password": "", "dbname": "streamscope"
    }


def test_external_url_with_password_port_and_ssl():
    params = connection_params("postgresql+psycopg://app:s%40cret@db.example.com:6543/stats?sslmode=require")
    assert params == {
        "host": "db.example.com", "port": 6543, "user": "app", "password": "s@cret", "dbname": "stats",
        "sslmode": "require",
    }


def test_not_postgres_is_refused():
    with pytest.raises(ValueError, match="not a Postgres URL"):
        connection_params("mysql://u:p@h/db")


def test_profile_written_under_data_dir_private(tmp_path):
    settings = Settings(data_dir=tmp_path, database_url="postgresql://app:pw@db:5433/stats", dbt_schema="marts")
    path = write_profiles(settings)
    assert path == tmp_path / "dbt" / "profiles.yml"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    output = yaml.safe_load(path.read_text())[PROFILE_NAME]["outputs"]["default"]
    assert output | {"threads": 0} == {
        "type": "postgres", "host": "db", "port": 5433, "user": "app", "password": "pw", "dbname": "stats",
        "schema": "marts", "threads": 0, "connect_timeout": 10,
    }
