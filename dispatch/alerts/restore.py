"""`cap_messages` again from `alerts.cap`, for the rebuild (streams/rebuild.py).

The topic holds every message as received, not what became of it; what became of it is written
in the rebuilt cases. So each message's row is derived (`restored`, pure) from its record, the
messages before it in its chain, and the facts of the case its references lead to: an Update
with a `source_update` event naming it was applied; a Cancel whose case has ended (or that other
reports keep open) was applied; an Alert whose case carries an `expire` event expired. Whatever
the rows cannot show to be done stays `pending` (or `active`), and the alerts agent's next pass
does it — exactly what it would have done had it not yet got to it, so nothing is applied twice.
The outcome text is not on the topic: restored rows say so.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from psycopg import AsyncConnection
from psycopg.types.json import Jsonb

from dispatch.alerts import rules
from dispatch.alerts.models import AlertState
from dispatch.lifecycle.states import OPEN, CaseState
from schemas.cap_record import CapRecord, MsgType

Key = tuple[str, str]
RESTORED_NOTE = "restored by the rebuild from alerts.cap and the cases"
CASE_FACTS_SQL = """
    SELECT r.report_id::text, i.incident_id::text, i.state, i.report_count,
           EXISTS (SELECT 1 FROM events e WHERE e.incident_id = i.incident_id AND e.action = 'expire'),
           ARRAY(SELECT e.data->'cap'->>'sender' || ' ' || (e.data->'cap'->>'identifier') FROM events e
                 WHERE e.incident_id = i.incident_id AND e.action = 'source_update' AND e.data ? 'cap')
    FROM reports r JOIN incidents i ON i.incident_id = r.incident_id
    WHERE r.report_id = ANY(%s::uuid[])
