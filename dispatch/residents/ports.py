"""What the resident API needs of the feeds' side, as a port its process's root fills
(`deploy/processes/resident.py`): dispatch imports no feed, so the resident source's
categories, its adapter (a resident's document to the canonical report, checked like every
feed's) and Open311's request log come in through this."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Protocol

from sqlalchemy import Engine

from schemas.report import Report


class ResidentFeed(Protocol):
    def categories(self) -> list[str]:
        """The category codes a resident may pick (the resident source's, sorted)."""
        ...

    def adapt(self, doc: Mapping[str, object], now: datetime) -> Report:
        """The canonical report of a resident's document; a refusal raises
        `dispatch.lifecycle.errors.DetailError` naming the field."""
        ...

    def list_request(self, engine: Engine, report: Report) -> None:
        """List the published report in Open311's request log (GET requests shows it)."""
        ...
