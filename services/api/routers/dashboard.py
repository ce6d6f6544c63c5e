"""`/`: the dashboard page, from static files inside the package (no build step, nothing from outside).

Served with a strict Content-Security-Policy: scripts, styles and connections from this origin only, no
inline script or style, no framing, no plugins. The key the user types stays in the tab (sessionStorage).
"""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import FileResponse, Response

from shared.errors import NotFound

router = APIRouter(tags=["dashboard"], include_in_schema=False)
STATIC = Path(__file__).resolve().parent.parent / "static"
CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
    "font-src 'self'; manifest-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)
HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "Cache-Control": "no-cache",
}
TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".svg": "image/svg+xml",
}
# Only these files are served: a fixed list, so no path from the URL ever reaches the filesystem.
FILES = {p.name: p for p in STATIC.iterdir() if p.suffix in TYPES} if STATIC.is_dir() else {}


def _file(name: str) -> Response:
    path = FILES.get(name)
    if path is None:
        raise NotFound("no such file")
    return FileResponse(path, media_type=TYPES[path.suffix], headers=HEADERS)


@router.get("/")
def dashboard() -> Response:
    """The page."""
    return _file("index.html")


@router.get("/static/{name}")
def static_file(name: str) -> Response:
    """A script, style sheet or icon of the page."""
    return _file(name)
