"""/docs (Swagger UI) and /redoc in the Debian Chromium, served by the running `yiwang api`
from its own assets: every request the pages make stays on this origin, the CSP holds (no
console errors), and both render the operations of /openapi.json."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest

from tests.dispatch.web.browser import open_page, shot
from tests.dispatch.web.conftest import Stack

pytestmark = [pytest.mark.db, pytest.mark.kafka]


def _elsewhere(url: str, origin: str) -> bool:
    return url.startswith("http") and urlsplit(url).netloc != origin


def test_the_docs_pages_load_from_this_origin_only(stack: Stack, chromium: Path, tmp_path: Path) -> None:
    origin = urlsplit(stack.url).netloc
    for path in ("/docs", "/redoc"):
        answer = httpx.get(stack.url + path)
        assert answer.status_code == 200
        assert "script-src 'self'" in answer.headers["content-security-policy"]
        assert "http" not in answer.text  # no absolute URL: nothing from elsewhere
    assert httpx.get(f"{stack.url}/docs/assets/..%2Fpages.py").status_code == 404
    with open_page(chromium, tmp_path / "profile") as (page, errors):
        elsewhere: set[str] = set()  # any request (even one the CSP blocks) to another origin
        page.on("request", lambda r: elsewhere.add(r.url) if _elsewhere(r.url, origin) else None)
        page.goto(f"{stack.url}/docs")
        page.wait_for_selector("#operations-operator-list_incidents_incidents_get")
        assert page.locator(".opblock").count() >= 17
        shot(page, "api-docs")
        page.goto(f"{stack.url}/redoc")
        page.wait_for_selector("text=Yiwang 一网统管 dispatch API")
        page.wait_for_selector("[data-section-id='tag/operator']")
        shot(page, "api-redoc")
        assert not errors, errors
        assert elsewhere == set(), elsewhere
        assert not errors, errors
