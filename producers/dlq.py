"""Dead letters: the builder every stage uses (adapters, Open311, the stream intake).

    letter = dead_letter("police", "intake", raw=value_bytes, field="location.lat",
                         reason="location.lat: 95.2 is out of range [-90, 90]",
                         origin=Origin(topic=t, partition=p, offset=o))
    producer.send(settings.topic("reports.dlq"), encode(letter), key=b"police", headers=HEADERS)

The raw bytes are kept as text when they are valid UTF-8, else base64 (`raw_encoding` says
which). The id is derived from the content, so the same bad record dead-lettered twice has the
same `dlq_id` and a reviewer sees one item.
"""

from __future__ import annotations

import base64
import hashlib
import uuid
from datetime import UTC, datetime

from producers.outcome import Rejection
from schemas.dead_letter import DLQ_NAMESPACE, SCHEMA_NAME, DeadLetter, Origin, RawEncoding, Stage, encode

__all__ = ["DLQ_TOPIC", "HEADERS", "dead_letter", "encode", "from_rejection", "raw_bytes", "raw_text"]

DLQ_TOPIC = "reports.dlq"
HEADERS: list[tuple[str, bytes]] = [("schema", SCHEMA_NAME.encode())]
MAX_REASON = 2000


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
    """A dead letter for `raw`; `reason` must name `field` and hold no personal data."""
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


def from_rejection(
    source: str, rejection: Rejection, *, stage: Stage = Stage.ADAPTER, received_at: datetime
) -> DeadLetter:
    return dead_letter(
        source,
        stage,
        rejection.raw,
        rejection.field,
        rejection.reason,
        origin=rejection.origin,
        received_at=received_at,
        source_ref=rejection.source_ref,
    )


def raw_bytes(letter: DeadLetter) -> bytes:
    """The original bytes of a dead letter (for replay)."""
    if letter.raw_encoding is RawEncoding.BASE64:
        return base64.b64decode(letter.raw)
    return letter.raw.encode("utf-8")
