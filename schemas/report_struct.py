"""The canonical report v1 as msgspec Structs: the stream intake's one-pass decoder.

The pydantic model in `schemas.report` is the contract (the JSON Schema is generated from it,
adapters build with it); this is the same contract in the form the hot path can afford:
msgspec parses and validates a typed struct in one C pass, roughly ten times faster than
pydantic's JSON path. Every constraint of the model is here too, and
`tests/schemas/test_report_struct.py` holds the two to the same answers on valid reports
and on every kind of violation (the drift test).

Unknown fields are accepted and ignored by the struct; the intake keeps them because it
stores the record's own JSON object (`decode_report` returns both).
"""

from __future__ import annotations

import re
import uuid
from datetime import datetime
from typing import Annotated, Any, Literal

import msgspec
import orjson
from msgspec import Meta, Struct

from schemas.field_error import reason
from schemas.report import (
    MAX_ADDRESS,
    MAX_ATTACHMENTS,
    MAX_DESCRIPTION,
    MAX_RAW,
    MAX_SOURCE_REF,
    Crs,
    Priority,
    RawFormat,
    Source,
    report_id_for,
)

FINITE = Meta(ge=-1.7976931348623157e308, le=1.7976931348623157e308)
Lon = Annotated[float, Meta(ge=-180, le=180)]
Lat = Annotated[float, Meta(ge=-90, le=90)]


class _Open(Struct, frozen=True, kw_only=True):
    """Frozen; unknown fields are ignored (the intake keeps the document they came in)."""


class Circle(_Open, frozen=True, kw_only=True):
    lon: Lon
    lat: Lat
    radius_m: Annotated[float, Meta(gt=0, le=1_000_000)]


class Geocode(_Open, frozen=True, kw_only=True):
    name: Annotated[str, Meta(max_length=64)] = ""
    value: Annotated[str, Meta(min_length=1, max_length=64)]


class Area(_Open, frozen=True, kw_only=True):
    polygons: list[list[tuple[Annotated[float, FINITE], Annotated[float, FINITE]]]] = []
    circles: list[Circle] = []
    geocodes: Annotated[list[Geocode], Meta(max_length=50)] = []
    description: Annotated[str, Meta(max_length=MAX_ADDRESS)] | None = None


class Location(_Open, frozen=True, kw_only=True):
    lon: Lon | None = None
    lat: Lat | None = None
    crs: Crs | None = None
    accuracy_m: Annotated[float, Meta(ge=0, le=1_000_000)] | None = None
    address: Annotated[str, Meta(min_length=1, max_length=MAX_ADDRESS)] | None = None
    area: Area | None = None

    def __post_init__(self) -> None:
        if (self.lon is None) != (self.lat is None):
            raise ValueError("lon and lat must be given together")
        if self.lon is not None and self.crs is None:
            raise ValueError("crs is required with lon/lat")
        if self.lon is None and self.address is None:
            raise ValueError("needs lon/lat or an address")


class Reporter(_Open, frozen=True, kw_only=True):
    """Personal data: never logged, never in metrics or dead-letter reasons (repr is redacted)."""

    name: Annotated[str, Meta(max_length=100)] | None = None
    phone: Annotated[str, Meta(max_length=40)] | None = None
    email: Annotated[str, Meta(max_length=200)] | None = None
    account: Annotated[str, Meta(max_length=200)] | None = None
    anonymous: bool = False

    def __repr__(self) -> str:
        return "Reporter(<redacted>)"

    __str__ = __repr__


class Attachment(_Open, frozen=True, kw_only=True):
    uri: Annotated[str, Meta(min_length=1, max_length=2000)]
    media_type: Annotated[str, Meta(max_length=100)] | None = None


class Raw(_Open, frozen=True, kw_only=True):
    format: RawFormat
    text: Annotated[str, Meta(max_length=MAX_RAW)]


class ReportStruct(_Open, frozen=True, kw_only=True):
    schema_version: Literal[1] = 1
    report_id: uuid.UUID
    source: Source
    source_ref: Annotated[str, Meta(min_length=1, max_length=MAX_SOURCE_REF, pattern=r"^[^\x00-\x1f\x7f]+$")]
    reported_at: Annotated[datetime, Meta(tz=True)]
    received_at: Annotated[datetime, Meta(tz=True)]
    category: Annotated[str, Meta(pattern=r"^[a-z][a-z0-9_]*$")]
    priority: Priority
    location: Location
    description: Annotated[str, Meta(max_length=MAX_DESCRIPTION)] = ""
    reporter: Reporter | None = None
    attachments: Annotated[list[Attachment], Meta(max_length=MAX_ATTACHMENTS)] = []
    raw: Raw

    def __post_init__(self) -> None:
        for name in ("reported_at", "received_at"):
            at: datetime = getattr(self, name)
            if at.year < 2000:
                raise _FieldProblem(name, f"{at.isoformat()} is before 2000")
        if self.report_id != report_id_for(self.source, self.source_ref):
            raise ValueError("report_id must be uuid5(source, source_ref) under the project namespace")


class _FieldProblem(ValueError):
    """A check after parsing that belongs to one field (msgspec reports it at the struct)."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{message} - at `$.{field}`")


class ReportError(ValueError):
    """Why a value is not a canonical report: `field` is the path ($ = the record itself)."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(reason)
        self.field = field
        self.reason = reason


_MISSING = re.compile(r"^Object missing required field `([^`]+)`$")


def _path(raw: str | None) -> str:
    """msgspec's `$.location.lon` / `$.attachments[0].uri` -> `location.lon` / `attachments[0].uri`."""
    if not raw or raw == "$":
        return "$"
    return raw.removeprefix("$.").removeprefix("$")


def _reason(error: msgspec.ValidationError) -> ReportError:
    text = str(error)
    # a __post_init__ error nests its own " - at `…`" inside msgspec's: the innermost wins
    inner = re.findall(r" - at `(\$[^`]*)`", text)
    message = re.sub(r" - at `\$[^`]*`", "", text).strip()
    field = _path(inner[0]) if inner else "$"
    missing = _MISSING.match(message)
    if missing:
        field = missing[1] if field == "$" else f"{field}.{missing[1]}"
        message = "Field required"
    return ReportError(field, reason(field, message))


_DECODER = msgspec.json.Decoder(ReportStruct)


def decode_report(value: bytes) -> tuple[ReportStruct, dict[str, Any]]:
    """Parse and validate one wire value; the struct and the record's own JSON object.

    Raises `ReportError` naming the field (`$` for bytes that are not a JSON object). The
    object is parsed a second time by orjson (a few µs): it keeps unknown fields, and orjson
    refuses what it could not write back (lone surrogates), so whatever passes can be stored
    and published.
    """
    try:
        report = _DECODER.decode(value)
    except msgspec.ValidationError as exc:
        raise _reason(exc) from None
    except msgspec.DecodeError as exc:
        raise ReportError("$", reason("$", f"not JSON ({exc})")) from None
    try:
        doc = orjson.loads(value)
    except orjson.JSONDecodeError as exc:
        raise ReportError("$", reason("$", f"not JSON ({exc})")) from None
    return report, doc


__all__ = ["ReportError", "ReportStruct", "decode_report"]
