"""Residents' reports (居民随手拍), as the resident API (`POST /r/reports`) submits them: one JSON
object, or {"reports": [...]}. The API builds this document from the page's form, so a
resident's report goes through the same adapter, checks and dead-letter path as every feed.

{"trackingCode": "R-7K2M9QXW",                → source_ref (the code the resident follows)
 "submittedAt": "2025-06-01T09:12:00+08:00",  ISO 8601 with offset → reported_at
 "category": "exposed_garbage",               the picker's choice → category (config/sources.toml)
 "description": "...",                        → description
 "lng": 106.46, "lat": 29.55,                 WGS84: the browser's geolocation or the gazetteer's
 "accuracy": 25,                                point of the typed building/address (metres)
 "address": "...",                            the typed or found address (optional)
 "placedBy": "device" | "gazetteer",          how the point was found (kept in raw)
 "photos": ["photo:ab12..."],                 → attachments (the API's photo references)
 "contact": {"phone": "..."}}                 optional, for the call-back → reporter.phone
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from producers.adapters import fields as f
from producers.adapters.records import JsonRecord, adapt_json, as_object
from producers.canonical import build_report
from producers.errors import FieldError
from producers.outcome import Context, Outcome
from schemas.report import MAX_ADDRESS, MAX_DESCRIPTION, MAX_SOURCE_REF, Crs, RawFormat, Report

MAX_PHOTOS = 3
NATIVES = {
    "source_ref": "trackingCode",
    "reported_at": "submittedAt",
    "category": "category",
    "description": "description",
    "location.address": "address",
    "location.lon": "lng",
    "location.lat": "lat",
    "location.accuracy_m": "accuracy",
}


def _photos(value: Any) -> list[dict[str, Any]]:
    if value is None:
        return []
    if not isinstance(value, list) or len(value) > MAX_PHOTOS:
        raise FieldError("attachments", f"expected a list of at most {MAX_PHOTOS} photo references", "photos")
    return [
        {
            "uri": f.text(v, field=f"attachments[{i}].uri", native=f"photos[{i}]", max_len=200),
            "media_type": "image/jpeg",
        }
        for i, v in enumerate(value)
    ]


def _contact(value: Any) -> dict[str, Any] | None:
    if value is None:
        return None
    if not isinstance(value, dict):
        raise FieldError("reporter", "expected an object", "contact")
    phone = f.text(
        value.get("phone"), field="reporter.phone", native="contact.phone", max_len=20, required=False
    )
    return {"phone": phone} if phone else None


def _report(record: JsonRecord, ctx: Context) -> Report:
    obj = as_object(record)
    point = f.point(
        obj.get("lng"),
        obj.get("lat"),
        natives=("lng", "lat"),
        crs_value=Crs.WGS84,
        accuracy=obj.get("accuracy"),
        accuracy_native="accuracy",
    )
    address = f.text(
        obj.get("address"), field="location.address", native="address", max_len=MAX_ADDRESS, required=False
    )
    if point.lon is None and not address:
        raise FieldError("location", "a resident's report needs a point or an address", "lng")
    return build_report(
        ctx,
        source_ref=f.text(
            obj.get("trackingCode"), field="source_ref", native="trackingCode", max_len=MAX_SOURCE_REF
        )
        or "",
        reported_at=f.timestamp(
            obj.get("submittedAt"),
            field="reported_at",
            native="submittedAt",
            tz=ctx.config.timezone,
            received_at=ctx.received_at,
        ),
        category=f.category(ctx.config, obj.get("category"), native="category", label="category"),
        lon=point.lon,
        lat=point.lat,
        crs=point.crs,
        accuracy_m=point.accuracy_m,
        address=address,
        description=f.text(
            obj.get("description"), field="description", native="description", max_len=MAX_DESCRIPTION
        )
        or "",
        reporter=_contact(obj.get("contact")),
        attachments=_photos(obj.get("photos")),
        raw_text=record.raw.decode("utf-8"),
        raw_format=RawFormat.JSON,
        natives=NATIVES,
    )


def adapt(data: bytes, ctx: Context) -> Iterator[Outcome]:
    return adapt_json(data, ctx, list_key="reports", build=_report)
