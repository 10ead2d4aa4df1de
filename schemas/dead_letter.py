"""Dead letter v1: a record that could not become a canonical report, kept with its raw bytes.

Published on `reports.dlq` (header schema=dead_letter.v1) by the producers (stage `adapter`
or `open311`) and by the stream intake (stage `intake`). A person looks at every one, so the
reason names the field; it never contains personal data. `schemas/dead_letter.v1.json` is
generated from this model (`python -m schemas.export`).
"""

from __future__ import annotations

import base64
import hashlib
import uuid
from datetime import UTC, datetime
from enum import StrEnum
from typing import Literal

import orjson
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

SCHEMA_NAME = "dead_letter.v1"
DLQ_TOPIC = "reports.dlq"
"""The topic (after the deployment's prefix) every stage's dead letters go to."""
HEADERS: list[tuple[str, bytes]] = [("schema", SCHEMA_NAME.encode())]
"""The headers of every record on the DLQ topic."""
MAX_REASON = 2000
DLQ_NAMESPACE = uuid.UUID("0c9a8f4e-57d2-5b6c-8e1f-3a4d6b7c9e20")


class Stage(StrEnum):
    ADAPTER = "adapter"  # an agency export could not be mapped (producers/adapters)
    OPEN311 = "open311"  # an Open311 POST could not be mapped (producers/open311)
    INTAKE = "intake"  # a report on reports.<source> failed stream validation (streams/)
    NOTICES = "notices"  # a dispatch.events record the notices agent could not read
    ALERTS = "alerts"  # an alerts.cap record the alerts agent could not read
    REPLIES = "replies"  # an agency's return-visit reply that could not be applied (replies.<source>)


class RawEncoding(StrEnum):
    UTF8 = "utf-8"
    BASE64 = "base64"


class Origin(BaseModel):
    """Where the record was read: a file and line/record, or a topic position."""

    model_config = ConfigDict(extra="allow", frozen=True)

    file: str | None = None
    line: int | None = Field(default=None, ge=1)
    record: str | None = Field(default=None, description="e.g. incidents[3], Case[12]")
    topic: str | None = None
    partition: int | None = Field(default=None, ge=0)
    offset: int | None = Field(default=None, ge=0)


class DeadLetter(BaseModel):
    model_config = ConfigDict(
        extra="allow",
        frozen=True,
        title="Yiwang dead letter v1",
        json_schema_extra={
            "$id": "https://yiwang.invalid/schemas/dead_letter.v1.json",
            "description": "A rejected feed record on reports.dlq: raw bytes and a field-naming reason.",
        },
    )

    schema_version: Literal[1] = 1
    dlq_id: uuid.UUID = Field(
        description="uuid5 of (source, stage, field, raw): the same bad record, the same id"
    )
    source: str = Field(min_length=1, max_length=40, description="the feed (police, hotline, …)")
    stage: Stage
    field: str = Field(
        min_length=1, max_length=200, description="path of the offending field; $ = the record"
    )
    reason: str = Field(min_length=1, max_length=2000, description="names the field; never personal data")
    raw: str = Field(description="the record's bytes: text when valid UTF-8, else base64")
    raw_encoding: RawEncoding
    received_at: AwareDatetime
    origin: Origin = Field(default_factory=Origin)
    source_ref: str | None = Field(default=None, max_length=128)


def encode(letter: DeadLetter) -> bytes:
    return orjson.dumps(letter.model_dump(mode="json"))


def decode(data: bytes | str) -> DeadLetter:
    return DeadLetter.model_validate_json(data)


def raw_text(raw: bytes) -> tuple[str, RawEncoding]:
    try:
        return raw.decode("utf-8"), RawEncoding.UTF8
    except UnicodeDecodeError:
        return base64.b64encode(raw).decode("ascii"), RawEncoding.BASE64


def dead_letter(
    source: str,
    stage: Stage | str,
    raw: bytes,
    field: str,
    reason: str,
    *,
    origin: Origin | None = None,
    received_at: datetime | None = None,
    source_ref: str | None = None,
) -> DeadLetter:
    """A dead letter for `raw`; `reason` must name `field` and hold no personal data.

    The raw bytes are kept as text when they are valid UTF-8, else base64 (`raw_encoding` says
    which). The id is derived from the content, so the same bad record dead-lettered twice has
    the same `dlq_id` and a reviewer sees one item.
    """
    text, encoding = raw_text(raw)
    digest = hashlib.sha256(raw).hexdigest()
    return DeadLetter(
        dlq_id=uuid.uuid5(DLQ_NAMESPACE, f"{source}\x1f{stage}\x1f{field}\x1f{digest}"),
        source=source,
        stage=Stage(stage),
        field=field[:200] or "$",
        reason=reason[:MAX_REASON] or f"{field}: rejected",
        raw=text,
        raw_encoding=encoding,
        received_at=received_at or datetime.now(UTC),
        origin=origin or Origin(),
        source_ref=source_ref,
    )


def raw_bytes(letter: DeadLetter) -> bytes:
    """The original bytes of a dead letter (for replay)."""
    if letter.raw_encoding is RawEncoding.BASE64:
        return base64.b64decode(letter.raw)
    return letter.raw.encode("utf-8")
