"""The SQL of the volunteer scheme (async psycopg, inside the caller's transaction).

One statement per read or write; the rules they serve are pure (`values`, `ledger`, `policy`)
and the transactions that combine them are `flows`. Nothing here returns a resident's personal
data: an offered task is its category, priority, place and state, never the report's text,
reporter or sources.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from psycopg import AsyncConnection, sql

from dispatch.lifecycle.states import CaseState
from dispatch.volunteers.ledger import Entry, EntryKind
from dispatch.volunteers.values import ItemKind, Offer, OfferStatus, RedemptionStatus, VolunteerStatus

Conn = AsyncConnection[Any]
Row = dict[str, Any]

CLAIMABLE: tuple[str, ...] = (CaseState.DISPATCHED.value, CaseState.ACCEPTED.value)
"""A case is offered while its grid worker holds it and nobody has started on site."""


@dataclass(frozen=True, slots=True)
class Volunteer:
    volunteer_id: str
    name: str
    phone: str
    community_code: str
    skills: tuple[str, ...]
    status: VolunteerStatus
    balance: int
    pin: str

    def public(self) -> Row:
        """What the volunteer and their community see (never the PIN hash)."""
        return {
            "volunteer_id": self.volunteer_id,
            "name": self.name,
            "phone": self.phone,
            "community_code": self.community_code,
            "skills": list(self.skills),
            "status": self.status.value,
            "balance": self.balance,
        }


@dataclass(frozen=True, slots=True)
class Item:
    item_id: str
    community_code: str | None
    zh: str
    en: str
    kind: ItemKind
    cost: int
    stock: int
    partner_id: str
    active: bool


_VOLUNTEER = sql.SQL("volunteer_id, name, phone, community_code, skills, status, balance, pin")
_ITEM = sql.SQL("item_id, community_code, zh, en, kind, cost, stock, partner_id, active")
_OFFER = sql.SQL("incident_id::text, community_code, status, round, holder, claimed_at, lapses_at")
_LOCK = {True: sql.SQL(" FOR UPDATE"), False: sql.SQL("")}


def _volunteer(r: Sequence[Any]) -> Volunteer:
    return Volunteer(r[0], r[1], r[2], r[3], tuple(r[4] or ()), VolunteerStatus(r[5]), int(r[6]), r[7])


def _item(r: Sequence[Any]) -> Item:
    return Item(r[0], r[1], r[2], r[3], ItemKind(r[4]), int(r[5]), int(r[6]), r[7], bool(r[8]))


def _offer(r: Sequence[Any]) -> Offer:
    return Offer(r[0], r[1], OfferStatus(r[2]), int(r[3]), r[4], r[5], r[6])


# --- volunteers ---------------------------------------------------------------------------
async def insert_volunteer(conn: Conn, v: Volunteer, *, at: datetime, approved_by: str | None) -> bool:
    """A new volunteer; False when the phone number is registered already."""
    cur = await conn.execute(
        sql.SQL(
            "INSERT INTO volunteers ({}, registered_at, approved_at, approved_by) "
            "VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s) ON CONFLICT (phone) DO NOTHING"
        ).format(_VOLUNTEER),
        (
            v.volunteer_id,
            v.name,
            v.phone,
            v.community_code,
            list(v.skills),
            v.status.value,
            v.balance,
            v.pin,
            at,
            at if approved_by else None,
            approved_by,
        ),
    )
    return cur.rowcount == 1


async def volunteer(conn: Conn, volunteer_id: str, *, lock: bool = False) -> Volunteer | None:
    cur = await conn.execute(
        sql.SQL("SELECT {} FROM volunteers WHERE volunteer_id = %s{}").format(_VOLUNTEER, _LOCK[lock]),
        (volunteer_id,),
    )
    row = await cur.fetchone()
    return None if row is None else _volunteer(row)


async def volunteer_by_phone(conn: Conn, phone: str) -> Volunteer | None:
    cur = await conn.execute(
        sql.SQL("SELECT {} FROM volunteers WHERE phone = %s").format(_VOLUNTEER), (phone,)
    )
    row = await cur.fetchone()
    return None if row is None else _volunteer(row)


async def volunteers_of(conn: Conn, communities: Sequence[str] | None, status: str | None) -> list[Volunteer]:
    """A community's (or several, or every: None) volunteers, by name."""
    cur = await conn.execute(
        sql.SQL(
            "SELECT {} FROM volunteers WHERE (%s::text[] IS NULL OR community_code = ANY(%s::text[])) "
            "AND (%s::text IS NULL OR status = %s) ORDER BY community_code, name, volunteer_id"
        ).format(_VOLUNTEER),
        (communities, communities, status, status),
    )
    return [_volunteer(r) for r in await cur.fetchall()]


