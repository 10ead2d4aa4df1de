"""The volunteer scheme as others run it: grid workers hand tasks to volunteers and check their
work; operators approve or import volunteers, keep the catalogue, reverse entries and read
the leaderboards and yearly totals; partners fulfil redemptions.

An operator's scope is their street's communities (the district's: all). An operator verifies a
volunteer's work with the ordinary `POST /incidents/{id}/verify` (or `rework`): the points
follow from the case transition, whichever endpoint made it.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from fastapi import APIRouter, Response
from starlette.concurrency import run_in_threadpool

from dispatch.api import board
from dispatch.api.accounts import hash_secret
from dispatch.api.answers import VOLUNTEER_ERRORS
from dispatch.api.commands import IdempotencyKey, answer
from dispatch.api.edge import Year
from dispatch.api.errors import NotFound
from dispatch.api.routes_volunteers import Scheme, standings, this_year
from dispatch.api.state import Forbidden, Operator, Partner, State, Worker
from dispatch.api.volunteer_models import (
    Catalogue,
    Check,
    EntryOut,
    ItemBody,
    ItemOut,
    Leaderboard,
    RedemptionOut,
    Redemptions,
    Registration,
    ReversalRequest,
    StatusChange,
    TaskOut,
    VolunteerOut,
)
from dispatch.cases.flows import Conn
from dispatch.lifecycle.case import Actor
from dispatch.volunteers import service as q
from dispatch.volunteers.service import Item

router = APIRouter(tags=["volunteers"], responses=VOLUNTEER_ERRORS)


async def _my_task(conn: Conn, worker: str, task_id: UUID) -> str:
    found = await board.worker_tasks(conn, worker, str(task_id))
    if not found or found[0]["status"] != "active":
        raise NotFound()
    return str(found[0]["incident_id"])


async def _communities(conn: Conn, operator: Actor, community: str | None) -> list[str] | None:
    """The communities an operator asks about (None: the district), inside their scope."""
    if community is not None:
        if (
            not operator.scope.admits({"community_code": community})
            or await q.street_of(conn, community) is None
        ):
            raise NotFound()
        return [community]
    if operator.scope.whole_city:
        return None
    return [
        c["code"] for c in await q.communities(conn) if operator.scope.admits({"community_code": c["code"]})
    ]


# --- grid workers -----------------------------------------------------------------------
@router.post("/worker/volunteer-tasks/{task_id}", tags=["grid worker"])
async def hand_over(task_id: UUID, caller: Worker, state: State, flows: Scheme) -> TaskOut:
    """Offer my task to its community's volunteers (a volunteer-eligible case only)."""
    async with state.pool.connection() as conn:
        incident_id = await _my_task(conn, caller.subject, task_id)
        return TaskOut(**await flows.hand(conn, incident_id, caller.actor()))


@router.post("/worker/volunteer-tasks/{task_id}/check", tags=["grid worker"])
async def check(
    *,
    task_id: UUID,
    body: Check,
    caller: Worker,
    state: State,
    flows: Scheme,
    response: Response,
    key: IdempotencyKey = None,
) -> dict[str, Any]:
    """Verify a volunteer's resolution of my task (points are credited), or send it back."""
    async with state.pool.connection() as conn:
        incident_id = await _my_task(conn, caller.subject, task_id)
        outcome = await flows.verify(
            conn, incident_id, caller.actor(), passed=body.passed, reason=body.reason, key=key
        )
    return answer(outcome, response)


# --- operators --------------------------------------------------------------------------
@router.get("/volunteers", tags=["operator"])
async def volunteers(
    caller: Operator, state: State, flows: Scheme, community: str | None = None, status: str | None = None
) -> list[VolunteerOut]:
    """The volunteers of a community (or of my scope), pending ones to approve among them."""
    async with state.pool.connection() as conn:
        scope = await _communities(conn, caller.actor(), community)
        found = await q.volunteers_of(conn, scope, status)
    return [VolunteerOut(**v.public()) for v in found]


