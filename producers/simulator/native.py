"""Write a `Draft` in its agency's own export format: the exact formats the adapters read
(see producers/adapters/<source>.py and the sample files). One record per payload."""

from __future__ import annotations

import csv
import io
import xml.etree.ElementTree as ET  # building our own documents only
from collections.abc import Callable
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import orjson

from producers.simulator.model import Draft
from schemas.report import Source

LOCAL = ZoneInfo("Asia/Shanghai")
FIRE_HEADER = [
    "出警单号",
    "接警时间",
    "灾情类型",
    "灾情等级",
    "地址",
    "经度",
    "纬度",
    "坐标系",
    "情况描述",
    "报警人",
    "联系电话",
    "出动力量",
]


def _local(d: Draft) -> str:
    return d.time_text if d.time_text is not None else d.at.astimezone(LOCAL).strftime("%Y-%m-%d %H:%M:%S")


def _drop_none(doc: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in doc.items() if v is not None}


def _xml(root: ET.Element) -> bytes:
    body: bytes = ET.tostring(root, encoding="utf-8", xml_declaration=False)
    return b'<?xml version="1.0" encoding="UTF-8"?>\n' + body


def police(d: Draft) -> bytes:
    name, phone = d.reporter or (None, None)
    doc = {
        "jjdbh": d.ref, "bjsj": _local(d), "ajlb": d.code, "jqjb": d.level, "bjnr": d.description,
        "afdz": d.address, "zbx": d.lon, "zby": d.lat, "zbxt": d.crs if d.lon is not None else None,
        "bjrxm": name, "bjrdh": phone, "cjdw": "沙坪坝区分局指挥中心",
    }  # fmt: skip
    return orjson.dumps(_drop_none(doc))


def hotline(d: Draft) -> bytes:
    name, phone = d.reporter or (None, None)
    appeal, _, path = d.code.partition("|")
    order = {
        "workOrderNo": d.ref, "acceptTime": _local(d), "appealType": appeal or None,
        "classification": path or None, "urgency": d.level, "content": d.description, "address": d.address,
        "longitude": d.lon, "latitude": d.lat,
        "coordSys": d.crs if d.lon is not None else None,
        "citizen": {"name": name, "phone": phone, "anonymous": False} if name else {"anonymous": True},
        "attachments": d.photos or None,
    }  # fmt: skip
    return orjson.dumps({"platform": "12345 沙坪坝分中心（模拟）", "orders": [_drop_none(order)]})


def patrol(d: Draft) -> bytes:
    at: Any = d.time_text if d.time_text is not None else int(d.at.timestamp() * 1000)
    doc = {
        "reportNo": d.ref, "reportedAt": at, "eventType": d.code, "urgent": d.level == "true",
        "lng": d.lon, "lat": d.lat, "coordType": d.crs, "accuracy": d.accuracy, "address": d.address,
        "desc": d.description, "photos": d.photos,
        "worker": {"id": d.reporter[0], "name": d.reporter[1]} if d.reporter else None,
    }  # fmt: skip
    return orjson.dumps(_drop_none(doc)) + b"\n"


def resident(d: Draft) -> bytes:
    at = d.time_text if d.time_text is not None else d.at.astimezone(LOCAL).isoformat()
    doc = {
        "trackingCode": d.ref, "submittedAt": at, "category": d.code, "description": d.description,
        "lng": d.lon, "lat": d.lat, "accuracy": d.accuracy, "address": d.address, "photos": d.photos,
    }  # fmt: skip
    return orjson.dumps(_drop_none(doc))


