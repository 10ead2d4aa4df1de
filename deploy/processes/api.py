"""The API process's composition root: `yiwang api`.

The dispatch app (`dispatch.api.app.create_app`) gets what lives outside dispatch from here:
the dead-letter desk's ports (`deploy.processes.desk`), the resident feed's side
(`deploy.processes.resident`) and, unless `--no-open311`, the Open311
intake's router with its publisher (`deploy.processes.open311`), closed when uvicorn returns.
Tests build the same app with `create_api`.
"""

from __future__ import annotations

import argparse
import logging
from collections.abc import Callable
from datetime import datetime

import uvicorn
from fastapi import FastAPI
from prometheus_client import CollectorRegistry

from config.settings import Settings
from deploy.processes.desk import api_ports
from deploy.processes.open311 import CLIENT_ID as OPEN311_CLIENT_ID
from deploy.processes.open311 import open311_mount
from deploy.processes.resident import FeedResidents
from dispatch.api.app import create_app
from dispatch.cases.flows import Sender
from dispatch.web.bundle import BundleError, ensure_bundle
from producers.publisher import Publisher
from streams.memory import release_in_background, tune_allocator

log = logging.getLogger(__name__)


def create_api(
    settings: Settings,
    *,
    open311: Publisher | None = None,
    registry: CollectorRegistry | None = None,
    send: Sender | None = None,
    clock: Callable[[], datetime] | None = None,
    live: bool = True,
) -> FastAPI:
    """The API process's app: the dispatch API with its dead-letter desk, and Open311 at
    `/open311/v2` when a publisher is given (the caller closes it)."""
    routers = [open311_mount(settings, open311)] if open311 is not None else []
    return create_app(
        settings,
        registry=registry,
        send=send,
        desk=api_ports(settings),
        routers=routers,
        clock=clock,
        live=live,
        residents=FeedResidents(),
    )


def _api(settings: Settings, args: argparse.Namespace) -> int:
    # the board's map of every open case is a response of megabytes: with glibc's mmap threshold
    # raised by such buffers and nothing trimmed, the API grew by ~20 MB a round of the board's
    # queries (streams/memory.py; README "Memory")
    tune_allocator()
    stop_releasing = release_in_background()
    if not args.no_build:
        try:
            ensure_bundle()
        except BundleError as exc:
            log.error("pages not built (%s); the API runs, /board, /m and /login answer 503", exc)
    publisher = None if args.no_open311 else Publisher(settings, client_id=OPEN311_CLIENT_ID)
    app = create_api(settings, open311=publisher, clock=settings.clock() if settings.clock_from else None)
    port = args.port if args.port is not None else settings.api_port
    try:
        uvicorn.run(app, host=args.host or settings.api_host, port=port, log_level=settings.log_level.lower())
    finally:
        stop_releasing()
        if publisher is not None:
            publisher.close()
    return 0


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("api", help="serve the dispatch API (operators, grid workers, agencies, Open311)")
    p.add_argument("--port", type=int, default=None, help="default: YIWANG_API_PORT (8080)")
    p.add_argument("--host", default=None, help="default: YIWANG_API_HOST (127.0.0.1)")
    p.add_argument("--no-open311", action="store_true", help="do not mount /open311/v2")
    p.add_argument("--no-build", action="store_true", help="serve the pages as built; never run npm")
    p.set_defaults(func=_api)
