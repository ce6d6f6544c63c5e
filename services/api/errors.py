"""HTTP answers for the dashboard read side's domain errors (one handler per error class)."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from shared.insights.errors import BadRequestError, NotVisibleError

EXCERPT = 200  # an error never echoes more of the input than this


def install(app: FastAPI) -> None:
    """Register the handlers on the app."""

    @app.exception_handler(NotVisibleError)
    async def _not_found(_: Request, exc: NotVisibleError) -> JSONResponse:
        return JSONResponse({"detail": str(exc)[:EXCERPT]}, status_code=404)

    @app.exception_handler(BadRequestError)
    async def _bad_request(_: Request, exc: BadRequestError) -> JSONResponse:
        detail = {"message": str(exc)[:EXCERPT], "position": exc.position}
        return JSONResponse({"detail": detail}, status_code=422)