async def set_status(
    conn: Conn, volunteer_id: str, status: VolunteerStatus, *, by: str, at: datetime
) -> None:
    await conn.execute(
        "UPDATE volunteers SET status = %s, approved_at = COALESCE(approved_at, %s), "
        "approved_by = COALESCE(approved_by, %s) WHERE volunteer_id = %s",
        (status.value, at, by, volunteer_id),
    )


async def street_of(conn: Conn, community_code: str) -> str | None:
    """The street a community belongs to (None: no such community in the layers)."""
    cur = await conn.execute(
        "SELECT street_code FROM geo_community WHERE code = %s ORDER BY version_id DESC LIMIT 1",
        (community_code,),
    )
    row = await cur.fetchone()
    return None if row is None else str(row[0])


# --- offers and claims --------------------------------------------------------------------
_TASK_VIEW = """SELECT i.incident_id::text, i.category, i.priority, i.state, i.community_code, i.grid_code,
       i.address, ST_X(i.geom), ST_Y(i.geom), i.first_reported_at, i.assignee_id,
       o.status, o.round, o.holder, o.lapses_at, o.resolved_at, o.on_time, o.offered_by
  FROM incidents i LEFT JOIN volunteer_offers o ON o.incident_id = i.incident_id"""


def _task(r: Sequence[Any], now: datetime, me: str | None) -> Row:
    status = r[11]
    offer_status = status or OfferStatus.OFFERED.value
    if status == OfferStatus.CLAIMED.value and r[14] is not None and r[14] <= now:
        offer_status = OfferStatus.OFFERED.value  # the claim lapsed: the task returned
    return {
        "incident_id": r[0],
        "category": r[1],
        "priority": r[2],
        "case_state": r[3],
        "community_code": r[4],
        "grid_code": r[5],
        "address": r[6],
        "lon": r[7],
        "lat": r[8],
        "reported_at": r[9],
        "status": offer_status,
        "round": r[12] or 0,
        "mine": me is not None and r[13] == me and offer_status != OfferStatus.OFFERED.value,
        "lapses_at": r[14] if offer_status == OfferStatus.CLAIMED.value else None,
        "resolved_at": r[15],
        "on_time": r[16],
        "handed_by": r[17] if r[17] and r[17] != POLICY else None,
    }


POLICY = "policy"
"""`offered_by` of a case offered by the policy (auto), not handed over by its grid worker."""


async def open_tasks(
    conn: Conn, *, community: str, auto: Sequence[str], priorities: Sequence[str], now: datetime, me: str
) -> list[Row]:
    """What a community's volunteers may claim now, and what `me` holds or did: auto-offered
    categories with no offer yet, handed-over cases, lapsed claims; the oldest first."""
    cur = await conn.execute(
        _TASK_VIEW
        + """ WHERE i.community_code = %(c)s AND (
          (i.state = ANY(%(claimable)s) AND (
              (o.incident_id IS NULL AND i.category = ANY(%(auto)s) AND i.priority = ANY(%(p)s))
           OR o.status = 'offered'
           OR (o.status = 'claimed' AND o.lapses_at <= %(now)s)))
          OR (o.holder = %(me)s AND (o.status <> 'claimed' OR o.lapses_at > %(now)s)))
        ORDER BY i.first_reported_at, i.incident_id LIMIT 200""",
        {
            "c": community,
            "claimable": list(CLAIMABLE),
            "auto": list(auto),
            "p": list(priorities),
            "now": now,
            "me": me,
        },
    )
    return [_task(r, now, me) for r in await cur.fetchall()]


async def task_view(conn: Conn, incident_id: str, now: datetime, me: str | None) -> Row | None:
    cur = await conn.execute(_TASK_VIEW + " WHERE i.incident_id = %s::uuid", (incident_id,))
    row = await cur.fetchone()
    return None if row is None else _task(row, now, me)


async def case_facts(conn: Conn, incident_id: str) -> Row | None:
    """The facts an offer is decided on (no personal data)."""
    cur = await conn.execute(
        "SELECT category, priority, state, community_code, assignee_id, street_code "
        "FROM incidents WHERE incident_id = %s::uuid",
        (incident_id,),
    )
    r = await cur.fetchone()
    if r is None:
        return None
    keys = ("category", "priority", "state", "community_code", "assignee_id", "street_code")
    return dict(zip(keys, r, strict=True))


