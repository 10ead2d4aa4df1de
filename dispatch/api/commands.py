"""From HTTP bodies to case commands, and the answer every command endpoint gives."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Header, Response

from config.policy import Duration, PolicyError
from dispatch.cases.flows import Outcome
from dispatch.lifecycle.errors import DetailError

IdempotencyKey = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        max_length=128,
        description="repeat a POST with the same key: it is applied once, the first answer is returned",
    ),
]


def duration(text: str | None, field: str = "extension") -> Duration | None:
    if text is None:
        return None
    try:
        return Duration.parse(text)
    except (PolicyError, ValueError) as exc:
        raise DetailError(
            field, f'{text!r} is not a duration like "3d", "4h" or "30min" ({exc})', code="not_a_duration"
        ) from None


def answer(outcome: Outcome, response: Response) -> dict[str, Any]:
    if outcome.replayed:
        response.headers["Idempotent-Replayed"] = "true"
    return outcome.doc()
