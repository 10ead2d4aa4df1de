"""Operators find a case by what a caller or an agency quotes: the agency's own reference (a
110 number, a 12345 ticket), a report or case id, a reporter's phone (matched through its
keyed hash: dispatch/search/phones.py), or text of the address. An operator finds only the
cases of their scope (street, district or city); any other case is simply not found."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from dispatch.api.answers import ERRORS, SearchAnswer
from dispatch.api.edge import Limit
from dispatch.api.state import Operator, State
from dispatch.api.views import deadlines
from dispatch.lifecycle.errors import DetailError
from dispatch.search.lookup import MAX_QUERY, SearchError, lookup_of
from dispatch.search.queries import search_cases

router = APIRouter(tags=["operator"], responses=ERRORS)


@router.get("/search", response_model=SearchAnswer)
async def search(
    caller: Operator,
    state: State,
    q: Annotated[str, Query(max_length=MAX_QUERY, description="a reference, id, phone or address")],
    limit: Limit = 20,
) -> dict[str, Any]:
    """Cases matching `q` in any of its meanings, exact matches (ids, references, phone) first."""
    try:
        found = lookup_of(q, key=state.settings.search_key)
    except SearchError as exc:
        raise DetailError(exc.field, exc.message) from None
    async with state.pool.connection() as conn:
        rows = await search_cases(conn, caller.scope, found, limit=limit)
    tk = state.flows.rules.tk
    items = [{**row, "deadlines": deadlines(row.pop("clocks", None), tk)} for row in rows]
    return {"q": q, "items": items}
