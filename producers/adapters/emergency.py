"""Emergency alerts as OASIS CAP 1.2 (Common Alerting Protocol) messages.

One `<alert>` per message (or several inside any wrapper element). `identifier` is the
source_ref, `sent` the report time. Category: the first `<eventCode>` value found in
config/sources.toml (e.g. GB/T 35965.1 "11B03" 暴雨), else the first CAP `<category>`;
priority from urgency × severity × certainty by the first matching rule of config/cap.toml
(GB/T 35965.1 colour levels Red/Orange/Yellow/Blue read as the severities they stand for).
An `<alert>` and its elements must be in a CAP namespace of config/cap.toml (an XML signature
aside: kept in raw, not required), and CAP's required elements must be there; otherwise the
message is a dead letter naming the element. Among several `<info>` blocks zh-CN comes first,
then any other Chinese, then the first. The location is a representative point of the alert area —
the area-weighted centroid of the largest `<polygon>`, else the centre of the first
`<circle>` — with `accuracy_m` covering the area, and the whole area (its `<geocode>`s too: an
administrative code places an alert without a shape) is kept under
`location.area` (CAP's "lat,lon" pairs turned into [lon, lat], radius km → m). An alert with
only `<areaDesc>` becomes an address-only report (its area kept, description only). Only
`status` Actual is dispatched. CAP specifics ride along under the extra field `cap`.

A warning has a life: only an Alert becomes a canonical report (a case), and every message —
Alert, Update, Cancel, Ack, Error — also becomes a life-cycle record (`schemas.cap_record`) on
`alerts.cap`, which the alerts flow (dispatch/alerts/) follows: an Update changes the case the
referenced Alert opened, a Cancel withdraws it, an Ack or an Error is only recorded. Update,
Cancel, Ack and Error must name what they are about in `<references>`.
"""

from __future__ import annotations

import math
import xml.etree.ElementTree as ET  # parsed trees come from xmlsafe (defusedxml)
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache
from typing import Any

from shapely.geometry import Polygon

from config.policy import CONFIG_DIR, PolicyError, Priority, read_toml
from producers.adapters import fields as f
from producers.adapters.records import guarded_many, reject
from producers.adapters.xmlsafe import child_text, parse, serialise
from producers.canonical import build_report
from producers.errors import FieldError
from producers.outcome import Companion, Context, Outcome
from schemas.cap_record import CAP_RECORD_SCHEMA, CAP_TOPIC, CapRecord, CapReference, MsgType
from schemas.cap_record import encode as encode_record
from schemas.report import MAX_ADDRESS, MAX_DESCRIPTION, MAX_SOURCE_REF, Crs, RawFormat, Report

NATIVES = {
    "source_ref": "identifier",
    "reported_at": "sent",
    "category": "info.eventCode",
    "description": "info.description",
    "location.address": "info.area.areaDesc",
}
RECORD_HEADERS = (("schema", CAP_RECORD_SCHEMA.encode()),)
REQUIRED_ALERT = ("sender", "scope")  # identifier, sent, status, msgType: checked by their own steps
REQUIRED_INFO = ("category", "event", "urgency", "severity", "certainty")
EARTH_M_PER_DEG = 111_320.0


@dataclass(frozen=True)
class PriorityRule:
    """Matches when each given list holds the alert's value (an empty list matches any)."""

    priority: Priority
    urgency: frozenset[str] = frozenset()
    severity: frozenset[str] = frozenset()
    certainty: frozenset[str] = frozenset()

    def matches(self, urgency: str, severity: str, certainty: str) -> bool:
        return all(
            not allowed or value in allowed
            for allowed, value in (
                (self.urgency, urgency),
                (self.severity, severity),
                (self.certainty, certainty),
            )
        )


@dataclass(frozen=True)
class CapPolicy:
    namespaces: frozenset[str]
    signature_namespace: str
    colours: dict[str, str]
    rules: tuple[PriorityRule, ...]

    def priority(self, urgency: str, severity: str, certainty: str) -> Priority:
        """The first matching rule's priority; raises `FieldError` when none matches."""
        severity = self.colours.get(severity, severity)
        for rule in self.rules:
            if rule.matches(urgency, severity, certainty):
                return rule.priority
        raise FieldError(
            "priority",
            f"urgency {f.show(urgency)} × severity {f.show(severity)} × certainty {f.show(certainty)} "
            "has no priority in config/cap.toml",
            "info.severity",
        )


