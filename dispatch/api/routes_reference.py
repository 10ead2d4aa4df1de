"""What the pages draw with: the district's layers (operators, scoped) and the categories
(anyone with a token). Answers carry an ETag; a page that has them already gets 304."""

from __future__ import annotations

import hashlib
from typing import Any

import orjson
from fastapi import APIRouter, Request, Response

from dispatch.api import reference
from dispatch.api.answers import ERRORS, Category, Layers
from dispatch.api.errors import NotFound
from dispatch.api.state import Caller, Operator, State

router = APIRouter(prefix="/reference", tags=["reference"], responses=ERRORS)


def _cached_json(request: Request, body: Any) -> Response:
    data = orjson.dumps(body)
    tag = '"' + hashlib.sha256(data).hexdigest()[:32] + '"'
    headers = {"ETag": tag, "Cache-Control": "private, no-cache"}
    if request.headers.get("if-none-match") == tag:
        return Response(status_code=304, headers=headers)
    return Response(data, media_type="application/json", headers=headers)


@router.get(
    "/layers",
    response_model=Layers,
    responses={304: {"description": "not modified (If-None-Match)"}},
)
async def layers(request: Request, caller: Operator, state: State, geometry: bool = True) -> Response:
    """Districts, streets, communities and grids in force (GeoJSON), in the operator's scope
    (a street operator: theirs; a district operator: their district; the city: every district).
    `geometry=false`: names and codes only."""
    async with state.pool.connection() as conn:
        body = await reference.layers(conn, caller.scope, geometry=geometry)
    if body is None:
        raise NotFound("no grid layer loaded: run `yiwang geo load`")
    return _cached_json(request, body)


@router.get(
    "/categories",
    response_model=dict[str, Category],
    responses={304: {"description": "not modified (If-None-Match)"}},
)
async def categories(request: Request, caller: Caller, state: State) -> Response:
    """Category code → Chinese and English names, family, default priority."""
    return _cached_json(request, reference.categories(state.flows.rules.taxonomy))
