"""The canonical report, version 1: the one envelope every agency feed becomes.

This pydantic model is the single source of truth: `schemas/report.v1.json`, the JSON Schema
published for agencies, is generated from it (`python -m schemas.export`), and a test fails
when the file and the model drift apart. Unknown fields are kept (``extra="allow"``) at
every level, so a newer producer's additions survive an older consumer's round trip.

`report_id` is deterministic: `report_id_for(source, source_ref)` is a uuid5 under a fixed
project namespace, so the same agency record sent twice is the same report everywhere.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any, Literal

import orjson
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, field_validator, model_validator

from schemas.vocabulary import Crs, Priority

__all__ = [
    "MAX_ADDRESS",
    "MAX_ATTACHMENTS",
    "MAX_DESCRIPTION",
    "MAX_RAW",
    "MAX_SOURCE_REF",
    "OFFSET_TIME",
    "REPORT_NAMESPACE",
    "SCHEMA_NAME",
    "Area",
    "Attachment",
    "Circle",
    "Crs",
    "Geocode",
    "Location",
    "Priority",
    "Raw",
    "RawFormat",
    "Report",
    "Reporter",
    "Source",
    "as_dict",
    "decode",
    "encode",
    "report_id_for",
]

SCHEMA_NAME = "report.v1"
"""The value of the `schema` header on `reports.<source>` records."""

REPORT_NAMESPACE = uuid.UUID("6f1d2c54-3b1e-5a8f-9c47-2e8b4d0a7e11")
"""Fixed namespace of report ids. Changing it would re-key every report ever published."""

MAX_DESCRIPTION = 4000
MAX_ADDRESS = 500
MAX_SOURCE_REF = 128
MAX_ATTACHMENTS = 20
MAX_RAW = 512 * 1024
"""A single source record larger than this is refused: it is not an incident report."""
OFFSET_TIME = r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$"
"""ISO-8601 / RFC 3339 with an offset: a time without one is refused (in the schema too)."""


class Source(StrEnum):
    POLICE = "police"  # 110 接处警
    CITYMGMT = "citymgmt"  # 数字城管 / 12319
    EMERGENCY = "emergency"  # 应急 CAP alerts
    FIRE = "fire"  # 119 消防
    CYBERSPACE = "cyberspace"  # 网信
    HOTLINE = "hotline"  # 12345
    PATROL = "patrol"  # 网格巡查 app
    RESIDENT = "resident"  # 居民随手拍: the resident page /r (the communities' 云上 mini-programs)


class RawFormat(StrEnum):
    JSON = "json"
    XML = "xml"
    CSV = "csv"
    TEXT = "text"
    FORM = "form"


def report_id_for(source: str, source_ref: str) -> uuid.UUID:
    """The report id of an agency record: the same (source, source_ref) always gives the same id."""
    return uuid.uuid5(REPORT_NAMESPACE, f"{source}\x1f{source_ref}")


class _Open(BaseModel):
    """Frozen, keeps unknown fields, refuses NaN/Infinity in JSON."""

    model_config = ConfigDict(extra="allow", frozen=True, allow_inf_nan=False)


class Circle(_Open):
    lon: Annotated[float, Field(ge=-180, le=180)]
    lat: Annotated[float, Field(ge=-90, le=90)]
    radius_m: Annotated[float, Field(gt=0, le=1_000_000)]


class Geocode(_Open):
    """A CAP `<geocode>`: a coding system's name and a code (an administrative code places a
    report that has no point at that district, street or community)."""

    name: str = Field(default="", max_length=64)
    value: str = Field(min_length=1, max_length=64)


class Area(_Open):
    """An alert's whole area (CAP `<area>`), kept beside the representative point."""

    polygons: list[list[tuple[float, float]]] = Field(
        default_factory=list, description="rings of [lon, lat] pairs, in the location's crs"
    )
    circles: list[Circle] = Field(default_factory=list)
    geocodes: list[Geocode] = Field(default_factory=list, max_length=50)
    description: str | None = Field(default=None, max_length=MAX_ADDRESS)


_POINT_OR_ADDRESS: dict[str, Any] = {
    "anyOf": [
        {
            "properties": {"lon": {"type": "number"}, "lat": {"type": "number"}, "crs": {"type": "string"}},
            "required": ["lon", "lat", "crs"],
        },
        {"properties": {"address": {"type": "string"}}, "required": ["address"]},
    ]
}


