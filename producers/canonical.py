"""Assemble and validate a canonical report from the values an adapter has read.

Every adapter ends here, so the rules that hold for all feeds live in one place: the category
must be a taxonomy code, the priority defaults from it, the id is derived from
(source, source_ref), and any remaining model violation becomes a `FieldError` with the
canonical path (and the agency's own field name when the adapter told us).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from pydantic import ValidationError

from config.policy import Priority
from producers.errors import FieldError
from producers.outcome import Context
from schemas.field_error import QUOTABLE
from schemas.field_error import path as field_path
from schemas.report import Crs, RawFormat, Report, report_id_for


def field_error(exc: ValidationError, natives: Mapping[str, str] | None = None) -> FieldError:
    """The first violation of a pydantic error as a field-naming error (values quoted only if harmless)."""
    first = exc.errors(include_url=False)[0]
    path = field_path(tuple(first["loc"]))
    message = first["msg"]
    if path in QUOTABLE and isinstance(first.get("input"), int | float | str):
        message = f"{str(first['input'])[:40]!r}: {message}"
    extra = len(exc.errors()) - 1
    if extra:
        message += f" (and {extra} more)"
    return FieldError(path, message, (natives or {}).get(path))


def build_report(
    ctx: Context,
    *,
    source_ref: str,
    reported_at: datetime,
    category: str,
    raw_text: str,
    raw_format: RawFormat,
    priority: Priority | None = None,
    lon: float | None = None,
    lat: float | None = None,
    crs: Crs | None = None,
    accuracy_m: float | None = None,
    address: str | None = None,
    area: Mapping[str, Any] | None = None,
    description: str = "",
    reporter: Mapping[str, Any] | None = None,
    attachments: Sequence[Mapping[str, Any]] = (),
    extra: Mapping[str, Any] | None = None,
    natives: Mapping[str, str] | None = None,
) -> Report:
    if category not in ctx.taxonomy.categories:
        raise FieldError("category", f"{category!r} is not a taxonomy code", (natives or {}).get("category"))
    location: dict[str, Any] = {"address": address}
    if lon is not None or lat is not None:
        location.update(lon=lon, lat=lat, crs=crs or ctx.config.crs, accuracy_m=accuracy_m)
    if area is not None:
        location["area"] = area
    if lon is None and lat is None and address is None:
        raise FieldError(
            "location", "has neither coordinates nor an address", (natives or {}).get("location")
        )
    doc: dict[str, Any] = {
        **(extra or {}),
        "report_id": report_id_for(ctx.config.source, source_ref),
        "source": ctx.config.source,
        "source_ref": source_ref,
        "reported_at": reported_at,
        "received_at": ctx.received_at,
        "category": category,
        "priority": priority or ctx.taxonomy.categories[category].priority,
        "location": location,
        "description": description,
        "reporter": reporter,
        "attachments": list(attachments),
        "raw": {"format": raw_format, "text": raw_text},
    }
    try:
        return Report.model_validate(doc)
    except ValidationError as exc:
        raise field_error(exc, natives) from None
