"""Driving the Debian Chromium with Playwright (never a downloaded browser): a fresh profile
per page session, JavaScript errors collected, screenshots saved under tests/artifacts/."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from playwright.sync_api import Page, sync_playwright

from config.settings import Settings
from deploy.services.chromium import FLAGS
from dispatch.api.auth import Principal, issue_token
from tests.streams.harness import REPO

ARTIFACTS = REPO / "tests" / "artifacts"
DESKTOP = {"width": 1600, "height": 900}
PHONE = {"width": 390, "height": 844}


@contextmanager
def open_page(chromium: Path, profile: Path, *, phone: bool = False) -> Iterator[tuple[Page, list[str]]]:
    """A page in a fresh Chromium profile; the list collects uncaught errors and console errors."""
    errors: list[str] = []
    extra: dict[str, Any] = {"is_mobile": True, "has_touch": True, "device_scale_factor": 2} if phone else {}
    with sync_playwright() as pw:
        context = pw.chromium.launch_persistent_context(
            str(profile),
            executable_path=str(chromium),
            args=list(FLAGS),
            headless=True,
            viewport=PHONE if phone else DESKTOP,
            locale="zh-CN",
            timezone_id="Asia/Shanghai",
            **extra,
        )
        try:
            page = context.new_page()
            page.on("pageerror", lambda exc: errors.append(f"pageerror: {exc}"))
            page.on(
                "console", lambda msg: errors.append(f"console: {msg.text}") if msg.type == "error" else None
            )
            page.set_default_timeout(20_000)
            yield page, errors
        finally:
            context.close()


def shot(page: Page, name: str, *, full_page: bool = False) -> Path:
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=full_page)
    return path


def signed_in_as(page: Page, url: str, settings: Settings, principal: Principal, path: str) -> None:
    """Open `path` with the session a login would have kept (for operators who have no password
    in the stack's accounts file)."""
    session = {
        "token": issue_token(settings, principal),
        "role": principal.role.value,
        "sub": principal.subject,
        "street": None,
        "district": principal.district,
        "expires": 4102444800000,
    }
    page.goto(f"{url}/login")
    page.evaluate(f"localStorage.setItem('yiwang.session', {json.dumps(json.dumps(session))})")
    page.goto(f"{url}{path}")


def login(
    page: Page,
    url: str,
    *,
    username: str | None = None,
    password: str | None = None,
    worker_id: str | None = None,
    pin: str | None = None,
) -> None:
    """Through the login page, as a person does."""
    page.goto(f"{url}/login")
    if worker_id is not None:
        page.click("#tab-worker")
        page.fill("#login-worker [name=worker_id]", worker_id)
        page.fill("#login-worker [name=pin]", pin or "")
        page.click("#login-worker button[type=submit]")
    else:
        page.fill("#login-operator [name=username]", username or "")
        page.fill("#login-operator [name=password]", password or "")
        page.click("#login-operator button[type=submit]")
