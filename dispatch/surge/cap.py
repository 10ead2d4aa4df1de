"""A CAP alert of the emergency feed, read from its canonical report, as a surge notice.

The emergency adapter (producers/adapters/emergency.py) turns each CAP `<alert>` into a report
whose extra field `cap` keeps the alert's msgType, references, event, severity, effective and
expires, whose `location.area` keeps its polygons and circles, and whose `raw.text` is the alert
itself. The geocodes and the headline are read from that raw XML (defusedxml: the raw text came
from outside). `notice_of` returns None for a report that is not a CAP alert (another source);
a CAP alert it cannot read raises `NoticeError` naming the field (the agent dead-letters it).
"""

from __future__ import annotations

import xml.etree.ElementTree as ET  # only for the types: parsing goes through defusedxml
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

import defusedxml.ElementTree as safe_et

from dispatch.surge.areas import WarningArea


class NoticeError(ValueError):
    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field


class MsgType(StrEnum):
    ALERT = "Alert"
    UPDATE = "Update"
    CANCEL = "Cancel"


@dataclass(frozen=True, slots=True)
class CapNotice:
    identifier: str
    sent: datetime
    msg_type: MsgType
    references: tuple[str, ...]  # identifiers of the earlier alerts an Update/Cancel names
    event: str
    severity: str
    headline: str
    effective: datetime | None
    expires: datetime | None
    area: WarningArea


def _time(value: Any, field: str) -> datetime | None:
    if value in (None, ""):
        return None
    try:
        at = datetime.fromisoformat(str(value))
    except ValueError:
        raise NoticeError(field, f"{str(value)[:40]!r} is not an ISO 8601 time") from None
    if at.tzinfo is None:
        raise NoticeError(field, "a CAP time needs its offset")
    return at


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _geocodes_and_headline(raw: str) -> tuple[tuple[str, ...], str]:
    try:
        root: ET.Element = safe_et.fromstring(raw)
    except (ET.ParseError, ValueError) as exc:
        raise NoticeError("raw.text", f"the CAP alert does not parse ({exc})") from None
    codes: list[str] = []
    headline = ""
    for element in root.iter():
        name = _local(element.tag)
        if name == "headline" and not headline:
            headline = (element.text or "").strip()
        elif name == "geocode":
            for child in element:
                if _local(child.tag) == "value" and (child.text or "").strip():
                    codes.append((child.text or "").strip())
    return tuple(dict.fromkeys(codes)), headline


def references_of(text: str) -> tuple[str, ...]:
    """CAP `references`: "sender,identifier,sent" triples separated by spaces → identifiers."""
    out: list[str] = []
    for triple in text.split():
        parts = triple.split(",")
        if len(parts) != 3 or not parts[1]:
            raise NoticeError("cap.references", f"{triple[:60]!r} is not 'sender,identifier,sent'")
        out.append(parts[1])
    return tuple(out)


def notice_of(doc: dict[str, Any]) -> CapNotice | None:
    """The surge notice of one canonical report document (None: not a CAP alert)."""
    cap = doc.get("cap")
    if doc.get("source") != "emergency" or not isinstance(cap, dict):
        return None
    try:
        kind = MsgType(str(cap.get("msgType", "")))
    except ValueError:
        raise NoticeError(
            "cap.msgType", f"{str(cap.get('msgType'))[:20]!r} is not Alert, Update or Cancel"
        ) from None
    raw = doc.get("raw") or {}
    geocodes, headline = _geocodes_and_headline(str(raw.get("text", ""))) if raw.get("text") else ((), "")
    area_doc = (doc.get("location") or {}).get("area") or {}
    polygons = tuple(tuple((float(p[0]), float(p[1])) for p in ring) for ring in area_doc.get("polygons", []))
    circles = tuple(
        (float(c["lon"]), float(c["lat"]), float(c["radius_m"])) for c in area_doc.get("circles", [])
    )
    sent = _time(doc.get("reported_at"), "reported_at")
    if sent is None:
        raise NoticeError("reported_at", "a CAP alert needs its sent time")
    return CapNotice(
        identifier=str(doc.get("source_ref", "")),
        sent=sent,
        msg_type=kind,
        references=references_of(str(cap.get("references", ""))),
        event=str(cap.get("event", "")),
        severity=str(cap.get("severity", "")),
        headline=headline,
        effective=_time(cap.get("effective"), "cap.effective"),
        expires=_time(cap.get("expires"), "cap.expires"),
        area=WarningArea(polygons=polygons, circles=circles, geocodes=geocodes),
    )
