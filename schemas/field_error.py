"""The field-error rule of every refusal (adapters, Open311, the stream intake): the reason
starts with the path of the offending field (`$` for the record as a whole), and quotes the
offending value only for fields that cannot hold personal data."""

from __future__ import annotations

QUOTABLE = ("location.lon", "location.lat", "location.crs", "location.accuracy_m", "category", "priority")
"""Canonical fields whose offending value may be quoted in a reason (none can hold personal data)."""


def path(loc: tuple[int | str, ...]) -> str:
    """A validator's location as a canonical path: ("attachments", 0, "uri") -> attachments[0].uri."""
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "$"


def reason(field: str, message: str) -> str:
    """`field: message` — what a person reading the dead letter sees first is the field."""
    return f"{field}: {message}"