async def ensure_offer(
    conn: Conn, incident_id: str, *, community: str, category: str, by: str, at: datetime
) -> None:
    """Put the case before its community's volunteers (nothing when it already is)."""
    await conn.execute(
        "INSERT INTO volunteer_offers "
        "(incident_id, community_code, category, status, offered_by, offered_at) "
        "VALUES (%s::uuid, %s, %s, 'offered', %s, %s) ON CONFLICT (incident_id) DO NOTHING",
        (incident_id, community, category, by, at),
    )


async def offer_of(conn: Conn, incident_id: str, *, lock: bool = False) -> Offer | None:
    cur = await conn.execute(
        sql.SQL("SELECT {} FROM volunteer_offers WHERE incident_id = %s::uuid{}").format(_OFFER, _LOCK[lock]),
        (incident_id,),
    )
    row = await cur.fetchone()
    return None if row is None else _offer(row)


async def write_offer(conn: Conn, offer: Offer, **also: Any) -> None:
    """Store the offer's claim state (and `also`: resolved_at, on_time, settled_at, settled_by)."""
    extra = sql.SQL("").join(sql.SQL(", {} = {}").format(sql.Identifier(k), sql.Placeholder(k)) for k in also)
    await conn.execute(
        sql.SQL(
            "UPDATE volunteer_offers SET status = %(status)s, round = %(round)s, holder = %(holder)s, "
            "claimed_at = %(claimed_at)s, lapses_at = %(lapses_at)s{} WHERE incident_id = %(id)s::uuid"
        ).format(extra),
        {
            "status": offer.status.value,
            "round": offer.round,
            "holder": offer.holder,
            "claimed_at": offer.claimed_at,
            "lapses_at": offer.lapses_at,
            "id": offer.incident_id,
            **also,
        },
    )


async def offer_facts(conn: Conn, incident_id: str) -> tuple[str, bool | None]:
    """(category, on_time) of an offer."""
    cur = await conn.execute(
        "SELECT category, on_time FROM volunteer_offers WHERE incident_id = %s::uuid", (incident_id,)
    )
    row = await cur.fetchone()
    assert row is not None
    return str(row[0]), row[1]


# --- the ledger ---------------------------------------------------------------------------
_ENTRY = sql.SQL("volunteer_id, cause, kind, points, at, reverses, note")


def _entry(r: Sequence[Any]) -> Entry:
    return Entry(r[0], r[1], EntryKind(r[2]), int(r[3]), r[4], r[5], r[6])


async def entries_by_cause(conn: Conn, causes: Sequence[str]) -> list[Entry]:
    cur = await conn.execute(
        sql.SQL("SELECT {} FROM points_entries WHERE cause = ANY(%s)").format(_ENTRY), (list(causes),)
    )
    return [_entry(r) for r in await cur.fetchall()]


async def append_entry(conn: Conn, entry: Entry, *, balance_after: int, community: str) -> None:
    await conn.execute(
        sql.SQL(
            "INSERT INTO points_entries ({}, balance_after, community_code) "
            "VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s)"
        ).format(_ENTRY),
        (
            entry.volunteer_id,
            entry.cause,
            entry.kind.value,
            entry.points,
            entry.at,
            entry.reverses,
            entry.note,
            balance_after,
            community,
        ),
    )
    await conn.execute(
        "UPDATE volunteers SET balance = %s WHERE volunteer_id = %s", (balance_after, entry.volunteer_id)
    )


async def entries_of(conn: Conn, volunteer_id: str) -> list[Entry]:
    cur = await conn.execute(
        sql.SQL("SELECT {} FROM points_entries WHERE volunteer_id = %s ORDER BY at, entry_id").format(_ENTRY),
        (volunteer_id,),
    )
    return [_entry(r) for r in await cur.fetchall()]


async def entries_in(
    conn: Conn, *, communities: Sequence[str] | None, start: datetime, end: datetime
) -> list[Entry]:
    """Every entry in [start, end), of some communities' volunteers (None: the whole district)."""
    cur = await conn.execute(
        sql.SQL(
            "SELECT {} FROM points_entries WHERE at >= %s AND at < %s "
            "AND (%s::text[] IS NULL OR community_code = ANY(%s::text[])) ORDER BY at, entry_id"
        ).format(_ENTRY),
        (start, end, communities, communities),
    )
    return [_entry(r) for r in await cur.fetchall()]