def parse_cap_policy(doc: dict[str, Any], origin: str = "cap") -> CapPolicy:
    rules: list[PriorityRule] = []
    for i, entry in enumerate(doc.get("priority", [])):
        try:
            priority = Priority(entry["priority"])
        except (KeyError, ValueError):
            raise PolicyError(f"{origin}: priority[{i}] needs a priority P0..P3") from None
        lists = {k: frozenset(entry.get(k, [])) for k in ("urgency", "severity", "certainty")}
        rules.append(PriorityRule(priority, **lists))
    namespaces = frozenset(doc.get("namespaces", []))
    if not namespaces or not rules:
        raise PolicyError(f"{origin}: needs namespaces and at least one [[priority]] rule")
    return CapPolicy(
        namespaces, str(doc.get("signature_namespace", "")), dict(doc.get("colours", {})), tuple(rules)
    )


@cache
def cap_policy() -> CapPolicy:
    path = CONFIG_DIR / "cap.toml"
    return parse_cap_policy(read_toml(path), origin=str(path))


def _namespace(tag: str) -> str:
    return tag[1:].split("}", 1)[0] if tag.startswith("{") else ""


def check_namespaces(root: ET.Element) -> None:
    """Every alert, and every element in it, is in a CAP namespace (signatures aside)."""
    policy = cap_policy()
    alerts = [e for e in root.iter() if e.tag.rsplit("}", 1)[-1] == "alert"]
    for alert in alerts:
        stack = [alert]
        while stack:
            element = stack.pop()
            space = _namespace(element.tag)
            if space == policy.signature_namespace:
                continue
            if space not in policy.namespaces:
                name = element.tag.rsplit("}", 1)[-1]
                shown = f"namespace {space[:80]!r}" if space else "no namespace"
                raise FieldError("$", f"<{name}> is in {shown}, not CAP (config/cap.toml namespaces)", name)
            stack.extend(element)


def _required(element: ET.Element, names: tuple[str, ...], where: str) -> None:
    for name in names:
        if not (child_text(element, name) or "").strip():
            raise FieldError(
                "$", f"a CAP {where} needs <{name}>", f"{where}.{name}" if where != "alert" else name
            )


def _pairs(text: str, *, field: str, native: str) -> list[tuple[float, float]]:
    """CAP "lat,lon lat,lon …" → [(lon, lat), …]."""
    out: list[tuple[float, float]] = []
    for token in text.split():
        parts = token.split(",")
        if len(parts) != 2:
            raise FieldError(field, f"{f.show(token)} is not a 'lat,lon' pair", native)
        lat = f.number(parts[0], field=field, native=native, lo=-90, hi=90)
        lon = f.number(parts[1], field=field, native=native, lo=-180, hi=180)
        out.append((lon, lat))
    return out


def _metres(a: tuple[float, float], b: tuple[float, float]) -> float:
    dx = (a[0] - b[0]) * EARTH_M_PER_DEG * math.cos(math.radians((a[1] + b[1]) / 2))
    dy = (a[1] - b[1]) * EARTH_M_PER_DEG
    return math.hypot(dx, dy)


