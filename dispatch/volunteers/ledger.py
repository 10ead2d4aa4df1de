"""The 公益积分 ledger as a pure fold: what an entry does to a balance, and what entries add up to.

Append-only: an entry is never changed or deleted; a correction is another entry (a reversal).
Every entry names its cause (the claim verified, the redemption made, the entry reversed), and a
cause is posted at most once: posting it again changes nothing, so a retried verification or a
replayed redemption can never pay twice. A balance is never negative: an entry that would take
it below zero is refused, reversals included (points already spent cannot be taken back).
The tables hold the same invariants with a unique cause and a CHECK on the balance
(`dispatch.volunteers.models`).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, tzinfo
from enum import StrEnum
from zoneinfo import ZoneInfo

from dispatch.volunteers.errors import FieldError, Refused


class EntryKind(StrEnum):
    EARN = "earn"  # verified work: the category's points
    BONUS = "bonus"  # verified work done on time
    REDEEM = "redeem"  # a redemption (negative)
    REVERSAL = "reversal"  # takes back an earlier entry (its negation)


LOCAL = ZoneInfo("Asia/Shanghai")  # the year of 优秀志愿者 selection is the local calendar year
EARNING = frozenset({EntryKind.EARN, EntryKind.BONUS})
_SIGN = {EntryKind.EARN: 1, EntryKind.BONUS: 1, EntryKind.REDEEM: -1}


@dataclass(frozen=True, slots=True)
class Entry:
    volunteer_id: str
    cause: str  # unique across the ledger: "earn:<claim>", "bonus:<claim>", "redeem:<id>", ...
    kind: EntryKind
    points: int  # signed: credits positive, debits negative
    at: datetime
    reverses: str | None = None  # a reversal: the cause of the entry it takes back
    note: str | None = None


@dataclass(frozen=True, slots=True)
class Balance:
    """One volunteer's account: the balance and the entries posted so far, by cause."""

    volunteer_id: str
    points: int = 0
    entries: tuple[Entry, ...] = ()

    def entry(self, cause: str) -> Entry | None:
        return next((e for e in self.entries if e.cause == cause), None)


def reversal_of(original: Entry, *, at: datetime, note: str) -> Entry:
    """The entry that takes `original` back (its cause is derived: reversing twice is one reversal)."""
    return Entry(
        original.volunteer_id,
        f"reversal:{original.cause}",
        EntryKind.REVERSAL,
        -original.points,
        at,
        reverses=original.cause,
        note=note,
    )


def check(balance: Balance, entry: Entry) -> None:
    """Refuse an entry that breaks a rule of the ledger (before anything is written)."""
    if entry.volunteer_id != balance.volunteer_id:
        raise FieldError("volunteer_id", f"entry for {entry.volunteer_id} posted to {balance.volunteer_id}")
    if not entry.cause:
        raise FieldError("cause", "an entry names its cause")
    if entry.at.tzinfo is None:
        raise FieldError("at", "pass a timezone-aware datetime")
    if entry.points == 0:
        raise FieldError("points", "an entry moves at least one point")
    if entry.kind is EntryKind.REVERSAL:
        target = balance.entry(entry.reverses or "")
        if target is None:
            raise FieldError("reverses", f"no entry {entry.reverses!r} to reverse")
        if target.kind is EntryKind.REVERSAL:
            raise Refused("a reversal is not reversed: post the entry again under a new cause")
        if entry.points != -target.points:
            raise FieldError("points", f"a reversal negates the entry exactly ({-target.points})")
    elif entry.reverses is not None:
        raise FieldError("reverses", f"only a reversal names an entry to reverse, not {entry.kind}")
    elif (entry.points > 0) != (_SIGN[entry.kind] > 0):
        sign = "credits" if _SIGN[entry.kind] > 0 else "debits"
        raise FieldError("points", f"{entry.kind} entries are {sign}")
    if balance.points + entry.points < 0:
        raise Refused(f"{-entry.points} points asked, {balance.points} available")


def post(balance: Balance, entry: Entry) -> tuple[Balance, bool]:
    """The balance after `entry`, and whether it was new (False: its cause was posted before)."""
    if balance.entry(entry.cause) is not None:
        return balance, False
    check(balance, entry)
    return Balance(balance.volunteer_id, balance.points + entry.points, (*balance.entries, entry)), True


def earned(entries: Sequence[Entry]) -> int:
    """Points earned by work: earnings less their reversals (spending does not lower it)."""
    earnings = {e.cause for e in entries if e.kind in EARNING}
    return sum(e.points for e in entries if e.kind in EARNING or e.reverses in earnings)


@dataclass(frozen=True, slots=True)
class StatementLine:
    at: datetime
    kind: EntryKind
    cause: str
    points: int
    balance: int  # after this entry
    note: str | None


def statement(entries: Iterable[Entry]) -> list[StatementLine]:
    """A volunteer's statement: every entry in order, with the running balance."""
    lines: list[StatementLine] = []
    running = 0
    for e in sorted(entries, key=lambda e: e.at):
        running += e.points
        lines.append(StatementLine(e.at, e.kind, e.cause, e.points, running, e.note))
    return lines


@dataclass(frozen=True, slots=True)
class Standing:
    volunteer_id: str
    points: int  # earned in the period
    rank: int  # 1 is first; volunteers with equal points share a rank


def leaderboard(entries: Iterable[Entry], *, year: int | None = None, tz: tzinfo = LOCAL) -> list[Standing]:
    """Volunteers by points earned (in local calendar `year` when given): a community's
    leaderboard, and the yearly totals 优秀志愿者 are selected by."""
    by_volunteer: dict[str, list[Entry]] = {}
    for e in entries:
        if year is None or e.at.astimezone(tz).year == year:
            by_volunteer.setdefault(e.volunteer_id, []).append(e)
    totals = sorted(((earned(v), k) for k, v in by_volunteer.items()), key=lambda t: (-t[0], t[1]))
    out: list[Standing] = []
    for i, (points, volunteer_id) in enumerate(totals):
        rank = out[-1].rank if out and out[-1].points == points else i + 1
        out.append(Standing(volunteer_id, points, rank))
    return out
