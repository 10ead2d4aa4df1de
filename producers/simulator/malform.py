"""The small share of broken records a real feed sends, each with the field its rejection names."""

from __future__ import annotations

import random
from collections.abc import Callable

from producers.simulator.model import Draft
from schemas.report import Source

# kind -> (sources it applies to, the canonical field the rejection names)
KINDS: dict[str, tuple[frozenset[Source], str]] = {
    "lat_out_of_range": (frozenset(Source) - {Source.CYBERSPACE, Source.EMERGENCY}, "location.lat"),
    "nan_coordinate": (frozenset(Source) - {Source.CYBERSPACE, Source.EMERGENCY}, "location.lon"),
    "bad_timestamp": (frozenset(Source), "reported_at"),
    "unknown_category": (frozenset(Source), "category"),
    "oversize_description": (frozenset(Source), "description"),
    "missing_id": (frozenset(Source), "source_ref"),
    "invalid_utf8": (frozenset(Source), "$"),
    "truncated": (frozenset(Source) - {Source.CYBERSPACE}, "$"),
}
BYTE_LEVEL = ("invalid_utf8", "truncated")
UNKNOWN_CODES = {
    Source.POLICE: "9999",
    Source.CITYMGMT: "SJ:9999",
    Source.EMERGENCY: "Xyz:99Z99",
    Source.FIRE: "陨石坠落",
    Source.CYBERSPACE: "未知线索",
    Source.HOTLINE: "其他诉求|未知分类/子类",
    Source.PATROL: "PATROL_UNKNOWN",
    Source.RESIDENT: "unknown_problem",
}


def choose(source: Source, rng: random.Random) -> tuple[str, str]:
    kinds = sorted(k for k, (sources, _) in KINDS.items() if source in sources)
    kind = rng.choice(kinds)
    return kind, KINDS[kind][1]


def _lat(d: Draft, rng: random.Random) -> None:
    if d.lon is None:
        d.lon = 106.45
    d.lat = round(rng.uniform(90.5, 180.0), 4)


def _nan(d: Draft, rng: random.Random) -> None:
    d.lon, d.lat = "NaN", d.lat if d.lat is not None else 29.55


def _time(d: Draft, rng: random.Random) -> None:
    d.time_text = rng.choice(["2025-13-45 25:61:00", "昨天下午", "2025/02/30 10:00", "0000-00-00 00:00:00"])
    if d.source is Source.EMERGENCY:
        d.time_text = "2025-13-45T99:00:00+08:00"


def _category(d: Draft, rng: random.Random) -> None:
    d.code = UNKNOWN_CODES[d.source]


def _oversize(d: Draft, rng: random.Random) -> None:
    d.description = (d.description + "。") * (4100 // max(len(d.description), 1) + 1)


def _missing_id(d: Draft, rng: random.Random) -> None:
    d.ref = None


DRAFT_LEVEL: dict[str, Callable[[Draft, random.Random], None]] = {
    "lat_out_of_range": _lat,
    "nan_coordinate": _nan,
    "bad_timestamp": _time,
    "unknown_category": _category,
    "oversize_description": _oversize,
    "missing_id": _missing_id,
}


def break_bytes(kind: str, payload: bytes, draft: Draft) -> bytes:
    """Byte-level damage: an invalid UTF-8 sequence inside the description, or a cut-off record."""
    if kind == "invalid_utf8":
        marker = draft.description.encode("utf-8")[:3]
        at = payload.find(marker)
        at = at if at >= 0 else len(payload) // 2
        return payload[:at] + b"\xff\xfe" + payload[at + len(marker) :]
    if draft.source is Source.FIRE:  # cut the data row after its fourth field
        header_end = payload.index(b"\n") + 1
        row = payload[header_end:]
        cut = header_end + [i for i, b in enumerate(row) if b == ord(",")][3]
        return payload[:cut] + b"\n"
    return payload[: len(payload) // 2]
