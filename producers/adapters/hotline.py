"""12345 hotline (政务服务便民热线) work orders: JSON, usually with an address only.

    {"platform": "重庆市 12345 政务服务便民热线", "exportedAt": "...",
     "orders": [{"workOrderNo": "CQ12345-20250601-000123",   工单编号 → source_ref
                 "acceptTime": "2025-06-01 09:12:40",         受理时间 → reported_at
                 "appealType": "投诉",                         诉求类型 (咨询/求助/投诉/举报/建议)
                 "classification": "城乡建设/市政设施/路灯",     三级诉求分类 → category
                 "urgency": "一般",                            紧急程度 → priority
                 "title": "...", "content": "...",             → description (title, then content)
                 "address": "...",                             → location.address
                 "longitude": 106.46, "latitude": 29.56, "coordSys": "BD09",   optional (Baidu map pick)
                 "citizen": {"name": "...", "phone": "...", "anonymous": false},
                 "attachments": ["https://.../a.jpg"],
                 "deadline": "..."}]}                          kept in raw

Category: the classification path is looked up from most to least specific level, then the
appeal type, then the source's fallback (config/sources.toml).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from producers.adapters import fields as f
from producers.adapters.records import JsonRecord, adapt_json, as_object
from producers.canonical import build_report
from producers.errors import FieldError
from producers.outcome import Context, Outcome
from producers.sources import SourceConfig
from schemas.report import MAX_ADDRESS, MAX_ATTACHMENTS, MAX_DESCRIPTION, MAX_SOURCE_REF, RawFormat, Report

NATIVES = {
    "source_ref": "workOrderNo",
    "reported_at": "acceptTime",
    "category": "classification",
    "description": "content",
    "location.address": "address",
    "location.lon": "longitude",
    "location.lat": "latitude",
}


def _category(cfg: SourceConfig, classification: Any, appeal: Any) -> str:
    path = f.text(classification, field="category", native="classification", max_len=200, required=False)
    if path:
        parts = [p.strip() for p in path.split("/")]
        for depth in range(len(parts), 0, -1):
            code = cfg.categories.get("/".join(parts[:depth]))
            if code:
                return code
    kind = f.text(appeal, field="category", native="appealType", max_len=20, required=False)
    if kind:
        return f.category(cfg, kind, native="appealType", label="诉求类型")
    if path:
        raise FieldError(
            "category", "classification matches no entry and appealType is missing", "classification"
        )
    return f.category(cfg, None, native="classification", label="诉求分类")


def _citizen(value: Any) -> dict[str, Any] | None:
    if value is None:
        return None
    if not isinstance(value, dict):
        raise FieldError("reporter", "expected an object", "citizen")
    anonymous = value.get("anonymous", False)
    if not isinstance(anonymous, bool):
        raise FieldError("reporter.anonymous", "expected true or false", "citizen.anonymous")
    return {
        "name": f.text(
            value.get("name"), field="reporter.name", native="citizen.name", max_len=100, required=False
        ),
        "phone": f.text(
            value.get("phone"), field="reporter.phone", native="citizen.phone", max_len=40, required=False
        ),
        "anonymous": anonymous,
    }


def _attachments(value: Any) -> list[dict[str, Any]]:
    if value is None:
        return []
    if not isinstance(value, list) or len(value) > MAX_ATTACHMENTS:
        raise FieldError("attachments", f"expected a list of at most {MAX_ATTACHMENTS} URLs", "attachments")
    return [
        {"uri": f.text(v, field=f"attachments[{i}].uri", native=f"attachments[{i}]", max_len=2000)}
        for i, v in enumerate(value)
    ]


def _description(obj: dict[str, Any]) -> str:
    title = f.text(obj.get("title"), field="description", native="title", max_len=200, required=False)
    content = f.text(
        obj.get("content"), field="description", native="content", max_len=MAX_DESCRIPTION, required=False
    )
    text = "\n".join(t for t in (title, content) if t)
    if len(text) > MAX_DESCRIPTION:
        raise FieldError(
            "description",
            f"title and content are {len(text)} characters, at most {MAX_DESCRIPTION}",
            "content",
        )
    return text


def _report(record: JsonRecord, ctx: Context) -> Report:
    obj = as_object(record)
    cfg = ctx.config
    crs = f.crs(obj.get("coordSys"), native="coordSys", default=cfg.crs)
    point = f.point(
        obj.get("longitude"), obj.get("latitude"), natives=("longitude", "latitude"), crs_value=crs
    )
    return build_report(
        ctx,
        source_ref=f.text(
            obj.get("workOrderNo"), field="source_ref", native="workOrderNo", max_len=MAX_SOURCE_REF
        )
        or "",
        reported_at=f.timestamp(
            obj.get("acceptTime"),
            field="reported_at",
            native="acceptTime",
            tz=cfg.timezone,
            received_at=ctx.received_at,
        ),
        category=_category(cfg, obj.get("classification"), obj.get("appealType")),
        priority=f.priority(cfg, obj.get("urgency"), native="urgency"),
        lon=point.lon,
        lat=point.lat,
        crs=point.crs,
        address=f.text(
            obj.get("address"),
            field="location.address",
            native="address",
            max_len=MAX_ADDRESS,
            required=False,
        ),
        description=_description(obj),
        reporter=_citizen(obj.get("citizen")),
        attachments=_attachments(obj.get("attachments")),
        raw_text=record.raw.decode("utf-8"),
        raw_format=RawFormat.JSON,
        natives=NATIVES,
    )


def adapt(data: bytes, ctx: Context) -> Iterator[Outcome]:
    return adapt_json(data, ctx, list_key="orders", build=_report)
