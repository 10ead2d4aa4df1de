"""What the API process holds, and the FastAPI dependencies that hand it to the endpoints.

`ApiState` is built by the app's lifespan (or given by a test): the database pool, the case
flows (with their rules, people and publisher), the KPI metrics. Endpoints get it, and the
caller, through `Annotated` dependencies; a role dependency refuses other roles with 403.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from psycopg import AsyncConnection
from psycopg_pool import AsyncConnectionPool
from sqlalchemy import Engine

from config.settings import Settings
from dispatch.api.accounts import Accounts
from dispatch.api.auth import ApiRole, AuthError, Principal, read_token
from dispatch.api.live import LiveFeed
from dispatch.cases.flows import CaseFlows
from dispatch.kpi.metrics import DispatchMetrics
from dispatch.notices.flows import NoticeFlows
from dispatch.notices.rules import load_notice_policy
from dispatch.residents.places import PlaceFinder
from dispatch.residents.ports import ResidentFeed
from dispatch.residents.values import UploadWindow, load_resident_policy
from dispatch.revisits.flows import RevisitFlows
from dispatch.volunteers.flows import VolunteerFlows


@dataclass
class ApiState:
    settings: Settings
    pool: AsyncConnectionPool[AsyncConnection[Any]]
    flows: CaseFlows
    metrics: DispatchMetrics
    accounts: Accounts
    live: LiveFeed | None = None  # the board's feed of events and escalations (None: off)
    volunteers: VolunteerFlows | None = None  # the volunteer scheme (None: not offered)
    notices: NoticeFlows = field(default_factory=lambda: NoticeFlows(load_notice_policy()))
    revisits: RevisitFlows | None = None  # return visits after each closing (None: not asked)
    engine: Engine | None = None  # blocking SQL (people import, dead-letter desk) in a threadpool
    resident_uploads: UploadWindow = field(  # residents' photo uploads per device and address
        default_factory=lambda: UploadWindow(load_resident_policy().photos)
    )
    resident_places: PlaceFinder = field(  # the resident form's place lookups (GET /r/place)
        default_factory=lambda: PlaceFinder(load_resident_policy().lookups)
    )
    residents: ResidentFeed | None = None  # the resident feed's side (None: /r takes no reports)


class Forbidden(Exception):
    """An authenticated caller outside the endpoint's role (403)."""


def app_state(request: Request) -> ApiState:
    state: ApiState = request.app.state.yiwang
    return state


State = Annotated[ApiState, Depends(app_state)]
_bearer = HTTPBearer(auto_error=False, description="a token from POST /auth/login or `yiwang token`")


def principal(
    state: State, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]
) -> Principal:
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise AuthError("missing bearer token")
    return read_token(state.settings, credentials.credentials)


Caller = Annotated[Principal, Depends(principal)]


def _role(role: ApiRole) -> Any:
    def check(caller: Caller) -> Principal:
        if caller.role is not role:
            raise Forbidden(f"this endpoint is for the {role} role, not {caller.role}")
        return caller

    return Depends(check)


def _operator(caller: Caller) -> Principal:
    if not caller.is_operator:
        raise Forbidden(f"this endpoint is for operators, not {caller.role}")
    return caller


def _district_operator(caller: Caller) -> Principal:
    if not caller.is_operator or caller.scope.street is not None:
        raise Forbidden("this endpoint is for district operators (区社会治理中心) and the city's only")
    return caller


Worker = Annotated[Principal, _role(ApiRole.GRID_WORKER)]
DistrictOperator = Annotated[Principal, Depends(_district_operator)]
"""An operator of a whole district, or of the city: who manages people and clears dead letters."""
Operator = Annotated[Principal, Depends(_operator)]
"""An operator of a district, of one street of it, or of the whole city (`Principal.scope`)."""
Agency = Annotated[Principal, _role(ApiRole.AGENCY)]
DeskCaller = Annotated[Principal, _role(ApiRole.DESK)]
VolunteerCaller = Annotated[Principal, _role(ApiRole.VOLUNTEER)]
Partner = Annotated[Principal, _role(ApiRole.PARTNER)]
