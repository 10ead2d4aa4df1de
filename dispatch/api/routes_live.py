"""`GET /live`: the board's server-sent events — each case event and escalation in the
operator's scope as `event: item` with a JSON `data` line, and a comment every few seconds
so proxies keep the connection open. Pages read it with fetch() (the token goes in the
Authorization header, never in the URL)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import orjson
from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse, StreamingResponse

from dispatch.api.answers import ERRORS, Problem
from dispatch.api.live import Item
from dispatch.api.state import Operator, State, Worker
from dispatch.scope import CITY, Scope

router = APIRouter(responses=ERRORS)  # role tags per operation: each stream is for one role
HEARTBEAT_S = 15.0


def sse(item: Item) -> bytes:
    return b"event: item\ndata: " + orjson.dumps(item) + b"\n\n"


STREAM: dict[int | str, dict[str, Any]] = {
    200: {"content": {"text/event-stream": {"schema": {"type": "string"}}}},
    503: {"model": Problem, "description": "this API runs without the live feed"},
}


@router.get("/live", response_class=StreamingResponse, tags=["operator"], responses=STREAM)
async def live(request: Request, caller: Operator, state: State) -> Response:
    """Server-sent events: new case events and escalations in your scope, as they happen."""
    return _events(request, state, caller.scope, None)


@router.get("/worker/live", response_class=StreamingResponse, tags=["grid worker"], responses=STREAM)
async def worker_live(request: Request, caller: Worker, state: State) -> Response:
    """Server-sent events for a grid worker: their own tasks (new, reassigned, done) and the
    reminders addressed to them, as they happen."""
    return _events(request, state, CITY, caller.subject)


def _events(request: Request, state: State, scope: Scope, worker: str | None) -> Response:
    feed = state.live
    if feed is None:
        return JSONResponse({"detail": "this API runs without the live feed"}, status_code=503)

    async def stream() -> AsyncIterator[bytes]:
        async with feed.subscribe(scope, worker=worker) as sub:
            yield b": connected\nretry: 3000\n\n"
            while not await request.is_disconnected():
                try:
                    item = await asyncio.wait_for(sub.queue.get(), HEARTBEAT_S)
                except TimeoutError:
                    yield b": ping\n\n"
                    continue
                yield sse(item)

    headers = {"Cache-Control": "no-store", "X-Accel-Buffering": "no"}
    return StreamingResponse(stream(), media_type="text/event-stream", headers=headers)
