"""The producers' error root and the field-naming error every adapter raises."""

from __future__ import annotations


class ProducerError(Exception):
    """Root of the errors raised by producers/."""


class FieldError(ProducerError):
    """A record field is missing, malformed or out of range.

    `field` is the canonical path ("location.lat", "$" for the whole record), `native` the
    agency's own field name when it differs. The message must never quote personal data:
    helpers only quote values of fields that cannot hold any (numbers, codes, times).
    """

    def __init__(self, field: str, message: str, native: str | None = None) -> None:
        self.field = field
        self.native = native
        self.message = message
        super().__init__(self.reason)

    @property
    def reason(self) -> str:
        where = f"{self.field} ({self.native})" if self.native and self.native != self.field else self.field
        return f"{where}: {self.message}"


class PublishError(ProducerError):
    """The broker did not acknowledge a record."""
