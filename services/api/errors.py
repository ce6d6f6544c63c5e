"""Errors mapped once: domain errors (shared/errors.py), request validation and HTTP errors all answer with
the one ErrorBody (shared/schemas.py), and every route's OpenAPI entry lists the error statuses it can give.

Routes raise domain errors and never build HTTPExceptions; the status is chosen here, from the error's
class (the first class of its MRO found in STATUS).
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

from fastapi import FastAPI, Request
from fastapi.dependencies.models import Dependant
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.utils import get_openapi
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute, iter_route_contexts
from starlette.exceptions import HTTPException as StarletteHTTPException

from shared import errors
from shared.schemas import ErrorBody, FieldError, excerpt

log = logging.getLogger(__name__)

STATUS: dict[type[errors.NewswatchError], int] = {
    errors.Unauthenticated: 401,
    errors.ForbiddenScope: 403,
    errors.NotFound: 404,
    errors.Conflict: 409,
    errors.TooLarge: 413,
    errors.TooMany: 429,
    errors.InvalidInput: 422,
}
HTTP_CODES = {
    400: "bad_request",
    401: "unauthenticated",
    403: "forbidden_scope",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "too_large",
    422: "validation",
    429: "too_many_requests",
    503: "unavailable",
}
MAX_FIELD_ERRORS = 20
_DESCRIPTIONS = {
    401: "no API key, or an unknown or revoked one",
    403: "the key lacks the scope this request needs",
    404: "no such resource (or one of another owner)",
    409: "conflicts with the current state",
    413: "the request body is over NEWSWATCH_MAX_REQUEST_BYTES",
    422: "invalid input (fields, rule syntax, refused address)",
    429: "over a per-key limit; try again after Retry-After seconds",
}


def error_response(
    status: int, detail: str, code: str, headers: dict[str, str] | None = None, **extra: Any
) -> JSONResponse:
    """The one error body, with the message cut to a short excerpt."""
    body = ErrorBody(detail=excerpt(detail), code=code, **extra)
    return JSONResponse(body.model_dump(exclude_none=True), status_code=status, headers=headers)


def status_of(exc: errors.NewswatchError) -> int:
    """The HTTP status of a domain error."""
    for cls in type(exc).__mro__:
        if cls in STATUS:
            return STATUS[cls]
    return 400


async def _domain(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, errors.NewswatchError)
    status = status_of(exc)
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    if isinstance(exc, errors.TooMany):
        headers = {"Retry-After": str(exc.retry_after)}
    return error_response(status, str(exc), exc.code, headers, **exc.details())


def _loc(loc: tuple[Any, ...]) -> list[str | int]:
    return [p if isinstance(p, int) else excerpt(str(p), 60) for p in loc[:10]]


async def _validation(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    # pydantic's errors carry the invalid input itself: a 50 MB field must not come back in the answer
    raw = list(exc.errors())
    items = [
        FieldError(
            loc=_loc(tuple(e.get("loc", ()))), msg=excerpt(str(e.get("msg", ""))), type=e.get("type", "")
        )
        for e in raw[:MAX_FIELD_ERRORS]
    ]
    first = items[0] if items else None
    summary = f"{'.'.join(map(str, first.loc))}: {first.msg}" if first else "invalid request"
    if len(raw) > 1:
        summary += f" (and {len(raw) - 1} more)"
    return error_response(422, summary, "validation", errors=[i.model_dump() for i in items])


async def _http(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    if exc.status_code == 400 and isinstance(exc.__cause__, ValueError):
        # FastAPI answers 400 for a body it cannot decode (not UTF-8); to the client that is invalid input,
        # like malformed JSON, which FastAPI answers 422
        err = FieldError(loc=["body"], msg="the body is not UTF-8 JSON", type="json_invalid")
        return error_response(422, f"body: {err.msg}", "validation", errors=[err.model_dump()])
    detail = exc.detail if isinstance(exc.detail, str) else str(exc.detail)
    code = HTTP_CODES.get(exc.status_code, "error")
    return error_response(exc.status_code, detail, code, dict(exc.headers or {}) or None)


async def _internal(_: Request, exc: Exception) -> JSONResponse:
    # Logged with its traceback by the server; the client learns nothing of the internals.
    return error_response(500, "internal error", "internal")


def install(app: FastAPI) -> None:
    """Register the handlers on the app."""
    app.add_exception_handler(errors.NewswatchError, _domain)
    app.add_exception_handler(RequestValidationError, _validation)
    app.add_exception_handler(StarletteHTTPException, _http)
    app.add_exception_handler(Exception, _internal)


def api_routes(app: FastAPI) -> Iterator[tuple[str, str, APIRoute]]:
    """Every API route of the app as (path, method, route), included routers flattened."""
    for ctx in iter_route_contexts(app.routes):
        route = ctx.original_route
        if isinstance(route, APIRoute) and ctx.path_format:
            for method in sorted(ctx.methods or ()):
                yield ctx.path_format, method, route


def _calls(dependant: Dependant) -> Iterator[Any]:
    for dep in dependant.dependencies:
        yield dep.call
        yield from _calls(dep)


def possible_statuses(route: APIRoute, *, key_check: Any, admin_check: Any) -> set[int]:
    """The error statuses a route can answer, read from its dependencies, parameters and body."""
    calls = set(_calls(route.dependant))
    found: set[int] = set()
    if key_check in calls:
        found.add(401)
        if admin_check in calls or not (route.methods or set()) <= {"GET", "HEAD"}:
            found.add(403)
    if route.dependant.path_params or any(p.name.endswith("_id") for p in route.dependant.query_params):
        found.add(404)  # a path id, or a filter naming a resource (`?feed_id=`) the caller may not see
    if route.body_field is not None:
        found |= {413, 422}
    if route.dependant.path_params or route.dependant.query_params or route.dependant.header_params:
        found.add(422)
    return found


def install_openapi(app: FastAPI, *, key_check: Any, admin_check: Any) -> None:
    """Make the app's OpenAPI schema list every error status of every route, with the ErrorBody.

    Statuses a route raises from its domain (409, a 404 without an id parameter) are declared on the route
    with `responses=errors_doc(...)`; the ones its shape implies (401, 403, 404, 413, 422) are added here.
    """

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is not None:
            return app.openapi_schema
        schema = get_openapi(
            title=app.title, version=app.version, description=app.description, routes=app.routes
        )
        components = schema.setdefault("components", {}).setdefault("schemas", {})
        defs = ErrorBody.model_json_schema(ref_template="#/components/schemas/{model}")
        components.update(defs.pop("$defs", {}))
        components["ErrorBody"] = defs
        ref = {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorBody"}}}
        for path, method, route in api_routes(app):
            if not route.include_in_schema:
                continue
            op = schema["paths"][path][method.lower()]
            for status in possible_statuses(route, key_check=key_check, admin_check=admin_check):
                op["responses"][str(status)] = {"description": _DESCRIPTIONS[status], "content": ref}
        for unused in ("HTTPValidationError", "ValidationError"):
            components.pop(unused, None)
        app.openapi_schema = schema
        return schema

    app.openapi = openapi  # type: ignore[method-assign]  # FastAPI's documented way to customise the schema


def errors_doc(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """`responses=` for a route's domain statuses (e.g. 409), with the ErrorBody."""
    return {s: {"model": ErrorBody, "description": _DESCRIPTIONS.get(s, "error")} for s in statuses}
