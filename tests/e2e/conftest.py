"""The browser tests reuse the API tests' mart tables and known rows."""

from tests.api.conftest import live_hls, marts  # noqa: F401  (fixtures)
