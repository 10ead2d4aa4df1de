"""The dead-letter desk for district operators: list and read the letters on `reports.dlq`,
replay one through its adapter (after a configuration fix), discard one with a reason; and the
board's panel of open letters by source and field. Every decision is recorded with who made it.
A district operator sees and decides their district's letters only, the city operator every
letter (whose a letter is: dispatch/deadletters/places.py); another district's is 404. Each
letter says its `district` and its `placement`: how that was read, or why no district holds it.
The topic reader and the producers' side are the desk's ports (`dispatch.deadletters.ports`),
given to `create_app` by the API process's root; an app built without them answers 404 here.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel, Field
from sqlalchemy import Engine
from starlette.concurrency import run_in_threadpool

from config.settings import Settings
from dispatch.api.answers import ERRORS
from dispatch.api.auth import Principal
from dispatch.api.errors import NotFound, problem
from dispatch.api.state import DistrictOperator, State
from dispatch.deadletters.desk import Decided, DeskFilter, Entry, counts_by_reason, find, select_letters
from dispatch.deadletters.flows import DeskError, decisions, read_entries, record, replay, scoped
from dispatch.deadletters.models import Decision
from dispatch.deadletters.places import LetterPlace, PlacedBy
from dispatch.deadletters.ports import DeskPorts
from dispatch.scope import Scope

router = APIRouter(prefix="/dlq", tags=["dead letters", "operator"], responses=ERRORS)
MAX_LISTED = 500
PORTS = "dead_letter_desk"
"""The attribute of the app's `state` that holds the desk's ports (set by `create_app`)."""


class LetterOut(BaseModel):
    dlq_id: uuid.UUID
    source: str
    stage: str
    field: str
    reason: str
    received_at: datetime
    times: int
    origin: dict[str, Any]
    decision: str | None = None
    decided_by: str | None = None
    decision_reason: str | None = None
    district: str | None = Field(default=None, description="whose letter it is; null: the city's only")
    placement: str = Field(
        default="", description="how its district was read from its record, or why no district holds it"
    )
    placed_by: PlacedBy | None = Field(
        default=None, description="`placement` as a stable word, for a page to say in its own language"
    )
    placement_names: list[str] = Field(
        default_factory=list, description="the district, street and community names its address begins with"
    )


class LetterDetail(LetterOut):
    raw: str
    raw_encoding: str
    source_ref: str | None


class LettersOut(BaseModel):
    total: int
    letters: list[LetterOut]


class CountOut(BaseModel):
    source: str
    field: str
    open: int
    example: str


class ReplayIn(BaseModel):
    note: str = Field(default="replayed after a configuration fix", min_length=1, max_length=500)


class DiscardIn(BaseModel):
    reason: str = Field(min_length=3, max_length=500, description="why it is dropped (recorded)")


class DecisionOut(BaseModel):
    dlq_id: uuid.UUID
    decision: str
    ok: bool
    outcome: str


def _engine(state: State) -> Engine:
    if state.engine is None:
        raise NotFound("no database engine in this process")
    return state.engine


def _ports(request: Request) -> DeskPorts:
    ports: DeskPorts | None = getattr(request.app.state, PORTS, None)
    if ports is None:
        raise NotFound("the dead-letter desk is not wired in this process")
    return ports


@dataclass(frozen=True, slots=True)
class DeskState:
    """The letters of the caller's district (`dispatch.deadletters.places`), where each was
    placed, and the decisions."""

    entries: dict[uuid.UUID, Entry]
    places: dict[uuid.UUID, LetterPlace]
    decided: dict[uuid.UUID, Decided]


def _desk_state(settings: Settings, engine: Engine, ports: DeskPorts, scope: Scope) -> DeskState:
    entries = read_entries(settings, ports.read_to_end)
    with engine.connect() as conn:
        mine, places = scoped(conn, entries, scope, ports.point_of_record, ports.address_of_record)
        return DeskState(mine, places, decisions(conn))


DistrictQuery = Annotated[
    str | None,
    Query(
        pattern=r"^(\d{6}|city)$",
        description="the letters of this district only (行政区划代码), or `city`: those no district holds",
    ),
]


def _of_district(st: DeskState, district: str | None) -> DeskState:
    """The desk narrowed to one district's letters (the city operator's filter; a district
    operator's desk holds theirs only already)."""
    if district is None:
        return st
    wanted = None if district == "city" else district
    entries = {
        i: e for i, e in st.entries.items() if (p := st.places.get(i)) is not None and p.district == wanted
    }
    return DeskState(entries, st.places, st.decided)


def _out(e: Entry, d: Decided | None, place: LetterPlace | None) -> dict[str, Any]:
    x = e.letter
    return {
        "district": place.district if place else None,
        "placement": place.why if place else "",
        "placed_by": place.by if place else None,
        "placement_names": list(place.said) if place else [],
        "dlq_id": x.dlq_id,
        "source": x.source,
        "stage": x.stage.value,
        "field": x.field,
        "reason": x.reason,
        "received_at": x.received_at,
        "times": e.times,
        "origin": x.origin.model_dump(exclude_none=True),
        "decision": d.decision if d else None,
        "decided_by": d.actor if d else None,
        "decision_reason": d.reason if d else None,
    }


