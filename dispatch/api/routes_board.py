"""What the operators' board reads besides the lists: the size of every queue at once, and the
map points of the cases a live event named (the board updates its map from them instead of
reloading the whole map). Each operator gets their scope only (`dispatch.scope`)."""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Query

from dispatch.api import board
from dispatch.api.answers import ERRORS, FeatureCollection, QueueCounts
from dispatch.api.routes_operator import CaseFilter
from dispatch.api.state import Operator, State

router = APIRouter(tags=["operator"], responses=ERRORS)
MAX_POINTS = 200


@router.get("/queues", response_model=QueueCounts)
async def queue_counts(*, caller: Operator, state: State, query: CaseFilter) -> dict[str, Any]:
    """How many cases wait in each of the board's queues (triage, new, to verify, extension requests,
    returned, overdue, escalated past the community) under the same filters as /incidents
    (its `queue` filter narrows the counts to that one queue)."""
    async with state.pool.connection() as conn:
        return await board.queue_counts(conn, caller.scope, query)


@router.get("/map/points", response_model=FeatureCollection)
async def map_points(
    caller: Operator,
    state: State,
    id: Annotated[list[UUID], Query(max_length=MAX_POINTS, description="the cases (any state)")],
) -> dict[str, Any]:
    """The map points of these cases as they are now (a case absent from the answer has no
    point, or is outside your scope); a closed one comes back with its state, to be dropped."""
    async with state.pool.connection() as conn:
        points = await board.map_points(conn, caller.scope, open_only=False, ids=[str(i) for i in id])
    return {"type": "FeatureCollection", "features": points}
