"""Grid patrol app (网格员巡查 App) reports: JSON Lines, one report per line as the app uploads them.

{"reportNo": "XC-500106-20250601-000123",   → source_ref
 "reportedAt": 1748740321123,               epoch milliseconds → reported_at
 "eventType": "PATROL_GARBAGE",             → category (config/sources.toml)
 "urgent": false,                           → priority override when true
 "lng": 106.4612, "lat": 29.5573,           → location, in the SDK's CRS:
 "coordType": "gcj02",                        gcj02 (Amap SDK, the default) or bd09 (Baidu SDK)
 "accuracy": 8.5,                           GPS accuracy in metres → location.accuracy_m
 "address": "...",                          reverse-geocoded by the app (optional)
 "desc": "...",                             → description
 "photos": ["oss://yiwang-patrol/2025/06/01/4f1c.jpg"],   → attachments (object keys)
 "worker": {"id": "W0012345", "name": "..."},              → reporter
 "gridCode": "500106001001001"}             the worker's own grid (kept in raw; intake geolocates)
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from producers.adapters import fields as f
from producers.adapters.records import JsonRecord, adapt_json, as_object
from producers.canonical import build_report
from producers.errors import FieldError
from producers.outcome import Context, Outcome
from schemas.report import MAX_ADDRESS, MAX_ATTACHMENTS, MAX_DESCRIPTION, MAX_SOURCE_REF, RawFormat, Report

NATIVES = {
    "source_ref": "reportNo",
    "reported_at": "reportedAt",
    "category": "eventType",
    "description": "desc",
    "location.address": "address",
    "location.lon": "lng",
    "location.lat": "lat",
    "location.crs": "coordType",
    "location.accuracy_m": "accuracy",
}


def _photos(value: Any) -> list[dict[str, Any]]:
    if value is None:
        return []
    if not isinstance(value, list) or len(value) > MAX_ATTACHMENTS:
        raise FieldError("attachments", f"expected a list of at most {MAX_ATTACHMENTS} photo keys", "photos")
    return [
        {
            "uri": f.text(v, field=f"attachments[{i}].uri", native=f"photos[{i}]", max_len=2000),
            "media_type": "image/jpeg",
        }
        for i, v in enumerate(value)
    ]


def _worker(value: Any) -> dict[str, Any] | None:
    if value is None:
        return None
    if not isinstance(value, dict):
        raise FieldError("reporter", "expected an object", "worker")
    return {
        "account": f.text(
            value.get("id"), field="reporter.account", native="worker.id", max_len=200, required=False
        ),
        "name": f.text(
            value.get("name"), field="reporter.name", native="worker.name", max_len=100, required=False
        ),
    }


def _report(record: JsonRecord, ctx: Context) -> Report:
    obj = as_object(record)
    cfg = ctx.config
    point = f.point(
        obj.get("lng"),
        obj.get("lat"),
        natives=("lng", "lat"),
        crs_value=f.crs(obj.get("coordType"), native="coordType", default=cfg.crs),
        accuracy=obj.get("accuracy"),
        accuracy_native="accuracy",
    )
    return build_report(
        ctx,
        source_ref=f.text(obj.get("reportNo"), field="source_ref", native="reportNo", max_len=MAX_SOURCE_REF)
        or "",
        reported_at=f.epoch_millis(
            obj.get("reportedAt"), field="reported_at", native="reportedAt", received_at=ctx.received_at
        ),
        category=f.category(cfg, obj.get("eventType"), native="eventType", label="eventType"),
        priority=f.priority(cfg, obj.get("urgent"), native="urgent"),
        lon=point.lon,
        lat=point.lat,
        crs=point.crs,
        accuracy_m=point.accuracy_m,
        address=f.text(
            obj.get("address"),
            field="location.address",
            native="address",
            max_len=MAX_ADDRESS,
            required=False,
        ),
        description=f.text(
            obj.get("desc"), field="description", native="desc", max_len=MAX_DESCRIPTION, required=False
        )
        or "",
        reporter=_worker(obj.get("worker")),
        attachments=_photos(obj.get("photos")),
        raw_text=record.raw.decode("utf-8"),
        raw_format=RawFormat.JSON,
        natives=NATIVES,
    )


def adapt(data: bytes, ctx: Context) -> Iterator[Outcome]:
    return adapt_json(data, ctx, list_key="reports", build=_report)