"""


@dataclass(frozen=True, slots=True)
class CaseFacts:
    """What the rebuilt tables say of the case one report is in."""

    incident_id: str
    state: CaseState
    report_count: int
    expired: bool  # an `expire` event: an alert's expiry closed it
    updated_by: frozenset[Key]  # (sender, identifier) of the CAP messages with a source_update on it


@dataclass(frozen=True, slots=True)
class Restored:
    record: CapRecord
    state: AlertState
    report_id: str | None = None
    incident_id: str | None = None


def restored(
    records: Iterable[CapRecord],
    cases: Mapping[str, CaseFacts],
    now: datetime,
    policy: rules.LifePolicy,
) -> list[Restored]:
    """One row per (sender, identifier), the first record of it winning (as the flow's insert-once
    does), each derived after the messages sent before it. `cases`: report id → its case."""
    first: dict[Key, CapRecord] = {}
    for record in records:
        first.setdefault((record.sender, record.identifier), record)
    reports: dict[Key, str | None] = {}
    out: list[Restored] = []
    for record in sorted(first.values(), key=lambda r: (r.sent, r.received_at)):
        known = {
            (ref.sender, ref.identifier): reports.get((ref.sender, ref.identifier))
            for ref in record.references
            if (ref.sender, ref.identifier) in first
        }
        row = _row(record, known, cases, now, policy)
        reports[(record.sender, record.identifier)] = row.report_id
        out.append(row)
    return out


def _row(
    record: CapRecord,
    known: Mapping[Key, str | None],
    cases: Mapping[str, CaseFacts],
    now: datetime,
    policy: rules.LifePolicy,
) -> Restored:
    if record.msg_type is MsgType.ALERT:
        return _alert(record, cases, now, policy)
    if record.msg_type not in (MsgType.UPDATE, MsgType.CANCEL):
        return Restored(record, AlertState.RECORDED)
    return _update_or_cancel(record, known, cases, now, policy)


def _update_or_cancel(
    record: CapRecord,
    known: Mapping[Key, str | None],
    cases: Mapping[str, CaseFacts],
    now: datetime,
    policy: rules.LifePolicy,
) -> Restored:
    report_id = rules.resolved_report(record, known)
    own = None
    if report_id is None and rules.orphaned(record, known, now, policy):
        report = rules.orphan_report(record) if record.msg_type is MsgType.UPDATE else None
        chain = rules.chain_report_id(record)
        if report is None and (chain is None or chain not in cases):
            return Restored(record, AlertState.RECORDED)
        if report is None:
            report_id = chain  # a Cancel of a chain an orphan Update opened
        else:
            own = report_id = str(report.report_id)  # published when it was first seen
    case = cases.get(report_id) if report_id else None
    if case is None:
        gave_up = rules.gives_up(record, now, policy)
        return Restored(record, AlertState.UNRESOLVED if gave_up else AlertState.PENDING, own)
    applied = Restored(record, AlertState.APPLIED, report_id, case.incident_id)
    if case.state not in OPEN:
        return applied
    if record.msg_type is MsgType.CANCEL:
        return applied if case.report_count > 1 else Restored(record, AlertState.PENDING)
    done = (record.sender, record.identifier) in case.updated_by
    return applied if done else Restored(record, AlertState.PENDING, own)


def _alert(
    record: CapRecord, cases: Mapping[str, CaseFacts], now: datetime, policy: rules.LifePolicy
) -> Restored:
    report_id = str(record.report_id) if record.report_id else None
    if record.expires is None:
        return Restored(record, AlertState.RECORDED, report_id)
    case = cases.get(report_id) if report_id else None
    if case is not None and case.expired:
        return Restored(record, AlertState.EXPIRED, report_id, case.incident_id)
    active = Restored(record, AlertState.ACTIVE, report_id)
    if record.expires > now:
        return active
    if case is None:
        return (
            Restored(record, AlertState.LAPSED, report_id) if rules.gives_up(record, now, policy) else active
        )
    if rules.expiry(case.state, report_count=case.report_count) is None:
        return Restored(record, AlertState.LAPSED, report_id, case.incident_id)
    return active  # due, not yet expired: the next expiry pass closes it


def reports_of(records: Iterable[CapRecord]) -> list[str]:
    """The reports whose cases the derivation may ask about: Alerts' and orphan Updates' own."""
    out: set[str] = set()
    for record in records:
        if record.report_id is not None:
            out.add(str(record.report_id))
        elif record.msg_type is MsgType.UPDATE and (report := rules.orphan_report(record)) is not None:
            out.add(str(report.report_id))
        if record.msg_type is MsgType.CANCEL and (chain := rules.chain_report_id(record)) is not None:
            out.add(chain)
    return sorted(out)


async def case_facts(conn: AsyncConnection[Any], report_ids: Sequence[str]) -> dict[str, CaseFacts]:
    cur = await conn.execute(CASE_FACTS_SQL, (list(report_ids),))
    out: dict[str, CaseFacts] = {}
    for report_id, incident_id, state, count, expired, updates in await cur.fetchall():
        keys = frozenset((s, i) for s, _, i in (u.partition(" ") for u in updates or ()))
        out[report_id] = CaseFacts(incident_id, CaseState(state), int(count), bool(expired), keys)
    return out


async def restore(
    conn: AsyncConnection[Any], records: Sequence[CapRecord], now: datetime, policy: rules.LifePolicy
) -> int:
    """Insert the derived rows (insert-once: rows already there stay); returns how many."""
    async with conn.transaction(), conn.cursor() as cur:
        rows = restored(records, await case_facts(conn, reports_of(records)), now, policy)
        await cur.executemany(
            "INSERT INTO cap_messages (sender, identifier, msg_type, state, sent, expires, received_at, "
            "report_id, incident_id, record, outcome, updated_at) "
            "VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s) "
            "ON CONFLICT (sender, identifier) DO NOTHING",
            [
                (
                    r.record.sender,
                    r.record.identifier,
                    r.record.msg_type.value,
                    r.state.value,
                    r.record.sent,
                    r.record.expires,
                    r.record.received_at,
                    r.report_id,
                    r.incident_id,
                    Jsonb(r.record.model_dump(mode="json", by_alias=True)),
                    RESTORED_NOTE,
                    now,
                )
                for r in rows
            ],
        )
    return len(rows)
