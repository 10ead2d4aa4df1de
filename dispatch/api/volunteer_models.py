"""Request bodies and answers of the volunteer endpoints (pydantic), with their limits.

The answers given to volunteers carry nothing personal about residents: a task is its category,
priority, place and claim, never the report's text, reporter or sources.
"""

from __future__ import annotations

from datetime import datetime
from typing import ClassVar
from uuid import UUID

from pydantic import BaseModel, Field

from dispatch.api.edge import Body
from dispatch.volunteers.ledger import EntryKind
from dispatch.volunteers.values import ItemKind, OfferStatus, RedemptionStatus, VolunteerStatus

PHONE = r"^1\d{10}$"  # a mainland mobile number
PIN = r"^\d{4,8}$"
CODE = r"^[0-9]{12}$"  # a community code


class Registration(Body):
    name: str = Field(min_length=1, max_length=40)
    phone: str = Field(pattern=PHONE, description="mobile number: the volunteer's login")
    community_code: str = Field(pattern=CODE)
    skills: list[str] = Field(default_factory=list, max_length=10)
    pin: str = Field(pattern=PIN, description="4 to 8 digits, to log in with")


class VolunteerLogin(Body):
    phone: str = Field(pattern=PHONE)
    pin: str = Field(max_length=32)


class StatusChange(Body):
    status: VolunteerStatus


class VolunteerResolve(Body):
    prose: ClassVar[frozenset[str]] = frozenset({"note"})
    note: str = Field(min_length=1, max_length=2000, description="what was done")
    photos: list[str] = Field(min_length=1, max_length=10, description="keys from POST /volunteer/photos")


class Check(Body):
    prose: ClassVar[frozenset[str]] = frozenset({"reason"})
    passed: bool
    reason: str | None = Field(default=None, max_length=2000, description="needed when it did not pass")


class RedemptionRequest(Body):
    item_id: str = Field(min_length=1, max_length=48)
    request_id: UUID | None = Field(default=None, description="repeat with the same id: redeemed once")


class ItemBody(Body):
    community_code: str | None = Field(default=None, pattern=CODE, description="omit: district-wide")
    zh: str = Field(min_length=1, max_length=80)
    en: str = Field(default="", max_length=80)
    kind: ItemKind
    cost: int = Field(gt=0, le=100_000)
    stock: int = Field(ge=0, le=1_000_000)
    partner_id: str = Field(min_length=1, max_length=64)
    active: bool = True


class ReversalRequest(Body):
    prose: ClassVar[frozenset[str]] = frozenset({"note"})
    cause: str = Field(min_length=1, max_length=128)
    note: str = Field(min_length=1, max_length=500)


class Community(BaseModel):
    code: str
    name: str
    street_code: str


class VolunteerOut(BaseModel):
    volunteer_id: str
    name: str
    phone: str
    community_code: str
    skills: list[str]
    status: VolunteerStatus
    balance: int


class TokenOut(BaseModel):
    access_token: str
    token_type: str
    expires_in: int
    role: str
    sub: str
    community: str
    volunteer: VolunteerOut


class TaskOut(BaseModel):
    incident_id: str
    category: str
    priority: str
    case_state: str
    community_code: str | None
    grid_code: str | None
    address: str | None
    lon: float | None
    lat: float | None
    reported_at: datetime
    status: OfferStatus
    round: int
    mine: bool
    lapses_at: datetime | None
    resolved_at: datetime | None
    on_time: bool | None
    handed_by: str | None


class Tasks(BaseModel):
    community_code: str
    items: list[TaskOut]


class PhotoOut(BaseModel):
    key: str
    media_type: str
    bytes: int


class StatementLineOut(BaseModel):
    at: datetime
    kind: EntryKind
    cause: str
    points: int
    balance: int
    note: str | None


class Statement(BaseModel):
    volunteer_id: str
    balance: int
    earned_this_year: int
    lines: list[StatementLineOut]


class StandingOut(BaseModel):
    rank: int
    volunteer_id: str
    name: str
    community_code: str
    points: int


class Leaderboard(BaseModel):
    year: int
    community_code: str | None
    items: list[StandingOut]


class ItemOut(BaseModel):
    item_id: str
    community_code: str | None
    zh: str
    en: str
    kind: ItemKind
    cost: int
    stock: int
    partner_id: str
    active: bool


class Catalogue(BaseModel):
    items: list[ItemOut]


class RedemptionOut(BaseModel):
    redemption_id: str
    volunteer_id: str
    item_id: str
    partner_id: str
    points: int
    status: RedemptionStatus
    created_at: datetime
    fulfilled_at: datetime | None


class Redemptions(BaseModel):
    items: list[RedemptionOut]


class EntryOut(BaseModel):
    volunteer_id: str
    cause: str
    kind: EntryKind
    points: int
    at: datetime
    reverses: str | None
    note: str | None
