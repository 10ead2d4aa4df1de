"""The volunteers' error root and its refusals; the API maps them to HTTP at its edge.

`NotFound` -> 404, `Refused` -> 409 (the state forbids it now), `FieldError` -> 422.
"""

from __future__ import annotations


class VolunteerError(Exception):
    """Anything the volunteer scheme refuses."""


class NotFound(VolunteerError):
    """No such volunteer, task, item or redemption in the caller's scope."""


class Refused(VolunteerError):
    """Allowed in general, not now: the task is claimed, the stock is out, too few points."""


class FieldError(VolunteerError):
    """A value is missing or invalid; `field` names it."""

    def __init__(self, field: str, message: str) -> None:
        self.field = field
        super().__init__(f"{field}: {message}")
