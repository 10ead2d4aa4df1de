"""What a replay reads from the database, in one read-only transaction: nothing is written.

The stored reports of the window (their canonical documents as received, decoded by the
intake's own decoder), the measured delays of people's steps (from `events`), and today's
configuration: the grid layer in force now with its gazetteer, and the active people.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, text

from dispatch.directory import Directory
from dispatch.replay.configuration import ReplayError
from dispatch.replay.service_times import MEASURED_ACTIONS, Sample
from geo import service
from geo.gazetteer import Gazetteer
from geo.index import GridIndex
from geo.layers import LayerSet
from schemas.report_struct import ReportError, ReportStruct, decode_report

_REPORTS = text(
    "SELECT report_id::text, body::text FROM reports "
    "WHERE received_at >= :start AND received_at < :end ORDER BY received_at, report_id"
)
_EVENTS = text(
    "SELECT e.incident_id::text, e.action, extract(epoch FROM e.at)::float8, i.priority "
    "FROM events e JOIN incidents i ON i.incident_id = e.incident_id "
    "WHERE e.at >= :start AND e.at < :end AND e.action = ANY(:actions) "
    "ORDER BY e.incident_id, e.sequence"
)


def read_only(conn: Connection) -> None:
    """Make the connection's transaction read-only: the database itself refuses any write."""
    conn.execute(text("SET TRANSACTION READ ONLY"))


def stored_reports(conn: Connection, start: datetime, end: datetime) -> list[ReportStruct]:
    out: list[ReportStruct] = []
    for report_id, body in conn.execute(_REPORTS, {"start": start, "end": end}):
        try:
            report, _ = decode_report(body.encode())
        except ReportError as exc:
            raise ReplayError(f"stored report {report_id}: {exc.field}: {exc.reason}") from exc
        out.append(report)
    return out


def measured_steps(conn: Connection, start: datetime, end: datetime) -> list[Sample]:
    rows = conn.execute(_EVENTS, {"start": start, "end": end, "actions": sorted(MEASURED_ACTIONS)})
    return [(case, action, float(at), str(priority)) for case, action, at, priority in rows]


@dataclass(frozen=True, slots=True)
class Today:
    """The layer in force now (as the stream worker indexes it), its gazetteer, the people."""

    layers: LayerSet
    index: GridIndex
    gazetteer: Gazetteer
    directory: Directory


def today(conn: Connection, now: datetime) -> Today:
    version = service.in_force(service.list_versions(conn), now)
    if version is None:
        raise ReplayError("no grid layer in force today: run `yiwang geo load` first")
    inputs = service.read_index_inputs(conn, version.id)
    index = GridIndex(
        inputs.grids,
        district_code=version.district_code,
        layer_version=version.id,
        streets=inputs.streets,
        outline=inputs.outline,
    )
    return Today(
        service.read_layer_set(conn, version.id),
        index,
        service.gazetteer_from_db(conn, version.id),
        Directory.load(conn),
    )
