"""The surges in force, as the intake's overlay (dispatch.surge.overlay), read per batch."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from psycopg import AsyncConnection

from config.policy import load_workforce
from dispatch.cases.queries import Pending
from dispatch.intake.rules import IntakeRules
from dispatch.routing.rosters import routing_rosters
from dispatch.surge.overlay import ActiveSurge, SurgeOverlay, surge_routers
from dispatch.surge.policy import SurgePolicy


def active_surge(row: dict[str, Any], policy: SurgePolicy) -> ActiveSurge | None:
    """A stored surge as the overlay applies it; None when it changes nothing (its policy was
    removed since, or it was ended before it began)."""
    rule = policy.rule(row["warning"], row["level"])
    if rule is None:
        return None
    ends = min(row["ends_at"], row["ended_at"]) if row["ended_at"] else row["ends_at"]
    if ends <= row["starts_at"]:
        return None
    return ActiveSurge(row["surge_id"], rule, frozenset(row["grids"]), row["starts_at"], ends, row["title"])


class SurgeBook:
    """The surges in force, for the intake: read once per batch (a small indexed query), the
    overlay rebuilt only when the set of surges changed."""

    def __init__(self, rules: IntakeRules, policy: SurgePolicy) -> None:
        self.policy = policy
        self.routers = surge_routers(
            policy,
            taxonomy=rules.taxonomy,
            workforce=load_workforce(),
            rosters=routing_rosters(),
            calendar=rules.tk.working,
            returns_to_lead=rules.escalation.returns_to_lead,
        )
        self._key: tuple[Any, ...] = ()
        self._overlay = SurgeOverlay((), self.routers)

    async def overlay(self, conn: AsyncConnection[Any], now: datetime) -> SurgeOverlay:
        return await (await self.send(conn, now)).result()

    async def send(self, conn: AsyncConnection[Any], now: datetime) -> Pending[SurgeOverlay]:
        """The read only sent (in a psycopg pipeline it joins the batch's other reads)."""
        cur = await conn.execute(
            "SELECT surge_id, warning, level, title, grids, starts_at, ends_at, ended_at FROM surges"
            " WHERE ends_at > %s AND starts_at <= %s AND (ended_at IS NULL OR ended_at > %s)"
            " ORDER BY surge_id",
            (now, now, now),
        )
        return Pending(cur, self._adopt, self._overlay)

    def _adopt(self, rows: list[Any]) -> SurgeOverlay:
        key = tuple((r[0], r[6], r[7]) for r in rows)
        if key != self._key:
            names = ("surge_id", "warning", "level", "title", "grids", "starts_at", "ends_at", "ended_at")
            surges = [active_surge(dict(zip(names, r, strict=True)), self.policy) for r in rows]
            self._overlay = SurgeOverlay([s for s in surges if s is not None], self.routers)
            self._key = key
        return self._overlay
