"""Where the producers keep their small state under `settings.home`."""

from __future__ import annotations

from pathlib import Path

from config.settings import Settings


def ledger_path(settings: Settings) -> Path:
    """Report ids already published (producers/ledger.py)."""
    return settings.home / "producers" / "ledger.sqlite3"
