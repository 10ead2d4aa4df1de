"""Field readers shared by the adapters: each either returns a clean value or raises a
`FieldError` naming the canonical field and the agency's own field name.

Only values that cannot carry personal data are quoted back in a reason (numbers, codes,
timestamps, truncated); free text never is.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from config.policy import Priority
from producers.errors import FieldError
from producers.sources import SourceConfig
from schemas.report import Crs

FUTURE_SKEW = timedelta(minutes=15)
"""How far ahead of our clock a source's clock may run before its timestamps are refused."""
EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)
LOCAL_FORMATS = ("%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%Y/%m/%d %H:%M:%S", "%Y/%m/%d %H:%M", "%Y%m%d%H%M%S")


def show(value: object, limit: int = 40) -> str:
    """A short quotation of a non-personal value for a reason."""
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def decode_utf8(data: bytes, field: str = "$") -> str:
    """Strict UTF-8 (a leading BOM is dropped): legacy GBK exports must be converted at the source."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise FieldError(field, f"invalid UTF-8 at byte {exc.start}") from None
    return text.removeprefix("\ufeff")


def text(
    value: Any, *, field: str, native: str, max_len: int, required: bool = True, strip: bool = True
) -> str | None:
    """A string field; numbers are accepted for identifiers (many systems emit numeric ids)."""
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            raise FieldError(field, "is missing", native)
        return None
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise FieldError(field, f"expected text, got {type(value).__name__}", native)
    out = str(value).strip() if strip else str(value)
    if len(out) > max_len:
        raise FieldError(field, f"{len(out)} characters, at most {max_len}", native)
    if "\x00" in out:
        raise FieldError(field, "contains a NUL character", native)
    return out


def number(value: Any, *, field: str, native: str, lo: float, hi: float) -> float:
    """A finite number within [lo, hi]; numerals in strings are accepted."""
    if isinstance(value, bool) or value is None:
        raise FieldError(field, "is missing" if value is None else "expected a number, got bool", native)
    if isinstance(value, str):
        try:
            value = float(value.strip())
        except ValueError:
            raise FieldError(field, f"{show(value)} is not a number", native) from None
    if not isinstance(value, int | float):
        raise FieldError(field, f"expected a number, got {type(value).__name__}", native)
    out = float(value)
    if not math.isfinite(out):
        raise FieldError(field, f"{show(value)} is not a finite number", native)
    if not lo <= out <= hi:
        raise FieldError(field, f"{value:g} is out of range [{lo:g}, {hi:g}]", native)
    return out


def _checked_time(when: datetime, *, field: str, native: str, received_at: datetime) -> datetime:
    if when < EARLIEST:
        raise FieldError(field, f"{when.isoformat()} is before {EARLIEST.year}", native)
    if when > received_at + FUTURE_SKEW:
        raise FieldError(
            field, f"{when.isoformat()} is in the future (received {received_at.isoformat()})", native
        )
    return when.astimezone(UTC)


def timestamp(value: Any, *, field: str, native: str, tz: ZoneInfo, received_at: datetime) -> datetime:
    """ISO-8601 with an offset, or the local formats agency systems write (read in the feed's zone)."""
    if not isinstance(value, str) or not value.strip():
        raise FieldError(
            field, "is missing" if value in (None, "") else "expected a timestamp string", native
        )
    raw = value.strip()
    parsed: datetime | None = None
    try:
        parsed = datetime.fromisoformat(raw)
    except ValueError:
        for fmt in LOCAL_FORMATS:
            try:
                parsed = datetime.strptime(raw, fmt)  # noqa: DTZ007 - naive local time, zone attached below
                break
            except ValueError:
                continue
    if parsed is None:
        raise FieldError(field, f"{show(raw)} is not a timestamp", native)
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=tz)
    return _checked_time(parsed, field=field, native=native, received_at=received_at)


def epoch_millis(value: Any, *, field: str, native: str, received_at: datetime) -> datetime:
    if isinstance(value, bool) or not isinstance(value, int):
        raise FieldError(field, "expected epoch milliseconds (an integer)", native)
    try:
        when = datetime.fromtimestamp(value / 1000, tz=UTC)
    except (OverflowError, OSError, ValueError):
        raise FieldError(field, f"{show(value)} is not a valid epoch-millisecond time", native) from None
    return _checked_time(when, field=field, native=native, received_at=received_at)


def category(config: SourceConfig, native_code: Any, *, native: str, label: str) -> str:
    """The taxonomy code for the system's own category code (config/sources.toml)."""
    if native_code is None or native_code == "":
        if config.fallback:
            return config.fallback
        raise FieldError("category", "is missing", native)
    if not isinstance(native_code, str | int) or isinstance(native_code, bool):
        raise FieldError("category", f"expected a code, got {type(native_code).__name__}", native)
    code = config.categories.get(str(native_code).strip())
    if code is None:
        raise FieldError(
            "category",
            f"unknown {label} {show(str(native_code))} "
            f"(not in config/sources.toml [source.{config.source}.categories])",
            native,
        )
    return code


def priority(config: SourceConfig, native_level: Any, *, native: str) -> Priority | None:
    """The source's own urgency as a priority override; unknown or absent levels keep the default."""
    if native_level is None or isinstance(native_level, dict | list):
        return None
    key = str(native_level).strip().lower() if isinstance(native_level, bool) else str(native_level).strip()
    return config.priorities.get(key)


_CRS_NAMES = {
    "wgs84": Crs.WGS84,
    "wgs-84": Crs.WGS84,
    "epsg:4326": Crs.WGS84,
    "cgcs2000": Crs.CGCS2000,
    "epsg:4490": Crs.CGCS2000,
    "gcj02": Crs.GCJ02,
    "gcj-02": Crs.GCJ02,
    "amap": Crs.GCJ02,
    "bd09": Crs.BD09,
    "bd-09": Crs.BD09,
    "bd09ll": Crs.BD09,
    "baidu": Crs.BD09,
}


def crs(value: Any, *, native: str, default: Crs) -> Crs:
    if value is None or value == "":
        return default
    found = _CRS_NAMES.get(str(value).strip().lower()) if isinstance(value, str) else None
    if found is None:
        raise FieldError("location.crs", f"unknown coordinate system {show(value)}", native)
    return found


@dataclass(frozen=True, slots=True)
class Point:
    lon: float | None = None
    lat: float | None = None
    crs: Crs | None = None
    accuracy_m: float | None = None


def point(
    lon: Any,
    lat: Any,
    *,
    natives: tuple[str, str],
    crs_value: Crs,
    accuracy: Any = None,
    accuracy_native: str = "",
) -> Point:
    """A lon/lat pair (both or neither); an absent pair is not an error, a half pair is."""
    if lon in (None, "") and lat in (None, ""):
        return Point()
    return Point(
        lon=number(lon, field="location.lon", native=natives[0], lo=-180, hi=180),
        lat=number(lat, field="location.lat", native=natives[1], lo=-90, hi=90),
        crs=crs_value,
        accuracy_m=None
        if accuracy in (None, "")
        else number(accuracy, field="location.accuracy_m", native=accuracy_native, lo=0, hi=1_000_000),
    )
