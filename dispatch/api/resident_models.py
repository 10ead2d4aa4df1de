"""Request bodies and answers of the resident endpoints (pydantic), with their limits.

What a resident is shown names stages and times only: never a worker, an operator, a phone or
another reporter; the description and photos are shown back only to the holder of the code.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, ClassVar

from pydantic import BaseModel, Field

from dispatch.api.edge import Body
from dispatch.residents.values import Stage
from dispatch.revisits.values import Satisfaction, VisitStatus


class ResidentReport(Body):
    prose: ClassVar[frozenset[str]] = frozenset({"description"})

    category: str = Field(min_length=1, max_length=48, description="a code from GET /r/categories")
    description: str = Field(min_length=1, max_length=2000)
    lon: float | None = Field(default=None, ge=-180, le=180, description="WGS84, the browser's geolocation")
    lat: float | None = Field(default=None, ge=-90, le=90)
    accuracy_m: float | None = Field(default=None, ge=0, le=100_000)
    address: str | None = Field(default=None, max_length=200, description="a typed building or address")
    district: str | None = Field(
        default=None,
        pattern=r"^\d{6}$",
        description="the resident's district (行政区划代码), as for GET /r/place: a bare typed address is "
        "looked up in its gazetteer, and the report carries the building's point",
    )
    photos: list[str] = Field(default_factory=list, max_length=3)
    phone: str | None = Field(default=None, pattern=r"^1\d{10}$", description="optional, for a call-back")


class Category(BaseModel):
    code: str
    zh: str
    en: str


class Categories(BaseModel):
    items: list[Category]


class Received(BaseModel):
    code: str = Field(description="the tracking code: keep it, it is the only way to follow the report")
    reference: str
    stage: Stage


class StepOut(BaseModel):
    stage: Stage
    at: datetime


class Place(BaseModel):
    """Where the report was placed (the device's point, or the typed address's), on its grid."""

    lon: float | None
    lat: float | None
    grid_code: str | None
    grid: str | None = Field(description="the grid's name")
    community: str | None
    street: str | None
    grids: dict[str, Any] = Field(
        description="GeoJSON FeatureCollection: the grids of the report's community"
    )


class PlaceFound(Place):
    """A place looked up on the form before sending: its grid on the community's grid map."""

    address: str | None = Field(default=None, description="the building the typed address names")
    district_code: str | None = Field(
        default=None, description="the district the place lies in (its grid code's first six digits)"
    )
    found: str | None = Field(
        default=None,
        description="how a typed address was found: in which district's gazetteer, and why that one "
        "(the district it names, the page's district, or the only district that holds it)",
    )


class District(BaseModel):
    code: str = Field(description="行政区划代码")
    name: str


class Districts(BaseModel):
    """The districts whose addresses the form looks up: the page's picker when there are several."""

    items: list[District]


class Tracking(BaseModel):
    reference: str
    category: str
    description: str | None
    joined: bool = Field(description="the same problem was reported nearby first: handled as one case")
    timeline: list[StepOut]
    can_rate: bool
    rating: Satisfaction | None
    visit: VisitStatus | None = Field(
        default=None,
        description="the last closing's return visit: pending, answered, or not_reached (未回访成功: "
        "no answer within the policy's time)",
    )
    place: Place | None = Field(default=None, description="once the intake has placed the report")


class Reason(BaseModel):
    code: str
    zh: str
    en: str
    handling: bool = Field(description="about the handling: 不满意 for it reopens the case")


class Reasons(BaseModel):
    items: list[Reason]


class Rating(Body):
    prose: ClassVar[frozenset[str]] = frozenset({"reason"})

    answer: Satisfaction
    reason_code: str | None = Field(default=None, max_length=32)
    reason: str | None = Field(default=None, max_length=500)


class Rated(BaseModel):
    answer: Satisfaction
    reopened: bool
    note: str
