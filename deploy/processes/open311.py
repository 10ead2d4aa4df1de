"""The Open311 intake as the API process mounts it: the producers' GeoReport v2 router, with
its request log in the dispatch database and GET requests answering the state of the case a
request became (`dispatch.api.status.DispatchStatus`)."""

from __future__ import annotations

from fastapi import APIRouter
from sqlalchemy import create_engine

from config.settings import Settings
from dispatch.api.status import DispatchStatus
from producers.open311.api import create_router
from producers.open311.serve import PREFIX
from producers.open311.store import SharedRequestLog
from producers.publisher import Publisher

CLIENT_ID = "yiwang-api-open311"


def open311_mount(settings: Settings, publisher: Publisher) -> tuple[str, APIRouter]:
    """(prefix, router) for `dispatch.api.app.create_app(routers=...)`; one engine serves the
    request log and the case status."""
    engine = create_engine(settings.db_url, pool_size=2, pool_pre_ping=True)
    router = create_router(settings, publisher, log=SharedRequestLog(engine), status=DispatchStatus(engine))
    return PREFIX, router
