"""Residents' reports as values: tracking codes, the rate-limit policy, the status timeline.

A tracking code is `R-XXXXXXXX-YYYYYY`: the first part is the report's public reference (its
`source_ref`, which operators see), the second a secret only the resident holds. Only a hash
of the whole code is stored, so the database cannot answer for a resident, and a reference
seen on the board is not enough to read the report back.

The timeline a resident sees names stages and times, never who: no worker, no phone, no
operator, and no other reporter.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from pathlib import Path
from typing import Any

from config.policy import CONFIG_DIR, Duration, PolicyError, read_toml

_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"  # no 0/O, 1/I: read over the phone
CODE = re.compile(r"^(R-[2-9A-HJ-NP-Z]{8})-([2-9A-HJ-NP-Z]{6})$")
_MINUTES = {"min": 1, "h": 60, "d": 24 * 60}


class TooMany(Exception):
    """A device or a network address over its limit (the API answers 429)."""


def new_code() -> tuple[str, str]:
    """(source_ref, tracking code) for a new report."""
    ref = "R-" + "".join(secrets.choice(_ALPHABET) for _ in range(8))
    return ref, f"{ref}-{''.join(secrets.choice(_ALPHABET) for _ in range(6))}"


def source_ref_of(code: str) -> str | None:
    """The public part of a well-formed code, else None.

    >>> source_ref_of("R-7K2M9QXW-4F8HJK"), source_ref_of("R-7K2M9QXW"), source_ref_of("x")
    ('R-7K2M9QXW', None, None)
    """
    match = CODE.fullmatch(code.strip().upper())
    return match.group(1) if match else None


def digest(text: str) -> str:
    """What is stored of a code, a device id or an address: a SHA-256 hex digest."""
    return hashlib.sha256(text.strip().upper().encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class Limit:
    reports: int
    window: timedelta


@dataclass(frozen=True, slots=True)
class ResidentPolicy:
    device: Limit
    ip: Limit
    photos: Limit  # photo uploads per device (and, times the ip/device ratio, per address)
    lookups: Limit  # places looked up on the form before sending (same ratio per address)


def parse_resident_policy(doc: dict[str, Any], origin: str = "residents") -> ResidentPolicy:
    limits = doc.get("limits") or {}
    out: dict[str, Limit] = {}
    for name in ("device", "ip", "photos", "lookups"):
        entry = limits.get(name)
        if not isinstance(entry, dict):
            raise PolicyError(f"{origin}: [limits.{name}] is missing")
        count = entry.get("reports")
        if not isinstance(count, int) or isinstance(count, bool) or count <= 0:
            raise PolicyError(f"{origin}: limits.{name}.reports must be a positive integer")
        window = Duration.parse(str(entry.get("window", "")))
        out[name] = Limit(count, timedelta(minutes=_MINUTES[window.unit] * window.value))
    return ResidentPolicy(out["device"], out["ip"], out["photos"], out["lookups"])


def load_resident_policy(path: Path = CONFIG_DIR / "residents.toml") -> ResidentPolicy:
    return parse_resident_policy(read_toml(path), origin=str(path))


class UploadWindow:
    """Photo uploads counted per hashed key (a device, an address) over the policy's window.

    Held in the API process's memory: photos are anonymous until a report names them, so there
    is no row to count by; each API host limits on its own (a flood spread over hosts is
    limited per host).

    >>> from datetime import UTC
    >>> w, t = UploadWindow(Limit(2, timedelta(hours=1))), datetime(2026, 11, 25, tzinfo=UTC)
    >>> [w.take("d", t), w.take("d", t), w.take("d", t), w.take("d", t + timedelta(hours=1))]
    [True, True, False, True]
    """

    def __init__(self, limit: Limit) -> None:
        self.limit = limit
        self._seen: dict[str, list[datetime]] = {}

    def take(self, key: str, now: datetime, *, allowed: int | None = None) -> bool:
        """Count one upload for `key` if it is under its limit (`allowed`, else the policy's)."""
        since = now - self.limit.window
        for k in [k for k, times in self._seen.items() if times[-1] <= since]:
            del self._seen[k]
        times = [t for t in self._seen.get(key, []) if t > since]
        if len(times) >= (self.limit.reports if allowed is None else allowed):
            self._seen[key] = times
            return False
        self._seen[key] = [*times, now]
        return True


class Stage(StrEnum):
    RECEIVED = "received"  # 已受理
    DISPATCHED = "dispatched"  # 已派单
    ON_SITE = "on_site"  # 已到场
    RESOLVED = "resolved"  # 已处置
    CLOSED = "closed"  # 已办结
    REOPENED = "reopened"  # 重新办理 (a return visit or a check found it not done)


_STAGE_OF = {
    "dispatch": Stage.DISPATCHED,
    "arrive": Stage.ON_SITE,
    "resolve": Stage.RESOLVED,
    "volunteer_resolve": Stage.RESOLVED,
    "close": Stage.CLOSED,
    "reopen": Stage.REOPENED,
    "fail_verification": Stage.REOPENED,
    "fail_volunteer": Stage.REOPENED,
}


@dataclass(frozen=True, slots=True)
class Step:
    stage: Stage
    at: datetime


def timeline(submitted_at: datetime, events: Iterable[tuple[str, datetime]]) -> list[Step]:
    """The resident's view of a case's events (action, time), in order; repeated stages of one
    handling (a reassignment's second dispatch) are shown once, each new handling again.

    >>> from datetime import UTC
    >>> t = datetime(2026, 11, 25, 2, tzinfo=UTC)
    >>> [s.stage.value for s in timeline(t, [("register", t), ("dispatch", t), ("reassign", t),
    ...     ("dispatch", t), ("arrive", t), ("resolve", t), ("verify", t), ("close", t)])]
    ['received', 'dispatched', 'on_site', 'resolved', 'closed']
    """
    steps = [Step(Stage.RECEIVED, submitted_at)]
    for action, at in events:
        stage = _STAGE_OF.get(action)
        if stage is not None and stage is not steps[-1].stage:
            steps.append(Step(stage, at))
    return steps
