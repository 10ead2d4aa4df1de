"""数字城管 (digital city management) case feed: XML, GB/T 30428.2 部件 (component) / 事件 (event) codes.

    <CaseFeed system="..." version="2.1" generated="...">
      <Case>
        <CaseNo>SZCG500106202506010012</CaseNo>          案卷号 → source_ref
        <CaseType>SJ</CaseType>                          BJ 部件 / SJ 事件
        <MainType code="01">市容环境</MainType>          大类
        <SubType code="0101">暴露垃圾</SubType>          小类; "<CaseType>:<SubType@code>" → category
        <ReportTime>2025-06-01 07:55:02</ReportTime>     local time → reported_at
        <Urgency>一般</Urgency>                          → priority override
        <Description>...</Description>  <Address>...</Address>
        <Position crs="CGCS2000" x="106.457" y="29.553"/>   optional
        <Supervisor id="JD0231" name="..."/>             信息采集监督员 → reporter
        <Media><Photo href="..."/></Media>               → attachments
      </Case> ...
    </CaseFeed>

A single <Case> document is read too. Each case's raw text is the element re-serialized.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET  # parsed trees come from xmlsafe (defusedxml)
from collections.abc import Iterator
from typing import Any

from producers.adapters import fields as f
from producers.adapters.xmlsafe import adapt_xml, child_text
from producers.canonical import build_report
from producers.errors import FieldError
from producers.outcome import Context, Outcome
from schemas.report import MAX_ADDRESS, MAX_ATTACHMENTS, MAX_DESCRIPTION, MAX_SOURCE_REF, RawFormat, Report

NATIVES = {
    "source_ref": "CaseNo",
    "reported_at": "ReportTime",
    "category": "SubType@code",
    "description": "Description",
    "location.address": "Address",
    "location.lon": "Position@x",
    "location.lat": "Position@y",
    "location.crs": "Position@crs",
}


def _category(case: ET.Element, ctx: Context) -> str:
    kind = (child_text(case, "CaseType") or "").strip()
    sub = case.find("SubType")
    code = (sub.get("code") or "").strip() if sub is not None else ""
    if not kind or not code:
        raise FieldError("category", "CaseType and SubType@code are required", "SubType@code")
    return f.category(ctx.config, f"{kind}:{code}", native="SubType@code", label="部件/事件 code")


def _media(case: ET.Element) -> list[dict[str, Any]]:
    photos = case.findall("Media/Photo")
    if len(photos) > MAX_ATTACHMENTS:
        raise FieldError("attachments", f"{len(photos)} photos, at most {MAX_ATTACHMENTS}", "Media")
    return [
        {
            "uri": f.text(p.get("href"), field=f"attachments[{i}].uri", native="Photo@href", max_len=2000),
            "media_type": "image/jpeg",
        }
        for i, p in enumerate(photos)
    ]


def _report(item: tuple[ET.Element, bytes], ctx: Context) -> Report:
    case, raw = item
    cfg = ctx.config
    position = case.find("Position")
    attrs = position.attrib if position is not None else {}
    point = f.point(
        attrs.get("x"),
        attrs.get("y"),
        natives=("Position@x", "Position@y"),
        crs_value=f.crs(attrs.get("crs"), native="Position@crs", default=cfg.crs),
    )
    supervisor = case.find("Supervisor")
    reporter = None
    if supervisor is not None:
        reporter = {
            "account": f.text(
                supervisor.get("id"),
                field="reporter.account",
                native="Supervisor@id",
                max_len=200,
                required=False,
            ),
            "name": f.text(
                supervisor.get("name"),
                field="reporter.name",
                native="Supervisor@name",
                max_len=100,
                required=False,
            ),
        }
    return build_report(
        ctx,
        source_ref=f.text(
            child_text(case, "CaseNo"), field="source_ref", native="CaseNo", max_len=MAX_SOURCE_REF
        )
        or "",
        reported_at=f.timestamp(
            child_text(case, "ReportTime"),
            field="reported_at",
            native="ReportTime",
            tz=cfg.timezone,
            received_at=ctx.received_at,
        ),
        category=_category(case, ctx),
        priority=f.priority(cfg, child_text(case, "Urgency"), native="Urgency"),
        lon=point.lon,
        lat=point.lat,
        crs=point.crs,
        address=f.text(
            child_text(case, "Address"),
            field="location.address",
            native="Address",
            max_len=MAX_ADDRESS,
            required=False,
        ),
        description=f.text(
            child_text(case, "Description"),
            field="description",
            native="Description",
            max_len=MAX_DESCRIPTION,
            required=False,
        )
        or "",
        reporter=reporter,
        attachments=_media(case),
        raw_text=raw.decode("utf-8"),
        raw_format=RawFormat.XML,
        natives=NATIVES,
    )


def adapt(data: bytes, ctx: Context) -> Iterator[Outcome]:
    return adapt_xml(
        data,
        ctx,
        single="Case",
        build=_report,
        expected="expected <CaseFeed> with <Case> elements",
        records=lambda root: root.findall("Case") if root.tag == "CaseFeed" else [],
    )
