"""What a search box's text can mean, decided without the database: a report or case id (a
UUID), a source's own reference (any one-line text), a reporter's phone (its keyed hash), and
address text. Every meaning the text can have is tried; the answer says which matched.

>>> found = lookup_of("13812345678", key="k")
>>> found.uuid is None, found.phone_hash is not None, found.reference
(True, True, '13812345678')
>>> lookup_of("4b0c2f0e-6a57-4d4e-9b7a-111111111111", key="k").uuid
'4b0c2f0e-6a57-4d4e-9b7a-111111111111'
>>> lookup_of("  ", key="k")
Traceback (most recent call last):
...
dispatch.search.lookup.SearchError: q: type a reference, a report id, an address or a phone
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from enum import StrEnum

from dispatch.search.phones import normal_phone, phone_digest

MAX_QUERY = 100
MIN_ADDRESS = 2  # one character of address text would match most of the district


class SearchError(ValueError):
    """A search the API refuses (422), naming the parameter."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


class Match(StrEnum):
    """How a case was found, strongest first (the answer's order)."""

    INCIDENT_ID = "incident_id"
    REPORT_ID = "report_id"
    SOURCE_REF = "source_ref"
    PHONE = "phone"
    ADDRESS = "address"


@dataclass(frozen=True, slots=True)
class Lookup:
    reference: str  # a source's own reference, exactly as typed (trimmed)
    uuid: str | None = None  # a report or case id
    phone_hash: str | None = None  # the keyed hash of the number, when the text is a phone
    address: str | None = None  # text to find in the case's address


def lookup_of(q: str, *, key: str) -> Lookup:
    text = q.strip()
    if not text:
        raise SearchError("q", "type a reference, a report id, an address or a phone")
    if len(text) > MAX_QUERY:
        raise SearchError("q", f"at most {MAX_QUERY} characters")
    try:
        as_uuid: str | None = str(uuid.UUID(text))
    except ValueError:
        as_uuid = None
    phone = phone_digest(key, text) if normal_phone(text) else None
    address = text if len(text) >= MIN_ADDRESS and as_uuid is None else None
    return Lookup(reference=text, uuid=as_uuid, phone_hash=phone, address=address)
