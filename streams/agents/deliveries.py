"""The notices' sender: every few seconds, the due deliveries are sent on their channels
(`dispatch.notices.deliveries.DeliverySender`), on a connection of its own, so a receiver that
hangs delays only the messages, never the notices agent, the SLA tracker or the intake.

Runs in every worker (`install`); deliveries are claimed with SKIP LOCKED, so several workers
share them. `python -m streams.agents.deliveries` runs the sender alone.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import faust
import psycopg
from prometheus_client import CollectorRegistry

from config.logs import configure_logging
from config.settings import Settings
from dispatch.cases.boot import connect
from dispatch.notices.channels import load_channels
from dispatch.notices.deliveries import DeliveryMetrics, DeliverySender, Sent

log = logging.getLogger(__name__)
SEND_EVERY_S = 5.0


class DeliveryRuntime:
    def __init__(self, settings: Settings, registry: CollectorRegistry) -> None:
        self.settings = settings
        self.sender = DeliverySender(load_channels(settings.channels_file), DeliveryMetrics.create(registry))
        self.conn: psycopg.AsyncConnection[Any] | None = None

    async def tick(self) -> Sent | None:
        try:
            if self.conn is None or self.conn.closed:
                self.conn = await connect(self.settings, application_name="yiwang-deliveries")
            result = await self.sender.run_once(self.conn)
        except psycopg.OperationalError as exc:
            log.warning("notices: delivery pass failed (%s); retrying at the next tick", exc)
            if self.conn is not None and not self.conn.closed:
                await self.conn.close()
            self.conn = None
            return None
        if result.sent or result.retried or result.failed:
            log.info("notices: %d sent, %d to retry, %d failed", result.sent, result.retried, result.failed)
        return result


def install(app: faust.App, settings: Settings, registry: CollectorRegistry) -> DeliveryRuntime | None:
    """Add the sender to a worker app (nothing when no channel is configured)."""
    runtime = DeliveryRuntime(settings, registry)
    if not runtime.sender.config.channels:
        return None

    @app.timer(SEND_EVERY_S)  # type: ignore[untyped-decorator]
    async def deliver() -> None:
        await runtime.tick()

    return runtime


async def _forever(settings: Settings) -> None:
    runtime = DeliveryRuntime(settings, CollectorRegistry())
    while True:
        await runtime.tick()
        await asyncio.sleep(settings.sla_tick_s)


def main() -> None:
    settings = Settings()
    configure_logging(settings.log_level)
    asyncio.run(_forever(settings))


if __name__ == "__main__":
    main()
