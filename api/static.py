"""The built web UI (frontend/dist) at /, with the single-page-app fallback to index.html.

Files that exist are served as they are (hashed assets cached for a year); any other GET outside /api
(client routes such as /streams/3) gets index.html so the UI's router takes over. /api stays JSON.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.responses import FileResponse, Response

from api.errors import ApiError
from core.settings import Settings

RESERVED = ("api", "docs", "redoc", "openapi.json", "metrics")


def static_dir(settings: Settings) -> Path | None:
    """settings.api_static_dir, else frontend/dist beside the package when it has been built."""
    if settings.api_static_dir:
        folder = Path(settings.api_static_dir).expanduser().resolve()
    else:
        folder = (Path(__file__).resolve().parent.parent / "frontend" / "dist").resolve()
    return folder if (folder / "index.html").is_file() else None


def mount_ui(app: FastAPI, folder: Path) -> None:
    index = folder / "index.html"

    @app.get("/{path:path}", include_in_schema=False)
    async def ui(path: str, request: Request) -> Response:
        first = path.split("/", 1)[0]
        if first in RESERVED:
            raise ApiError(404, f"nothing at /{path}")
        if path:
            candidate = (folder / path).resolve()
            if candidate.is_relative_to(folder) and candidate.is_file():
                immutable = candidate.parent.name == "assets"
                cache = "public, max-age=31536000, immutable" if immutable else "no-cache"
                return FileResponse(candidate, headers={"Cache-Control": cache})
        return FileResponse(index, headers={"Cache-Control": "no-cache"})