# --- the catalogue and redemptions --------------------------------------------------------
async def upsert_item(conn: Conn, item: Item, *, at: datetime) -> None:
    await conn.execute(
        sql.SQL(
            "INSERT INTO catalogue_items ({}, updated_at) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s) "
            "ON CONFLICT (item_id) DO UPDATE SET community_code = EXCLUDED.community_code, zh = EXCLUDED.zh, "
            "en = EXCLUDED.en, kind = EXCLUDED.kind, cost = EXCLUDED.cost, stock = EXCLUDED.stock, "
            "partner_id = EXCLUDED.partner_id, active = EXCLUDED.active, updated_at = EXCLUDED.updated_at"
        ).format(_ITEM),
        (*_item_values(item), at),
    )


async def seed_item(conn: Conn, item: Item, *, at: datetime) -> None:
    """An item of the starting catalogue, unless operators already manage one by that id."""
    await conn.execute(
        sql.SQL(
            "INSERT INTO catalogue_items ({}, updated_at) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s) "
            "ON CONFLICT (item_id) DO NOTHING"
        ).format(_ITEM),
        (*_item_values(item), at),
    )


def _item_values(item: Item) -> tuple[Any, ...]:
    return (
        item.item_id,
        item.community_code,
        item.zh,
        item.en,
        item.kind.value,
        item.cost,
        item.stock,
        item.partner_id,
        item.active,
    )


async def items_for(conn: Conn, community: str | None, *, active_only: bool) -> list[Item]:
    """The catalogue a community sees (its own items and the district's); None: every item."""
    cur = await conn.execute(
        sql.SQL(
            "SELECT {} FROM catalogue_items WHERE (%s::text IS NULL OR community_code IS NULL "
            "OR community_code = %s) AND (NOT %s OR active) ORDER BY cost, item_id"
        ).format(_ITEM),
        (community, community, active_only),
    )
    return [_item(r) for r in await cur.fetchall()]


async def lock_item(conn: Conn, item_id: str) -> Item | None:
    cur = await conn.execute(
        sql.SQL("SELECT {} FROM catalogue_items WHERE item_id = %s FOR UPDATE").format(_ITEM), (item_id,)
    )
    row = await cur.fetchone()
    return None if row is None else _item(row)


async def take_one(conn: Conn, item_id: str) -> None:
    await conn.execute("UPDATE catalogue_items SET stock = stock - 1 WHERE item_id = %s", (item_id,))


_REDEMPTION = sql.SQL(
    "redemption_id::text, volunteer_id, item_id, partner_id, points, status, created_at, fulfilled_at"
)


def _redemption(r: Sequence[Any]) -> Row:
    keys = (
        "redemption_id",
        "volunteer_id",
        "item_id",
        "partner_id",
        "points",
        "status",
        "created_at",
        "fulfilled_at",
    )
    return dict(zip(keys, r, strict=True))


async def insert_redemption(conn: Conn, redemption_id: str, v: str, item: Item, at: datetime) -> None:
    await conn.execute(
        "INSERT INTO redemptions "
        "(redemption_id, volunteer_id, item_id, partner_id, points, status, created_at) "
        "VALUES (%s::uuid, %s, %s, %s, %s, %s, %s)",
        (redemption_id, v, item.item_id, item.partner_id, item.cost, RedemptionStatus.PENDING.value, at),
    )


async def redemption(conn: Conn, redemption_id: str, *, lock: bool = False) -> Row | None:
    cur = await conn.execute(
        sql.SQL("SELECT {} FROM redemptions WHERE redemption_id = %s::uuid{}").format(
            _REDEMPTION, _LOCK[lock]
        ),
        (redemption_id,),
    )
    row = await cur.fetchone()
    return None if row is None else _redemption(row)


async def redemptions_of(
    conn: Conn, *, volunteer: str | None = None, partner: str | None = None
) -> list[Row]:
    cur = await conn.execute(
        sql.SQL(
            "SELECT {} FROM redemptions WHERE (%s::text IS NULL OR volunteer_id = %s) "
            "AND (%s::text IS NULL OR partner_id = %s) ORDER BY created_at DESC LIMIT 200"
        ).format(_REDEMPTION),
        (volunteer, volunteer, partner, partner),
    )
    return [_redemption(r) for r in await cur.fetchall()]


async def mark_fulfilled(conn: Conn, redemption_id: str, at: datetime) -> None:
    await conn.execute(
        "UPDATE redemptions SET status = %s, fulfilled_at = %s WHERE redemption_id = %s::uuid",
        (RedemptionStatus.FULFILLED.value, at, redemption_id),
    )


async def communities(conn: Conn) -> list[Row]:
    """The district's communities (code, name, street) in force, for the registration form."""
    cur = await conn.execute(
        "SELECT DISTINCT ON (code) code, name, street_code FROM geo_community ORDER BY code, version_id DESC"
    )
    return [{"code": r[0], "name": r[1], "street_code": r[2]} for r in await cur.fetchall()]
