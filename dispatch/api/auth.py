"""Signed tokens (JWT, HS256 with `settings.jwt_secret`) and the caller they describe.

Roles and their scope, carried in the token and checked on every request:
- `grid_worker` — `worker`: only that worker's own tasks;
- `operator`    — `district` (and `street`: one street of it): that district's (street's)
  cases, tasks, KPIs, map, live events, search, exports and people;
- `city_operator` — the whole city (城市运行管理中心): every district's cases, and the city desk's;
- `agency`      — `source`: the status of that source's own reports;
- `volunteer`   — `community`: that community's offered tasks, their own claims and points
  (never a resident's personal data);
- `partner`     — `partner`: the redemptions of that partner's catalogue items, to fulfil;
- `desk`        — `desk`: one desk of the ladder (`community_lead:<community>`, …): its notices.
An expired, forged, malformed or scope-less token is refused with 401 before any handler runs.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any

import jwt

from config.settings import Settings
from dispatch.lifecycle.case import Actor
from dispatch.lifecycle.states import Role
from dispatch.notices.models import Desk, DeskError
from dispatch.scope import CITY, Scope, ScopeError

ISSUER = "yiwang"
ALGORITHM = "HS256"


class ApiRole(StrEnum):
    GRID_WORKER = "grid_worker"
    OPERATOR = "operator"
    CITY_OPERATOR = "city_operator"  # 城市运行管理中心: every district
    AGENCY = "agency"
    VOLUNTEER = "volunteer"
    PARTNER = "partner"
    DESK = "desk"  # a desk of the escalation ladder: its inbox of notices


class AuthError(Exception):
    """The request carries no valid token (401)."""


@dataclass(frozen=True, slots=True)
class Principal:
    role: ApiRole
    subject: str  # a worker id, an operator's login, an agency's source code
    street: str | None = None  # operators: their street; None = their whole district
    community: str | None = None  # volunteers: their community
    desk: str | None = None  # desks: `<level>:<code>` (dispatch.notices.models.Desk)
    district: str | None = None  # operators: their district (implied by their street)

    def __post_init__(self) -> None:
        if self.role is ApiRole.OPERATOR:
            scope = Scope(self.district, self.street)  # ScopeError: a street outside the district
            if scope.whole_city:
                raise ScopeError("district", "an operator works in one district (the city: city_operator)")
            object.__setattr__(self, "district", scope.district)

    @property
    def scope(self) -> Scope:
        """The part of the city the caller sees as an operator (`dispatch.scope`)."""
        if self.role is ApiRole.OPERATOR:
            return Scope(self.district, self.street)
        return CITY

    @property
    def is_operator(self) -> bool:
        return self.role in (ApiRole.OPERATOR, ApiRole.CITY_OPERATOR)

    def actor(self) -> Actor:
        """The caller as a lifecycle actor (partners never act on cases: no such role there;
        a city operator acts as an operator whose scope is the city)."""
        role = Role.OPERATOR if self.is_operator else Role(self.role.value)
        return Actor(role, self.subject, self.scope if self.is_operator else CITY)

    def claims(self) -> dict[str, Any]:
        out: dict[str, Any] = {"sub": self.subject, "role": self.role.value}
        if self.role is ApiRole.GRID_WORKER:
            out["worker"] = self.subject
        elif self.role is ApiRole.AGENCY:
            out["source"] = self.subject
        elif self.role is ApiRole.VOLUNTEER:
            out["community"] = self.community
        elif self.role is ApiRole.PARTNER:
            out["partner"] = self.subject
        elif self.role is ApiRole.DESK:
            out["desk"] = self.desk
        elif self.role is ApiRole.OPERATOR:
            out["district"] = self.district
            if self.street:
                out["street"] = self.street
        return out


def issue_token(
    settings: Settings, principal: Principal, *, ttl: timedelta | None = None, now: datetime | None = None
) -> str:
    issued = now or datetime.now(UTC)
    life = ttl if ttl is not None else timedelta(seconds=settings.token_ttl_s)
    claims = {**principal.claims(), "iss": ISSUER, "iat": issued, "exp": issued + life}
    return jwt.encode(claims, settings.jwt_secret, algorithm=ALGORITHM)


def read_token(settings: Settings, token: str) -> Principal:
    try:
        claims = jwt.decode(
            token,
            settings.jwt_secret,
            algorithms=[ALGORITHM],
            issuer=ISSUER,
            options={"require": ["exp", "iat", "sub", "iss"]},
        )
    except jwt.ExpiredSignatureError:
        raise AuthError("token expired: log in again") from None
    except jwt.InvalidTokenError as exc:
        raise AuthError(f"invalid token ({type(exc).__name__})") from None
    try:
        role = ApiRole(str(claims.get("role")))
    except ValueError:
        raise AuthError("invalid token (unknown role)") from None
    subject = str(claims["sub"])
    if role is ApiRole.GRID_WORKER and claims.get("worker") != subject:
        raise AuthError("invalid token (a grid worker token names its worker)")
    if role is ApiRole.AGENCY and claims.get("source") != subject:
        raise AuthError("invalid token (an agency token names its source)")
    if role is ApiRole.PARTNER and claims.get("partner") != subject:
        raise AuthError("invalid token (a partner token names its partner)")
    community = claims.get("community") if role is ApiRole.VOLUNTEER else None
    if role is ApiRole.VOLUNTEER and not (isinstance(community, str) and community):
        raise AuthError("invalid token (a volunteer token names its community)")
    street = claims.get("street") if role is ApiRole.OPERATOR else None
    district = claims.get("district") if role is ApiRole.OPERATOR else None
    if role is ApiRole.OPERATOR and not (isinstance(district, str) and district):
        raise AuthError("invalid token (an operator token names its district)")
    desk = claims.get("desk") if role is ApiRole.DESK else None
    if role is ApiRole.DESK:
        try:
            desk = str(Desk.parse(str(desk)))
        except DeskError:
            raise AuthError("invalid token (a desk token names its desk)") from None
    try:
        return Principal(role, subject, str(street) if street else None, community, desk, district)
    except ScopeError:
        raise AuthError("invalid token (an operator's street lies in their district)") from None
