"""`yiwang open311 serve`: the Open311 router in its own small FastAPI app, run by uvicorn."""

from __future__ import annotations

from pathlib import Path

import uvicorn
from fastapi import FastAPI

from config.settings import Settings
from producers.ledger import Ledger
from producers.open311.agencies import load_directory
from producers.open311.api import create_router
from producers.open311.store import RequestLog, SharedRequestLog
from producers.paths import ledger_path
from producers.publisher import Publisher

PREFIX = "/open311/v2"


def create_app(
    settings: Settings,
    publisher: Publisher,
    *,
    agencies: Path | None = None,
    ledger: Ledger | None = None,
    log: RequestLog | SharedRequestLog | None = None,
) -> FastAPI:
    app = FastAPI(title="Yiwang Open311 GeoReport v2 intake", version="2")
    directory = load_directory(agencies) if agencies else load_directory()
    app.include_router(
        create_router(settings, publisher, directory=directory, ledger=ledger, log=log), prefix=PREFIX
    )
    return app


def serve(settings: Settings, publisher: Publisher, *, host: str, port: int, agencies: Path | None) -> None:
    """The request log is the shared one in the settings' database (every host answers alike)."""
    ledger = Ledger(ledger_path(settings))
    try:
        app = create_app(settings, publisher, agencies=agencies, ledger=ledger)
        uvicorn.run(app, host=host, port=port, log_level=settings.log_level.lower(), access_log=False)
    finally:
        ledger.close()
