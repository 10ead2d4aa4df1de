"""The reporters' phone index: a keyed hash (HMAC-SHA256) of each report's normalised phone.

A phone is never a clear-text search column: `reports.reporter_phone_hash` holds
HMAC(key, digits), so the index is useless without the key (`YIWANG_SEARCH_KEY`), and an
operator's search hashes the number typed the same way. Normalising first makes
"+86 138-1234-5678", "8613812345678" and "13812345678" one number.

>>> normal_phone("+86 138-1234-5678")
'13812345678'
>>> normal_phone("023 6531 2345")
'02365312345'
>>> normal_phone("井盖") is None
True
>>> phone_digest("k", "138 1234 5678") == phone_digest("k", "+8613812345678")
True
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Iterable, Mapping
from typing import Any

HASH_COLUMN = "reporter_phone_hash"
_SEPARATORS = re.compile(r"[\s().\-]+")
_MIN_DIGITS, _MAX_DIGITS = 5, 15  # a short hotline number .. E.164's longest


def normal_phone(text: str | None) -> str | None:
    """The phone's digits without the country code (+86 / 0086 / 86 before a mobile number);
    None when the text is not a phone number."""
    if not text:
        return None
    digits = _SEPARATORS.sub("", text.strip())
    if digits.startswith("+"):
        digits = digits[1:]
    if not digits.isascii() or not digits.isdigit():
        return None
    if digits.startswith("0086"):
        digits = digits[4:]
    elif digits.startswith("86") and len(digits) == 13:
        digits = digits[2:]
    return digits if _MIN_DIGITS <= len(digits) <= _MAX_DIGITS else None


def phone_digest(key: str, phone: str | None) -> str | None:
    """HMAC-SHA256 of the normalised phone, hex; None when there is no phone."""
    digits = normal_phone(phone)
    if digits is None:
        return None
    return hmac.new(key.encode(), digits.encode(), hashlib.sha256).hexdigest()


def reporter_digest(key: str, reporter: Mapping[str, Any] | None) -> str | None:
    phone = reporter.get("phone") if reporter else None
    return phone_digest(key, phone) if isinstance(phone, str) else None


def stamp_reports(rows: Iterable[dict[str, Any]], key: str) -> None:
    """Give each report row (dispatch/rows.py's `report_row`) its phone hash, in place: the
    intake's (and the rebuild's) one hook into this index."""
    for row in rows:
        row[HASH_COLUMN] = reporter_digest(key, row.get("reporter"))
