"""The OpenAPI document the frontend's types are generated from is the app's own (npm test checks the types)."""

from __future__ import annotations

import json
from pathlib import Path

from api.openapi import render

COMMITTED = Path(__file__).resolve().parents[2] / "frontend" / "openapi.json"


def test_the_committed_document_is_the_apps() -> None:
    current = render()
    assert json.loads(COMMITTED.read_text()) == json.loads(current), (
        "frontend/openapi.json is stale: run `python -m api.openapi > frontend/openapi.json` and "
        "`npm run gen:api` in frontend/, then commit both"
    )
