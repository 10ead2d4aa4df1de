"""Volunteers (公益积分): register and log in (no token yet), then, as a volunteer, their
community's offered tasks — claim, resolve with a photo — their statement, their community's
leaderboard, the catalogue and their redemptions.

A volunteer sees only their own community's offered tasks, and nothing personal about
residents (`dispatch.volunteers.service`): another community's task answers 404, like a
missing one.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Depends, File, UploadFile
from starlette.concurrency import run_in_threadpool

from dispatch.api import photos
from dispatch.api.accounts import decoy_hash, hash_secret, verify_secret
from dispatch.api.answers import PHOTO_ERRORS, VOLUNTEER_ERRORS
from dispatch.api.auth import ApiRole, AuthError, Principal, issue_token
from dispatch.api.commands import IdempotencyKey
from dispatch.api.edge import Year
from dispatch.api.state import ApiState, State, VolunteerCaller
from dispatch.api.volunteer_models import (
    Catalogue,
    Community,
    ItemOut,
    Leaderboard,
    PhotoOut,
    RedemptionOut,
    RedemptionRequest,
    Redemptions,
    Registration,
    StandingOut,
    Statement,
    StatementLineOut,
    TaskOut,
    Tasks,
    TokenOut,
    VolunteerLogin,
    VolunteerOut,
    VolunteerResolve,
)
from dispatch.volunteers import service as q
from dispatch.volunteers.errors import NotFound
from dispatch.volunteers.flows import VolunteerFlows
from dispatch.volunteers.ledger import LOCAL, earned, leaderboard, statement

router = APIRouter(prefix="/volunteer", tags=["volunteers", "volunteer"], responses=VOLUNTEER_ERRORS)


def scheme(state: State) -> VolunteerFlows:
    if state.volunteers is None:
        raise NotFound("the volunteer scheme is not offered here")
    return state.volunteers


Scheme = Annotated[VolunteerFlows, Depends(scheme)]


def year_bounds(year: int) -> tuple[datetime, datetime]:
    """[1 January, next 1 January) of a local calendar year (优秀志愿者 are chosen by it)."""
    return datetime(year, 1, 1, tzinfo=LOCAL), datetime(year + 1, 1, 1, tzinfo=LOCAL)


def this_year(flows: VolunteerFlows) -> int:
    return flows.clock().astimezone(LOCAL).year


async def standings(
    state: ApiState, flows: VolunteerFlows, communities: list[str] | None, year: int
) -> list[StandingOut]:
    """A leaderboard (one community) or the yearly totals (several, or the whole district)."""
    start, end = year_bounds(year)
    async with state.pool.connection() as conn:
        entries = await q.entries_in(conn, communities=communities, start=start, end=end)
        people = {v.volunteer_id: v for v in await q.volunteers_of(conn, communities, None)}
    out = []
    for s in leaderboard(entries, year=year):
        v = people.get(s.volunteer_id)
        if v is not None:
            out.append(
                StandingOut(
                    rank=s.rank,
                    volunteer_id=v.volunteer_id,
                    name=v.name,
                    community_code=v.community_code,
                    points=s.points,
                )
            )
    return out


# --- no token yet -----------------------------------------------------------------------
@router.get("/communities")
async def communities(state: State) -> list[Community]:
    """The communities one may register with (codes and names only)."""
    async with state.pool.connection() as conn:
        return [Community(**c) for c in await q.communities(conn)]


@router.post("/register", status_code=201)
async def register(body: Registration, state: State, flows: Scheme) -> VolunteerOut:
    """Self-registration on the phone page: pending until the community approves it."""
    pin_hash = await run_in_threadpool(hash_secret, body.pin)
    async with state.pool.connection() as conn:
        v = await flows.register(
            conn,
            name=body.name,
            phone=body.phone,
            community=body.community_code,
            skills=body.skills,
            pin_hash=pin_hash,
        )
    return VolunteerOut(**v.public())


@router.post("/login")
async def login(body: VolunteerLogin, state: State, flows: Scheme) -> TokenOut:
    """A volunteer token (phone number + PIN), for an approved (active) volunteer."""
    async with state.pool.connection() as conn:
        v = await q.volunteer_by_phone(conn, body.phone)
    ok = await run_in_threadpool(verify_secret, body.pin, v.pin if v else decoy_hash())
    if v is None or not ok:
        raise AuthError("unknown phone number or wrong PIN")
    if v.status != "active":
        raise AuthError(f"registration {v.status}: your community has not approved it")
    principal = Principal(ApiRole.VOLUNTEER, v.volunteer_id, community=v.community_code)
    return TokenOut(
        access_token=issue_token(state.settings, principal),
        token_type="bearer",  # noqa: S106 (the scheme's name, not a secret)
        expires_in=state.settings.token_ttl_s,
        role=ApiRole.VOLUNTEER.value,
        sub=v.volunteer_id,
        community=v.community_code,
        volunteer=VolunteerOut(**v.public()),
    )


# --- the volunteer ----------------------------------------------------------------------
@router.get("/me")
async def me(caller: VolunteerCaller, state: State, flows: Scheme) -> VolunteerOut:
    async with state.pool.connection() as conn:
        v = await flows.active(conn, caller.subject)
    return VolunteerOut(**v.public())


@router.get("/tasks")
async def tasks(caller: VolunteerCaller, state: State, flows: Scheme) -> Tasks:
    """What I may claim in my community, and what I hold or did, the oldest first."""
    async with state.pool.connection() as conn:
        v = await flows.active(conn, caller.subject)
        items = await flows.tasks(conn, v)
    return Tasks(community_code=v.community_code, items=[TaskOut(**t) for t in items])


@router.post("/tasks/{incident_id}/claim")
async def claim(incident_id: UUID, caller: VolunteerCaller, state: State, flows: Scheme) -> TaskOut:
    """Take the task: nobody else may until it is resolved or the claim lapses."""
    async with state.pool.connection() as conn:
        v = await flows.active(conn, caller.subject)
        return TaskOut(**await flows.claim(conn, str(incident_id), v))


@router.post("/tasks/{incident_id}/resolve")
async def resolve(
    *,
    incident_id: UUID,
    body: VolunteerResolve,
    caller: VolunteerCaller,
    state: State,
    flows: Scheme,
    key: IdempotencyKey = None,
) -> TaskOut:
    """Done, with a note and at least one photo: the grid worker or an operator verifies it."""
    iid = str(incident_id)
    async with state.pool.connection() as conn:
        v = await flows.active(conn, caller.subject)
        await flows.resolve(conn, iid, v, note=body.note, photos=body.photos, key=key)
        view = await q.task_view(conn, iid, flows.clock(), v.volunteer_id)
    assert view is not None
    return TaskOut(**view)


@router.post("/photos", status_code=201, responses=PHOTO_ERRORS)
async def upload(
    caller: VolunteerCaller,
    state: State,
    photo: Annotated[UploadFile, File(description="JPEG, PNG or WebP, at most 5 MB")],
) -> PhotoOut:
    """Store a photo for a resolution; answers its key (the grid worker sees it on the task)."""
    data = await photo.read(photos.MAX_BYTES + 1)
    async with state.pool.connection() as conn:
        key, kind = await photos.store(conn, data, datetime.now(UTC))
    return PhotoOut(key=key, media_type=kind.media_type, bytes=len(data))


@router.get("/statement")
async def my_statement(caller: VolunteerCaller, state: State, flows: Scheme) -> Statement:
    """Every entry of my points, with the running balance."""
    async with state.pool.connection() as conn:
        v = await flows.active(conn, caller.subject)
        entries = await q.entries_of(conn, v.volunteer_id)
    year = this_year(flows)
    lines = [StatementLineOut.model_validate(line, from_attributes=True) for line in statement(entries)]
    return Statement(
        volunteer_id=v.volunteer_id,
        balance=v.balance,
        earned_this_year=earned([e for e in entries if e.at.astimezone(LOCAL).year == year]),
        lines=lines,
    )


@router.get("/leaderboard")
async def my_leaderboard(
    caller: VolunteerCaller, state: State, flows: Scheme, year: Year = None
) -> Leaderboard:
    """My community's volunteers by points earned this year (or `year`)."""
    async with state.pool.connection() as conn:
        v = await flows.active(conn, caller.subject)
    when = year or this_year(flows)
    items = await standings(state, flows, [v.community_code], when)
    return Leaderboard(year=when, community_code=v.community_code, items=items)


@router.get("/catalogue")
async def catalogue(caller: VolunteerCaller, state: State, flows: Scheme) -> Catalogue:
    """What my points buy: my community's items and the district's."""
    async with state.pool.connection() as conn:
        v = await flows.active(conn, caller.subject)
        items = await q.items_for(conn, v.community_code, active_only=True)
    return Catalogue(items=[ItemOut.model_validate(i, from_attributes=True) for i in items])


@router.post("/redemptions", status_code=201)
async def redeem(
    body: RedemptionRequest, caller: VolunteerCaller, state: State, flows: Scheme
) -> RedemptionOut:
    """Points and one unit of stock are debited together; the partner then hands it over."""
    async with state.pool.connection() as conn:
        v = await flows.active(conn, caller.subject)
        done = await flows.redeem(conn, v, body.item_id, str(body.request_id) if body.request_id else None)
    return RedemptionOut(**done)


@router.get("/redemptions")
async def my_redemptions(caller: VolunteerCaller, state: State, flows: Scheme) -> Redemptions:
    async with state.pool.connection() as conn:
        v = await flows.active(conn, caller.subject)
        items = await q.redemptions_of(conn, volunteer=v.volunteer_id)
    return Redemptions(items=[RedemptionOut(**r) for r in items])
