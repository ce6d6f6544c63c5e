"""`/`: a small read-only dashboard page; it calls the API with the key the user types in.

The key sits in the browser's localStorage, so the page runs under a strict Content-Security-Policy: scripts
and styles only from its own static files (no inline script, no other origin), requests only to this API.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import FileResponse, HTMLResponse

from shared.errors import NotFound

router = APIRouter(tags=["dashboard"], include_in_schema=False)
STATIC = Path(__file__).resolve().parent.parent / "static"
PAGE = STATIC / "index.html"
ASSETS = {"dashboard.js": "text/javascript", "dashboard.css": "text/css"}
CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self'; "
    "base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)
SECURITY_HEADERS = {
    "content-security-policy": CSP,
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
    "x-frame-options": "DENY",
}


@router.get("/", response_class=HTMLResponse)
def dashboard() -> HTMLResponse:
    """The dashboard page, under its Content-Security-Policy."""
    return HTMLResponse(PAGE.read_text(encoding="utf-8"), headers=SECURITY_HEADERS)


@router.get("/assets/{name}")
def asset(name: str) -> FileResponse:
    """The page's script and stylesheet (a fixed list: no path from the request reaches the disk)."""
    media_type = ASSETS.get(name)
    if media_type is None:
        raise NotFound("no such asset")
    return FileResponse(STATIC / name, media_type=media_type, headers=SECURITY_HEADERS)
