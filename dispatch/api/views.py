"""What the API shows of rows: deadlines read from the clocks, and reporters masked.

Personal data (README: Agency feeds) never leaves in clear: a reporter's name keeps its first character,
a phone its first three and last four digits, an e-mail its first character and domain;
agency-side account ids are dropped.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from dispatch.codec import clocks_from, iso
from dispatch.sla.calendar import Timekeeper
from dispatch.sla.errors import CalendarRangeError

Row = dict[str, Any]


def mask_name(name: str | None) -> str | None:
    if not name:
        return name
    return name[0] + "*" * max(len(name) - 1, 1)


def mask_phone(phone: str | None) -> str | None:
    if not phone:
        return phone
    digits = phone.strip()
    if len(digits) <= 7:
        return "*" * len(digits)
    return digits[:3] + "*" * (len(digits) - 7) + digits[-4:]


def mask_email(email: str | None) -> str | None:
    if not email or "@" not in email:
        return None if not email else "***"
    user, domain = email.split("@", 1)
    return f"{user[:1]}***@{domain}"


def masked_reporter(reporter: Mapping[str, Any] | None) -> Row | None:
    if reporter is None:
        return None
    return {
        "name": mask_name(reporter.get("name")),
        "phone": mask_phone(reporter.get("phone")),
        "email": mask_email(reporter.get("email")),
        "anonymous": bool(reporter.get("anonymous", False)),
    }


def deadlines(clocks: Mapping[str, Any] | None, tk: Timekeeper) -> Row:
    """Each clock's status and deadline (None when paused, stopped, or past the calendar's data);
    `provisional`: the deadline lies beyond the published notices (it moves when one is imported)."""
    out: Row = {}
    for name, clock in sorted(clocks_from(clocks or {}).items()):
        try:
            due = clock.deadline(tk)
        except CalendarRangeError:
            due = None
        out[name.value] = {
            "status": clock.status.value,
            "deadline": iso(due) if due else None,
            "provisional": tk.provisional(clock.kind, due),
            "budget_s": clock.budget.total_seconds(),
            "steps_taken": clock.steps_taken,
        }
    return out


def next_deadline(clocks: Mapping[str, Any] | None, tk: Timekeeper) -> tuple[str | None, bool]:
    """The soonest running deadline, and whether it is provisional."""
    running = [(d["deadline"], d["provisional"]) for d in deadlines(clocks, tk).values() if d["deadline"]]
    return min(running) if running else (None, False)
