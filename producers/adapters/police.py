"""110 police CAD (接处警) incident export: JSON, pinyin-initial field names.

    {"exportId": "...", "system": "...", "exportedAt": "...+08:00",
     "incidents": [{"jjdbh": "500106202506010001",   接警单编号  → source_ref
                    "bjsj": "2025-06-01 07:42:13",     报警时间 (local) → reported_at
                    "ajlb": "0103", "ajlbmc": "盗窃",   警情类别 → category (config/sources.toml)
                    "jqjb": "3",                       警情级别 → priority override
                    "bjnr": "...",                     报警内容 → description
                    "afdz": "...",                     案发地址 → location.address
                    "zbx": 106.45, "zby": 29.55, "zbxt": "CGCS2000",  坐标 → location
                    "bjrxm": "...", "bjrdh": "...",    报警人 → reporter
                    "cjdw": "..."}]}                   出警单位 (kept in raw)

A bare array of incidents and JSON Lines (one incident per line, as a CAD system streams
them) are read too.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from producers.adapters import fields as f
from producers.adapters.records import JsonRecord, adapt_json, as_object
from producers.canonical import build_report
from producers.outcome import Context, Outcome
from schemas.report import MAX_ADDRESS, MAX_DESCRIPTION, MAX_SOURCE_REF, RawFormat, Report

NATIVES = {
    "source_ref": "jjdbh",
    "reported_at": "bjsj",
    "category": "ajlb",
    "description": "bjnr",
    "location.address": "afdz",
    "location.lon": "zbx",
    "location.lat": "zby",
    "location.crs": "zbxt",
}


def _report(record: JsonRecord, ctx: Context) -> Report:
    obj: dict[str, Any] = as_object(record)
    cfg = ctx.config
    point = f.point(
        obj.get("zbx"),
        obj.get("zby"),
        natives=("zbx", "zby"),
        crs_value=f.crs(obj.get("zbxt"), native="zbxt", default=cfg.crs),
    )
    name = f.text(obj.get("bjrxm"), field="reporter.name", native="bjrxm", max_len=100, required=False)
    phone = f.text(obj.get("bjrdh"), field="reporter.phone", native="bjrdh", max_len=40, required=False)
    return build_report(
        ctx,
        source_ref=f.text(obj.get("jjdbh"), field="source_ref", native="jjdbh", max_len=MAX_SOURCE_REF) or "",
        reported_at=f.timestamp(
            obj.get("bjsj"), field="reported_at", native="bjsj", tz=cfg.timezone, received_at=ctx.received_at
        ),
        category=f.category(cfg, obj.get("ajlb"), native="ajlb", label="警情类别 code"),
        priority=f.priority(cfg, obj.get("jqjb"), native="jqjb"),
        lon=point.lon,
        lat=point.lat,
        crs=point.crs,
        address=f.text(
            obj.get("afdz"), field="location.address", native="afdz", max_len=MAX_ADDRESS, required=False
        ),
        description=f.text(
            obj.get("bjnr"), field="description", native="bjnr", max_len=MAX_DESCRIPTION, required=False
        )
        or "",
        reporter={"name": name, "phone": phone} if name or phone else None,
        raw_text=record.raw.decode("utf-8"),
        raw_format=RawFormat.JSON,
        natives=NATIVES,
    )


def adapt(data: bytes, ctx: Context) -> Iterator[Outcome]:
    return adapt_json(data, ctx, list_key="incidents", build=_report)