def _area(info: ET.Element) -> tuple[dict[str, Any], tuple[float, float, float] | None]:
    """The kept area and its representative point (lon, lat, accuracy_m)."""
    polygons: list[list[tuple[float, float]]] = []
    circles: list[dict[str, float]] = []
    geocodes: list[dict[str, str]] = []
    names: list[str] = []
    for a, area in enumerate(info.findall("area")):
        name = (child_text(area, "areaDesc") or "").strip()
        if name:
            names.append(name)
        for p, poly in enumerate(area.findall("polygon")):
            field = f"location.area.polygons[{len(polygons)}]"
            ring = _pairs("".join(poly.itertext()), field=field, native=f"area[{a}].polygon[{p}]")
            if len(ring) < 4 or ring[0] != ring[-1]:
                raise FieldError(
                    field,
                    "a CAP polygon needs at least 4 pairs, the first equal to the last",
                    f"area[{a}].polygon[{p}]",
                )
            polygons.append(ring)
        for c, circle in enumerate(area.findall("circle")):
            field, native = f"location.area.circles[{len(circles)}]", f"area[{a}].circle[{c}]"
            parts = "".join(circle.itertext()).split()
            if len(parts) != 2:
                raise FieldError(field, "expected 'lat,lon radius_km'", native)
            ((lon, lat),) = _pairs(parts[0], field=field, native=native)
            radius_km = f.number(parts[1], field=field, native=native, lo=0, hi=1000)
            circles.append({"lon": lon, "lat": lat, "radius_m": max(radius_km * 1000, 1.0)})
        for code in area.findall("geocode"):
            value = (child_text(code, "value") or "").strip()[:64]
            if value:
                geocodes.append({"name": (child_text(code, "valueName") or "").strip()[:64], "value": value})
    description = "；".join(names)[:MAX_ADDRESS] or None
    if description is None and geocodes:  # a place named only by its codes is still an address
        description = "；".join(f"{g['name']} {g['value']}".strip() for g in geocodes)[:MAX_ADDRESS]
    kept = {
        "polygons": [[list(p) for p in ring] for ring in polygons],
        "circles": circles,
        "geocodes": geocodes[:50],
        "description": description,
    }
    if polygons:
        shapes = [Polygon(ring) for ring in polygons]
        largest = max(range(len(shapes)), key=lambda i: shapes[i].area)
        shape, ring = shapes[largest], polygons[largest]
        centre = shape.centroid if shape.area > 0 else shape.exterior.centroid
        point = (float(centre.x), float(centre.y))
        return kept, (*point, max(_metres(point, v) for v in ring))
    if circles:
        first = circles[0]
        return kept, (first["lon"], first["lat"], first["radius_m"])
    return kept, None


def _info(alert: ET.Element) -> ET.Element:
    infos = alert.findall("info")
    if not infos:
        raise FieldError("$", "a CAP alert needs an <info> block", "info")

    def rank(info: ET.Element) -> int:
        language = (child_text(info, "language") or "").strip().lower()
        return 0 if language in ("zh-cn", "zh-hans-cn") else 1 if language.startswith("zh") else 2

    return min(infos, key=rank)  # min keeps document order among equals


def _category(info: ET.Element, ctx: Context) -> str:
    codes = [(child_text(e, "value") or "").strip() for e in info.findall("eventCode")]
    kinds = [(c.text or "").strip() for c in info.findall("category")]
    for candidate in (*codes, *kinds):
        if candidate in ctx.config.categories:
            return ctx.config.categories[candidate]
    first = next(iter(codes or kinds), None)
    return f.category(ctx.config, first, native="info.eventCode", label="CAP event code/category")


def _cap_extra(alert: ET.Element, info: ET.Element) -> dict[str, Any]:
    keys_alert = ("sender", "status", "msgType", "scope", "references")
    keys_info = (
        "event",
        "urgency",
        "severity",
        "certainty",
        "effective",
        "expires",
        "senderName",
        "instruction",
    )
    extra = {k: child_text(alert, k) for k in keys_alert} | {k: child_text(info, k) for k in keys_info}
    return {k: v.strip()[:MAX_DESCRIPTION] for k, v in extra.items() if v and v.strip()}


def _report(alert: ET.Element, raw: bytes, ctx: Context) -> Report:
    """The canonical report of an Alert (or of what an Update says the warning now is)."""
    info = _info(alert)
    _required(info, REQUIRED_INFO, "info")
    area, point = _area(info)
    headline = (child_text(info, "headline") or "").strip()
    body = (child_text(info, "description") or "").strip()
    description = "\n".join(t for t in (headline, body) if t)
    if len(description) > MAX_DESCRIPTION:
        raise FieldError(
            "description", f"{len(description)} characters, at most {MAX_DESCRIPTION}", "info.description"
        )
    lon, lat, accuracy = point if point else (None, None, None)
    return build_report(
        ctx,
        source_ref=_identifier(alert),
        reported_at=_sent(alert, ctx),
        category=_category(info, ctx),
        priority=cap_policy().priority(
            *((child_text(info, k) or "").strip() for k in ("urgency", "severity", "certainty"))
        ),
        lon=lon,
        lat=lat,
        crs=Crs.WGS84 if point else None,
        accuracy_m=accuracy,
        address=area["description"],
        area=area if info.find("area") is not None else None,
        description=description,
        raw_text=raw.decode("utf-8"),
        raw_format=RawFormat.XML,
        extra={"cap": _cap_extra(alert, info)},
        natives=NATIVES,
    )


def _identifier(alert: ET.Element) -> str:
    return (
        f.text(
            child_text(alert, "identifier"), field="source_ref", native="identifier", max_len=MAX_SOURCE_REF
        )
        or ""
    )


