"""The redraw timer: when a new grid layer version is in force, the open cases it moves are
re-homed (dispatch/regrid/). Runs beside the alerts agent, on its case flows and connection.

The layer versions are re-read every tick (cheap when nothing changed: `GridIndexes.refresh`);
a version that takes effect later is acted on at the first tick after its effective time.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime

import faust
import psycopg
from sqlalchemy import create_engine
from sqlalchemy.exc import SQLAlchemyError

from config.settings import Settings
from dispatch.regrid.flows import RegridFlows
from geo.index import GridIndexes, NoLayerInForce
from streams.agents.alerts import AlertsRuntime

log = logging.getLogger(__name__)
EVERY_S = 60.0


def install(app: faust.App, settings: Settings, runtime: AlertsRuntime) -> None:
    engine = create_engine(settings.db_url, pool_size=1)
    indexes = GridIndexes()
    regrid: list[RegridFlows] = []

    @app.timer(EVERY_S)  # type: ignore[untyped-decorator]
    async def rehome() -> None:
        try:
            await asyncio.to_thread(indexes.refresh, engine)
            index = indexes.at(datetime.now(UTC))
        except NoLayerInForce:
            return
        except (SQLAlchemyError, OSError) as exc:
            log.warning("regrid: layer versions not read (%s); retrying at the next tick", type(exc).__name__)
            return
        try:
            async with runtime.one_at_a_time:
                flows, conn = await runtime.ready()
                if not regrid:
                    regrid.append(RegridFlows(flows.cases))
                await regrid[0].rehome(conn, index)
        except psycopg.OperationalError as exc:
            log.warning("regrid: pass failed (%s); retrying at the next tick", exc)
            await runtime.reset()
