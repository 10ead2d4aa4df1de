"""The API app factory: `create_app(settings)`; nothing is built at import time.

The lifespan opens the database pool (autocommit connections in UTC, each with the staging
tables of `dispatch.store`), a Kafka producer (unless a sender is given), loads the rules and
the workforce directory, and runs the outbox relay every few seconds. `/metrics` serves the
dispatch metrics (gauges refreshed from the database on each scrape). The process's root
(`deploy/processes/api.py`) passes in what lives outside dispatch: the dead-letter desk's
ports and the routers of other layers (the Open311 GeoReport v2 intake at `/open311/v2`, its
GET requests answering from the dispatch database through `dispatch.api.status`). The
volunteer scheme (`dispatch.volunteers`) hooks its claims and points into the case flows and
seeds its starting catalogue; the return visits (`dispatch.revisits`) hook their requests into
every closing. The pages (`/board`, `/board/kpi`, `/m`, `/v`, `/login`) are served from the
built bundle (dispatch/web), and the board's live feed (`/live`) runs a Kafka consumer of
events and escalations in the lifespan too. Every dispatch route's parameters pass the edge
checks of `dispatch.api.edge` (Open311 runs the same rule and answers in its own error
format); `/docs` and `/redoc` are served from local assets.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any

import psycopg
from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaError
from fastapi import APIRouter, Depends, FastAPI
from fastapi.middleware.gzip import GZipMiddleware
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from psycopg import AsyncConnection
from psycopg_pool import AsyncConnectionPool
from sqlalchemy import Engine, create_engine
from sqlalchemy.exc import SQLAlchemyError
from starlette.responses import Response

from config.settings import Settings
from dispatch.api import (
    errors,
    routes_agency,
    routes_agency_replies,
    routes_auth,
    routes_board,
    routes_case_panel,
    routes_dlq,
    routes_export,
    routes_forecast,
    routes_live,
    routes_notices,
    routes_operator,
    routes_people,
    routes_photos,
    routes_positions,
    routes_reference,
    routes_resident,
    routes_search,
    routes_surge,
    routes_volunteer_admin,
    routes_volunteers,
    routes_worker,
    routes_worker_detail,
)
from dispatch.api.accounts import load_accounts
from dispatch.api.docs import create_router as docs_router
from dispatch.api.edge import refuse_control_characters
from dispatch.api.live import LiveFeed
from dispatch.api.state import ApiState
from dispatch.cases.boot import libpq_url, load_people, prepare, store_policies
from dispatch.cases.flows import CaseFlows, Sender
from dispatch.deadletters.ports import DeskPorts
from dispatch.intake.rules import IntakeRules
from dispatch.kpi.metrics import DispatchMetrics
from dispatch.residents.ports import ResidentFeed
from dispatch.revisits.flows import RevisitFlows
from dispatch.revisits.policy import load_revisit_policy
from dispatch.volunteers.flows import VolunteerFlows
from dispatch.volunteers.policy import load_volunteer_policy
from dispatch.web.pages import create_router as pages_router

log = logging.getLogger(__name__)
RELAY_EVERY_S = 5.0
PEOPLE_EVERY_S = 120.0


async def _relay_forever(state: ApiState) -> None:
    """The outbox relay, and the working calendar brought up to the imported years (first at
    start, then every few seconds)."""
    while True:
        try:
            async with state.pool.connection() as conn:
                await state.flows.refresh_calendar(conn)
                while await state.flows.relay(conn):
                    pass
        except (psycopg.OperationalError, KafkaError, OSError) as exc:
            log.warning("api: outbox relay failed (%s); retrying in %.0fs", exc, RELAY_EVERY_S)
        await asyncio.sleep(RELAY_EVERY_S)


async def _refresh_people_forever(state: ApiState, engine: Engine) -> None:
    """The directory the API routes with (operator dispatch, reassign): reloaded like the
    workers' so an import or a shift exception made elsewhere (the CLI) reaches it too."""
    while True:
        await asyncio.sleep(PEOPLE_EVERY_S)
        try:
            state.flows.people = await asyncio.to_thread(load_people, engine, state.flows.rules.taxonomy)
        except (SQLAlchemyError, OSError) as exc:
            log.warning("api: directory refresh failed (%s); retrying in %.0fs", exc, PEOPLE_EVERY_S)


async def _cancel(*tasks: asyncio.Task[None]) -> None:
    for task in tasks:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


