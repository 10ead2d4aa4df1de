"""The SLA package's error root, so callers can catch everything it refuses in one place."""

from __future__ import annotations


class SlaError(Exception):
    """Something the SLA rules refuse to compute."""


class CalendarRangeError(SlaError):
    """An instant lies outside the years the working calendar has statutory data for.

    Raised instead of guessing: a holiday schedule is published a year at a time, and a
    deadline computed without it could silently be days off.
    """


class ClockError(SlaError):
    """A clock operation that contradicts the clock's state (e.g. starting a running clock)."""
