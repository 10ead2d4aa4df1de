"""The dead-letter desk's rules (pure): which letters are open, filtering by source, reason and
time, counting by reason, and what a replay outcome means.

A letter's id is derived from its content (producers/dlq.py), so the same bad record
dead-lettered twice is one entry; a decided letter that lands on the topic again after the
decision (a replay that failed the same way) is open again.

"Reason" for counting is the field the letter names (`location.lat`, `ajlb`, `$`): reasons
quote the offending values, so their texts differ for every record, while the field says
which fix clears them.
"""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime

from schemas.dead_letter import DeadLetter


@dataclass(frozen=True, slots=True)
class Decided:
    decision: str  # dispatch.deadletters.models.Decision
    reason: str
    actor: str
    at: datetime
    outcome: str = ""


@dataclass(frozen=True, slots=True)
class DeskFilter:
    source: str | None = None
    reason: str | None = None  # a part of the reason text or the field, case-insensitive
    since: datetime | None = None  # received at or after
    until: datetime | None = None  # received before
    include_decided: bool = False

    def __post_init__(self) -> None:
        for name in ("since", "until"):
            at = getattr(self, name)
            if at is not None and at.tzinfo is None:
                raise ValueError(f"{name}: naive datetime {at.isoformat()}; give an offset")

    def admits(self, entry: Entry, decided: Decided | None) -> bool:
        letter = entry.letter
        if not self.include_decided and not is_open(entry, decided):
            return False
        if self.source and letter.source != self.source:
            return False
        if self.reason:
            needle = self.reason.lower()
            if needle not in letter.reason.lower() and needle != letter.field.lower():
                return False
        if self.since and letter.received_at < self.since:
            return False
        return not (self.until and letter.received_at >= self.until)


@dataclass(frozen=True, slots=True)
class Entry:
    letter: DeadLetter
    last_seen: datetime  # the newest time it was put on the topic
    times: int = 1


def unique(records: Iterable[tuple[DeadLetter, datetime]]) -> dict[uuid.UUID, Entry]:
    """One entry per id (the first letter, the newest time it was seen), in topic order."""
    out: dict[uuid.UUID, Entry] = {}
    for letter, at in records:
        held = out.get(letter.dlq_id)
        if held is None:
            out[letter.dlq_id] = Entry(letter, at)
        else:
            out[letter.dlq_id] = Entry(held.letter, max(held.last_seen, at), held.times + 1)
    return out


def is_open(entry: Entry, decided: Decided | None) -> bool:
    return decided is None or entry.last_seen > decided.at


def select_letters(
    entries: Mapping[uuid.UUID, Entry], decided: Mapping[uuid.UUID, Decided], desk: DeskFilter
) -> list[Entry]:
    """The entries `desk` admits, newest first."""
    chosen = [e for i, e in entries.items() if desk.admits(e, decided.get(i))]
    return sorted(chosen, key=lambda e: e.letter.received_at, reverse=True)


@dataclass(frozen=True, slots=True)
class ReasonCount:
    source: str
    field: str
    open: int
    example: str  # one open letter's reason (the newest)


def counts_by_reason(
    entries: Mapping[uuid.UUID, Entry], decided: Mapping[uuid.UUID, Decided]
) -> list[ReasonCount]:
    """Open letters by (source, field), most first: what the board shows."""
    n: Counter[tuple[str, str]] = Counter()
    example: dict[tuple[str, str], DeadLetter] = {}
    for i, e in entries.items():
        if not is_open(e, decided.get(i)):
            continue
        x = e.letter
        key = (x.source, x.field)
        n[key] += 1
        if key not in example or x.received_at > example[key].received_at:
            example[key] = x
    return [ReasonCount(s, f, k, example[(s, f)].reason) for (s, f), k in n.most_common()]


def find(entries: Mapping[uuid.UUID, Entry], prefix: str) -> Entry:
    """An entry by its id or an unambiguous prefix of it (as `yiwang dlq list` shows them)."""
    wanted = prefix.strip().lower()
    hits = [e for i, e in entries.items() if str(i).startswith(wanted)]
    if len(hits) != 1:
        raise LookupError(
            f"dlq_id: {'no' if not hits else str(len(hits))} dead letter(s) match {prefix!r}"
            + ("; give more of the id" if hits else "")
        )
    return hits[0]
