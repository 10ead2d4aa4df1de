"""Dead letters of the producers: a rejected agency record as a dead letter.

The dead letter itself — its topic, headers, builder and wire format — is the contract's
(`schemas.dead_letter`); this module adds what only producers have, the adapters' rejections.

    letter = dead_letter("police", "intake", raw=value_bytes, field="location.lat",
                         reason="location.lat: 95.2 is out of range [-90, 90]",
                         origin=Origin(topic=t, partition=p, offset=o))
    producer.send(settings.topic(DLQ_TOPIC), encode(letter), key=b"police", headers=HEADERS)
"""

from __future__ import annotations

from datetime import datetime

from producers.outcome import Rejection
from schemas.dead_letter import (
    DLQ_TOPIC,
    HEADERS,
    DeadLetter,
    Stage,
    dead_letter,
    encode,
    raw_bytes,
    raw_text,
)

__all__ = ["DLQ_TOPIC", "HEADERS", "dead_letter", "encode", "from_rejection", "raw_bytes", "raw_text"]


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