@router.get("", response_model=LettersOut)
async def letters(
    *,
    caller: DistrictOperator,
    state: State,
    request: Request,
    source: Annotated[str | None, Query(max_length=40)] = None,
    reason: Annotated[
        str | None, Query(max_length=200, description="part of the reason, or the field")
    ] = None,
    since: datetime | None = None,
    until: datetime | None = None,
    decided_too: Annotated[bool, Query(alias="all", description="decided letters too")] = False,
    district: DistrictQuery = None,
) -> Response | LettersOut:
    try:
        desk = DeskFilter(source=source, reason=reason, since=since, until=until, include_decided=decided_too)
    except ValueError as exc:  # a time without an offset (the only refusal DeskFilter makes)
        return problem(422, "needs_timezone", str(exc), field=str(exc).split(":")[0])
    st = await run_in_threadpool(_desk_state, state.settings, _engine(state), _ports(request), caller.scope)
    st = _of_district(st, district)
    chosen = select_letters(st.entries, st.decided, desk)
    return LettersOut(
        total=len(chosen),
        letters=[
            LetterOut(**_out(e, st.decided.get(e.letter.dlq_id), st.places.get(e.letter.dlq_id)))
            for e in chosen[:MAX_LISTED]
        ],
    )


@router.get("/counts", response_model=list[CountOut])
async def counts(
    caller: DistrictOperator, state: State, request: Request, district: DistrictQuery = None
) -> list[CountOut]:
    """Open letters by source and field, most first (the board's panel)."""
    st = await run_in_threadpool(_desk_state, state.settings, _engine(state), _ports(request), caller.scope)
    st = _of_district(st, district)
    return [
        CountOut(source=c.source, field=c.field, open=c.open, example=c.example)
        for c in counts_by_reason(st.entries, st.decided)
    ]


async def _one(
    state: State, request: Request, caller: Principal, dlq_id: uuid.UUID
) -> tuple[Entry, Decided | None, LetterPlace | None]:
    st = await run_in_threadpool(_desk_state, state.settings, _engine(state), _ports(request), caller.scope)
    try:
        entry = find(st.entries, str(dlq_id))
    except LookupError:
        raise NotFound(f"no dead letter {dlq_id}") from None
    return entry, st.decided.get(entry.letter.dlq_id), st.places.get(entry.letter.dlq_id)


@router.get("/{dlq_id}", response_model=LetterDetail)
async def letter(caller: DistrictOperator, state: State, request: Request, dlq_id: uuid.UUID) -> LetterDetail:
    entry, d, place = await _one(state, request, caller, dlq_id)
    x = entry.letter
    return LetterDetail(
        **_out(entry, d, place), raw=x.raw, raw_encoding=x.raw_encoding.value, source_ref=x.source_ref
    )


def _replay(ports: DeskPorts, engine: Engine, entry: Entry, note: str, actor: str) -> DecisionOut:
    with ports.open_replay() as replaying:
        result = replay(entry, replaying)
    if result.ok:
        with engine.begin() as conn:
            record(
                conn, entry.letter.dlq_id, Decision.REPLAYED, reason=note, actor=actor, outcome=result.outcome
            )
    return DecisionOut(
        dlq_id=entry.letter.dlq_id, decision=Decision.REPLAYED.value, ok=result.ok, outcome=result.outcome
    )


@router.post("/{dlq_id}/replay", response_model=DecisionOut)
async def replay_letter(
    caller: DistrictOperator, state: State, request: Request, dlq_id: uuid.UUID, body: ReplayIn
) -> Response | DecisionOut:
    """Through its adapter (or the intake, or its agent's topic) again; ok=false: refused again,
    the letter stays open."""
    entry, _, _ = await _one(state, request, caller, dlq_id)
    try:
        return await run_in_threadpool(
            _replay, _ports(request), _engine(state), entry, body.note, caller.subject
        )
    except DeskError as exc:
        field = str(exc).split(":", 1)[0]  # a DeskError names its field first (stage, source)
        return problem(409, "refused", str(exc), field=field)


@router.post("/{dlq_id}/discard", response_model=DecisionOut)
async def discard_letter(
    caller: DistrictOperator, state: State, request: Request, dlq_id: uuid.UUID, body: DiscardIn
) -> DecisionOut:
    entry, _, _ = await _one(state, request, caller, dlq_id)

    def write() -> None:
        with _engine(state).begin() as conn:
            record(conn, entry.letter.dlq_id, Decision.DISCARDED, reason=body.reason, actor=caller.subject)

    await run_in_threadpool(write)
    return DecisionOut(
        dlq_id=entry.letter.dlq_id, decision=Decision.DISCARDED.value, ok=True, outcome="discarded"
    )
