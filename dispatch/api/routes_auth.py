"""Login for people: operators with their password, grid workers with their PIN."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from starlette.concurrency import run_in_threadpool

from dispatch.api.answers import ERRORS, Claims, Token
from dispatch.api.auth import ApiRole, AuthError, Principal, issue_token
from dispatch.api.models import Login
from dispatch.api.state import Caller, State
from dispatch.people.sql import login_pin

router = APIRouter(prefix="/auth", tags=["auth"], responses=ERRORS)


@router.post("/login", response_model=Token, response_model_exclude_unset=True)  # claims by role
async def login(body: Login, state: State) -> dict[str, Any]:
    """A token for an operator or a desk (username + password) or a grid worker (worker_id + PIN)."""
    accounts = state.accounts
    principal: Principal | None = None
    if body.username is not None and body.password is not None:
        account = await run_in_threadpool(accounts.operator, body.username, body.password)
        if account is not None:
            principal = account.principal()
        elif (desk := await run_in_threadpool(accounts.desk, body.username, body.password)) is not None:
            principal = Principal(ApiRole.DESK, desk.login, desk=desk.desk)
    elif body.worker_id is not None and body.pin is not None:
        async with state.pool.connection() as conn:
            allowed, issued = await login_pin(conn, body.worker_id)
        if await run_in_threadpool(accounts.worker, body.worker_id, body.pin, issued) and allowed:
            principal = Principal(ApiRole.GRID_WORKER, body.worker_id)
    if principal is None:
        raise AuthError("unknown login or wrong password/PIN")
    return {
        "access_token": issue_token(state.settings, principal),
        "token_type": "bearer",
        "expires_in": state.settings.token_ttl_s,
        **principal.claims(),
    }


@router.get("/me", response_model=Claims, response_model_exclude_unset=True)
async def me(caller: Caller) -> dict[str, Any]:
    return caller.claims()
