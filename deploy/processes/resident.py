"""The resident API's port (`dispatch.residents.ports.ResidentFeed`) filled from the feeds:
the resident source's configuration and adapter (`producers.adapters.registry`) and Open311's
shared request log. The API's root (`deploy/processes/api.py`) passes it in."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

import orjson
from sqlalchemy import Engine

from config.policy import load_taxonomy
from dispatch.lifecycle.errors import DetailError
from producers.adapters.registry import ADAPTERS
from producers.open311.store import SharedRequestLog
from producers.outcome import Context, Rejection
from producers.sources import load_sources
from schemas.dead_letter import Origin
from schemas.report import Report, Source


class FeedResidents:
    """The resident feed's side, read from config/ on each call (as the feeds read it)."""

    def categories(self) -> list[str]:
        return sorted(set(load_sources()[Source.RESIDENT].categories.values()))

    def adapt(self, doc: Mapping[str, object], now: datetime) -> Report:
        ctx = Context(load_sources()[Source.RESIDENT], load_taxonomy(), now, Origin(file="resident-api"))
        (out,) = list(ADAPTERS[Source.RESIDENT](orjson.dumps(dict(doc)), ctx))
        if isinstance(out, Rejection):
            raise DetailError(out.field, out.reason)
        if not isinstance(out, Report):  # the resident adapter has no companion records
            raise TypeError(f"the resident adapter gave a {type(out).__name__}, not a report")
        return out

    def list_request(self, engine: Engine, report: Report) -> None:
        category = load_taxonomy().categories[report.category]
        SharedRequestLog(engine).record(report, service_name=category.zh, agency=category.lead_department)
