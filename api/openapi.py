"""The API's OpenAPI document, written for the frontend: ``python -m api.openapi > frontend/openapi.json``.

The web UI's types (``frontend/src/api/schema.d.ts``) are generated from that file by openapi-typescript
(``npm run gen:api``); ``npm test`` fails when they no longer match it, and ``tests/api/test_openapi.py`` fails
when the file no longer matches the app. So a schema change reaches the UI's type checker, not a browser.
"""

from __future__ import annotations

import json
import sys


def document() -> dict:
    """The document of an app built like the deployed one (without the UI folder, which adds no route)."""
    from api.app import create_app

    return create_app(serve_ui=False).openapi()


def render() -> str:
    return json.dumps(document(), indent=2, sort_keys=True) + "\n"


if __name__ == "__main__":
    sys.stdout.write(render())
