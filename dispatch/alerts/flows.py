"""Side effects of CAP life-cycle records: record, resolve, apply (`dispatch.alerts.rules` decides).

`record` stores each message once (sender, identifier: a redelivered record changes nothing)
and then `settle`s: every pending Update or Cancel whose references now lead to a case is
applied, through the case flows (`dispatch.cases.flows`): a Cancel is the `withdraw` command
(idempotency key per message, so a retry after a crash applies nothing twice; feedback to the
source comes with it), an Update its own unit of work (incident, events and the message's row
in one transaction, then published). An Update whose new point lies in another grid of the
layer in force then re-places the case there the way a redrawn grid does (`dispatch.regrid`:
new codes, a `rehome` event with old and new, re-routed off a holder who does not cover it).
The case's merge-window row moves with its point (`dispatch.regrid.window_moves`), so later
reports merge at the new place. An orphan Update (its Alert never seen) publishes its report to
the intake under the id its Alert's report has (`rules.orphan_report`), as the adapter publishes
an Alert's, and once that case is there records on it why it came without an Alert; the Alert
arriving late is then a report the intake already has (its case is that one), and a second
orphan of the chain updates the case; an orphan Cancel is recorded.
`expire_due` closes the cases of alerts past `<expires>` that nobody was dispatched to. One
pass at a time across workers (an advisory lock).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from prometheus_client import CollectorRegistry, Counter
from psycopg import AsyncConnection
from psycopg.types.json import Jsonb
from pydantic import ValidationError
from sqlalchemy import Engine, create_engine
from sqlalchemy.pool import NullPool

from config.policy import Priority
from dispatch.alerts import rules
from dispatch.alerts.models import AlertState
from dispatch.cases import queries as q
from dispatch.cases.commands import Command
from dispatch.cases.flows import CaseFlows
from dispatch.cases.urgency import raised_row
from dispatch.cases.work import CaseWork, Changes
from dispatch.lifecycle.case import Actor
from dispatch.lifecycle.errors import LifecycleError
from dispatch.lifecycle.states import OPEN, Action, CaseState, Role
from dispatch.regrid.flows import RegridFlows
from dispatch.regrid.window_moves import move_in_merge_window
from geo.index import GridIndex, GridIndexes, NoLayerInForce
from geo.moves import OpenPoint, moves
from schemas.cap_record import CapRecord, MsgType
from schemas.report import SCHEMA_NAME
from schemas.report import encode as encode_report

log = logging.getLogger(__name__)
Conn = AsyncConnection[Any]
SOURCE_ACTOR = Actor(Role.AGENCY, "emergency")
"""The emergency feed acts on the cases its alerts opened (the lifecycle checks it reported them)."""
ALERTS_ACTOR = Actor(Role.SYSTEM, "alerts")
PASS_LOCK = 0x59_57_41_4C  # pg advisory lock key of the settle / expiry pass ("YWAL")
BATCH = 200
REPORT_HEADERS = [("schema", SCHEMA_NAME.encode())]


@dataclass(frozen=True)
class AlertMetrics:
    messages: Counter

    @classmethod
    def create(cls, registry: CollectorRegistry) -> AlertMetrics:
        return cls(
            Counter(
                "yiwang_cap_messages_total",
                "CAP messages by type and what became of them (recorded, applied, expired, ...)",
                ["msg_type", "outcome"],
                registry=registry,
            )
        )


class AlertFlows:
    def __init__(
        self,
        cases: CaseFlows,
        metrics: AlertMetrics,
        policy: rules.LifePolicy | None = None,
        indexes: GridIndexes | None = None,
    ):
        self.cases = cases
        self.metrics = metrics
        self.policy = policy or rules.life_policy()
        self.indexes = indexes
        """The grid layers an Update's new point is placed in; None: read (and re-read) from the
        database on first need, so a redrawn layer is picked up without a restart."""
        self._layers_engine: Engine | None = None

    async def record(self, conn: Conn, records: Sequence[CapRecord]) -> int:
        """Store the messages not seen before, then settle; returns how many were new."""
        new = 0
        async with conn.transaction():
            for record in records:
                state = rules.initial_state(record)
                cur = await conn.execute(
                    "INSERT INTO cap_messages (sender, identifier, msg_type, state, sent, expires, "
                    "received_at, report_id, record) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s) "
                    "ON CONFLICT (sender, identifier) DO NOTHING",
                    (
                        record.sender,
                        record.identifier,
                        record.msg_type.value,
                        state.value,
                        record.sent,
                        record.expires,
                        record.received_at,
                        record.report_id,
                        Jsonb(record.model_dump(mode="json", by_alias=True)),
                    ),
                )
                if cur.rowcount:
                    new += 1
                    if state is not AlertState.PENDING:
                        self.metrics.messages.labels(record.msg_type.value, state.value).inc()
        await self.settle(conn)
        return new

    # --- Update and Cancel -------------------------------------------------------------------
    async def settle(self, conn: Conn) -> int:
        """Apply every pending Update / Cancel whose case is known; returns how many changed."""
        if not await self._lock(conn):
            return 0
        try:
            cur = await conn.execute(
                "SELECT record, report_id::text FROM cap_messages WHERE state = 'pending' "
                "ORDER BY sent, received_at LIMIT %s",
                (BATCH,),
            )
            pending = [(CapRecord.model_validate(r[0]), r[1]) for r in await cur.fetchall()]
            done = 0
            for record, own in pending:
                done += await self._settle_one(conn, record, own)
            return done
        finally:
            await self._unlock(conn)

    async def _settle_one(self, conn: Conn, record: CapRecord, own: str | None) -> int:
        """`own`: the report an orphan Update opened its case with (None for every other)."""
        now = self.cases.clock()
        known = await self._known(conn, record)
        report_id = own or rules.resolved_report(record, known)
        if report_id is None and rules.orphaned(record, known, now, self.policy):
            report_id = await self._chain_opened(conn, record)
            if report_id is None:
                return await self._orphan(conn, record)
        found = await self._case_of(conn, report_id) if report_id else None
        if found is None:
            return await self._unresolved(conn, record, now)
        incident_id, state, report_count = found
        if state not in OPEN:
            await self._mark(
                conn,
                record,
                AlertState.APPLIED,
                f"the case had already ended ({state})",
                report_id=report_id,
                incident_id=incident_id,
            )
            return 1
        if record.msg_type is MsgType.CANCEL:
            return await self._cancel(conn, record, report_id or "", incident_id, report_count)
        if own is not None:
            return await self._opened(conn, record, own, incident_id)
        return await self._update(conn, record, report_id or "", incident_id)

    async def _unresolved(self, conn: Conn, record: CapRecord, now: datetime) -> int:
        if not rules.gives_up(record, now, self.policy):
            return 0  # its case may still come
        await self._mark(conn, record, AlertState.UNRESOLVED, "no case: its references never resolved")
        return 1

    # --- orphans -------------------------------------------------------------------------------
    async def _orphan(self, conn: Conn, record: CapRecord) -> int:
        """An Update or Cancel whose Alert was never seen: an Update's warning opens a case of its
        own (its report goes to the intake as an Alert's does; the row waits for that case), a
        Cancel is recorded."""
        note = rules.orphan_note(record)
        if record.msg_type is not MsgType.UPDATE or record.report is None:
            await self._mark(
                conn, record, AlertState.RECORDED, f"{note}: nothing to withdraw, nothing opened"
            )
            return 1
        report = rules.orphan_report(record)
        assert report is not None
        topic = self.cases.settings.topic(f"reports.{report.source.value}")
        await (
            await self.cases.send(topic, report.source_ref.encode(), encode_report(report), REPORT_HEADERS)
        )
        await conn.execute(  # published first: a crash before this line publishes the same report again
            "UPDATE cap_messages SET report_id = %s::uuid, outcome = %s, updated_at = %s "
            "WHERE sender = %s AND identifier = %s",
            (
                str(report.report_id),
                f"{note}: opened a case of its own",
                self.cases.clock(),
                record.sender,
                record.identifier,
            ),
        )
        log.info("alerts: orphan Update %s opens a case (report %s)", record.identifier, report.report_id)
        return 1

    async def _chain_opened(self, conn: Conn, record: CapRecord) -> str | None:
        """The report of the orphan's chain when it is there already (an earlier orphan Update of
        the same Alert opened the case, or the Alert's report came without its record): an
        Update then changes that case, a Cancel withdraws it."""
        chain = rules.chain_report_id(record)
        if chain is None:
            return None
        cur = await conn.execute(
            "SELECT 1 FROM cap_messages WHERE report_id = %s::uuid AND NOT (sender = %s AND identifier = %s) "
            "UNION ALL SELECT 1 FROM reports WHERE report_id = %s::uuid LIMIT 1",
            (chain, record.sender, record.identifier, chain),
        )
        return chain if await cur.fetchone() else None

    async def _opened(self, conn: Conn, record: CapRecord, report_id: str, incident_id: str) -> int:
        """The case an orphan Update opened is there: say on it why it has no Alert."""
        flows = self.cases
        note = f"{rules.orphan_note(record)}: the case was opened from the Update, as an Alert opens one"
        async with conn.transaction():
            row = (await q.lock_incidents(conn, [incident_id])).get(incident_id)
            if row is None or CaseState(row["state"]) not in OPEN:
                await self._mark(
                    conn, record, AlertState.APPLIED, "the case had already ended", incident_id=incident_id
                )
                return 1
            work = CaseWork(
                row, await q.tasks_of(conn, [incident_id]), await flows.rules_for(conn, row), flows.clock()
            )
            refs = [r.model_dump() for r in record.references]
            data = {
                "cap": {
                    "identifier": record.identifier,
                    "sender": record.sender,
                    "msg_type": record.msg_type.value,
                },
                "orphan": {"references": refs, "report_id": report_id},
            }
            work.act(Action.SOURCE_UPDATE, SOURCE_ACTOR, note, data=data)
            changes: Changes = work.finish()
            await flows.write(conn, [changes])
            await self._mark(
                conn, record, AlertState.APPLIED, "opened its own case (orphan)", incident_id=incident_id
            )
        for event in changes.events:
            flows.metrics.transitions.labels(event["action"], event["actor_role"]).inc()
        await flows.publish(conn, [changes], {})
        return 1

    async def _cancel(
        self, conn: Conn, record: CapRecord, report_id: str, incident_id: str, count: int
    ) -> int:
        decided = rules.withdrawal(record, report_count=count)
        if decided.action is None:
            await self._mark(
                conn, record, AlertState.APPLIED, decided.reason, report_id=report_id, incident_id=incident_id
            )
            return 1
        try:
            await self.cases.transition(
                conn,
                incident_id,
                Command(decided.action, SOURCE_ACTOR, reason=decided.reason),
                key=f"cap:{record.sender}:{record.identifier}"[:128],
            )
            outcome = rules.WITHDRAWN_NOTE
        except LifecycleError as exc:
            outcome = f"not applied: {exc}"
        await self._mark(
            conn, record, AlertState.APPLIED, outcome, report_id=report_id, incident_id=incident_id
        )
        return 1

    async def _update(self, conn: Conn, record: CapRecord, report_id: str, incident_id: str) -> int:
        flows = self.cases
        now = flows.clock()
        point = rules.point_of(record)
        async with conn.transaction():
            if point is not None:  # later reports merge at the new point, no longer at the old one
                await move_in_merge_window(conn, incident_id, flows.rules.merge, point=point)
            row = (await q.lock_incidents(conn, [incident_id])).get(incident_id)
            if row is None or CaseState(row["state"]) not in OPEN:
                await self._mark(
                    conn,
                    record,
                    AlertState.APPLIED,
                    "the case had already ended",
                    report_id=report_id,
                    incident_id=incident_id,
                )
                return 1
            amended = rules.amendment(record, row)
            before = Priority(row["priority"])
            changed = {**row, **amended.changes}
            category = flows.rules.taxonomy.category(str(row["category"]))
            if amended.raises_to is not None:
                changed = raised_row(changed, category, amended.raises_to)
            work = CaseWork(
                changed, await q.tasks_of(conn, [incident_id]), await flows.rules_for(conn, changed), now
            )
            why = f"CAP Update {record.identifier} from {record.sender}"
            work.act(Action.SOURCE_UPDATE, SOURCE_ACTOR, why, data=amended.data)
            if amended.raises_to is not None:
                to = amended.raises_to.value
                raised = {
                    "from": before.value,
                    "to": to,
                    "category": category.code,
                    "told": work.case.assignee_id,
                }
                work.act(
                    Action.RAISE_PRIORITY,
                    ALERTS_ACTOR,
                    f"{why} raised the priority {before.value} → {to}",
                    data={"raised": raised},
                )
                if amended.raises_to is Priority.P0:
                    work.assist_beside(category.lead_department, why)
                await q.raise_in_merge_window(conn, [(incident_id, to, category.lead_department)])
            changes: Changes = work.finish()
            await flows.write(conn, [changes])
            await self._mark(
                conn,
                record,
                AlertState.APPLIED,
                "updated in place",
                report_id=report_id,
                incident_id=incident_id,
            )
        for event in changes.events:
            flows.metrics.transitions.labels(event["action"], event["actor_role"]).inc()
        await flows.publish(conn, [changes], {})
        if "geom" in amended.changes:
            await self._replace(conn, record, incident_id, row.get("grid_code"))
        return 1

    async def _replace(self, conn: Conn, record: CapRecord, incident_id: str, grid_code: object) -> None:
        """Re-place the case when the Update's point lies in another grid than the case's."""
        point = rules.point_of(record)
        if point is None:
            return
        lon, lat = point
        index = await self._layer_in_force()
        if index is None:
            return
        here = OpenPoint(incident_id, str(grid_code) if grid_code else None, lon, lat)
        for move in moves(index, [here]):
            await RegridFlows(self.cases)._rehome_one(conn, move, index.layer_version)
            log.info(
                "alerts: Update %s re-placed %s in grid %s", record.identifier, incident_id, move.to.grid_code
            )

    async def _layer_in_force(self) -> GridIndex | None:
        if self.indexes is None:
            # no pool: a connection only while reading (Updates that move a point are rare)
            self._layers_engine = create_engine(self.cases.settings.db_url, poolclass=NullPool)
            self.indexes = GridIndexes()
        indexes = self.indexes
        if self._layers_engine is not None:  # our own: re-read (cheap when nothing changed)
            await asyncio.to_thread(indexes.refresh, self._layers_engine)
        try:
            return indexes.at(self.cases.clock())
        except NoLayerInForce:
            log.warning("alerts: no grid layer in force; an Update's new point keeps the case's grid")
            return None

    # --- expiry --------------------------------------------------------------------------------
    async def expire_due(self, conn: Conn) -> int:
        """Close the cases of alerts past `<expires>` that nobody was dispatched to."""
        if not await self._lock(conn):
            return 0
        try:
            now = self.cases.clock()
            cur = await conn.execute(
                "SELECT record FROM cap_messages WHERE state = 'active' AND expires <= %s "
                "ORDER BY expires LIMIT %s",
                (now, BATCH),
            )
            due = [CapRecord.model_validate(r[0]) for r in await cur.fetchall()]
            done = 0
            for record in due:
                found = await self._case_of(conn, str(record.report_id)) if record.report_id else None
                if found is None:
                    if rules.gives_up(record, now, self.policy):
                        await self._mark(
                            conn, record, AlertState.LAPSED, "expired; its report never made a case"
                        )
                    continue
                incident_id, state, count = found
                action = rules.expiry(state, report_count=count)
                if action is None:
                    why = f"expired while {state}" + (
                        f", {count - 1} other report(s) in the case" if count > 1 else ""
                    )
                    await self._mark(conn, record, AlertState.LAPSED, why, incident_id=incident_id)
                    continue
                await self.cases.transition(
                    conn,
                    incident_id,
                    Command(
                        action, ALERTS_ACTOR, reason=f"CAP alert {record.identifier} {rules.EXPIRED_NOTE}"
                    ),
                    key=f"cap-expiry:{record.sender}:{record.identifier}"[:128],
                )
                await self._mark(
                    conn, record, AlertState.EXPIRED, rules.EXPIRED_NOTE, incident_id=incident_id
                )
                done += 1
            return done
        finally:
            await self._unlock(conn)

    # --- reading and marking -------------------------------------------------------------------
    async def _known(self, conn: Conn, record: CapRecord) -> dict[tuple[str, str], str | None]:
        if not record.references:
            return {}
        cur = await conn.execute(
            "SELECT sender, identifier, report_id::text FROM cap_messages "
            "WHERE (sender, identifier) IN (SELECT * FROM unnest(%s::text[], %s::text[]))",
            ([r.sender for r in record.references], [r.identifier for r in record.references]),
        )
        return {(s, i): rid for s, i, rid in await cur.fetchall()}

    async def _case_of(self, conn: Conn, report_id: str) -> tuple[str, CaseState, int] | None:
        cur = await conn.execute(
            "SELECT i.incident_id::text, i.state, i.report_count FROM reports r "
            "JOIN incidents i ON i.incident_id = r.incident_id WHERE r.report_id = %s::uuid",
            (report_id,),
        )
        row = await cur.fetchone()
        return (row[0], CaseState(row[1]), int(row[2])) if row else None

    async def _mark(
        self,
        conn: Conn,
        record: CapRecord,
        state: AlertState,
        outcome: str,
        *,
        report_id: str | None = None,
        incident_id: str | None = None,
    ) -> None:
        await conn.execute(
            "UPDATE cap_messages SET state = %s, outcome = %s, report_id = COALESCE(report_id, %s::uuid), "
            "incident_id = COALESCE(%s::uuid, incident_id), updated_at = %s "
            "WHERE sender = %s AND identifier = %s",
            (
                state.value,
                outcome,
                report_id,
                incident_id,
                self.cases.clock(),
                record.sender,
                record.identifier,
            ),
        )
        self.metrics.messages.labels(record.msg_type.value, state.value).inc()

    async def _lock(self, conn: Conn) -> bool:
        cur = await conn.execute("SELECT pg_try_advisory_lock(%s)", (PASS_LOCK,))
        row = await cur.fetchone()
        return bool(row and row[0])

    async def _unlock(self, conn: Conn) -> None:
        await conn.execute("SELECT pg_advisory_unlock(%s)", (PASS_LOCK,))


def decode_record(value: bytes) -> CapRecord | tuple[str, str]:
    """The record, or (field, reason) naming what failed (for the dead-letter topic)."""
    try:
        return CapRecord.model_validate_json(value)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "$"
        return where, f"{where}: {first['msg']}"