@router.post("/volunteers/import", tags=["operator"], status_code=201)
async def import_volunteers(
    body: list[Registration], caller: Operator, state: State, flows: Scheme
) -> list[VolunteerOut]:
    """Volunteers the community already knows (an import): active at once."""
    if len(body) > 500:
        raise Forbidden("import at most 500 volunteers at a time")
    out = []
    async with state.pool.connection() as conn:
        for r in body:
            if not flows.in_scope(caller.actor(), r.community_code):
                raise NotFound()
            pin_hash = await run_in_threadpool(hash_secret, r.pin)
            v = await flows.register(
                conn,
                name=r.name,
                phone=r.phone,
                community=r.community_code,
                skills=r.skills,
                pin_hash=pin_hash,
                approved_by=caller.subject,
            )
            out.append(VolunteerOut(**v.public()))
    return out


@router.post("/volunteers/{volunteer_id}/status", tags=["operator"])
async def set_status(
    volunteer_id: str, body: StatusChange, caller: Operator, state: State, flows: Scheme
) -> VolunteerOut:
    """Approve (active) a registration, or pause (inactive) a volunteer."""
    async with state.pool.connection() as conn:
        v = await flows.set_status(conn, volunteer_id, body.status, caller.actor())
    return VolunteerOut(**v.public())


@router.get("/volunteers/leaderboard", tags=["operator"])
async def yearly_totals(
    caller: Operator,
    state: State,
    flows: Scheme,
    year: Year = None,
    community: str | None = None,
) -> Leaderboard:
    """Points earned in a year by volunteer: one community's leaderboard, or my scope's yearly
    totals (优秀志愿者 selection)."""
    async with state.pool.connection() as conn:
        scope = await _communities(conn, caller.actor(), community)
    when = year or this_year(flows)
    return Leaderboard(year=when, community_code=community, items=await standings(state, flows, scope, when))


@router.post("/points/reversals", tags=["operator"], status_code=201)
async def reverse(body: ReversalRequest, caller: Operator, state: State, flows: Scheme) -> EntryOut:
    """Take an entry back (a reversal entry; points already spent cannot be)."""
    async with state.pool.connection() as conn:
        entry = await flows.reverse(conn, body.cause, caller.actor(), body.note)
    return EntryOut.model_validate(entry, from_attributes=True)


@router.get("/catalogue", tags=["operator"])
async def whole_catalogue(caller: Operator, state: State, flows: Scheme) -> Catalogue:
    async with state.pool.connection() as conn:
        items = await q.items_for(conn, None, active_only=False)
    return Catalogue(items=[ItemOut.model_validate(i, from_attributes=True) for i in items])


@router.put("/catalogue/{item_id}", tags=["operator"])
async def put_item(item_id: str, body: ItemBody, caller: Operator, state: State, flows: Scheme) -> ItemOut:
    """Add or change an item: district-wide items are the district operators', a community's
    items its street's operators'."""
    if len(item_id) > 48 or not item_id.strip():
        raise NotFound()
    async with state.pool.connection() as conn:
        if body.community_code is None:
            if caller.scope.street is not None:
                raise Forbidden("district-wide items are kept by the district's operators")
        elif not flows.in_scope(caller.actor(), body.community_code):
            raise NotFound()
        item = Item(
            item_id,
            body.community_code,
            body.zh,
            body.en or body.zh,
            body.kind,
            body.cost,
            body.stock,
            body.partner_id,
            body.active,
        )
        async with conn.transaction():
            await q.upsert_item(conn, item, at=flows.clock())
    return ItemOut.model_validate(item, from_attributes=True)


# --- partners ---------------------------------------------------------------------------
@router.get("/partner/redemptions", tags=["partner"])
async def partner_redemptions(caller: Partner, state: State, flows: Scheme) -> Redemptions:
    async with state.pool.connection() as conn:
        items = await q.redemptions_of(conn, partner=caller.subject)
    return Redemptions(items=[RedemptionOut(**r) for r in items])


@router.post("/partner/redemptions/{redemption_id}/fulfil", tags=["partner"])
async def fulfil(redemption_id: UUID, caller: Partner, state: State, flows: Scheme) -> RedemptionOut:
    """Handed over (or the service done): the redemption is fulfilled."""
    async with state.pool.connection() as conn:
        return RedemptionOut(**await flows.fulfil(conn, str(redemption_id), caller.subject))
