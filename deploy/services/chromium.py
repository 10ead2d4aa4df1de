"""Headless Chromium from Debian (`chromium`), for the page tests and screenshots.

Browser downloads by automation libraries are never used: the Debian build is driven
through its executable, with a CJK font so Chinese pages render as text, not boxes.
"""

from __future__ import annotations

from pathlib import Path

from config.settings import Settings
from deploy.services.common import ServiceError
from deploy.services.packages import ensure_packages

PACKAGES = ("chromium", "fonts-wqy-microhei")
EXECUTABLE = Path("/usr/bin/chromium")
FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
)
"""No sandbox (runs as root in containers), no GPU, and nothing that phones home."""


def ensure_chromium(settings: Settings) -> Path:
    """The Chromium executable, installed from Debian when missing."""
    ensure_packages(settings, PACKAGES, purpose="the page tests (headless Chromium)")
    if not EXECUTABLE.exists():
        raise ServiceError(f"{EXECUTABLE} missing after installing {PACKAGES[0]}: reinstall the package")
    return EXECUTABLE