def citymgmt(d: Draft) -> bytes:
    feed = ET.Element("CaseFeed", system="沙坪坝区数字化城市管理信息系统（模拟）", version="2.1")
    case = ET.SubElement(feed, "Case")
    kind, _, sub = d.code.partition(":")
    for tag, text in (("CaseNo", d.ref), ("CaseType", kind), ("ReportTime", _local(d)), ("Urgency", d.level)):
        if text is not None:
            ET.SubElement(case, tag).text = text
    ET.SubElement(case, "SubType", code=sub)
    ET.SubElement(case, "Description").text = d.description
    if d.address:
        ET.SubElement(case, "Address").text = d.address
    if d.lon is not None and d.lat is not None:
        ET.SubElement(case, "Position", crs=d.crs, x=str(d.lon), y=str(d.lat))
    if d.reporter:
        ET.SubElement(case, "Supervisor", id=d.reporter[0], name=d.reporter[1])
    if d.photos:
        media = ET.SubElement(case, "Media")
        for uri in d.photos:
            ET.SubElement(media, "Photo", href=uri)
    return _xml(feed)


def emergency(d: Draft) -> bytes:
    alert = ET.Element("alert", xmlns="urn:oasis:names:tc:emergency:cap:1.2")
    sent = d.time_text if d.time_text is not None else d.at.astimezone(LOCAL).isoformat(timespec="seconds")
    for tag, text in (
        ("identifier", d.ref),
        ("sender", "yjj@spb.cq.gov.cn"),
        ("sent", sent),
        ("status", "Actual"),
        ("msgType", "Alert"),
        ("scope", "Public"),
    ):
        if text is not None:
            ET.SubElement(alert, tag).text = text
    info = ET.SubElement(alert, "info")
    ET.SubElement(info, "language").text = "zh-CN"
    code_kind, _, code = d.code.partition(":")
    ET.SubElement(info, "category").text = code_kind
    ET.SubElement(info, "event").text = d.description.split("：")[0]
    for tag, text in (("urgency", "Expected"), ("severity", d.level or "Unknown"), ("certainty", "Likely")):
        ET.SubElement(info, tag).text = text
    if code:
        event_code = ET.SubElement(info, "eventCode")
        ET.SubElement(event_code, "valueName").text = "GB/T 35965.1"
        ET.SubElement(event_code, "value").text = code
    ET.SubElement(info, "description").text = d.description
    area = ET.SubElement(info, "area")
    ET.SubElement(area, "areaDesc").text = d.address or "沙坪坝区"
    if d.polygon:
        ET.SubElement(area, "polygon").text = " ".join(f"{lat:.5f},{lon:.5f}" for lon, lat in d.polygon)
    elif d.lon is not None and d.lat is not None:
        ET.SubElement(area, "circle").text = f"{d.lat},{d.lon} {d.radius_km or 0.5}"
    return _xml(alert)


def fire(d: Draft) -> bytes:
    name, phone = d.reporter or ("", "")
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(FIRE_HEADER)
    has_point = d.lon is not None
    writer.writerow([
        d.ref or "", _local(d), d.code, d.level or "", d.address or "",
        d.lon if has_point else "", d.lat if has_point else "", d.crs if has_point else "",
        d.description, name, phone, "沙坪坝消防站 1 车",
    ])  # fmt: skip
    return out.getvalue().encode("utf-8")


def cyberspace(d: Draft) -> bytes:
    lines = [
        f"线索编号：{d.ref}" if d.ref else None,
        f"发现时间：{_local(d)}",
        f"线索类型：{d.code}",
        f"紧急程度：{d.level}" if d.level else None,
        f"涉及地址：{d.address}" if d.address else None,
        "来源平台：微博",
        f"内容摘要：{d.description}",
    ]
    return ("\n".join(line for line in lines if line) + "\n").encode("utf-8")


RENDER: dict[Source, Callable[[Draft], bytes]] = {
    Source.POLICE: police,
    Source.HOTLINE: hotline,
    Source.PATROL: patrol,
    Source.CITYMGMT: citymgmt,
    Source.EMERGENCY: emergency,
    Source.FIRE: fire,
    Source.CYBERSPACE: cyberspace,
    Source.RESIDENT: resident,
}


def local_day_hour(when: datetime) -> float:
    local = when.astimezone(LOCAL)
    return local.hour + local.minute / 60
