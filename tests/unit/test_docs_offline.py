"""/docs and /redoc work offline: every script, style and image they load is served by the API itself."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient

from services.api.app import create_app


@pytest.fixture(scope="module")
def client() -> TestClient:
    return TestClient(create_app())


@pytest.mark.parametrize("page", ["/docs", "/redoc"])
def test_the_page_names_no_external_url_and_its_assets_are_served(client: TestClient, page: str) -> None:
    response = client.get(page)
    assert response.status_code == 200
    html = response.text
    assert not re.findall(r"(?:https?:)?//[a-z0-9.-]+\.[a-z]{2,}", html), "an external URL in " + page
    assets = re.findall(r"""(?:src|href)=["']([^"']+)["']""", html)
    assets += re.findall(r"""(?:url|spec-url)\s*[:=]\s*['"]([^'"]+)['"]""", html)
    local = [a for a in assets if a.startswith("/docs-assets/")]
    assert local, html
    for url in local:
        got = client.get(url)
        assert got.status_code == 200 and len(got.content) > 1000, url


def test_only_shipped_assets_are_served(client: TestClient) -> None:
    assert client.get("/docs-assets/..%2f..%2fcore.py").status_code == 404
    assert client.get("/docs-assets/core.py").status_code == 404
