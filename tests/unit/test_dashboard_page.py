"""The dashboard page's static guarantees: strict CSP on every file, nothing inline, no persistent key, no
HTML built from strings, only a fixed list of files served, every module it imports present."""

from __future__ import annotations

import re
from pathlib import Path

from fastapi import FastAPI
from fastapi.testclient import TestClient

from services.api import errors
from services.api.routers import dashboard

STATIC = Path(dashboard.__file__).resolve().parent.parent / "static"


def _client() -> TestClient:
    app = FastAPI()
    app.include_router(dashboard.router)
    errors.install(app)
    return TestClient(app)


def test_every_file_is_served_with_a_strict_policy() -> None:
    client = _client()
    for name in ["", *sorted(dashboard.FILES)]:
        r = client.get(f"/static/{name}" if name else "/")
        assert r.status_code == 200, name
        csp = r.headers["content-security-policy"]
        assert "default-src 'none'" in csp and "script-src 'self'" in csp and "style-src 'self'" in csp
        assert "unsafe" not in csp and "frame-ancestors 'none'" in csp
        assert r.headers["x-content-type-options"] == "nosniff"
    assert client.get("/static/..%2Fdashboard.py").status_code == 404
    assert client.get("/static/nope.js").status_code == 404


def test_no_inline_script_or_style_in_the_page() -> None:
    html = (STATIC / "index.html").read_text()
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html), "inline <script>"
    assert "<style" not in html and not re.search(r"\sstyle=", html), "inline style"
    assert not re.search(r"\son[a-z]+=", html), "inline event handler"
    assert not re.search(r"(src|href)=\"(https?:)?//", html), "an asset from outside the machine"


def test_scripts_never_build_html_from_strings_nor_keep_the_key() -> None:
    for js in STATIC.glob("*.js"):
        code = js.read_text()
        for banned in (
            "innerHTML",
            "outerHTML",
            "insertAdjacentHTML",
            "document.write",
            "localStorage",
            "eval(",
            "new Function",
            ".style.",
            'setAttribute("style"',
        ):
            assert banned not in code, f"{js.name} uses {banned}"
        for imported in re.findall(r'from "\./([\w.]+)"', code):
            assert (STATIC / imported).is_file(), f"{js.name} imports missing {imported}"
            assert imported in dashboard.FILES
