"""`/docs` (Swagger UI) and `/redoc`, served with their scripts from an installed package, never a CDN.

FastAPI's default pages load swagger-ui and redoc from a public CDN, so an offline install showed a blank
page. The assets come from the `fastapi-offline` wheel (swagger-ui-bundle.js, swagger-ui.css,
redoc.standalone.js, favicon.png; Apache-2.0 and MIT) and are served under /docs-assets/.
"""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

from fastapi import APIRouter
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from fastapi.responses import FileResponse, HTMLResponse

from shared.errors import NotFound

ASSETS = Path(str(files("fastapi_offline") / "static"))
PREFIX = "/docs-assets"
_TYPES = {".js": "text/javascript", ".css": "text/css", ".png": "image/png"}

router = APIRouter(include_in_schema=False)


@router.get("/docs")
def swagger_ui() -> HTMLResponse:
    """Swagger UI for /openapi.json."""
    return get_swagger_ui_html(
        openapi_url="/openapi.json",
        title="Newswatch API",
        swagger_js_url=f"{PREFIX}/swagger-ui-bundle.js",
        swagger_css_url=f"{PREFIX}/swagger-ui.css",
        swagger_favicon_url=f"{PREFIX}/favicon.png",
    )


@router.get("/redoc")
def redoc() -> HTMLResponse:
    """ReDoc for /openapi.json (no web fonts: the system's)."""
    return get_redoc_html(
        openapi_url="/openapi.json",
        title="Newswatch API",
        redoc_js_url=f"{PREFIX}/redoc.standalone.js",
        redoc_favicon_url=f"{PREFIX}/favicon.png",
        with_google_fonts=False,
    )


@router.get(PREFIX + "/{name}")
def asset(name: str) -> FileResponse:
    """One of the documentation pages' files (only the shipped ones)."""
    path = ASSETS / name
    if name not in {p.name for p in ASSETS.iterdir()} or path.suffix not in _TYPES:
        raise NotFound(f"no documentation asset {name!r}")
    return FileResponse(path, media_type=_TYPES[path.suffix], headers={"cache-control": "max-age=86400"})
