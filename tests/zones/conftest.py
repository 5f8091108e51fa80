"""Fixtures the zone tests share with the API tests."""

from tests.api.conftest import marts  # noqa: F401  (fixture)
