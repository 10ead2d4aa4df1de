"""Re-homing open cases when a redrawn grid layer takes effect (`geo.moves` says which move).

For each moving case, one unit of work through the case flows: the incident takes the new
grid, community and street codes (and the layer version), its merge-window row the new street
(`window_moves`), a `rehome` event records old and new codes, and — while the case waits for
its holder to accept (dispatched, rework) — it is re-routed by the routing rules when the holder
does not cover the new place; a holder who has accepted keeps it (an operator can
reassign). Then it is published like every change.
"""

from __future__ import annotations

import logging
from typing import Any

from psycopg import AsyncConnection

from dispatch.cases import queries as q
from dispatch.cases.flows import CaseFlows
from dispatch.cases.work import CaseWork, Changes
from dispatch.lifecycle.case import Actor
from dispatch.lifecycle.states import OPEN, Action, CaseState, Role
from dispatch.regrid.cases import open_states
from dispatch.regrid.window_moves import move_in_merge_window
from geo.index import GridIndex
from geo.moves import Move, OpenPoint, moves

log = logging.getLogger(__name__)
Conn = AsyncConnection[Any]
REGRID_ACTOR = Actor(Role.SYSTEM, "regrid")
REROUTED_WHILE = frozenset({CaseState.DISPATCHED, CaseState.REWORK})
PASS_LOCK = 0x59_57_52_47  # "YWRG": one re-homing pass at a time across workers

STALE_POINTS_SQL = (
    "SELECT incident_id::text, grid_code, ST_X(geom), ST_Y(geom) FROM incidents "
    "WHERE geom IS NOT NULL AND state = ANY(%s) AND layer_version IS DISTINCT FROM %s ORDER BY incident_id"
)


class RegridFlows:
    def __init__(self, cases: CaseFlows) -> None:
        self.cases = cases
        self.done_version: int | None = None
        """The layer version this process has re-homed the open cases for."""

    async def rehome(self, conn: Conn, index: GridIndex) -> list[Move]:
        """Re-home every open case the layer in force (`index`) puts in another grid."""
        if self.done_version == index.layer_version:
            return []
        cur = await conn.execute("SELECT pg_try_advisory_lock(%s)", (PASS_LOCK,))
        locked = await cur.fetchone()
        if not (locked and locked[0]):
            return []
        try:
            cur = await conn.execute(STALE_POINTS_SQL, (open_states(), index.layer_version))
            points = [OpenPoint(i, g, float(x), float(y)) for i, g, x, y in await cur.fetchall()]
            found = moves(index, points)
            for move in found:
                await self._rehome_one(conn, move, index.layer_version)
            self.done_version = index.layer_version
            if found:
                log.info(
                    "regrid: %d open case(s) re-homed to layer version %d", len(found), index.layer_version
                )
            return found
        finally:
            await conn.execute("SELECT pg_advisory_unlock(%s)", (PASS_LOCK,))

    async def _rehome_one(self, conn: Conn, move: Move, version: int) -> None:
        flows = self.cases
        incident_id = move.point.incident_id
        async with conn.transaction():
            # the merge-window row takes the new street (cell locks first, as the intake takes them)
            await move_in_merge_window(conn, incident_id, flows.rules.merge, street=(move.to.street_code,))
            row = (await q.lock_incidents(conn, [incident_id])).get(incident_id)
            if row is None or CaseState(row["state"]) not in OPEN:
                return
            to = move.to
            before = {k: row.get(k) for k in ("grid_code", "community_code", "street_code")}
            after = {
                "grid_code": to.grid_code,
                "community_code": to.community_code,
                "street_code": to.street_code,
            }
            changed = {**row, **after, "layer_version": version, "placement_reason": to.fallback_reason}
            work = CaseWork(
                changed,
                await q.tasks_of(conn, [incident_id]),
                await flows.rules_for(conn, changed),
                flows.clock(),
            )
            why = f"grid layer version {version}: grid {before['grid_code'] or '-'} → {to.grid_code or '-'}"
            work.act(
                Action.REHOME,
                REGRID_ACTOR,
                why,
                data={"rehome": {"from": before, "to": after, "layer_version": version}},
            )
            holder = work.case.assignee_id
            covering = {c.worker_id for c in flows.people.near(changed)}
            if work.state in REROUTED_WHILE and holder is not None and holder not in covering:
                route = await flows.router_for(conn, changed)
                assignment = route(work, Action.REASSIGN)
                if assignment is not None:
                    work.act(
                        Action.REASSIGN,
                        REGRID_ACTOR,
                        f"{why}; {holder} does not cover it",
                        assignment=assignment,
                    )
            changes: Changes = work.finish()
            await flows.write(conn, [changes])
        for event in changes.events:
            flows.metrics.transitions.labels(event["action"], event["actor_role"]).inc()
        await flows.publish(conn, [changes], {})
