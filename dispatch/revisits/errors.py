"""The return visits' error root; the API maps them to HTTP at its edge.

`NotFound` -> 404, `Refused` -> 409 (answered already, or the time to answer is over),
`FieldError` -> 422.
"""

from __future__ import annotations


class RevisitError(Exception):
    """Anything a return visit refuses."""


class NotFound(RevisitError):
    """No such return visit (or not the caller's)."""


class Refused(RevisitError):
    """Allowed in general, not now: answered already, or no longer open."""


class FieldError(RevisitError):
    """A value is missing or invalid; `field` names it."""

    def __init__(self, field: str, message: str) -> None:
        self.field = field
        super().__init__(f"{field}: {message}")
