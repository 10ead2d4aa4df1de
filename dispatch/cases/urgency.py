"""Urgency is monotone: an incident is handled at the highest priority of its reports.

When the intake merges a report more urgent than its incident (`dispatch.intake.Merged` with
`raised_from`), this flow, in the intake's own transaction and after the merge is folded in:
- takes the report's category and priority for the incident (the most urgent report says what
  the incident is and who leads it: a fight reported as 暴力犯罪 is a police-led P0);
- records a `raise_priority` event naming the report, which restarts the owner clocks under the
  tighter limits (`dispatch.lifecycle.table`) and tells the assignee (the event carries the task
  and the assignee; the task document is published again);
- at P0 turns the grid's task into an `assist` beside the agency that leads, naming it;
- keeps the merge window's copy (priority, lead) in step, so later reports see it.

`raise_case` is the pure part (tests call it on in-memory rows); `raise_merged` loads, applies
and writes.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from psycopg import AsyncConnection

from config.policy import Category, Priority
from dispatch import store
from dispatch.cases import queries as q
from dispatch.cases.case_rules import RulesFor
from dispatch.cases.work import CaseWork, Changes
from dispatch.intake.rules import INTAKE_ACTOR, Merged
from dispatch.lifecycle.states import Action

Row = dict[str, Any]
Conn = AsyncConnection[Any]


def raised_row(incident: Row, category: Category, priority: Priority) -> Row:
    """The incident as the more urgent report makes it: its category and priority."""
    return {
        **incident,
        "category": category.code,
        "family": category.family,
        "priority": priority.value,
        "agency_led": category.agency_led,
    }


def raise_case(work: CaseWork, merged: Merged) -> None:
    """Apply one raise to a loaded case whose row (and so `work.rules`) already has the new
    priority (`raised_row`)."""
    report = merged.report
    before = merged.raised_from
    assert before is not None, "only a raising merge is applied"
    why = (
        f"report {report.report_id} ({report.source}, {report.category.code}) raised the priority "
        f"{before.value} → {merged.priority.value}"
    )
    by = {"report_id": report.report_id, "source": report.source}
    _raise(work, why, by, report.category, before=before, to=merged.priority)


def raise_by_case(work: CaseWork, merged: Row, category: Category, before: Priority) -> None:
    """An operator merged a more urgent case into this one (row already raised, `raised_row`)."""
    to = Priority(merged["priority"])
    why = (
        f"case {merged['incident_id']} ({category.code}) merged in raised the priority "
        f"{before.value} → {to.value}"
    )
    _raise(work, why, {"incident_id": str(merged["incident_id"])}, category, before=before, to=to)


def _raise(work: CaseWork, why: str, by: Row, category: Category, *, before: Priority, to: Priority) -> None:
    lead = category.lead_department
    data: Row = {
        "raised": {
            **by,
            "category": category.code,
            "from": before.value,
            "to": to.value,
            "lead_department": lead,
            "told": work.case.assignee_id,
        }
    }
    work.act(Action.RAISE_PRIORITY, INTAKE_ACTOR, why, data=data)
    if to is Priority.P0:
        work.assist_beside(lead, why)


async def raise_merged(
    conn: Conn, raises: Sequence[Merged], *, rules_for: RulesFor, now: datetime, published_at: datetime | None
) -> list[Changes]:
    """Load, raise and write every incident a batch's reports raised (in report order)."""
    if not raises:
        return []
    ids = sorted({m.incident_id for m in raises})
    locked = await q.lock_incidents(conn, ids)
    tasks = await q.tasks_of(conn, ids)
    out: list[Changes] = []
    window: list[tuple[str, str, str]] = []
    for incident_id in ids:
        row = locked.get(incident_id)
        if row is None:
            continue
        mine = [m for m in raises if m.incident_id == incident_id]
        top = min(mine, key=lambda m: m.priority.rank)
        if Priority(row["priority"]).rank <= top.priority.rank:
            continue  # already this urgent (a redelivered batch)
        row = raised_row(row, top.report.category, top.priority)
        work = CaseWork(
            row,
            [t for t in tasks if str(t["incident_id"]) == incident_id],
            await rules_for(conn, row, now=now),
            now,
        )
        raise_case(
            work, Merged(top.report, incident_id, top.priority, Priority(locked[incident_id]["priority"]))
        )
        changes = work.finish()
        for event in changes.events:
            event["published_at"] = published_at
        out.append(changes)
        window.append((incident_id, top.priority.value, top.report.category.lead_department))
    await store.upsert(conn, store.INCIDENTS, [c.incident for c in out])
    await store.upsert(conn, store.TASKS, [t for c in out for t in c.tasks])
    await store.upsert(conn, store.EVENTS, [e for c in out for e in c.events])
    await q.raise_in_merge_window(conn, window)
    return out
