"""What an import of the official schedule does to open cases: their deadlines move, as events.

Clocks store the time used and the running segment, never a due time: a deadline is derived
from the calendar, so after an import every clock already reads right. What must change is what
was derived and written down: each incident's `next_sla_at` (when the tracker looks next), and
the record. For every open case whose deadline or next escalation step moved, one
`deadline_revised` event carries each moved clock with its old and new due times, and the case
is written and published as every case flow does (outbox). Steps already taken stay taken (the
clocks keep `steps_taken`); a step the import made overdue gets `next_sla_at <= now`, so the next
tracker pass takes it.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from psycopg import sql

from dispatch.calendar.imported_years import ImportedYears, build_calendar, read_imported, store_years
from dispatch.cases import queries as q
from dispatch.cases.flows import CaseFlows
from dispatch.cases.work import CaseWork, Changes
from dispatch.codec import clocks_from, iso
from dispatch.lifecycle.case import Actor
from dispatch.lifecycle.states import OPEN, Action, Role
from dispatch.sla.calendar import ClockKind, Timekeeper, YearSchedule, check_follows, package_last_year
from dispatch.sla.clocks import ClockName, ClockState
from dispatch.sla.errors import CalendarRangeError
from dispatch.sla.escalation import next_step
from dispatch.sla.ladder import EscalationPolicy

CALENDAR_ACTOR = Actor(Role.SYSTEM, "calendar")
Row = dict[str, Any]


@dataclass(frozen=True, slots=True)
class Moved:
    """One clock whose deadline or next escalation step moved."""

    clock: ClockName
    old_due: datetime | None
    new_due: datetime | None
    old_step_at: datetime | None
    new_step_at: datetime | None
    provisional: bool

    def doc(self) -> Row:
        return {
            "clock": self.clock.value,
            "old_due": iso(self.old_due) if self.old_due else None,
            "new_due": iso(self.new_due) if self.new_due else None,
            "old_step_at": iso(self.old_step_at) if self.old_step_at else None,
            "new_step_at": iso(self.new_step_at) if self.new_step_at else None,
            "provisional": self.provisional,
        }


def _read(clock: ClockState, policy: EscalationPolicy, now: datetime, tk: Timekeeper) -> tuple[Any, Any]:
    try:
        return clock.deadline(tk), next_step(policy, clock, now, tk).at
    except CalendarRangeError:
        return None, None


def moved_clocks(
    clocks: Mapping[ClockName, ClockState],
    policy: EscalationPolicy,
    now: datetime,
    *,
    old: Timekeeper,
    new: Timekeeper,
) -> list[Moved]:
    """The working-time clocks whose deadline or next step differ between two calendars (pure)."""
    out: list[Moved] = []
    for name in sorted(clocks):
        clock = clocks[name]
        if clock.kind is not ClockKind.WORKING:
            continue
        (old_due, old_step), (new_due, new_step) = (
            _read(clock, policy, now, old),
            _read(clock, policy, now, new),
        )
        if (old_due, old_step) != (new_due, new_step):
            provisional = new.provisional(clock.kind, new_due) or new.provisional(clock.kind, new_step)
            out.append(Moved(name, old_due, new_due, old_step, new_step, provisional))
    return out


async def _open_cases(conn: q.Conn) -> list[Row]:
    """Every open case with clocks, locked in id order (the tracker skips them meanwhile)."""
    cur = await conn.execute(
        sql.SQL(
            "SELECT {} FROM incidents i WHERE state = ANY(%s) AND clocks <> '{{}}'::jsonb "
            "ORDER BY incident_id FOR UPDATE"
        ).format(q.INCIDENT_JSON),
        ([s.value for s in OPEN],),
    )
    return [r[0] for r in await cur.fetchall()]


async def revise_open_clocks(
    conn: q.Conn, flows: CaseFlows, *, old: Timekeeper, now: datetime, revision: int
) -> list[Changes]:
    """Write a `deadline_revised` event on every open case whose clocks read differently on the
    flows' calendar (already the new one) than on `old`; inside the caller's transaction."""
    incidents = await _open_cases(conn)
    pending: list[tuple[Row, list[Moved]]] = []
    for incident in incidents:
        rules = await flows.rules_for(conn, incident)
        moved = moved_clocks(clocks_from(incident["clocks"]), rules.policy, now, old=old, new=rules.tk)
        if moved:
            pending.append((incident, moved))
    tasks: dict[str, list[Row]] = defaultdict(list)
    for task in await q.tasks_of(conn, [str(i["incident_id"]) for i, _ in pending]):
        tasks[str(task["incident_id"])].append(task)
    changes: list[Changes] = []
    for incident, moved in pending:
        work = CaseWork(
            incident, tasks[str(incident["incident_id"])], await flows.rules_for(conn, incident), now
        )
        reason = "working calendar changed: " + ", ".join(
            f"{m.clock} due {iso(m.old_due) if m.old_due else '-'} -> {iso(m.new_due) if m.new_due else '-'}"
            for m in moved
        )
        data = {"calendar_revision": revision, "revised": [m.doc() for m in moved]}
        work.act(Action.REVISE_DEADLINES, CALENDAR_ACTOR, reason, data=data)
        changes.append(work.finish())
    await flows.write(conn, changes)
    return changes


@dataclass(frozen=True, slots=True)
class ImportResult:
    revision: int
    years: tuple[int, ...]
    authoritative_until: datetime
    changes: tuple[Changes, ...]
    published: bool


async def import_years(
    conn: q.Conn,
    flows: CaseFlows,
    schedules: Sequence[YearSchedule],
    *,
    now: datetime,
    origin: str,
    text: str,
) -> ImportResult:
    """Store published years and revise every open case they move, in one transaction; then
    publish. Refused whole (nothing written) when a year does not follow the known ones."""
    calendar = flows.rules.tk.working
    async with conn.transaction():
        await conn.execute("LOCK TABLE calendar_years IN SHARE ROW EXCLUSIVE MODE")  # one import at a time
        imported = await read_imported(conn)
        old = build_calendar(flows.rules.sla, imported)
        check_follows(
            schedules,
            package_last=package_last_year(),
            known_last=old.authoritative_last.year,
            origin=origin,
            text=text,
        )
        revision = imported.revision + 1
        await store_years(conn, schedules, revision)
        years = {y.year: y for y in imported.years} | {y.year: y for y in schedules}
        calendar.adopt(build_calendar(flows.rules.sla, ImportedYears(revision, tuple(years.values()))))
        try:
            changes = await revise_open_clocks(conn, flows, old=Timekeeper(old), now=now, revision=revision)
        except BaseException:
            calendar.adopt(old)
            raise
    published = await flows.publish(conn, changes, {}) if changes else True
    return ImportResult(
        revision,
        tuple(sorted(y.year for y in schedules)),
        calendar.authoritative_until,
        tuple(changes),
        published,
    )
