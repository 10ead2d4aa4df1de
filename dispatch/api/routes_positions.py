"""A grid worker shares their position while on shift (opt-in on the phone page) or stops:
routing's "nearest" then uses it instead of their home address until it is stale."""

from __future__ import annotations

from datetime import UTC, datetime

from fastapi import APIRouter, Response
from pydantic import Field

from dispatch.api.answers import ERRORS
from dispatch.api.edge import Body
from dispatch.api.state import State, Worker
from dispatch.positions import service as positions

router = APIRouter(prefix="/worker", tags=["grid worker"], responses=ERRORS)


class SharedPosition(Body):
    lon: float = Field(ge=-180, le=180, description="WGS84, as the browser's geolocation gives it")
    lat: float = Field(ge=-90, le=90)
    accuracy_m: float | None = Field(default=None, ge=0, le=10_000)


@router.put("/position", status_code=204)
async def share_position(body: SharedPosition, caller: Worker, state: State) -> Response:
    """Keep my current position (replaces the last one); older ones are forgotten."""
    async with state.pool.connection() as conn:
        await positions.share(
            conn,
            caller.subject,
            lon=body.lon,
            lat=body.lat,
            accuracy_m=body.accuracy_m,
            at=datetime.now(UTC),
            max_age=state.flows.position_max_age,
        )
    return Response(status_code=204)


@router.delete("/position", status_code=204)
async def stop_sharing(caller: Worker, state: State) -> Response:
    """Forget my position now."""
    async with state.pool.connection() as conn:
        await positions.forget(
            conn, caller.subject, now=datetime.now(UTC), max_age=state.flows.position_max_age
        )
    return Response(status_code=204)