def _sent(alert: ET.Element, ctx: Context) -> datetime:
    return f.timestamp(
        child_text(alert, "sent"),
        field="reported_at",
        native="sent",
        tz=ctx.config.timezone,
        received_at=ctx.received_at,
    )


def references(text: str | None) -> tuple[CapReference, ...]:
    """CAP's space-separated "sender,identifier,sent" triples (§3.2.1 <references>)."""
    out: list[CapReference] = []
    for token in (text or "").split():
        parts = token.split(",")
        if len(parts) != 3 or not parts[0] or not parts[1]:
            raise FieldError(
                "references", f"{f.show(token)} is not a 'sender,identifier,sent' triple", "references"
            )
        out.append(CapReference(sender=parts[0][:256], identifier=parts[1][:256], sent=parts[2][:64]))
    return tuple(out)


def _expires(alert: ET.Element, ctx: Context) -> datetime | None:
    """The latest `<expires>` of the alert's <info> blocks (local time when written without an
    offset, as GB/T 35965.1 feeds write it); None when no block has one."""
    found: list[datetime] = []
    for info in alert.findall("info"):
        text = (child_text(info, "expires") or "").strip()
        if not text:
            continue
        try:
            when = datetime.fromisoformat(text)
        except ValueError:
            raise FieldError("expires", f"{f.show(text)} is not a timestamp", "info.expires") from None
        found.append(when if when.tzinfo else when.replace(tzinfo=ctx.config.timezone))
    return max(found).astimezone(UTC) if found else None


def _message(item: tuple[ET.Element, bytes], ctx: Context) -> list[Outcome]:
    alert, raw = item
    status = (child_text(alert, "status") or "").strip()
    if status != "Actual":
        raise FieldError("$", f"status {f.show(status)}: only Actual alerts are dispatched", "status")
    kind_text = (child_text(alert, "msgType") or "").strip()
    try:
        kind = MsgType(kind_text)
    except ValueError:
        expected = ", ".join(m.value for m in MsgType)
        raise FieldError(
            "$", f"msgType {f.show(kind_text)} is not a CAP message type ({expected})", "msgType"
        ) from None
    _required(alert, REQUIRED_ALERT, "alert")
    for signature in [e for e in alert if e.tag == "Signature"]:
        alert.remove(signature)  # kept in raw; CAP does not require one and it is not checked here
    refs = references(child_text(alert, "references"))
    if kind is not MsgType.ALERT and not refs:
        raise FieldError(
            "references", f"a CAP {kind.value} must name the message(s) it is about", "references"
        )
    report = _report(alert, raw, ctx) if kind is MsgType.ALERT or alert.find("info") is not None else None
    changes = report if kind is MsgType.UPDATE else None  # what the warning now is
    sender = (child_text(alert, "sender") or "").strip()
    record = CapRecord(
        sender=sender[:256],
        identifier=_identifier(alert),
        sent=_sent(alert, ctx),
        msg_type=kind,
        status=status,
        references=refs,
        expires=_expires(alert, ctx),
        report_id=report.report_id if report is not None and kind is MsgType.ALERT else None,
        priority=changes.priority if changes is not None else None,
        description=changes.description if changes is not None else None,
        location=changes.location.model_dump(mode="json", exclude_none=True) if changes is not None else None,
        note=((child_text(alert, "note") or "").strip()[:MAX_DESCRIPTION] or None),
        received_at=ctx.received_at,
        report=report.model_dump(mode="json") if report is not None else None,
    )
    companion = Companion(CAP_TOPIC, record.sender.encode("utf-8"), encode_record(record), RECORD_HEADERS)
    return [report, companion] if report is not None and kind is MsgType.ALERT else [companion]


def adapt(data: bytes, ctx: Context) -> Iterator[Outcome]:
    """One document: an `<alert>`, or any wrapper of several (each kept with its own XML as raw)."""
    try:
        root = parse(data, check_namespaces)
    except FieldError as exc:
        yield reject(exc, data, ctx.at())
        return
    if root.tag == "alert":
        yield from guarded_many(_message, (root, data), ctx, raw=data, origin=ctx.at())
        return
    found = root.findall(".//alert")
    if not found:
        yield reject(FieldError("$", f"expected a CAP <alert>, got <{root.tag}>"), data, ctx.at())
        return
    for i, element in enumerate(found):
        raw = serialise(element).encode("utf-8")
        yield from guarded_many(_message, (element, raw), ctx, raw=raw, origin=ctx.at(record=f"alert[{i}]"))
