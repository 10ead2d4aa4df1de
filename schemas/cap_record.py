"""The life-cycle record of one CAP message, version 1, on `alerts.cap` (keyed by sender).

The emergency adapter publishes an Alert as a canonical report (`schemas.report`) and every
message — Alert, Update, Cancel, Ack, Error — as one of these, so the alerts flow
(dispatch/alerts/) can follow a warning through its life without the intake: an Update or a
Cancel names the earlier messages it is about in `references`, and a reference resolves to the
case the Alert at the start of the chain opened (`report_id`).

`sender` and `identifier` identify a message (CAP 1.2 §3.2.1: an identifier is unique for its
sender); `sent` is kept as written in references, where CAP defines the triple.
"""

from __future__ import annotations

import uuid
from enum import StrEnum
from typing import Any

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from schemas.vocabulary import Priority

CAP_RECORD_SCHEMA = "cap-record.v1"
"""The value of the `schema` header on `alerts.cap` records."""
CAP_TOPIC = "alerts.cap"


class MsgType(StrEnum):
    ALERT = "Alert"  # a new warning: opens a case (its report)
    UPDATE = "Update"  # replaces an earlier message: the case changes in place
    CANCEL = "Cancel"  # withdraws an earlier message: the case ends, cancelled by the source
    ACK = "Ack"  # acknowledges a message: recorded, never a case
    ERROR = "Error"  # rejects a message: recorded, never a case


class CapReference(BaseModel):
    """One "sender,identifier,sent" triple of `<references>`."""

    model_config = ConfigDict(frozen=True)

    sender: str = Field(min_length=1, max_length=256)
    identifier: str = Field(min_length=1, max_length=256)
    sent: str = Field(max_length=64)


class CapRecord(BaseModel):
    """One CAP message as the alerts flow needs it. `priority`, `description` and `location`
    are what an Update says the warning now is (the canonical report's fields); `report_id` is
    the canonical report an Alert was published as."""

    model_config = ConfigDict(extra="allow", frozen=True)

    schema_name: str = Field(default=CAP_RECORD_SCHEMA, alias="schema")
    sender: str = Field(min_length=1, max_length=256)
    identifier: str = Field(min_length=1, max_length=256)
    sent: AwareDatetime
    msg_type: MsgType
    status: str = Field(max_length=16)
    references: tuple[CapReference, ...] = ()
    expires: AwareDatetime | None = None
    report_id: uuid.UUID | None = None
    priority: Priority | None = None
    description: str | None = Field(default=None, max_length=4000)
    location: dict[str, Any] | None = None
    note: str | None = Field(default=None, max_length=4000)
    """Why (a Cancel's or an Error's <note>)."""
    report: dict[str, Any] | None = None
    """The message's <info> as the canonical report document: an Alert's is also published as a
    report (its case); an Update's or a Cancel's never is (no case). For readers of CAP warnings
    as reports: the surge agent reads warnings only from here, never from `reports.emergency`."""
    received_at: AwareDatetime


def encode(record: CapRecord) -> bytes:
    return record.model_dump_json(by_alias=True).encode("utf-8")


def decode(data: bytes | str) -> CapRecord:
    return CapRecord.model_validate_json(data)