def _mount(app: FastAPI, routers: Sequence[tuple[str, APIRouter]]) -> None:
    """Error handlers, compression, the routers, the pages, then the routers the root adds."""
    errors.install(app)
    app.add_middleware(GZipMiddleware, minimum_size=1024)  # never event streams (Starlette excludes them)
    for module in (
        routes_auth,
        routes_photos,
        routes_worker,
        routes_worker_detail,
        routes_positions,
        routes_operator,
        routes_board,
        routes_case_panel,
        routes_live,
        routes_reference,
        routes_agency,
        routes_notices,
        routes_people,
        routes_dlq,
        routes_volunteers,
        routes_volunteer_admin,
        routes_resident,
        routes_agency_replies,
        routes_search,
        routes_export,
        routes_surge,
        routes_forecast,
    ):
        app.include_router(module.router, dependencies=[Depends(refuse_control_characters)])
    app.include_router(pages_router())
    app.include_router(docs_router())
    for prefix, router in routers:
        app.include_router(router, prefix=prefix)


def _warn_of_development_keys(settings: Settings) -> None:
    if settings.uses_dev_jwt_secret:
        log.warning("api: tokens are signed with the development secret; set YIWANG_JWT_SECRET in production")
    if settings.uses_dev_search_key:
        log.warning("api: reporters' phones are indexed with the development key; set YIWANG_SEARCH_KEY")


def create_app(
    settings: Settings,
    *,
    registry: CollectorRegistry | None = None,
    send: Sender | None = None,
    desk: DeskPorts | None = None,
    routers: Sequence[tuple[str, APIRouter]] = (),
    clock: Callable[[], datetime] | None = None,
    live: bool = True,
    residents: ResidentFeed | None = None,
) -> FastAPI:
    """The API and the pages. `send` replaces the app's own Kafka producer; `desk` wires the
    dead-letter desk (without it `/dlq` answers 404); `residents` the resident feed's side
    (without it `/r` takes no reports: 503); `routers` are (prefix, router) pairs of
    other layers the process's root mounts (Open311); `live` runs the board's feed (a Kafka
    consumer of events and escalations)."""
    registry = registry if registry is not None else CollectorRegistry()
    metrics = DispatchMetrics.create(registry)
    engine = create_engine(settings.db_url, pool_size=2)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        _warn_of_development_keys(settings)
        pool: AsyncConnectionPool[AsyncConnection[Any]] = AsyncConnectionPool(
            libpq_url(settings.db_url),
            kwargs={"autocommit": True, "options": "-c TimeZone=UTC", "application_name": "yiwang-api"},
            configure=prepare,
            min_size=1,
            max_size=8,
            open=False,
        )
        await pool.open(wait=True)
        producer: AIOKafkaProducer | None = None
        sender = send
        if sender is None:
            producer = AIOKafkaProducer(
                bootstrap_servers=settings.bootstrap_servers, enable_idempotence=True, acks="all"
            )
            await producer.start()
            kafka = producer

            async def produce(topic: str, key: bytes, value: bytes, headers: list[tuple[str, bytes]]) -> Any:
                return await kafka.send(topic, value, key=key, headers=headers)

            sender = produce
        rules = await asyncio.to_thread(IntakeRules.load)
        people = await asyncio.to_thread(load_people, engine, rules.taxonomy)
        extra = {"clock": clock} if clock is not None else {}
        flows = CaseFlows(settings, rules, people, sender, metrics=metrics, **extra)
        volunteers = VolunteerFlows(await asyncio.to_thread(load_volunteer_policy), flows, **extra)
        async with pool.connection() as conn:
            await store_policies(conn, rules.book)
            await volunteers.seed_catalogue(conn)
        feed = await LiveFeed.started(settings) if live else None
        accounts = load_accounts(settings.accounts_file)
        state = ApiState(
            settings,
            pool,
            flows,
            metrics,
            accounts,
            feed,
            volunteers,
            revisits=RevisitFlows(await asyncio.to_thread(load_revisit_policy), flows, **extra),
            engine=engine,
            residents=residents,
        )
        app.state.yiwang = state
        relay = asyncio.create_task(_relay_forever(state))
        directory = asyncio.create_task(_refresh_people_forever(state, engine))
        try:
            yield
        finally:
            if feed is not None:
                await feed.stop()
            await _cancel(relay, directory)
            await pool.close()
            if producer is not None:
                await producer.stop()
            engine.dispose()

    app = FastAPI(
        title="Yiwang 一网统管 dispatch API",
        version="1",
        description="Operators, grid workers and agencies. Authenticate with a bearer token.",
        lifespan=lifespan,
        docs_url=None,  # served from local assets (dispatch/api/docs.py)
        redoc_url=None,
    )
    setattr(app.state, routes_dlq.PORTS, desk)
    _mount(app, routers)

    @app.get("/metrics", include_in_schema=False)
    async def prometheus() -> Response:
        state: ApiState = app.state.yiwang
        async with state.pool.connection() as conn:
            await metrics.refresh(conn, datetime.now(UTC))
        return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)

    @app.get("/health", include_in_schema=False)
    async def health() -> dict[str, str]:
        return {"status": "ok"}

    return app
