"""Small helpers shared by the dispatch tests."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

SH = ZoneInfo("Asia/Shanghai")


def sh(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    """A local Asia/Shanghai instant (tests read like the working-time rules they check)."""
    return datetime(year, month, day, hour, minute, tzinfo=SH)
