"""An Open311 POST /requests form → a canonical report (pure; raises `FieldError`).

The agency is known from its API key, so the report's `source` is the agency's own and the
request lands on that agency's topic. `source_ref` is `attribute[source_ref]` when given,
else a digest of the form's content, so a retried POST maps to the same report id. The
api_key never enters the report or a dead letter.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlencode

from config.policy import Priority
from producers.adapters import fields as f
from producers.canonical import build_report
from producers.errors import FieldError
from producers.outcome import Context
from schemas.report import MAX_ADDRESS, MAX_DESCRIPTION, MAX_SOURCE_REF, Crs, RawFormat, Report

SECRET_FIELDS = ("api_key",)
NATIVES = {
    "category": "service_code",
    "location.lon": "long",
    "location.lat": "lat",
    "location.address": "address_string",
}


def public_form(form: Mapping[str, str]) -> dict[str, str]:
    """The form without its secrets, in a stable order (what raw and the digest see)."""
    return {k: form[k] for k in sorted(form) if k not in SECRET_FIELDS}


def raw_form(form: Mapping[str, str]) -> bytes:
    return urlencode(public_form(form)).encode("utf-8")


def _attributes(form: Mapping[str, str]) -> dict[str, str]:
    return {
        k[len("attribute[") : -1]: v
        for k, v in form.items()
        if k.startswith("attribute[") and k.endswith("]")
    }


def _reporter(form: Mapping[str, str]) -> dict[str, Any] | None:
    def get(key: str, field: str, limit: int) -> str | None:
        return f.text(form.get(key), field=field, native=key, max_len=limit, required=False)

    last, first = get("last_name", "reporter.name", 50), get("first_name", "reporter.name", 50)
    person = {
        "name": "".join(p for p in (last, first) if p) or None,  # 姓 then 名
        "email": get("email", "reporter.email", 200),
        "phone": get("phone", "reporter.phone", 40),
        "account": get("account_id", "reporter.account", 200),
    }
    return person if any(person.values()) else None


def to_report(form: Mapping[str, str], ctx: Context) -> Report:
    attributes = _attributes(form)
    code = f.text(form.get("service_code"), field="category", native="service_code", max_len=64)
    if code not in ctx.taxonomy.categories:
        raise FieldError(
            "category", f"service_code {f.show(code)} is not a service (GET services.json)", "service_code"
        )
    ref = f.text(
        attributes.get("source_ref"),
        field="source_ref",
        native="attribute[source_ref]",
        max_len=MAX_SOURCE_REF,
        required=False,
    )
    if ref is None:
        ref = "o311-" + hashlib.sha256(raw_form(form)).hexdigest()[:32]
    wanted = attributes.get("priority")
    if wanted and wanted not in Priority.__members__:
        raise FieldError("priority", f"{f.show(wanted)} is not one of P0..P4", "attribute[priority]")
    crs = f.crs(
        attributes.get("crs"), native="attribute[crs]", default=Crs.WGS84
    )  # GeoReport v2: lat/long are WGS84
    point = f.point(form.get("long"), form.get("lat"), natives=("long", "lat"), crs_value=crs)
    address = f.text(
        form.get("address_string"),
        field="location.address",
        native="address_string",
        max_len=MAX_ADDRESS,
        required=False,
    )
    address_id = f.text(
        form.get("address_id"), field="location.address_id", native="address_id", max_len=100, required=False
    )
    if point.lon is None and address is None and address_id is None:
        raise FieldError("location", "lat & long, address_string or address_id is required", "lat")
    media = f.text(
        form.get("media_url"), field="attachments[0].uri", native="media_url", max_len=2000, required=False
    )
    extra = {
        "open311": {
            k: v for k, v in {"device_id": form.get("device_id"), "address_id": address_id}.items() if v
        }
    }
    return build_report(
        ctx,
        source_ref=ref,
        reported_at=ctx.received_at,
        category=code,
        priority=Priority(wanted) if wanted else None,
        lon=point.lon,
        lat=point.lat,
        crs=point.crs,
        address=address or (f"address_id {address_id}" if point.lon is None else None),
        description=f.text(
            form.get("description"),
            field="description",
            native="description",
            max_len=MAX_DESCRIPTION,
            required=False,
        )
        or "",
        reporter=_reporter(form),
        attachments=[{"uri": media}] if media else [],
        raw_text=raw_form(form).decode("utf-8"),
        raw_format=RawFormat.FORM,
        extra=extra,
        natives=NATIVES,
    )