class Location(_Open):
    """A point in a declared CRS, an address, or both (at least one of them)."""

    model_config = ConfigDict(json_schema_extra=_POINT_OR_ADDRESS)

    lon: Annotated[float, Field(ge=-180, le=180)] | None = None
    lat: Annotated[float, Field(ge=-90, le=90)] | None = None
    crs: Crs | None = None
    accuracy_m: Annotated[float, Field(ge=0, le=1_000_000)] | None = None
    address: Annotated[str, Field(min_length=1, max_length=MAX_ADDRESS)] | None = None
    area: Area | None = None

    @model_validator(mode="after")
    def _point_or_address(self) -> Location:
        if (self.lon is None) != (self.lat is None):
            raise ValueError("lon and lat must be given together")
        if self.lon is not None and self.crs is None:
            raise ValueError("crs is required with lon/lat")
        if self.lon is None and self.address is None:
            raise ValueError("needs lon/lat or an address")
        return self


class Reporter(_Open):
    """Personal data: never logged, never in metrics or dead-letter reasons (repr is redacted)."""

    name: str | None = Field(default=None, max_length=100)
    phone: str | None = Field(default=None, max_length=40)
    email: str | None = Field(default=None, max_length=200)
    account: str | None = Field(default=None, max_length=200, description="agency-side person id")
    anonymous: bool = False

    def __repr__(self) -> str:
        return "Reporter(<redacted>)"

    __str__ = __repr__


class Attachment(_Open):
    uri: str = Field(min_length=1, max_length=2000, description="URL or object-store key")
    media_type: str | None = Field(default=None, max_length=100)


class Raw(_Open):
    """The untouched source record: exact text for line, CSV, text and whole-message formats;
    the record re-serialized (values untouched) when it came from inside a larger JSON/XML document."""

    format: RawFormat
    text: str = Field(max_length=MAX_RAW)


class Report(_Open):
    """Canonical report v1 (see schemas/report.v1.json for the published contract)."""

    model_config = ConfigDict(
        extra="allow",
        frozen=True,
        allow_inf_nan=False,
        title="Yiwang canonical report v1",
        json_schema_extra={
            "$id": "https://yiwang.invalid/schemas/report.v1.json",
            "description": (
                "One incident report from an agency feed, as published on Kafka topic "
                "reports.<source> (header schema=report.v1). Unknown fields are kept."
            ),
        },
    )

    schema_version: Literal[1] = 1
    report_id: uuid.UUID = Field(description="uuid5 of (source, source_ref) under the project namespace")
    source: Source
    source_ref: str = Field(min_length=1, max_length=MAX_SOURCE_REF, pattern=r"^[^\x00-\x1f\x7f]+$")
    reported_at: AwareDatetime = Field(json_schema_extra={"pattern": OFFSET_TIME})
    received_at: AwareDatetime = Field(json_schema_extra={"pattern": OFFSET_TIME})
    category: str = Field(pattern=r"^[a-z][a-z0-9_]*$", description="a code of config/taxonomy.toml")
    priority: Priority
    location: Location
    description: str = Field(default="", max_length=MAX_DESCRIPTION)
    reporter: Reporter | None = None
    attachments: list[Attachment] = Field(default_factory=list, max_length=MAX_ATTACHMENTS)
    raw: Raw

    @field_validator("reported_at", "received_at")
    @classmethod
    def _plausible_time(cls, value: datetime) -> datetime:
        if value.year < 2000:
            raise ValueError(f"{value.isoformat()} is before 2000")
        return value

    @model_validator(mode="after")
    def _id_matches_ref(self) -> Report:
        if self.report_id != report_id_for(self.source, self.source_ref):
            raise ValueError("report_id must be uuid5(source, source_ref) under the project namespace")
        return self


def encode(report: Report) -> bytes:
    """The wire value: UTF-8 JSON of the canonical report."""
    return orjson.dumps(report.model_dump(mode="json"))


def decode(data: bytes | str) -> Report:
    """Parse and validate a wire value (raises pydantic.ValidationError)."""
    return Report.model_validate_json(data)


def as_dict(report: Report) -> dict[str, Any]:
    """The JSON-ready dict of a report (what `encode` writes)."""
    return report.model_dump(mode="json")
