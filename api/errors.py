"""One error shape for every 4xx/5xx: ``{"error": {"status", "message", "field"}}``.

FastAPI's own validation errors and 404/405s, the registry's refusals and database outages are all
turned into it, so the UI shows one kind of readable reason.
"""

from __future__ import annotations

import logging
from http import HTTPStatus

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DataError, OperationalError, ProgrammingError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match

from api.queries import MartsMissing, is_missing_table
from api.schemas import ErrorResponse
from core import registry
from core.runtime import RuntimeNotRunning

log = logging.getLogger(__name__)

REGISTRY_STATUS = {registry.InvalidInput: 422, registry.DuplicateStream: 409, registry.StreamNotFound: 404}


class ApiError(Exception):
    """An error the API answers on purpose (404 unknown stream, 422 bad range, ...)."""

    def __init__(self, status: int, message: str, field: str | None = None, headers: dict[str, str] | None = None):
        super().__init__(message)
        self.status, self.message, self.field, self.headers = status, message, field, headers


def error_response(status: int, message: str, field: str | None = None, headers=None) -> JSONResponse:
    body = {"error": {"status": status, "message": message, "field": field}}
    return JSONResponse(body, status_code=status, headers=headers)


def describe_validation(errors: list[dict]) -> tuple[str, str | None]:
    """A readable reason from pydantic's error list, and the name of the first input at fault."""
    parts, field = [], None
    for error in errors:
        loc = [str(item) for item in error.get("loc", ()) if item not in ("body", "query", "path", "header")]
        name = next((item for item in loc if not item.isdigit()), None)
        if field is None:
            field = name
        message = str(error.get("msg", "invalid value")).removeprefix("Value error, ")
        parts.append(f"{'.'.join(loc)}: {message}" if loc else message)
    if not parts:
        return "invalid request", None
    return "; ".join(parts[:5]), field


async def _api_error(request: Request, exc: ApiError) -> JSONResponse:
    return error_response(exc.status, exc.message, exc.field, exc.headers)


async def _http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
    if exc.status_code == 404 and exc.detail in (None, "Not Found"):
        message = f"nothing at {request.url.path}"
    elif exc.status_code == 405 and exc.detail in (None, "Method Not Allowed"):
        message = f"{request.method} is not allowed on {request.url.path}"
        # Starlette names the methods of the first route with this path only; list those of all of them.
        return error_response(405, message, None, {"Allow": ", ".join(allowed_methods(request))})
    elif exc.status_code == 400 and exc.detail == "There was an error parsing the body":
        # FastAPI's answer to a body that is not UTF-8 JSON: a validation error like any malformed JSON.
        return error_response(422, "the request body is not valid JSON", "body")
    else:
        message = str(exc.detail) if exc.detail else HTTPStatus(exc.status_code).phrase
    return error_response(exc.status_code, message, None, getattr(exc, "headers", None))


def allowed_methods(request: Request) -> list[str]:
    methods: set[str] = set()
    for route in request.app.router.routes:
        match, _ = route.matches({**request.scope, "method": "GET"})
        if match is not Match.NONE and getattr(route, "methods", None):
            methods |= set(route.methods)
    return sorted(methods)


async def _validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
    message, field = describe_validation(list(exc.errors()))
    return error_response(422, message, field)


async def _registry_error(request: Request, exc: registry.RegistryError) -> JSONResponse:
    status = next((code for kind, code in REGISTRY_STATUS.items() if isinstance(exc, kind)), 422)
    return error_response(status, exc.reason, exc.field)


async def _database_down(request: Request, exc: Exception) -> JSONResponse:
    log.warning("database unavailable: %s", exc)
    return error_response(503, "the database is unavailable; try again shortly", None, {"Retry-After": "5"})


async def _data_error(request: Request, exc: DataError) -> JSONResponse:
    # A value the database refuses (out of range, bad encoding) is the client's input, not a server fault.
    return error_response(422, "a value is out of the range the database accepts", None)


NOT_BUILT = "the analytics have not been built yet: they appear after the first dbt build (a few minutes)"


async def _marts_missing(request: Request, exc: Exception) -> JSONResponse:
    log.info("marts missing on %s: %s", request.url.path, exc)
    return error_response(503, NOT_BUILT, None, {"Retry-After": "60"})


async def _programming_error(request: Request, exc: ProgrammingError) -> JSONResponse:
    if is_missing_table(exc):
        return await _marts_missing(request, exc)
    return await _unexpected(request, exc)


async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
    log.exception("unhandled error on %s %s", request.method, request.url.path)
    return error_response(500, "internal error", None)


def install(app: FastAPI) -> None:
    app.add_exception_handler(ApiError, _api_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(registry.RegistryError, _registry_error)
    app.add_exception_handler(RuntimeNotRunning, _database_down)
    app.add_exception_handler(OperationalError, _database_down)
    app.add_exception_handler(DataError, _data_error)
    app.add_exception_handler(MartsMissing, _marts_missing)
    app.add_exception_handler(ProgrammingError, _programming_error)
    app.add_exception_handler(Exception, _unexpected)


def responses(*codes: int) -> dict[int | str, dict]:
    """OpenAPI entries for the error codes an endpoint can answer."""
    return {code: {"model": ErrorResponse, "description": HTTPStatus(code).phrase} for code in codes}
