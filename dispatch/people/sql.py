"""The people domain's SQL edge: the district's areas, the import in one transaction, PINs,
shift exceptions, the export.

`apply_import` writes what `checks.check_rows` accepted: new people are added (each with a PIN,
issued once and stored only as its scrypt hash), known ones updated, and the active people of
every area the sheet covers who are not in it are deactivated (a sheet is the whole workforce
of the communities, streets or district level it names). The caller holds the transaction.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from psycopg import AsyncConnection
from sqlalchemy import Connection, Row, delete, func, select, text, true, update
from sqlalchemy.dialects.postgresql import insert as pg_insert

from dispatch.api.accounts import hash_secret
from dispatch.people.checks import Areas, Person
from dispatch.people.models import RosterExceptionRow, WorkerPinRow
from dispatch.routing.rosters import RosterException
from dispatch.scope import CITY, Scope
from dispatch.scope import Level as AreaLevel
from geo import models as geo
from geo.reference.district import Level, Worker
from geo.service import in_force_by_district, list_versions, upsert_workers

PIN_DIGITS = 6
_COMPARED = (
    "name",
    "force",
    "street_code",
    "community_code",
    "grid_code",
    "roster",
    "phone",
    "active",
    "district_code",
)


class PeopleError(ValueError):
    """A request about people that the directory cannot satisfy (unknown or inactive person)."""


@dataclass
class ImportResult:
    added: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    deactivated: list[str] = field(default_factory=list)
    pins: dict[str, str] = field(default_factory=dict, repr=False)  # new person -> PIN, shown once

    def lines(self) -> list[str]:
        out = [f"added {len(self.added)}, changed {len(self.changed)}, deactivated {len(self.deactivated)}"]
        for label, ids in (
            ("added", self.added),
            ("changed", self.changed),
            ("deactivated", self.deactivated),
        ):
            if ids:
                shown = ", ".join(ids[:20]) + (f" … and {len(ids) - 20} more" if len(ids) > 20 else "")
                out.append(f"  {label}: {shown}")
        return out


def load_areas(conn: Connection, *, at: datetime | None = None) -> Areas:
    """The areas of the layer version in force at `at` (default: now) of every district loaded,
    with a point in each."""
    when = at or datetime.now(UTC)
    versions = list_versions(conn)
    in_force_now = in_force_by_district(versions, when)
    if not in_force_now:
        raise PeopleError("no grid layer in force: run `yiwang geo load` first")
    ids = [x.id for x in in_force_now]

    where: dict[str, tuple[float, float]] = {}
    for table in (geo.District, geo.Street, geo.Community, geo.GridArea):
        inside = func.ST_PointOnSurface(table.geom)
        q = select(table.code, func.ST_X(inside), func.ST_Y(inside)).where(table.version_id.in_(ids))
        for code, x, y in conn.execute(q):
            where[code] = (round(x, 7), round(y, 7))
    districts = frozenset(conn.scalars(select(geo.District.code).where(geo.District.version_id.in_(ids))))
    streets = frozenset(conn.scalars(select(geo.Street.code).where(geo.Street.version_id.in_(ids))))
    communities: dict[str, str] = {
        code: street
        for code, street in conn.execute(
            select(geo.Community.code, geo.Community.street_code).where(geo.Community.version_id.in_(ids))
        )
    }
    grid_rows = conn.execute(
        select(geo.GridArea.code, geo.GridArea.community_code, geo.GridArea.street_code).where(
            geo.GridArea.version_id.in_(ids)
        )
    )
    grids = {code: (community, street) for code, community, street in grid_rows}
    district = min(districts) if len(districts) == 1 else ""
    return Areas(district, streets, communities, grids, where, districts)


def _scope(row: Row[Any]) -> str:
    return row.community_code or row.street_code or f"district {row.district_code}"


def _worker(p: Person) -> Worker:
    return Worker(
        worker_id=p.worker_id,
        name=p.name,
        force=p.force,
        is_role=p.is_role,
        level=Level(p.level),
        street_code=p.street_code,
        community_code=p.community_code,
        grid_code=p.grid_code,
        roster=p.roster,
        home_lon=p.home_lon,
        home_lat=p.home_lat,
        phone=p.phone,
    )


def new_pin() -> str:
    return "".join(str(secrets.randbelow(10)) for _ in range(PIN_DIGITS))


def apply_import(conn: Connection, people: Sequence[Person]) -> ImportResult:
    """Add, update and deactivate as the sheet says (inside the caller's transaction)."""
    result = ImportResult()
    scopes = {p.scope for p in people}
    listed = {p.worker_id for p in people}
    t = geo.WorkerRow
    columns = [t.worker_id, *(getattr(t, c) for c in _COMPARED)]
    known = {r.worker_id: r for r in conn.execute(select(*columns))}
    for p in people:
        row = known.get(p.worker_id)
        if row is None:
            result.added.append(p.worker_id)
        elif tuple(getattr(row, c) for c in _COMPARED) != tuple(getattr(p, c) for c in _COMPARED):
            if row.active and not p.active:
                result.deactivated.append(p.worker_id)
            else:
                result.changed.append(p.worker_id)
    gone = sorted(w for w, r in known.items() if r.active and w not in listed and _scope(r) in scopes)
    result.deactivated += gone
    for district in sorted({p.district_code for p in people}):
        upsert_workers(
            conn, [_worker(p) for p in people if p.district_code == district], district_code=district
        )
    by_state: dict[bool, list[str]] = {True: [], False: []}
    for p in people:
        by_state[p.active].append(p.worker_id)
    by_state[False] += gone
    for active, ids in by_state.items():
        if ids:
            conn.execute(update(t).where(t.worker_id.in_(ids)).values(active=active))
    for wid in result.added:
        result.pins[wid] = new_pin()
    _store_pins(conn, result.pins)
    return result


def _store_pins(conn: Connection, pins: dict[str, str]) -> None:
    if not pins:
        return
    rows = [
        {"worker_id": w, "pin_hash": hash_secret(pin), "issued_at": datetime.now(UTC)}
        for w, pin in pins.items()
    ]
    stmt = pg_insert(WorkerPinRow)
    conn.execute(
        stmt.on_conflict_do_update(
            index_elements=[WorkerPinRow.worker_id],
            set_={"pin_hash": stmt.excluded.pin_hash, "issued_at": stmt.excluded.issued_at},
        ),
        rows,
    )


def districts_of(conn: Connection, ids: Iterable[str]) -> dict[str, str]:
    """The district of each known person among `ids` (active or not)."""
    t = geo.WorkerRow
    found = conn.execute(select(t.worker_id, t.district_code).where(t.worker_id.in_(set(ids))))
    return {worker_id: district for worker_id, district in found}


def _of_scope(within: Scope) -> Any:
    """The people a district operator manages: their district's (the city operator: all)."""
    t = geo.WorkerRow
    return t.district_code == within.district if within.district is not None else true()


def _require_active(conn: Connection, ids: Iterable[str], within: Scope = CITY) -> None:
    """Every person named is active and of `within` (another district's looks unknown)."""
    wanted = set(ids)
    t = geo.WorkerRow
    found = set(conn.scalars(select(t.worker_id).where(t.worker_id.in_(wanted), t.active, _of_scope(within))))
    missing = sorted(wanted - found)
    if missing:
        raise PeopleError(f"worker_id: no active person {', '.join(missing)}")


def reset_pin(conn: Connection, worker_id: str, *, within: Scope = CITY) -> str:
    """A new PIN for an active person of `within` (the old one stops working); returned once."""
    _require_active(conn, [worker_id], within)
    pin = new_pin()
    _store_pins(conn, {worker_id: pin})
    return pin


def stored_pin(conn: Connection, worker_id: str) -> str | None:
    """The PIN hash of an active person, if one was issued."""
    t, p = geo.WorkerRow, WorkerPinRow
    return conn.scalar(
        select(p.pin_hash).join(t, t.worker_id == p.worker_id).where(p.worker_id == worker_id, t.active)
    )


async def login_pin(conn: AsyncConnection[Any], worker_id: str) -> tuple[bool, str | None]:
    """For the login: (may log in at all, the PIN hash issued in the database if any).

    A person the directory holds as inactive may not log in, whatever PIN they have."""
    cur = await conn.execute(
        "SELECT w.active, p.pin_hash FROM workers w LEFT JOIN worker_pins p USING (worker_id) "
        "WHERE w.worker_id = %s",
        (worker_id,),
    )
    row = await cur.fetchone()
    if row is None:
        return True, None
    return bool(row[0]), (str(row[1]) if row[1] is not None else None)


WORKER_AREAS = {
    AreaLevel.DISTRICT: "district_code",
    AreaLevel.STREET: "street_code",
    AreaLevel.COMMUNITY: "community_code",
    AreaLevel.GRID: "grid_code",
}
"""A worker row's area columns (`dispatch.scope`)."""


def export_rows(
    conn: Connection, *, scope: str | None = None, within: Scope = CITY
) -> list[tuple[object, ...]]:
    """The active roster in the import's columns (`scope`: one community or street code's
    sheet), of the people inside `within` (the operator's scope) only."""
    t = geo.WorkerRow
    q = select(
        t.worker_id,
        t.name,
        t.force,
        t.street_code,
        t.community_code,
        t.grid_code,
        t.roster,
        t.phone,
        t.home_lon,
        t.home_lat,
        t.district_code,
    ).where(t.active)
    if scope:
        q = q.where((t.community_code == scope) | ((t.street_code == scope) & t.community_code.is_(None)))
    if not within.whole_city:
        q = q.where(text(within.where(t.__tablename__, WORKER_AREAS).as_string()))
    return [
        (*(v if v is not None else "" for v in r[:-1]), "yes", r[-1])
        for r in conn.execute(q.order_by(t.worker_id))
    ]


def add_exception(
    conn: Connection, exc: RosterException, *, by: str, note: str = "", within: Scope = CITY
) -> int:
    """Record a swap, take or leave (both people must be active, and of `within`); its id."""
    _require_active(conn, exc.people, within)
    stmt = pg_insert(RosterExceptionRow).values(
        kind=exc.kind.value,
        worker_id=exc.worker_id,
        other_id=exc.other_id,
        first_day=exc.first_day,
        last_day=exc.last_day,
        note=note,
        created_by=by,
    )
    return int(conn.scalar(stmt.returning(RosterExceptionRow.id)) or 0)


def _managed(within: Scope) -> Any:
    """Exceptions of a person of `within` (the `worker_id` the exception is about)."""
    return RosterExceptionRow.worker_id.in_(select(geo.WorkerRow.worker_id).where(_of_scope(within)))


def remove_exception(conn: Connection, exception_id: int, *, within: Scope = CITY) -> bool:
    """Delete one exception of a person of `within` (False: none such, or another district's)."""
    t = RosterExceptionRow
    return bool(conn.execute(delete(t).where(t.id == exception_id, _managed(within))).rowcount)


def list_exceptions(conn: Connection, *, since: date, within: Scope = CITY) -> list[Row[Any]]:
    """Exceptions ending on or after `since` of the people of `within`, by first day (rows with
    the table's columns)."""
    t = RosterExceptionRow
    cols = (t.id, t.kind, t.worker_id, t.other_id, t.first_day, t.last_day, t.note, t.created_by)
    query = select(*cols).where(t.last_day >= since, _managed(within))
    return list(conn.execute(query.order_by(t.first_day, t.id)))
